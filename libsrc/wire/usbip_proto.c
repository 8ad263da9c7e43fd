// SPDX-License-Identifier: GPL-2.0-or-later
/* The USB/IP wire format: the one place bytes are parsed and built. */
#include "wire/usbip_proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte order helpers (big endian on the wire) ----------------------- */

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int32_t get_s32(const uint8_t *p)
{
	return (int32_t)get_u32(p);
}

static int need(size_t len, size_t want, const char *what, struct usbip_error *err)
{
	if (len < want)
		return result_error_set(err, "%s: truncated (%zu of %zu bytes)", what, len, want);
	return 0;
}

/*
 * Copies a fixed-size, zero-terminated string field; the zero must be there.
 * Whatever a peer put after the zero is dropped, so equal strings decode to
 * equal structs.
 */
static int get_string(char *dst, const uint8_t *src, size_t size, const char *field,
		      struct usbip_error *err)
{
	const uint8_t *end = memchr(src, '\0', size);

	if (!end)
		return result_error_set(err, "%s: no terminating zero in %zu bytes", field, size);
	memset(dst, 0, size);
	memcpy(dst, src, (size_t)(end - src));
	return 0;
}

/*
 * A busid is a name in sysfs and in log lines, and goes into files (vhci's
 * port records) split at spaces: printable ASCII only, no space. The index
 * of the first byte that is not, or -1.
 */
static long bad_busid_byte(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return (long)i;
	return -1;
}

bool usbip_proto_busid_ok(const char *busid)
{
	size_t len = strnlen(busid, USBIP_BUSID_SIZE);

	return len > 0 && len < USBIP_BUSID_SIZE && bad_busid_byte((const uint8_t *)busid, len) < 0;
}

/* A busid field: a string as get_string takes it, not empty, of printable ASCII. */
static int get_busid(char *dst, const uint8_t *src, struct usbip_error *err)
{
	long bad;

	if (get_string(dst, src, USBIP_BUSID_SIZE, "busid", err))
		return -1;
	if (!dst[0])
		return result_error_set(err, "busid: empty");
	bad = bad_busid_byte((const uint8_t *)dst, strlen(dst));
	if (bad >= 0)
		return result_error_set(
			err, "busid: byte 0x%02x at %ld (printable ASCII only, no space)",
			(unsigned char)dst[bad], bad);
	return 0;
}

static int put_string(uint8_t *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size);

	if (n == size)
		return -1; /* no room for the terminating zero */
	memset(dst, 0, size);
	memcpy(dst, src, n);
	return 0;
}

/* ---- names ------------------------------------------------------------- */

const char *usbip_proto_op_status_str(uint32_t status)
{
	switch (status) {
	case USBIP_ST_OK:
		return "ok";
	case USBIP_ST_NA:
		return "device not available";
	case USBIP_ST_DEV_BUSY:
		return "device busy (already exported)";
	case USBIP_ST_DEV_ERR:
		return "device in error state";
	case USBIP_ST_NODEV:
		return "no such device";
	case USBIP_ST_ERROR:
		return "request failed";
	}
	return "unknown status";
}

const char *usbip_proto_export_status_str(uint32_t status)
{
	switch (status) {
	case USBIP_EXPORT_ST_OK:
		return "ok";
	case USBIP_EXPORT_ST_NOT_ACCEPTED:
		return "not accepted (the server's log says why)";
	case USBIP_EXPORT_ST_NO_PORT:
		return "no free virtual port";
	case USBIP_EXPORT_ST_NODEV:
		return "no such device";
	}
	return "unknown status";
}

const char *usbip_proto_speed_str(uint32_t speed)
{
	switch (speed) {
	case USBIP_SPEED_LOW:
		return "1.5Mbps";
	case USBIP_SPEED_FULL:
		return "12Mbps";
	case USBIP_SPEED_HIGH:
		return "480Mbps";
	case USBIP_SPEED_WIRELESS:
		return "wireless";
	case USBIP_SPEED_SUPER:
		return "5Gbps";
	case USBIP_SPEED_SUPER_PLUS:
		return "10Gbps";
	}
	return "unknown speed";
}

