// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The USB side of the MTP responder: what the device looks like, the PTP
 * class requests on ep0, commands gathered from the bulk OUT pipe and
 * handed to the session, and events on the interrupt pipe.
 */
#include "mtp/mtp_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "vdev/vdev.h"
#include "wire/usb_descriptors.h"
#include "wire/usbip_proto.h"

#define EVENTS_QUEUED 4096 /* bytes of events kept while nobody reads them */

/* PTP still image class requests (USB Still Image Capture Device Definition, 5.2) */
#define PTP_REQ_CANCEL	       0x64
#define PTP_REQ_GET_EXT_EVENT  0x65
#define PTP_REQ_RESET	       0x66
#define PTP_REQ_GET_DEV_STATUS 0x67

static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
	18,
	USB_DT_DEVICE,
	0x00,
	0x02, /* USB 2.0 */
	0x00,
	0x00,
	0x00, /* class per interface */
	64,   /* ep0 max packet */
	MTP_VENDOR_ID & 0xff,
	MTP_VENDOR_ID >> 8,
	MTP_PRODUCT_ID & 0xff,
	MTP_PRODUCT_ID >> 8,
	0x00,
	0x01, /* bcdDevice 1.00 */
	1,
	2,
	3, /* manufacturer, product, serial */
	1, /* one configuration */
};

static const uint8_t config_desc[] = {
	/* configuration: 1 interface, self-powered */
	9,
	USB_DT_CONFIG,
	39,
	0,
	1,
	1,
	0,
	0xc0,
	1,
	/* interface 0: still image capture, PTP, 3 endpoints, string 4 ("MTP") */
	9,
	USB_DT_INTERFACE,
	0,
	0,
	3,
	0x06,
	0x01,
	0x01,
	4,
	/* bulk IN, bulk OUT: 512 bytes (high speed) */
	7,
	0x05,
	MTP_EP_BULK_IN,
	0x02,
	MTP_BULK_MPS & 0xff,
	MTP_BULK_MPS >> 8,
	0,
	7,
	0x05,
	MTP_EP_BULK_OUT,
	0x02,
	MTP_BULK_MPS & 0xff,
	MTP_BULK_MPS >> 8,
	0,
	/* interrupt IN: events, up to 64 bytes every 2^(6-1) microframes */
	7,
	0x05,
	MTP_EP_INTR_IN,
	0x03,
	64,
	0,
	6,
};

/* ---- vdev callbacks ---- */

/* Forgets the transaction in progress, in whatever phase it is. */
static void reset_state(struct mtp_device *m)
{
	mtp_stream_stop_in(m);
	mtp_stream_abandon_out(m);
	mtp_object_cancel_send(m, true);
	mtp_buf_free(&m->dataset);
	m->cmd_len = 0;
	m->cmd_overflow = false;
}

static void on_out(void *priv, uint8_t ep, const uint8_t *data, size_t len)
{
	struct mtp_device *m = priv;
	bool short_xfer = len % MTP_BULK_MPS != 0 || len == 0;

	if (ep != (MTP_EP_BULK_OUT & 0x0f))
		return;
	if (m->in_data_out) {
		mtp_stream_out(m, data, len);
		return;
	}
	if (len == 0 && m->cmd_len == 0)
		return; /* the ZLP that ends a data phase of a multiple of 512 bytes */
	if (m->cmd_len + len > sizeof(m->cmd)) {
		m->cmd_overflow = true;
		m->cmd_len = 0;
	} else {
		memcpy(m->cmd + m->cmd_len, data, len);
		m->cmd_len += len;
	}
	if (!short_xfer)
		return;
	if (m->cmd_overflow) {
		log_warn("mtp: oversized command container dropped");
		m->op = (struct mtp_operation){ 0 };
		mtp_session_respond_rc(m, PTP_RC_GeneralError);
	} else {
		mtp_session_command(m, m->cmd, m->cmd_len);
	}
	m->cmd_len = 0;
	m->cmd_overflow = false;
}

/* File data straight into the host's URB: one copy, from the page cache. */
static size_t on_in_direct(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end)
{
	struct mtp_device *m = priv;

	if (ep != MTP_EP_BULK_IN)
		return 0;
	return mtp_stream_direct(m, buf, room, end);
}

static void on_in_wanted(void *priv, uint8_t ep)
{
	struct mtp_device *m = priv;

	if (ep == MTP_EP_BULK_IN)
		mtp_stream_refill(m);
}

/* "MSFT100", then bMS_VendorCode and bPad 0: the UTF-16 unit of the code, little-endian. */
static const char ms_os_string[] = { 'M', 'S', 'F', 'T', '1', '0', '0', MTP_MS_VENDOR_CODE, 0 };

/*
 * The Microsoft OS feature requests (bRequest: our vendor code), device to
 * host: wIndex 4 the extended compat ID ("MTP" for interface 0), wIndex 5
 * the extended properties (none). wValue is the interface (high byte, 0
 * for the device-wide compat ID) and the page (low byte): one interface,
 * one page. Windows asks for the header alone first, then for dwLength
 * bytes; anything shorter than the header, any other index, page or
 * interface, or an OUT request is not one of them: a stall.
 */
