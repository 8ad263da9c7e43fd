// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoders and decoders of every PDU, checked against the byte offsets of
 * the protocol document and against its wire capture (HID interrupt URBs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wire/usbip_proto.h"
#include "testutil.h"

/* The capture at the end of Documentation/usb/usbip_protocol.rst. */
static const char cmd_intr_in[] =
	"00000001 00000d05 0001000f 00000001 00000001 00000200 00000040 ffffffff "
	"00000000 00000004 00000000 00000000";
static const char cmd_intr_out[] =
	"00000001 00000d06 0001000f 00000000 00000001 00000000 00000040 ffffffff "
	"00000000 00000004 00000000 00000000"
	"ffffffff860008a784ce5ae2123763000000000000000000000000000000000000000000000000000000000000"
	"00"
	"000000000000000000000000000000000000";
static const char ret_intr_out[] =
	"00000003 00000d06 00000000 00000000 00000000 00000000 00000040 ffffffff "
	"00000000 00000000 00000000 00000000";
static const char ret_intr_in[] =
	"00000003 00000d05 00000000 00000000 00000000 00000000 00000040 ffffffff "
	"00000000 00000000 00000000 00000000"
	"ffffffff860011a784ce5ae2123763612891b10201000004000000000000000000000000000000000000000000"
	"00"
	"000000000000000000000000000000000000";

/* Decodes a whole URB PDU, checks it used every byte, re-encodes it identically. */
static void roundtrip_urb(const uint8_t *wire, size_t len, uint32_t submit_dir,
			  struct usbip_urb *urb)
{
	struct usbip_error err = { "" };
	uint8_t again[256];
	size_t used = 0;

	assert_int_equal(usbip_proto_decode_urb(wire, len, submit_dir, urb, &used, &err), 0);
	assert_int_equal(used, len);
	assert_int_equal(usbip_proto_urb_size(urb), len);
	assert_int_equal(usbip_proto_encode_urb(again, sizeof(again), urb), (long)len);
	assert_memory_equal(again, wire, len);
}

static void test_capture_cmd_intr_in(void **state)
{
	uint8_t wire[256];
	size_t len = hex_to_bytes(cmd_intr_in, wire, sizeof(wire));
	struct usbip_urb urb;
	const struct usbip_cmd_submit *c = &urb.hdr.u.cmd_submit;

	assert_int_equal(len, USBIP_URB_HEADER_SIZE);
	roundtrip_urb(wire, len, USBIP_DIR_IN, &urb);
	assert_int_equal(urb.hdr.base.command, USBIP_CMD_SUBMIT);
	assert_int_equal(urb.hdr.base.seqnum, 0xd05);
	assert_int_equal(urb.hdr.base.devid, 0x0001000f); /* busnum 1, devnum 15 */
	assert_int_equal(urb.hdr.base.direction, USBIP_DIR_IN);
	assert_int_equal(urb.hdr.base.ep, 1);
	assert_int_equal(c->transfer_flags, USBIP_URB_DIR_IN);
	assert_int_equal(c->transfer_buffer_length, 64);
	assert_int_equal(c->start_frame, -1);
	assert_int_equal(c->number_of_packets, 0);
	assert_int_equal(c->interval, 4);
	assert_int_equal(urb.data_len, 0); /* IN submits carry no data */
	assert_int_equal(urb.iso_count, 0);
}

static void test_capture_cmd_intr_out(void **state)
{
	uint8_t wire[256];
	size_t len = hex_to_bytes(cmd_intr_out, wire, sizeof(wire));
	struct usbip_urb urb;

	assert_int_equal(len, USBIP_URB_HEADER_SIZE + 64);
	roundtrip_urb(wire, len, USBIP_DIR_OUT, &urb);
	assert_int_equal(urb.hdr.base.seqnum, 0xd06);
	assert_int_equal(urb.hdr.base.direction, USBIP_DIR_OUT);
	assert_int_equal(urb.hdr.u.cmd_submit.transfer_flags, 0);
	assert_int_equal(urb.data_len, 64);
	assert_ptr_equal(urb.data, wire + USBIP_URB_HEADER_SIZE);
	assert_int_equal(urb.data[0], 0xff);
	assert_int_equal(urb.data[4], 0x86);
	assert_int_equal(urb.data[14], 0x63);
	assert_int_equal(urb.data[63], 0x00);
}

static void test_capture_ret_intr_out(void **state)
{
	uint8_t wire[256];
	size_t len = hex_to_bytes(ret_intr_out, wire, sizeof(wire));
	struct usbip_urb urb;
	const struct usbip_ret_submit *r = &urb.hdr.u.ret_submit;

	roundtrip_urb(wire, len, USBIP_DIR_OUT, &urb);
	assert_int_equal(urb.hdr.base.command, USBIP_RET_SUBMIT);
	assert_int_equal(urb.hdr.base.seqnum, 0xd06);
	assert_int_equal(urb.hdr.base.devid, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->actual_length, 64);
	assert_int_equal(r->start_frame, -1);
	assert_int_equal(r->number_of_packets, 0);
	assert_int_equal(r->error_count, 0);
	assert_int_equal(urb.data_len, 0); /* the reply to an OUT carries no data */
}

static void test_capture_ret_intr_in(void **state)
{
	uint8_t wire[256];
	size_t len = hex_to_bytes(ret_intr_in, wire, sizeof(wire));
	struct usbip_urb urb;

	assert_int_equal(len, USBIP_URB_HEADER_SIZE + 64);
	roundtrip_urb(wire, len, USBIP_DIR_IN, &urb);
	assert_int_equal(urb.hdr.base.seqnum, 0xd05);
	assert_int_equal(urb.hdr.u.ret_submit.actual_length, 64);
	assert_int_equal(urb.data_len, 64);
	assert_int_equal(urb.data[15], 0x61);
	assert_int_equal(urb.data[19], 0x02);
}

static void test_op_header_all_codes(void **state)
{
	static const uint16_t codes[] = {
		USBIP_OP_REQ_IMPORT,   USBIP_OP_REP_IMPORT,   USBIP_OP_REQ_DEVLIST,
		USBIP_OP_REP_DEVLIST,  USBIP_OP_REQ_EXPORT,   USBIP_OP_REP_EXPORT,
		USBIP_OP_REQ_UNEXPORT, USBIP_OP_REP_UNEXPORT,
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct usbip_op_header in = { USBIP_VERSION, codes[i], (uint32_t)i }, out;
		struct usbip_error err;
		uint8_t wire[USBIP_OP_HEADER_SIZE];

		usbip_proto_encode_op_header(wire, &in);
		assert_int_equal(wire[0], 0x01);
		assert_int_equal(wire[1], 0x11);
		assert_int_equal(wire[2], codes[i] >> 8);
		assert_int_equal(wire[3], codes[i] & 0xff);
		assert_int_equal(wire[7], i);
		assert_int_equal(
			usbip_proto_decode_op_header(wire, sizeof(wire), codes[i], &out, &err), 0);
		assert_int_equal(out.code, codes[i]);
		assert_int_equal(out.status, i);
	}
}

static void test_op_req_devlist_bytes(void **state)
{
	static const uint8_t expect[] = { 0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0 };
	struct usbip_op_header hdr = { USBIP_VERSION, USBIP_OP_REQ_DEVLIST, 0 };
	uint8_t wire[USBIP_OP_HEADER_SIZE];

	usbip_proto_encode_op_header(wire, &hdr);
	assert_memory_equal(wire, expect, sizeof(expect));
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REQ_DEVLIST, 0), 0);
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REP_IMPORT, USBIP_ST_OK), 312);
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REP_IMPORT, USBIP_ST_NA), 0);
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REQ_EXPORT, 0), 312);
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REQ_UNEXPORT, 0), 312);
	assert_int_equal(usbip_proto_op_body_size(USBIP_OP_REP_EXPORT, USBIP_ST_OK), 0);
}