/* ---- control phase ----------------------------------------------------- */

static int known_op_code(uint16_t code)
{
	switch (code) {
	case USBIP_OP_REQ_IMPORT:
	case USBIP_OP_REP_IMPORT:
	case USBIP_OP_REQ_DEVLIST:
	case USBIP_OP_REP_DEVLIST:
	case USBIP_OP_REQ_EXPORT:
	case USBIP_OP_REP_EXPORT:
	case USBIP_OP_REQ_UNEXPORT:
	case USBIP_OP_REP_UNEXPORT:
		return 1;
	}
	return 0;
}

void usbip_proto_encode_op_header(uint8_t out[USBIP_OP_HEADER_SIZE],
				  const struct usbip_op_header *hdr)
{
	put_u16(out, hdr->version);
	put_u16(out + 2, hdr->code);
	put_u32(out + 4, hdr->status);
}

int usbip_proto_decode_op_header(const uint8_t *buf, size_t len, uint16_t expect_code,
				 struct usbip_op_header *hdr, struct usbip_error *err)
{
	if (need(len, USBIP_OP_HEADER_SIZE, "op header", err))
		return -1;
	hdr->version = get_u16(buf);
	hdr->code = get_u16(buf + 2);
	hdr->status = get_u32(buf + 4);
	if (hdr->version != USBIP_VERSION)
		return result_error_set(err, "version: 0x%04x, expected 0x%04x", hdr->version,
					USBIP_VERSION);
	if (!known_op_code(hdr->code))
		return result_error_set(err, "code: unknown operation 0x%04x", hdr->code);
	if (expect_code && hdr->code != expect_code)
		return result_error_set(err, "code: 0x%04x, expected 0x%04x", hdr->code,
					expect_code);
	return 0;
}

size_t usbip_proto_op_body_size(uint16_t code, uint32_t status)
{
	switch (code) {
	case USBIP_OP_REQ_IMPORT:
		return USBIP_IMPORT_REQUEST_SIZE;
	case USBIP_OP_REP_IMPORT:
		/* The kernel tools send the record only when the import worked. */
		return status == USBIP_ST_OK ? USBIP_DEVICE_RECORD_SIZE : 0;
	case USBIP_OP_REQ_DEVLIST:
		return 0;
	case USBIP_OP_REP_DEVLIST:
		return USBIP_DEVLIST_COUNT_SIZE;
	case USBIP_OP_REQ_EXPORT:
	case USBIP_OP_REQ_UNEXPORT:
		return USBIP_DEVICE_RECORD_SIZE;
	case USBIP_OP_REP_EXPORT:
	case USBIP_OP_REP_UNEXPORT:
		return 0;
	}
	return 0;
}

#define SERIAL_TAG "serial="

/* The serial extension: "serial=..." after the path's zero (see usbip_proto.h). */
static int put_serial(uint8_t *path_field, const char *path, const char *serial)
{
	size_t at = strlen(path) + 1, tag = strlen(SERIAL_TAG);
	size_t len = strnlen(serial, USBIP_SERIAL_SIZE), i;

	if (len == 0)
		return 0;
	if (len == USBIP_SERIAL_SIZE || at + tag + len + 1 > USBIP_PATH_SIZE)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)serial[i] < 0x20 || serial[i] == 0x7f)
			return -1; /* get_serial refuses it */
	memcpy(path_field + at, SERIAL_TAG, tag);
	memcpy(path_field + at + tag, serial, len);
	return 0;
}

