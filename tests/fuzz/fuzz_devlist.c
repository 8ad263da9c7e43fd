// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: a whole OP_REP_DEVLIST, as `usbip list -r` reads it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/usbip_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbip_error err;
	struct usbip_devlist list;
	size_t used, out_len;
	uint8_t *out;
	long n;

	if (usbip_proto_decode_devlist_reply(data, size, &list, &used, &err))
		return 0;
	if (used > size)
		abort();
	/* What was accepted encodes back to the same length. */
	out_len = usbip_proto_devlist_reply_size(&list);
	if (out_len != used)
		abort();
	out = malloc(out_len);
	if (!out)
		abort();
	n = usbip_proto_encode_devlist_reply(out, out_len, &list);
	if (n != (long)used)
		abort();
	free(out);
	usbip_proto_devlist_free(&list);
	return 0;
}
