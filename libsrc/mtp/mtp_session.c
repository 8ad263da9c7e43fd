// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The session and the dispatch of operations: one table says, for every
 * operation, what runs it and the rules around it (a session needed, a
 * data phase from the host, whether a pending SendObjectInfo survives it).
 * GetDeviceInfo lists the operations from the same table, so what is
 * announced is what is handled.
 */
#include "mtp/mtp_private.h"

#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "util/log.h"
#include "vdev/vdev.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void op_get_device_info(struct mtp_device *m);
static void op_open_session(struct mtp_device *m);
static void op_close_session(struct mtp_device *m);

#define S MTP_OP_SESSION
#define D MTP_OP_DATA_OUT
#define K MTP_OP_KEEPS_SEND
#define T MTP_OP_TAKES_SEND

static const struct mtp_op ops[] = {
	{ PTP_OC_GetDeviceInfo, K, op_get_device_info, NULL },
	{ PTP_OC_OpenSession, 0, op_open_session, NULL },
	{ PTP_OC_CloseSession, S, op_close_session, NULL },
	{ PTP_OC_GetStorageIDs, S, mtp_object_get_storage_ids, NULL },
	{ PTP_OC_GetStorageInfo, S | K, mtp_object_get_storage_info, NULL },
	{ PTP_OC_GetNumObjects, S, mtp_object_get_handles, NULL },
	{ PTP_OC_GetObjectHandles, S | K, mtp_object_get_handles, NULL },
	{ PTP_OC_GetObjectInfo, S | K, mtp_object_get_info, NULL },
	{ PTP_OC_GetObject, S, mtp_object_get, NULL },
	{ PTP_OC_DeleteObject, S, mtp_object_delete, NULL },
	{ PTP_OC_SendObjectInfo, S | D | K, mtp_object_send_info, mtp_object_send_info_done },
	{ PTP_OC_SendObject, S | D | K | T, mtp_object_send, mtp_object_send_done },
	{ PTP_OC_GetDevicePropDesc, S, mtp_prop_device, NULL },
	{ PTP_OC_GetDevicePropValue, S, mtp_prop_device, NULL },
	{ PTP_OC_SetDevicePropValue, S | D, mtp_prop_set_device, mtp_prop_set_device_done },
	{ PTP_OC_MoveObject, S, mtp_object_move_copy, NULL },
	{ PTP_OC_CopyObject, S, mtp_object_move_copy, NULL },
	{ PTP_OC_GetPartialObject, S, mtp_object_get, NULL },
	{ MTP_OC_GetObjectPropsSupported, S, mtp_prop_supported, NULL },
	{ MTP_OC_GetObjectPropDesc, S, mtp_prop_desc, NULL },
	{ MTP_OC_GetObjectPropValue, S | K, mtp_prop_value, NULL },
	{ MTP_OC_SetObjectPropValue, S | D | K, mtp_prop_set_value, mtp_prop_set_value_done },
	{ MTP_OC_GetObjectPropList, S | K, mtp_prop_list, NULL },
	{ MTP_OC_SendObjectPropList, S | D | K, mtp_object_send_prop_list,
	  mtp_object_send_prop_list_done },
	{ MTP_OC_GetObjectReferences, S, mtp_object_get_references, NULL },
	{ MTP_OC_SetObjectReferences, S | D, mtp_object_set_references,
	  mtp_object_set_references_done },
	{ ANDROID_OC_GetPartialObject64, S, mtp_object_get, NULL },
	{ ANDROID_OC_SendPartialObject, S | D | K, mtp_object_send_partial,
	  mtp_object_send_partial_done },
	{ ANDROID_OC_TruncateObject, S, mtp_object_truncate, NULL },
	{ ANDROID_OC_BeginEditObject, S, mtp_object_edit, NULL },
	{ ANDROID_OC_EndEditObject, S, mtp_object_edit, NULL },
};

#undef S
#undef D
#undef K
#undef T