static int get_serial(char *serial, const uint8_t *path_field, struct usbip_error *err)
{
	/* get_string has checked that the path has its zero. */
	const uint8_t *p = (const uint8_t *)memchr(path_field, 0, USBIP_PATH_SIZE) + 1;
	const uint8_t *end = path_field + USBIP_PATH_SIZE, *zero;
	size_t tag = strlen(SERIAL_TAG), i;

	memset(serial, 0, USBIP_SERIAL_SIZE);
	if ((size_t)(end - p) < tag || memcmp(p, SERIAL_TAG, tag) != 0)
		return 0; /* no extension: whatever is there is ignored */
	p += tag;
	zero = memchr(p, '\0', (size_t)(end - p));
	if (!zero)
		return result_error_set(err, "serial: no terminating zero");
	if ((size_t)(zero - p) >= USBIP_SERIAL_SIZE)
		return result_error_set(err, "serial: longer than %d bytes", USBIP_SERIAL_SIZE - 1);
	for (i = 0; p + i < zero; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return result_error_set(err, "serial: control character 0x%02x", p[i]);
	memcpy(serial, p, (size_t)(zero - p));
	return 0;
}

/* The index of a path's first control character, or -1. */
static long path_control(const char *path, size_t size)
{
	size_t i;

	for (i = 0; i < size && path[i]; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return (long)i;
	return -1;
}

int usbip_proto_encode_device(uint8_t out[USBIP_DEVICE_RECORD_SIZE],
			      const struct usbip_usb_device *udev)
{
	if (!usbip_proto_busid_ok(udev->busid) || path_control(udev->path, USBIP_PATH_SIZE) >= 0 ||
	    put_string(out, udev->path, USBIP_PATH_SIZE) ||
	    put_serial(out, udev->path, udev->serial) ||
	    put_string(out + 256, udev->busid, USBIP_BUSID_SIZE))
		return -1;
	put_u32(out + 288, udev->busnum);
	put_u32(out + 292, udev->devnum);
	put_u32(out + 296, udev->speed);
	put_u16(out + 300, udev->id_vendor);
	put_u16(out + 302, udev->id_product);
	put_u16(out + 304, udev->bcd_device);
	out[306] = udev->device_class;
	out[307] = udev->device_subclass;
	out[308] = udev->device_protocol;
	out[309] = udev->configuration_value;
	out[310] = udev->num_configurations;
	out[311] = udev->num_interfaces;
	return 0;
}

int usbip_proto_decode_device(const uint8_t *buf, size_t len, struct usbip_usb_device *udev,
			      struct usbip_error *err)
{
	long bad;

	if (need(len, USBIP_DEVICE_RECORD_SIZE, "device record", err))
		return -1;
	if (get_string(udev->path, buf, USBIP_PATH_SIZE, "path", err) ||
	    get_serial(udev->serial, buf, err) || get_busid(udev->busid, buf + 256, err))
		return -1;
	bad = path_control(udev->path, USBIP_PATH_SIZE);
	if (bad >= 0)
		return result_error_set(err, "path: control character 0x%02x at %ld",
					(unsigned char)udev->path[bad], bad);
	udev->busnum = get_u32(buf + 288);
	udev->devnum = get_u32(buf + 292);
	udev->speed = get_u32(buf + 296);
	udev->id_vendor = get_u16(buf + 300);
	udev->id_product = get_u16(buf + 302);
	udev->bcd_device = get_u16(buf + 304);
	udev->device_class = buf[306];
	udev->device_subclass = buf[307];
	udev->device_protocol = buf[308];
	udev->configuration_value = buf[309];
	udev->num_configurations = buf[310];
	udev->num_interfaces = buf[311];
	if (udev->num_interfaces > USBIP_MAX_INTERFACES)
		return result_error_set(err, "bNumInterfaces: %u is more than %u",
					udev->num_interfaces, USBIP_MAX_INTERFACES);
	if (udev->speed > USBIP_SPEED_SUPER_PLUS)
		return result_error_set(err, "speed: unknown value %u", udev->speed);
	return 0;
}

void usbip_proto_encode_interface(uint8_t out[USBIP_INTERFACE_RECORD_SIZE],
				  const struct usbip_usb_interface *intf)
{
	out[0] = intf->interface_class;
	out[1] = intf->interface_subclass;
	out[2] = intf->interface_protocol;
	out[3] = 0; /* padding */
}

int usbip_proto_decode_interface(const uint8_t *buf, size_t len, struct usbip_usb_interface *intf,
				 struct usbip_error *err)
{
	if (need(len, USBIP_INTERFACE_RECORD_SIZE, "interface record", err))
		return -1;
	intf->interface_class = buf[0];
	intf->interface_subclass = buf[1];
	intf->interface_protocol = buf[2];
	return 0;
}

void usbip_proto_encode_devlist_count(uint8_t out[USBIP_DEVLIST_COUNT_SIZE], uint32_t count)
{
	put_u32(out, count);
}

int usbip_proto_decode_devlist_count(const uint8_t *buf, size_t len, uint32_t *count,
				     struct usbip_error *err)
{
	if (need(len, USBIP_DEVLIST_COUNT_SIZE, "device count", err))
		return -1;
	*count = get_u32(buf);
	if (*count > USBIP_MAX_DEVLIST)
		return result_error_set(err, "device count: %u is more than %u", *count,
					USBIP_MAX_DEVLIST);
	return 0;
}

int usbip_proto_encode_import_request(uint8_t out[USBIP_IMPORT_REQUEST_SIZE], const char *busid)
{
	if (!usbip_proto_busid_ok(busid))
		return -1;
	return put_string(out, busid, USBIP_BUSID_SIZE);
}

int usbip_proto_decode_import_request(const uint8_t *buf, size_t len, char busid[USBIP_BUSID_SIZE],
				      struct usbip_error *err)
{
	if (need(len, USBIP_IMPORT_REQUEST_SIZE, "import request", err))
		return -1;
	return get_busid(busid, buf, err);
}

int usbip_proto_decode_devlist_reply(const uint8_t *buf, size_t len, struct usbip_devlist *list,
				     size_t *used, struct usbip_error *err)
{
	struct usbip_op_header hdr;
	size_t off = 0;
	uint32_t i, j;

	list->count = 0;
	list->entries = NULL;
	if (usbip_proto_decode_op_header(buf, len, USBIP_OP_REP_DEVLIST, &hdr, err))
		return -1;
	if (hdr.status != USBIP_ST_OK)
		return result_error_set(err, "status: %s (%u)",
					usbip_proto_op_status_str(hdr.status), hdr.status);
	off += USBIP_OP_HEADER_SIZE;
	if (usbip_proto_decode_devlist_count(buf + off, len - off, &list->count, err))
		return -1;
	off += USBIP_DEVLIST_COUNT_SIZE;
	/*
	 * Allocate only what the buffer can hold, so a lying count cannot
	 * make us allocate more than the input justifies.
	 */
	if ((size_t)list->count * USBIP_DEVICE_RECORD_SIZE > len - off)
		return result_error_set(err, "device count: %u records do not fit in %zu bytes",
					list->count, len - off);
	if (list->count) {
		list->entries = calloc(list->count, sizeof(*list->entries));
		if (!list->entries)
			return result_error_set(err, "device list: out of memory");
	}
	for (i = 0; i < list->count; i++) {
		struct usbip_devlist_entry *e = &list->entries[i];

		if (usbip_proto_decode_device(buf + off, len - off, &e->udev, err))
			goto bad;
		off += USBIP_DEVICE_RECORD_SIZE;
		for (j = 0; j < e->udev.num_interfaces; j++) {
			if (usbip_proto_decode_interface(buf + off, len - off, &e->interfaces[j],
							 err))
				goto bad;
			off += USBIP_INTERFACE_RECORD_SIZE;
		}
	}
	if (used)
		*used = off;
	return 0;
bad:
	usbip_proto_devlist_free(list);
	return -1;
}

void usbip_proto_devlist_free(struct usbip_devlist *list)
{
	free(list->entries);
	list->entries = NULL;
	list->count = 0;
}

size_t usbip_proto_devlist_reply_size(const struct usbip_devlist *list)
{
	size_t size = USBIP_OP_HEADER_SIZE + USBIP_DEVLIST_COUNT_SIZE;
	uint32_t i;

	for (i = 0; i < list->count; i++)
		size += USBIP_DEVICE_RECORD_SIZE +
			(size_t)list->entries[i].udev.num_interfaces * USBIP_INTERFACE_RECORD_SIZE;
	return size;
}

long usbip_proto_encode_devlist_reply(uint8_t *out, size_t out_len,
				      const struct usbip_devlist *list)
{
	struct usbip_op_header hdr = { USBIP_VERSION, USBIP_OP_REP_DEVLIST, USBIP_ST_OK };
	size_t off = 0;
	uint32_t i, j;

	if (usbip_proto_devlist_reply_size(list) > out_len)
		return -1;
	usbip_proto_encode_op_header(out, &hdr);
	off += USBIP_OP_HEADER_SIZE;
	usbip_proto_encode_devlist_count(out + off, list->count);
	off += USBIP_DEVLIST_COUNT_SIZE;
	for (i = 0; i < list->count; i++) {
		const struct usbip_devlist_entry *e = &list->entries[i];

		if (e->udev.num_interfaces > USBIP_MAX_INTERFACES ||
		    usbip_proto_encode_device(out + off, &e->udev))
			return -1;
		off += USBIP_DEVICE_RECORD_SIZE;
		for (j = 0; j < e->udev.num_interfaces; j++) {
			usbip_proto_encode_interface(out + off, &e->interfaces[j]);
			off += USBIP_INTERFACE_RECORD_SIZE;
		}
	}
	return (long)off;
}

/* ---- URB phase --------------------------------------------------------- */

int usbip_proto_has_iso_packets(uint32_t number_of_packets)
{
	return number_of_packets != 0 && number_of_packets != USBIP_NON_ISO;
}

void usbip_proto_encode_urb_header(uint8_t out[USBIP_URB_HEADER_SIZE],
				   const struct usbip_urb_header *hdr)
{
	const struct usbip_header_basic *b = &hdr->base;

	memset(out, 0, USBIP_URB_HEADER_SIZE);
	put_u32(out, b->command);
	put_u32(out + 4, b->seqnum);
	put_u32(out + 8, b->devid);
	put_u32(out + 12, b->direction);
	put_u32(out + 16, b->ep);
	switch (b->command) {
	case USBIP_CMD_SUBMIT: {
		const struct usbip_cmd_submit *c = &hdr->u.cmd_submit;

		put_u32(out + 20, c->transfer_flags);
		put_u32(out + 24, c->transfer_buffer_length);
		put_u32(out + 28, (uint32_t)c->start_frame);
		put_u32(out + 32, c->number_of_packets);
		put_u32(out + 36, (uint32_t)c->interval);
		memcpy(out + 40, c->setup, 8);
		break;
	}
	case USBIP_RET_SUBMIT: {
		const struct usbip_ret_submit *r = &hdr->u.ret_submit;

		put_u32(out + 20, (uint32_t)r->status);
		put_u32(out + 24, r->actual_length);
		put_u32(out + 28, (uint32_t)r->start_frame);
		put_u32(out + 32, r->number_of_packets);
		put_u32(out + 36, (uint32_t)r->error_count);
		break;
	}
	case USBIP_CMD_UNLINK:
		put_u32(out + 20, hdr->u.cmd_unlink.unlink_seqnum);
		break;
	case USBIP_RET_UNLINK:
		put_u32(out + 20, (uint32_t)hdr->u.ret_unlink.status);
		break;
	}
}

static int check_iso_count(uint32_t n, struct usbip_error *err)
{
	if (usbip_proto_has_iso_packets(n) && n > USBIP_MAX_ISO_PACKETS)
		return result_error_set(err, "number_of_packets: %u is more than %u", n,
					USBIP_MAX_ISO_PACKETS);
	return 0;
}

int usbip_proto_decode_urb_header(const uint8_t *buf, size_t len, struct usbip_urb_header *hdr,
				  struct usbip_error *err)
{
	struct usbip_header_basic *b = &hdr->base;

	memset(hdr, 0, sizeof(*hdr));
	if (need(len, USBIP_URB_HEADER_SIZE, "urb header", err))
		return -1;
	b->command = get_u32(buf);
	b->seqnum = get_u32(buf + 4);
	b->devid = get_u32(buf + 8);
	b->direction = get_u32(buf + 12);
	b->ep = get_u32(buf + 16);
	if (b->direction != USBIP_DIR_OUT && b->direction != USBIP_DIR_IN)
		return result_error_set(err, "direction: %u is neither 0 (out) nor 1 (in)",
					b->direction);
	if (b->ep > 15)
		return result_error_set(err, "ep: %u is not an endpoint number (0-15)", b->ep);

	switch (b->command) {
	case USBIP_CMD_SUBMIT: {
		struct usbip_cmd_submit *c = &hdr->u.cmd_submit;

		c->transfer_flags = get_u32(buf + 20);
		c->transfer_buffer_length = get_u32(buf + 24);
		c->start_frame = get_s32(buf + 28);
		c->number_of_packets = get_u32(buf + 32);
		c->interval = get_s32(buf + 36);
		memcpy(c->setup, buf + 40, 8);
		if (c->transfer_buffer_length > USBIP_MAX_TRANSFER)
			return result_error_set(err, "transfer_buffer_length: %u is more than %u",
						c->transfer_buffer_length, USBIP_MAX_TRANSFER);
		return check_iso_count(c->number_of_packets, err);
	}
	case USBIP_RET_SUBMIT: {
		struct usbip_ret_submit *r = &hdr->u.ret_submit;

		r->status = get_s32(buf + 20);
		r->actual_length = get_u32(buf + 24);
		r->start_frame = get_s32(buf + 28);
		r->number_of_packets = get_u32(buf + 32);
		r->error_count = get_s32(buf + 36);
		if (r->actual_length > USBIP_MAX_TRANSFER)
			return result_error_set(err, "actual_length: %u is more than %u",
						r->actual_length, USBIP_MAX_TRANSFER);
		return check_iso_count(r->number_of_packets, err);
	}
	case USBIP_CMD_UNLINK:
		hdr->u.cmd_unlink.unlink_seqnum = get_u32(buf + 20);
		return 0;
	case USBIP_RET_UNLINK:
		hdr->u.ret_unlink.status = get_s32(buf + 20);
		return 0;
	}
	return result_error_set(err, "command: unknown URB command 0x%08x", b->command);
}

void usbip_proto_encode_iso_packet(uint8_t out[USBIP_ISO_PACKET_SIZE],
				   const struct usbip_iso_packet *iso)
{
	put_u32(out, iso->offset);
	put_u32(out + 4, iso->length);
	put_u32(out + 8, iso->actual_length);
	put_u32(out + 12, (uint32_t)iso->status);
}

int usbip_proto_decode_iso_packet(const uint8_t *buf, size_t len, struct usbip_iso_packet *iso,
				  struct usbip_error *err)
{
	if (need(len, USBIP_ISO_PACKET_SIZE, "iso packet descriptor", err))
		return -1;
	iso->offset = get_u32(buf);
	iso->length = get_u32(buf + 4);
	iso->actual_length = get_u32(buf + 8);
	iso->status = get_s32(buf + 12);
	if (iso->actual_length > iso->length)
		return result_error_set(err, "iso actual_length: %u is more than its length %u",
					iso->actual_length, iso->length);
	if (iso->length > USBIP_MAX_TRANSFER || iso->offset > USBIP_MAX_TRANSFER - iso->length)
		return result_error_set(err,
					"iso offset+length: %u+%u is past the largest transfer",
					iso->offset, iso->length);
	return 0;
}

int usbip_proto_urb_payload(const struct usbip_urb_header *hdr, uint32_t submit_direction,
			    struct usbip_proto_urb_payload *payload, struct usbip_error *err)
{
	payload->data_len = 0;
	payload->iso_count = 0;
	switch (hdr->base.command) {
	case USBIP_CMD_SUBMIT: {
		const struct usbip_cmd_submit *c = &hdr->u.cmd_submit;

		if (hdr->base.direction == USBIP_DIR_OUT)
			payload->data_len = c->transfer_buffer_length;
		if (usbip_proto_has_iso_packets(c->number_of_packets))
			payload->iso_count = c->number_of_packets;
		return 0;
	}
	case USBIP_RET_SUBMIT: {
		const struct usbip_ret_submit *r = &hdr->u.ret_submit;

		if (submit_direction == USBIP_DIR_IN)
			payload->data_len = r->actual_length;
		if (usbip_proto_has_iso_packets(r->number_of_packets))
			payload->iso_count = r->number_of_packets;
		return 0;
	}
	case USBIP_CMD_UNLINK:
	case USBIP_RET_UNLINK:
		return 0;
	}
	return result_error_set(err, "command: unknown URB command 0x%08x", hdr->base.command);
}

int usbip_proto_decode_urb(const uint8_t *buf, size_t len, uint32_t submit_direction,
			   struct usbip_urb *urb, size_t *used, struct usbip_error *err)
{
	struct usbip_proto_urb_payload pl;
	size_t off = USBIP_URB_HEADER_SIZE;
	uint32_t i;

	memset(urb, 0, sizeof(*urb));
	if (usbip_proto_decode_urb_header(buf, len, &urb->hdr, err) ||
	    usbip_proto_urb_payload(&urb->hdr, submit_direction, &pl, err))
		return -1;
	if (need(len - off, pl.data_len, "transfer_buffer", err))
		return -1;
	urb->data = pl.data_len ? buf + off : NULL;
	urb->data_len = pl.data_len;
	off += pl.data_len;
	if (need(len - off, (size_t)pl.iso_count * USBIP_ISO_PACKET_SIZE, "iso packet descriptors",
		 err))
		return -1;
	if (pl.iso_count) {
		urb->iso = calloc(pl.iso_count, sizeof(*urb->iso));
		if (!urb->iso)
			return result_error_set(err, "iso packet descriptors: out of memory");
		urb->iso_count = pl.iso_count;
		for (i = 0; i < pl.iso_count; i++) {
			if (usbip_proto_decode_iso_packet(buf + off, len - off, &urb->iso[i],
							  err)) {
				usbip_proto_urb_free(urb);
				return -1;
			}
			off += USBIP_ISO_PACKET_SIZE;
		}
	}
	if (used)
		*used = off;
	return 0;
}

void usbip_proto_urb_free(struct usbip_urb *urb)
{
	free(urb->iso);
	urb->iso = NULL;
	urb->iso_count = 0;
}

size_t usbip_proto_urb_size(const struct usbip_urb *urb)
{
	return USBIP_URB_HEADER_SIZE + urb->data_len +
	       (size_t)urb->iso_count * USBIP_ISO_PACKET_SIZE;
}

long usbip_proto_encode_urb(uint8_t *out, size_t out_len, const struct usbip_urb *urb)
{
	size_t off = USBIP_URB_HEADER_SIZE;
	uint32_t i;

	if (usbip_proto_urb_size(urb) > out_len)
		return -1;
	usbip_proto_encode_urb_header(out, &urb->hdr);
	if (urb->data_len) {
		memcpy(out + off, urb->data, urb->data_len);
		off += urb->data_len;
	}
	for (i = 0; i < urb->iso_count; i++) {
		usbip_proto_encode_iso_packet(out + off, &urb->iso[i]);
		off += USBIP_ISO_PACKET_SIZE;
	}
	return (long)off;
}
