// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: an OP header followed by whatever body its code says,
 * decoded the way the daemons decode a request, then re-encoded and decoded
 * again to check that what was accepted survives a round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/usbip_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbip_error err;
	struct usbip_op_header hdr;
	struct usbip_usb_device udev, again;
	char busid[USBIP_BUSID_SIZE];
	uint8_t buf[USBIP_DEVICE_RECORD_SIZE];

	if (usbip_proto_decode_op_header(data, size, 0, &hdr, &err))
		return 0;
	data += USBIP_OP_HEADER_SIZE;
	size -= USBIP_OP_HEADER_SIZE;
	switch (hdr.code) {
	case USBIP_OP_REQ_IMPORT:
		if (usbip_proto_decode_import_request(data, size, busid, &err) == 0 &&
		    usbip_proto_encode_import_request(buf, busid) != 0)
			abort();
		break;
	case USBIP_OP_REP_IMPORT:
	case USBIP_OP_REQ_EXPORT:
	case USBIP_OP_REQ_UNEXPORT:
		if (usbip_proto_decode_device(data, size, &udev, &err))
			break;
		if (usbip_proto_encode_device(buf, &udev) ||
		    usbip_proto_decode_device(buf, sizeof(buf), &again, &err) ||
		    memcmp(&udev, &again, sizeof(udev)) != 0)
			abort();
		break;
	default:
		break;
	}
	return 0;
}