static int ms_os_request(const struct vdev_setup *s, uint8_t *data)
{
	struct mtp_buf b = { 0 };
	size_t header, n;

	if (s->request != MTP_MS_VENDOR_CODE || !(s->request_type & VDEV_REQ_DIR_IN) ||
	    s->value != 0)
		return -1;
	if (s->index == MTP_MS_COMPAT_ID_INDEX) {
		mtp_encode_ms_compat_id(&b, 0, "MTP");
		header = MTP_MS_COMPAT_ID_HEADER;
	} else if (s->index == MTP_MS_EXT_PROPS_INDEX) {
		mtp_encode_ms_ext_props(&b);
		header = MTP_MS_EXT_PROPS_HEADER;
	} else {
		return -1;
	}
	if (b.failed || s->length < header) {
		mtp_buf_free(&b);
		return -1;
	}
	n = b.len < s->length ? b.len : s->length;
	memcpy(data, b.data, n);
	mtp_buf_free(&b);
	return (int)n;
}

static int on_control(void *priv, const struct vdev_setup *s, uint8_t *data)
{
	struct mtp_device *m = priv;

	if ((s->request_type & VDEV_REQ_TYPE_MASK) == VDEV_REQ_VENDOR)
		return ms_os_request(s, data);
	if ((s->request_type & VDEV_REQ_TYPE_MASK) != VDEV_REQ_CLASS)
		return -1;
	switch (s->request) {
	case PTP_REQ_CANCEL:
		/* Cancel: drop what is queued for the host and forget the transaction. */
		log_debug("mtp: host cancelled the transaction");
		reset_state(m);
		vdev_in_flush(m->vdev, MTP_EP_BULK_IN);
		return 0;
	case PTP_REQ_GET_DEV_STATUS:
		if (!(s->request_type & VDEV_REQ_DIR_IN) || s->length < 4)
			return -1;
		data[0] = 4;
		data[1] = 0;
		data[2] = PTP_RC_OK & 0xff;
		data[3] = PTP_RC_OK >> 8;
		return 4;
	case PTP_REQ_RESET:
		reset_state(m);
		vdev_in_flush(m->vdev, MTP_EP_BULK_IN);
		m->session_open = false;
		return 0;
	}
	return -1;
}

static void on_reset(void *priv)
{
	struct mtp_device *m = priv;

	reset_state(m);
	m->session_open = false;
}

static const struct vdev_ops mtp_ops = {
	.control = on_control,
	.out = on_out,
	.in_wanted = on_in_wanted,
	.in_direct = on_in_direct,
	.reset = on_reset,
};

/* ---- the public calls ---- */

struct mtp_device *mtp_device_new(const struct mtp_device_options *opts)
{
	struct mtp_device *m = calloc(1, sizeof(*m));
	struct vdev_config cfg = {
		.device_desc = device_desc,
		.config_desc = config_desc,
		.num_strings = MTP_MS_OS_STRING_INDEX,
		.speed = USBIP_SPEED_HIGH,
		.ops = &mtp_ops,
	};
	struct stat sb;

	if (!m)
		return NULL;
	m->in_fd = m->out_fd = m->send_fd = -1;
	m->read_only = opts->read_only;
	snprintf(m->name, sizeof(m->name), "%s", opts->name ? opts->name : "serve-mtp");
	snprintf(m->friendly, sizeof(m->friendly), "%s", m->name);
	m->store = mtp_store_open(opts->dir, opts->read_only);
	if (!m->store) {
		free(m);
		return NULL;
	}
	/* A serial that stays the same for the same directory, so hosts recognise it. */
	if (stat(opts->dir, &sb) == 0)
		snprintf(m->serial, sizeof(m->serial), "%08llx%08llx",
			 (unsigned long long)sb.st_dev & 0xffffffffull,
			 (unsigned long long)sb.st_ino & 0xffffffffull);
	m->strings[0] = "usbip-ng";
	m->strings[1] = "serve-mtp";
	m->strings[2] = m->serial;
	m->strings[3] = "MTP";
	m->strings[MTP_MS_OS_STRING_INDEX - 1] = ms_os_string;
	cfg.strings = m->strings;
	cfg.priv = m;
	m->vdev = vdev_new(&cfg);
	if (!m->vdev) {
		mtp_store_close(m->store);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void mtp_device_free(struct mtp_device *m)
{
	if (!m)
		return;
	reset_state(m);
	vdev_free(m->vdev);
	mtp_store_close(m->store);
	free(m);
}

struct vdev *mtp_device_vdev(struct mtp_device *m)
{
	return m->vdev;
}

int mtp_device_watch_fd(const struct mtp_device *m)
{
	return mtp_store_watch_fd(m->store);
}

static void send_event(void *arg, uint16_t code, uint32_t handle)
{
	struct mtp_device *m = arg;
	struct mtp_operation ev = { .code = code, .params = { handle }, .num_params = 1 };
	uint8_t buf[MTP_COMMAND_MAX];

	log_debug("mtp: event 0x%04x for object %u", code, handle);
	if (!m->session_open || !vdev_configured(m->vdev))
		return;
	/* Bounded: an initiator that never reads events loses the oldest news, not memory. */
	if (vdev_in_queued(m->vdev, MTP_EP_INTR_IN) > EVENTS_QUEUED)
		vdev_in_flush(m->vdev, MTP_EP_INTR_IN);
	vdev_in_write(m->vdev, MTP_EP_INTR_IN, buf, mtp_encode_event(buf, &ev), true);
}

void mtp_device_process_changes(struct mtp_device *m)
{
	mtp_store_read_events(m->store, send_event, m);
}