static const uint16_t events[] = {
	PTP_EC_ObjectAdded,
	PTP_EC_ObjectRemoved,
	PTP_EC_ObjectInfoChanged,
};

static const uint16_t formats[] = { PTP_OFC_Undefined, PTP_OFC_Association };

static const struct mtp_op *find_op(uint16_t code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (ops[i].code == code)
			return &ops[i];
	return NULL;
}

/* ---- answering ---- */

/* The response container to m->op into buf (MTP_COMMAND_MAX bytes); its length. */
static size_t encode_response(const struct mtp_device *m, uint16_t rc, unsigned int n,
			      const uint32_t *params, uint8_t *buf)
{
	struct mtp_operation resp = { .code = rc,
				      .transaction_id = m->op.transaction_id,
				      .num_params = n < MTP_MAX_PARAMS ? n : MTP_MAX_PARAMS };
	unsigned int i;

	for (i = 0; i < resp.num_params; i++)
		resp.params[i] = params[i];
	if (rc != PTP_RC_OK)
		log_debug("mtp: operation 0x%04x (transaction %u): response 0x%04x", m->op.code,
			  m->op.transaction_id, rc);
	return mtp_encode_response(buf, &resp);
}

void mtp_session_respond_params(struct mtp_device *m, uint16_t rc, unsigned int n,
				const uint32_t *params)
{
	uint8_t buf[MTP_COMMAND_MAX];

	vdev_in_write(m->vdev, MTP_EP_BULK_IN, buf, encode_response(m, rc, n, params, buf), true);
}

uint8_t *mtp_session_in_next(struct mtp_device *m, size_t *len, bool *end)
{
	uint32_t sent = (uint32_t)m->in_sent;
	uint8_t *buf;

	if (m->streaming)
		return mtp_stream_refill(m, len, end);
	if (!m->in_owed)
		return NULL;
	buf = vdev_in_alloc(MTP_COMMAND_MAX);
	if (!buf)
		return NULL; /* asked again by the next URB */
	m->in_owed = false;
	m->op = m->in_op;
	*len = encode_response(m, m->in_rc, m->in_rc == PTP_RC_OK && m->in_param ? 1 : 0, &sent,
			       buf);
	*end = true;
	return buf;
}

void mtp_session_respond(struct mtp_device *m, uint16_t rc, unsigned int n, uint32_t p0,
			 uint32_t p1, uint32_t p2)
{
	const uint32_t params[3] = { p0, p1, p2 };

	mtp_session_respond_params(m, rc, n < 3 ? n : 3, params);
}

void mtp_session_respond_rc(struct mtp_device *m, uint16_t rc)
{
	mtp_session_respond(m, rc, 0, 0, 0, 0);
}

