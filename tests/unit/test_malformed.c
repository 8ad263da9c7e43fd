// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Malformed inputs for every decoder: each must be refused with a message
 * naming the field, without reading past the input (ASan checks that: the
 * inputs are copied into exactly-sized heap buffers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "wire/usbip_proto.h"
#include "testutil.h"

/* DEVICE_BUSID and DEVICE_PATH: a valid device record with hex's text (not hex) in that field. */
enum decoder {
	OP_HEADER,
	DEVICE,
	DEVICE_BUSID,
	DEVICE_PATH,
	DEVLIST_REPLY,
	IMPORT_REQUEST,
	URB_HEADER,
	URB_IN,
	URB_OUT,
	ISO
};

struct bad_input {
	const char *name;
	enum decoder decoder;
	const char *hex;     /* "" for an empty input */
	int fill_to;	     /* pad with zero bytes up to this length (0: none) */
	const char *message; /* what the error must mention */
};

#define HDR_OK "0111 8005 00000000"
#define URB_SUBMIT_OUT(len, np)                                                                    \
	"00000001 00000001 00010002 00000000 00000001 00000000 " len " 00000000 " np               \
	" 00000000 0000000000000000"

static const struct bad_input cases[] = {
	{ "op header: empty", OP_HEADER, "", 0, "truncated" },
	{ "op header: 7 bytes", OP_HEADER, "0111 8005 000000", 0, "op header: truncated" },
	{ "op header: version 1.0.6", OP_HEADER, "0106 8005 00000000", 0, "version" },
	{ "op header: version 0", OP_HEADER, "0000 8005 00000000", 0, "version" },
	{ "op header: unknown code", OP_HEADER, "0111 8099 00000000", 0, "code" },
	{ "op header: reply code 0", OP_HEADER, "0111 0000 00000000", 0, "code" },
	{ "op header: unexpected code", OP_HEADER, "0111 8003 00000000", 0, "expected" },

	{ "device: empty", DEVICE, "", 0, "device record: truncated" },
	{ "device: 311 bytes", DEVICE, "00", 311, "device record: truncated" },
	{ "device: path without zero", DEVICE,
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141"
	  "4141414141414141414141414141414141414141414141414141414141414141",
	  312, "path" },
	{ "device: busid without zero", DEVICE, NULL, 0, "busid" }, /* built below */
	{ "device: 33 interfaces", DEVICE, NULL, 0, "bNumInterfaces" },
	{ "device: speed 7", DEVICE, NULL, 0, "speed" },

	{ "devlist: count past the maximum", DEVLIST_REPLY, "0111 0005 00000000 00000401", 0,
	  "device count" },
	{ "devlist: count 2^32-1", DEVLIST_REPLY, "0111 0005 00000000 ffffffff", 0,
	  "device count" },
	{ "devlist: count without records", DEVLIST_REPLY, "0111 0005 00000000 00000003", 0,
	  "do not fit" },
	{ "devlist: missing count", DEVLIST_REPLY, "0111 0005 00000000", 0,
	  "device count: truncated" },
	{ "devlist: error status", DEVLIST_REPLY, "0111 0005 00000001 00000000", 0, "status" },
	{ "devlist: request code", DEVLIST_REPLY, "0111 8005 00000000 00000000", 0, "code" },
	{ "devlist: interfaces cut off", DEVLIST_REPLY, NULL, 0, "interface record: truncated" },

	{ "import request: short", IMPORT_REQUEST, "312d3100", 0, "import request: truncated" },
	{ "import request: busid without zero", IMPORT_REQUEST,
	  "3131313131313131313131313131313131313131313131313131313131313131", 0, "busid" },
	/* Peer-given busids go into logs, sysfs paths and vhci's port records. */
	{ "import request: empty busid", IMPORT_REQUEST, "00", 32, "busid: empty" },
	{ "import request: busid with a newline", IMPORT_REQUEST, "312d310a", 32,
	  "busid: byte 0x0a" },
	{ "import request: busid with ESC", IMPORT_REQUEST, "1b5b326a312d31", 32,
	  "busid: byte 0x1b" },
	{ "import request: busid with a space", IMPORT_REQUEST, "312d312031", 32,
	  "busid: byte 0x20" },
	{ "import request: busid with a tab", IMPORT_REQUEST, "312d0931", 32, "busid: byte 0x09" },
	{ "import request: busid with DEL", IMPORT_REQUEST, "312d317f", 32, "busid: byte 0x7f" },
	{ "import request: busid with a UTF-8 letter", IMPORT_REQUEST, "312dc3a9", 32,
	  "busid: byte 0xc3" },
	{ "import request: busid with 0xff", IMPORT_REQUEST, "ff", 32, "busid: byte 0xff" },
	{ "import request: busid with CSI (0x9b)", IMPORT_REQUEST, "312d9b", 32,
	  "busid: byte 0x9b" },
	{ "device: empty busid", DEVICE_BUSID, "", 0, "busid: empty" },
	{ "device: busid with a newline", DEVICE_BUSID, "1-1\nfake", 0, "busid: byte 0x0a" },
	{ "device: busid with ESC", DEVICE_BUSID, "\x1b]0;x\a", 0, "busid: byte 0x1b" },
	{ "device: busid with a space", DEVICE_BUSID, "1-1 2", 0, "busid: byte 0x20" },
	{ "device: busid with 0x80", DEVICE_BUSID, "1-\x80", 0, "busid: byte 0x80" },
	{ "device: path with a newline", DEVICE_PATH, "/sys/x\nerror: forged", 0,
	  "path: control character 0x0a" },
	{ "device: path with ESC", DEVICE_PATH, "/sys/\x1b[2J", 0, "path: control character 0x1b" },
	{ "device: path with DEL", DEVICE_PATH, "/sys/\x7f", 0, "path: control character 0x7f" },

	{ "urb: empty", URB_HEADER, "", 0, "urb header: truncated" },
	{ "urb: 47 bytes", URB_HEADER, "00000001", 47, "urb header: truncated" },
	{ "urb: command 0", URB_HEADER, "00000000", 48, "command" },
	{ "urb: command 5", URB_HEADER, "00000005", 48, "command" },
	{ "urb: command 0x80000001", URB_HEADER, "80000001", 48, "command" },
	{ "urb: direction 2", URB_HEADER, "00000001 00000001 00000000 00000002", 48, "direction" },
	{ "urb: endpoint 16", URB_HEADER, "00000001 00000001 00000000 00000000 00000010", 48,
	  "ep" },
	{ "urb: transfer length 2^31", URB_HEADER, URB_SUBMIT_OUT("80000000", "00000000"), 0,
	  "transfer_buffer_length" },
	{ "urb: transfer length 16MiB+1", URB_HEADER, URB_SUBMIT_OUT("01000001", "00000000"), 0,
	  "transfer_buffer_length" },
	{ "urb: 1025 iso packets", URB_HEADER, URB_SUBMIT_OUT("00000000", "00000401"), 0,
	  "number_of_packets" },
	{ "urb: ret actual_length huge", URB_HEADER,
	  "00000003 00000001 00000000 00000000 00000000 00000000 7fffffff", 48, "actual_length" },
	{ "urb: ret 2^31 iso packets", URB_HEADER,
	  "00000003 00000001 00000000 00000000 00000000 00000000 00000000 00000000 80000000", 48,
	  "number_of_packets" },
	{ "urb: OUT data cut short", URB_OUT, URB_SUBMIT_OUT("00000040", "ffffffff") "0102", 0,
	  "transfer_buffer: truncated" },
	{ "urb: IN reply data cut short", URB_IN,
	  "00000003 00000001 00000000 00000000 00000000 00000000 00000010 00000000 00000000 "
	  "00000000 0000000000000000 00",
	  0, "transfer_buffer: truncated" },
	{ "urb: iso descriptors cut short", URB_OUT,
	  URB_SUBMIT_OUT("00000000", "00000002") "00000000 00000010 00000000 00000000", 0,
	  "iso packet descriptors: truncated" },
	{ "urb: iso actual > length", URB_OUT,
	  URB_SUBMIT_OUT("00000000", "00000001") "00000000 00000010 00000011 00000000", 0,
	  "iso actual_length" },

	{ "iso: short", ISO, "00000000 00000010", 0, "iso packet descriptor: truncated" },
	{ "iso: offset past the largest transfer", ISO, "ffffff00 00000100 00000000 00000000", 0,
	  "iso offset" },
};

/* Builds the inputs that are easier to make from a valid record. */
static size_t build_special(const struct bad_input *c, uint8_t *buf, size_t max)
{
	struct usbip_usb_device d = { .path = "/sys/x", .busid = "1-1", .num_interfaces = 2 };
	size_t off;

	if (c->decoder == DEVLIST_REPLY) {
		/* One device claiming 2 interfaces, with one interface record present. */
		off = hex_to_bytes("0111 0005 00000000 00000001", buf, max);
		assert_int_equal(usbip_proto_encode_device(buf + off, &d), 0);
		off += USBIP_DEVICE_RECORD_SIZE;
		memset(buf + off, 8, 4);
		return off + 4;
	}
	assert_int_equal(usbip_proto_encode_device(buf, &d), 0);
	if (c->decoder == DEVICE_PATH) {
		memset(buf, 0, USBIP_PATH_SIZE);
		memcpy(buf, c->hex, strlen(c->hex));
	} else if (c->decoder == DEVICE_BUSID) {
		memset(buf + 256, 0, USBIP_BUSID_SIZE);
		memcpy(buf + 256, c->hex, strlen(c->hex));
	} else if (strstr(c->message, "busid"))
		memset(buf + 256, '1', 32);
	else if (strstr(c->message, "bNumInterfaces"))
		buf[311] = 33;
	else
		buf[299] = 7;
	return USBIP_DEVICE_RECORD_SIZE;
}

static int run_decoder(enum decoder decoder, const uint8_t *buf, size_t len,
		       struct usbip_error *err)
{
	struct usbip_op_header hdr;
	struct usbip_usb_device udev;
	struct usbip_devlist list;
	struct usbip_urb_header uh;
	struct usbip_urb urb;
	struct usbip_iso_packet iso;
	char busid[USBIP_BUSID_SIZE];
	size_t used;
	int rc = -2;

	switch (decoder) {
	case OP_HEADER:
		rc = usbip_proto_decode_op_header(buf, len, USBIP_OP_REQ_DEVLIST, &hdr, err);
		break;
	case DEVICE:
	case DEVICE_BUSID:
	case DEVICE_PATH:
		rc = usbip_proto_decode_device(buf, len, &udev, err);
		break;
	case DEVLIST_REPLY:
		rc = usbip_proto_decode_devlist_reply(buf, len, &list, &used, err);
		if (rc == 0)
			usbip_proto_devlist_free(&list);
		break;
	case IMPORT_REQUEST:
		rc = usbip_proto_decode_import_request(buf, len, busid, err);
		break;
	case URB_HEADER:
		rc = usbip_proto_decode_urb_header(buf, len, &uh, err);
		break;
	case URB_IN:
	case URB_OUT:
		rc = usbip_proto_decode_urb(buf, len,
					    decoder == URB_IN ? USBIP_DIR_IN : USBIP_DIR_OUT, &urb,
					    &used, err);
		if (rc == 0)
			usbip_proto_urb_free(&urb);
		break;
	case ISO:
		rc = usbip_proto_decode_iso_packet(buf, len, &iso, err);
		break;
	}
	return rc;
}

static void test_bad_input(void **state)
{
	const struct bad_input *c = *state;
	uint8_t scratch[2048];
	size_t len;
	uint8_t *exact;
	struct usbip_error err = { "" };

	if (c->hex && c->decoder != DEVICE_BUSID && c->decoder != DEVICE_PATH) {
		len = hex_to_bytes(c->hex, scratch, sizeof(scratch));
		if ((size_t)c->fill_to > len) {
			memset(scratch + len, 0, (size_t)c->fill_to - len);
			len = (size_t)c->fill_to;
		}
	} else {
		len = build_special(c, scratch, sizeof(scratch));
	}
	/* An exactly-sized heap copy, so that ASan catches any read past the end. */
	exact = malloc(len ? len : 1);
	assert_non_null(exact);
	memcpy(exact, scratch, len);
	assert_int_equal(run_decoder(c->decoder, exact, len, &err), -1);
	free(exact);
	if (!strstr(err.msg, c->message))
		fail_msg("%s: error '%s' does not mention '%s'", c->name, err.msg, c->message);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = test_bad_input,
						.initial_state = (void *)&cases[i] };
	}
	return _cmocka_run_group_tests("malformed", tests, i, NULL, NULL);
}
