// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: what an MTP initiator sends serve-mtp, decoded as the
 * responder does: a container header, a command, an ObjectInfo dataset,
 * a SendObjectPropList dataset, a u32 array and MTP strings; what decodes
 * is encoded again and must decode the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp_container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbip_error err;
	struct mtp_header hdr;
	struct mtp_operation op;
	struct mtp_object_info info, again;
	struct mtp_reader r;
	struct mtp_buf b;
	struct mtp_prop_list_info list;
	uint32_t failed, count;
	char name[MTP_NAME_MAX];

	(void)mtp_container_decode_header(data, size, &hdr, &err);
	(void)mtp_container_decode_command(data, size, &op, &err);
	if (mtp_container_decode_object_info(data, size, &info, &err) == 0) {
		memset(&b, 0, sizeof(b));
		mtp_container_encode_object_info(&b, &info);
		if (mtp_container_decode_object_info(b.data, b.len, &again, &err) != 0 ||
		    strcmp(info.filename, again.filename) != 0 || info.parent != again.parent ||
		    info.format != again.format)
			abort();
		mtp_container_buf_free(&b);
	}
	if (mtp_container_decode_send_prop_list(data, size, &list, &failed, &err) == 0 &&
	    (!list.filename[0] || list.count == 0))
		abort();
	if (mtp_container_decode_u32_array(data, size, &count, &err) == 0 &&
	    4 + 4 * (size_t)count != size)
		abort();
	mtp_container_reader_init(&r, data, size);
	while (!r.failed && r.off < r.len)
		mtp_container_get_string(&r, name, sizeof(name), "string");
	return 0;
}