void mtp_session_send_dataset(struct mtp_device *m, struct mtp_buf *b)
{
	uint8_t hdr[MTP_HEADER_SIZE];

	if (b->failed) {
		mtp_session_respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	mtp_encode_data_header(hdr, m->op.code, m->op.transaction_id, b->len);
	vdev_in_write(m->vdev, MTP_EP_BULK_IN, hdr, sizeof(hdr), b->len == 0);
	if (b->len)
		vdev_in_write(m->vdev, MTP_EP_BULK_IN, b->data, b->len, true);
	mtp_session_respond_rc(m, PTP_RC_OK);
}

uint16_t mtp_session_rc_of_errno(int err)
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

/* ---- the session's own operations ---- */

static void op_get_device_info(struct mtp_device *m)
{
	uint16_t codes[ARRAY_SIZE(ops)];
	const uint16_t *props;
	struct mtp_device_info info = {
		.num_operations = ARRAY_SIZE(ops),
		.events = events,
		.num_events = ARRAY_SIZE(events),
		.formats = formats,
		.num_formats = ARRAY_SIZE(formats),
		.extensions = "microsoft.com: 1.0;",
		.manufacturer = "usbip-ng",
		.model = "serve-mtp",
		.version = PACKAGE_VERSION,
		.serial = m->serial,
	};
	struct mtp_buf b = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		codes[i] = ops[i].code;
	info.operations = codes;
	info.num_device_props = mtp_prop_device_codes(&props);
	info.device_props = props;
	mtp_encode_device_info(&b, &info);
	mtp_session_send_dataset(m, &b);
	mtp_buf_free(&b);
}

/*
 * OpenSession while one is open is answered SessionAlreadyOpen with the
 * open session's id, and the session goes on, as Android does: libmtp
 * takes that answer and carries on (an mtp-tools run killed before its
 * CloseSession leaves the session open for the next one).
 */
static void op_open_session(struct mtp_device *m)
{
	uint32_t *handles;
	size_t count;

	if (m->session_open) {
		mtp_session_respond(m, PTP_RC_SessionAlreadyOpen, 1, m->session_id, 0, 0);
		return;
	}
	if (m->op.num_params < 1 || m->op.params[0] == 0) {
		mtp_session_respond_rc(m, PTP_RC_InvalidParameter);
		return;
	}
	m->session_open = true;
	m->session_id = m->op.params[0];
	/* Events queued before the session are no news to its initiator. */
	vdev_in_flush(m->vdev, MTP_EP_INTR_IN);
	/* The top folders are watched from now on, for events about them. */
	if (mtp_object_list(m, NULL, 0, false, &handles, &count) == 0)
		free(handles);
	mtp_session_respond_rc(m, PTP_RC_OK);
}

static void op_close_session(struct mtp_device *m)
{
	m->session_open = false;
	mtp_session_respond_rc(m, PTP_RC_OK);
}

/* ---- dispatch ---- */

void mtp_session_command(struct mtp_device *m, const uint8_t *buf, size_t len)
{
	struct mtp_operation op;
	struct mtp_error err;
	uint16_t rc = 0;

	m->cur = NULL;
	if (mtp_decode_command(buf, len, &op, &err)) {
		struct mtp_header hdr;

		log_warn("mtp: malformed command: %s", err.msg);
		m->op = (struct mtp_operation){ 0 };
		if (mtp_decode_header(buf, len, &hdr, NULL) == 0) {
			m->op.code = hdr.code;
			m->op.transaction_id = hdr.transaction_id;
		}
		mtp_session_respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	m->op = op;
	log_debug("mtp: operation 0x%04x, transaction %u, %u parameters: %08x %08x %08x %08x %08x",
		  op.code, op.transaction_id, op.num_params, op.params[0], op.params[1],
		  op.params[2], op.params[3], op.params[4]);
	if (m->streaming || m->in_owed || vdev_in_queued(m->vdev, MTP_EP_BULK_IN)) {
		/*
		 * A new command while data of the last one was still queued: the
		 * host gave up on it. Dropping it also bounds what a host that
		 * never reads can make us hold to one transaction's worth.
		 */
		mtp_stream_stop_in(m);
		vdev_in_flush(m->vdev, MTP_EP_BULK_IN);
	}
	m->cur = find_op(op.code);
	if (!m->cur) {
		mtp_session_respond_rc(m, PTP_RC_OperationNotSupported);
		return;
	}
	/*
	 * The transaction id is never a reason to refuse (Android does not
	 * check it either): initiators start at 0 or 1, skip ids after a
	 * retry, and send CloseSession with any. The answer carries the id
	 * the initiator sent.
	 */
	if ((m->cur->flags & MTP_OP_SESSION) && !m->session_open)
		rc = PTP_RC_SessionNotOpen;
	if (m->cur->flags & MTP_OP_DATA_OUT) {
		/* The data phase comes whatever we think of the command: take it, then answer. */
		mtp_stream_begin_out(m, rc);
	} else if (rc) {
		mtp_session_respond_rc(m, rc);
	}
	if (rc)
		return;
	if (m->send_pending && !(m->cur->flags & MTP_OP_KEEPS_SEND))
		mtp_object_cancel_send(m); /* the ObjectInfo was abandoned */
	m->cur->run(m);
}
