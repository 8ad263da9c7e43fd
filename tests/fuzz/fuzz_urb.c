// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: a URB PDU (header, data, ISO descriptors), decoded as
 * both directions, re-encoded, and decoded again to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/usbip_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_direction(const uint8_t *data, size_t size, uint32_t dir)
{
	struct usbip_error err;
	struct usbip_urb urb, again;
	size_t used, used2;
	uint8_t *out;
	long n;

	if (usbip_proto_decode_urb(data, size, dir, &urb, &used, &err))
		return;
	if (used > size || used != usbip_proto_urb_size(&urb))
		abort();
	out = malloc(used);
	if (!out)
		abort();
	n = usbip_proto_encode_urb(out, used, &urb);
	if (n != (long)used)
		abort();
	if (usbip_proto_decode_urb(out, used, dir, &again, &used2, &err) || used2 != used ||
	    memcmp(&urb.hdr, &again.hdr, sizeof(urb.hdr)) != 0 || again.data_len != urb.data_len ||
	    (urb.data_len && memcmp(urb.data, again.data, urb.data_len) != 0))
		abort();
	usbip_proto_urb_free(&again);
	usbip_proto_urb_free(&urb);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_direction(data, size, USBIP_DIR_IN);
	one_direction(data, size, USBIP_DIR_OUT);
	return 0;
}
