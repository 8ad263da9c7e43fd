// SPDX-License-Identifier: GPL-2.0-or-later
#include "mtp/mtp_result.h"

#include <errno.h>
#include <unistd.h>

void mtp_result_respond(struct mtp_result *r, uint16_t rc, unsigned int n, const uint32_t *params)
{
	unsigned int i;

	r->kind = MTP_RESULT_RESPONSE;
	r->rc = rc;
	r->num_params = n < MTP_MAX_PARAMS ? n : MTP_MAX_PARAMS;
	for (i = 0; i < r->num_params; i++)
		r->params[i] = params[i];
}

void mtp_result_rc(struct mtp_result *r, uint16_t rc)
{
	mtp_result_respond(r, rc, 0, NULL);
}

void mtp_result_rc1(struct mtp_result *r, uint16_t rc, uint32_t p0)
{
	mtp_result_respond(r, rc, 1, &p0);
}

void mtp_result_dataset(struct mtp_result *r, struct mtp_buf *b)
{
	mtp_container_buf_free(&r->data);
	r->kind = MTP_RESULT_DATASET;
	r->data = *b;
	*b = (struct mtp_buf){ 0 };
}

void mtp_result_file(struct mtp_result *r, int fd, uint64_t offset, uint64_t count, bool with_count)
{
	r->kind = MTP_RESULT_FILE;
	r->in.fd = fd;
	r->in.offset = offset;
	r->in.count = count;
	r->in.with_count = with_count;
}

void mtp_result_into_buffer(struct mtp_result *r)
{
	r->kind = MTP_RESULT_RECEIVE;
	r->out.sink = MTP_SINK_BUFFER;
}

void mtp_result_into_file(struct mtp_result *r, int fd, uint64_t offset, bool owned)
{
	r->kind = MTP_RESULT_RECEIVE;
	r->out.sink = MTP_SINK_FILE;
	r->out.fd = fd;
	r->out.offset = offset;
	r->out.limit = UINT64_MAX;
	r->out.owned = owned;
}

void mtp_result_event(struct mtp_result *r, uint16_t code, uint32_t handle)
{
	if (r->num_events == MTP_RESULT_EVENTS)
		return;
	r->events[r->num_events].code = code;
	r->events[r->num_events++].handle = handle;
}

void mtp_result_free(struct mtp_result *r)
{
	mtp_container_buf_free(&r->data);
	if (r->kind == MTP_RESULT_FILE && r->in.fd >= 0)
		close(r->in.fd);
	if (r->kind == MTP_RESULT_RECEIVE && r->out.sink == MTP_SINK_FILE && r->out.owned &&
	    r->out.fd >= 0)
		close(r->out.fd);
	r->kind = MTP_RESULT_RESPONSE;
}

uint16_t mtp_result_rc_of_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT:
	case EISDIR:
		return PTP_RC_InvalidObjectHandle;
	case EROFS:
		return PTP_RC_StoreReadOnly;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return PTP_RC_StoreFull;
	case EACCES:
	case EPERM:
		return PTP_RC_AccessDenied;
	case ENOTDIR:
		return PTP_RC_InvalidParentObject;
	case EINVAL:
	case ENAMETOOLONG:
		return PTP_RC_InvalidParameter;
	}
	return PTP_RC_GeneralError;
}