static struct usbip_usb_device sample_device(void)
{
	struct usbip_usb_device d = {
		.path = "/sys/devices/pci0000:00/0000:00:1d.1/usb3/3-2",
		.busid = "3-2",
		.busnum = 3,
		.devnum = 7,
		.speed = USBIP_SPEED_HIGH,
		.id_vendor = 0x46f4,
		.id_product = 0x0001,
		.bcd_device = 0x0100,
		.device_class = 0,
		.device_subclass = 0,
		.device_protocol = 0,
		.configuration_value = 1,
		.num_configurations = 1,
		.num_interfaces = 2,
	};
	return d;
}

static void test_device_record_offsets(void **state)
{
	struct usbip_usb_device in = sample_device(), out;
	struct usbip_error err;
	uint8_t wire[USBIP_DEVICE_RECORD_SIZE];

	assert_int_equal(usbip_proto_encode_device(wire, &in), 0);
	/* Offsets from the table of OP_REP_DEVLIST, less its 12-byte prefix. */
	assert_string_equal((char *)wire, in.path);
	assert_string_equal((char *)wire + 0x10c - 12, "3-2");
	assert_int_equal(wire[0x12c - 12 + 3], 3); /* busnum */
	assert_int_equal(wire[0x130 - 12 + 3], 7); /* devnum */
	assert_int_equal(wire[0x134 - 12 + 3], 3); /* speed */
	assert_int_equal(wire[0x138 - 12], 0x46);  /* idVendor */
	assert_int_equal(wire[0x138 - 12 + 1], 0xf4);
	assert_int_equal(wire[0x13a - 12 + 1], 0x01); /* idProduct */
	assert_int_equal(wire[0x13c - 12], 0x01);     /* bcdDevice */
	assert_int_equal(wire[0x141 - 12], 1);	      /* bConfigurationValue */
	assert_int_equal(wire[0x143 - 12], 2);	      /* bNumInterfaces */
	assert_int_equal(usbip_proto_decode_device(wire, sizeof(wire), &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_device_record_rejects_long_busid(void **state)
{
	struct usbip_usb_device d = sample_device();
	uint8_t wire[USBIP_DEVICE_RECORD_SIZE];

	memset(d.busid, 'x', sizeof(d.busid)); /* no room for the zero */
	assert_int_equal(usbip_proto_encode_device(wire, &d), -1);
}

static void test_devlist_roundtrip(void **state)
{
	struct usbip_devlist_entry entries[2];
	struct usbip_devlist in = { 2, entries }, out;
	struct usbip_error err;
	uint8_t wire[2048], again[2048];
	size_t used;
	long len;

	memset(entries, 0, sizeof(entries));
	entries[0].udev = sample_device();
	entries[1].udev = sample_device();
	entries[0].interfaces[0] = (struct usbip_usb_interface){ 8, 6, 0x50 };
	entries[0].interfaces[1] = (struct usbip_usb_interface){ 3, 1, 1 };
	strcpy(entries[1].udev.busid, "1-1.4");
	/* cppcheck-suppress unreadVariable ; read through in.entries */
	entries[1].udev.num_interfaces = 0;
	len = usbip_proto_encode_devlist_reply(wire, sizeof(wire), &in);
	assert_int_equal(len, 12 + 312 + 2 * 4 + 312);
	/* The first interface record sits at 0x144 with its padding byte. */
	assert_int_equal(wire[0x144], 8);
	assert_int_equal(wire[0x145], 6);
	assert_int_equal(wire[0x146], 0x50);
	assert_int_equal(wire[0x147], 0);
	/* The second device starts at 0xC + 1*0x138 + 2*4. */
	assert_string_equal((char *)wire + 0xc + 0x138 + 8 + 256, "1-1.4");

	assert_int_equal(usbip_proto_decode_devlist_reply(wire, (size_t)len, &out, &used, &err), 0);
	assert_int_equal(used, (size_t)len);
	assert_int_equal(out.count, 2);
	assert_int_equal(out.entries[0].interfaces[1].interface_class, 3);
	assert_string_equal(out.entries[1].udev.busid, "1-1.4");
	assert_int_equal(usbip_proto_encode_devlist_reply(again, sizeof(again), &out), len);
	assert_memory_equal(again, wire, (size_t)len);
	usbip_proto_devlist_free(&out);
}

static void test_devlist_empty(void **state)
{
	struct usbip_devlist in = { 0, NULL }, out;
	struct usbip_error err;
	uint8_t wire[16];
	size_t used;

	assert_int_equal(usbip_proto_encode_devlist_reply(wire, sizeof(wire), &in), 12);
	assert_int_equal(usbip_proto_decode_devlist_reply(wire, 12, &out, &used, &err), 0);
	assert_int_equal(out.count, 0);
	assert_int_equal(used, 12);
	assert_int_equal(usbip_proto_encode_devlist_reply(wire, 11, &in), -1); /* too small */
}

static void test_import_request(void **state)
{
	char busid[USBIP_BUSID_SIZE];
	struct usbip_error err;
	uint8_t wire[USBIP_IMPORT_REQUEST_SIZE];

	assert_int_equal(usbip_proto_encode_import_request(wire, "2-1"), 0);
	assert_int_equal(wire[3], 0);
	assert_int_equal(wire[31], 0);
	assert_int_equal(usbip_proto_decode_import_request(wire, sizeof(wire), busid, &err), 0);
	assert_string_equal(busid, "2-1");
}

static void test_export_request_is_header_plus_record(void **state)
{
	struct usbip_op_header hdr = { USBIP_VERSION, USBIP_OP_REQ_EXPORT, 0 }, hdr_out;
	struct usbip_usb_device d = sample_device(), d_out;
	struct usbip_error err;
	uint8_t wire[USBIP_OP_HEADER_SIZE + USBIP_DEVICE_RECORD_SIZE];

	usbip_proto_encode_op_header(wire, &hdr);
	assert_int_equal(usbip_proto_encode_device(wire + 8, &d), 0);
	assert_int_equal(wire[2], 0x80);
	assert_int_equal(wire[3], 0x06);
	assert_int_equal(usbip_proto_decode_op_header(wire, 8, 0, &hdr_out, &err), 0);
	assert_int_equal(usbip_proto_op_body_size(hdr_out.code, 0), 312);
	assert_int_equal(usbip_proto_decode_device(wire + 8, 312, &d_out, &err), 0);
	assert_string_equal(d_out.busid, "3-2");
}

static void test_unlink_roundtrip(void **state)
{
	struct usbip_urb cmd = { 0 }, ret = { 0 }, out;
	uint8_t wire[USBIP_URB_HEADER_SIZE];
	size_t used;
	struct usbip_error err;

	cmd.hdr.base = (struct usbip_header_basic){ USBIP_CMD_UNLINK, 0x101, 0x10002, 0, 0 };
	cmd.hdr.u.cmd_unlink.unlink_seqnum = 0x100;
	assert_int_equal(usbip_proto_encode_urb(wire, sizeof(wire), &cmd), 48);
	assert_int_equal(wire[23], 0x00);
	assert_int_equal(wire[22], 0x01);
	assert_int_equal(usbip_proto_decode_urb(wire, sizeof(wire), 0, &out, &used, &err), 0);
	assert_int_equal(out.hdr.u.cmd_unlink.unlink_seqnum, 0x100);

	ret.hdr.base = (struct usbip_header_basic){ USBIP_RET_UNLINK, 0x101, 0, 0, 0 };
	ret.hdr.u.ret_unlink.status = -104; /* -ECONNRESET */
	assert_int_equal(usbip_proto_encode_urb(wire, sizeof(wire), &ret), 48);
	assert_int_equal(wire[20], 0xff);
	assert_int_equal(wire[23], 0x98);
	assert_int_equal(usbip_proto_decode_urb(wire, sizeof(wire), 0, &out, &used, &err), 0);
	assert_int_equal(out.hdr.u.ret_unlink.status, -104);
}

static void test_iso_roundtrip(void **state)
{
	struct usbip_iso_packet iso[3] = {
		{ 0, 192, 192, 0 },
		{ 192, 192, 100, 0 },
		{ 384, 192, 0, -18 /* -EXDEV */ },
	};
	uint8_t data[292];
	struct usbip_urb ret = { 0 }, out;
	uint8_t wire[512];
	struct usbip_error err;
	size_t used;
	long len;

	memset(data, 0xa5, sizeof(data));
	ret.hdr.base = (struct usbip_header_basic){ USBIP_RET_SUBMIT, 9, 0, 0, 0 };
	ret.hdr.u.ret_submit = (struct usbip_ret_submit){ 0, 292, 1000, 3, 1 };
	ret.data = data;
	ret.data_len = sizeof(data);
	ret.iso = iso;
	ret.iso_count = 3;
	len = usbip_proto_encode_urb(wire, sizeof(wire), &ret);
	assert_int_equal(len, 48 + 292 + 3 * 16);
	/* The second descriptor's actual_length, big endian, after the data. */
	assert_int_equal(wire[48 + 292 + 16 + 8 + 3], 100);
	assert_int_equal(usbip_proto_decode_urb(wire, (size_t)len, USBIP_DIR_IN, &out, &used, &err),
			 0);
	assert_int_equal(used, (size_t)len);
	assert_int_equal(out.iso_count, 3);
	assert_int_equal(out.iso[2].status, -18);
	assert_int_equal(out.iso[1].offset, 192);
	usbip_proto_urb_free(&out);
}

static void test_serial_extension(void **state)
{
	struct usbip_usb_device in = sample_device(), out;
	struct usbip_error err;
	uint8_t wire[USBIP_DEVICE_RECORD_SIZE];
	size_t at = strlen(in.path) + 1;

	/* Without a serial, the bytes after the path stay zero, as the protocol says. */
	assert_int_equal(usbip_proto_encode_device(wire, &in), 0);
	assert_int_equal(wire[at], 0);
	strcpy(in.serial, "VMTEST0001");
	assert_int_equal(usbip_proto_encode_device(wire, &in), 0);
	assert_memory_equal(wire + at, "serial=VMTEST0001", 18);
	assert_int_equal(usbip_proto_decode_device(wire, sizeof(wire), &out, &err), 0);
	assert_string_equal(out.path, in.path);
	assert_string_equal(out.serial, "VMTEST0001");
	assert_memory_equal(&in, &out, sizeof(in));
	/* A serial with a control character is refused by name. */
	wire[at + 9] = '\n';
	assert_int_equal(usbip_proto_decode_device(wire, sizeof(wire), &out, &err), -1);
	assert_non_null(strstr(err.msg, "serial"));
	/* A serial that does not fit after a long path is an encoding error. */
	memset(in.path, 'p', 240);
	in.path[240] = '\0';
	assert_int_equal(usbip_proto_encode_device(wire, &in), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_cmd_intr_in),
		cmocka_unit_test(test_capture_cmd_intr_out),
		cmocka_unit_test(test_capture_ret_intr_out),
		cmocka_unit_test(test_capture_ret_intr_in),
		cmocka_unit_test(test_op_header_all_codes),
		cmocka_unit_test(test_op_req_devlist_bytes),
		cmocka_unit_test(test_device_record_offsets),
		cmocka_unit_test(test_device_record_rejects_long_busid),
		cmocka_unit_test(test_devlist_roundtrip),
		cmocka_unit_test(test_devlist_empty),
		cmocka_unit_test(test_import_request),
		cmocka_unit_test(test_export_request_is_header_plus_record),
		cmocka_unit_test(test_unlink_roundtrip),
		cmocka_unit_test(test_iso_roundtrip),
		cmocka_unit_test(test_serial_extension),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
