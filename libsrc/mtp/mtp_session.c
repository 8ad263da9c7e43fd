// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The session and the dispatch of operations: one table says, for every
 * operation, what runs it and the rules around it (a session needed, a
 * data phase from the host, whether a pending SendObjectInfo survives it).
 * GetDeviceInfo lists the operations from the same table, so what is
 * announced is what is handled. The operations return a result; this file
 * alone writes responses (and events) to the host.
 */
#include "mtp/mtp_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mtp/mtp_object.h"
#include "mtp/mtp_prop.h"
#include "mtp/mtp_stream.h"
#include "util/log.h"
#include "vdev/vdev.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define EVENTS_QUEUED 4096 /* bytes of events kept while nobody reads them */

/* What the dispatcher needs to know of an operation. */
enum mtp_op_flags {
	MTP_OP_SESSION = 1 << 0,    /* refused with SessionNotOpen outside a session */
	MTP_OP_DATA_OUT = 1 << 1,   /* the host sends a data phase after the command */
	MTP_OP_KEEPS_SEND = 1 << 2, /* a pending SendObjectInfo survives it */
	MTP_OP_TAKES_SEND = 1 << 3, /* it consumes the pending send: failed, the object goes */
};

typedef void (*mtp_op_fn)(struct mtp_device *m, struct mtp_result *r);

struct mtp_op {
	uint16_t code;
	unsigned int flags;
	/*
	 * Runs the operation: its answer in r. With MTP_OP_DATA_OUT it only
	 * checks the command and says where the data goes (a RECEIVE result).
	 */
	mtp_op_fn run;
	/* MTP_OP_DATA_OUT: the data is in and nothing failed so far; the answer in r. */
	mtp_op_fn done;
};

static void op_get_device_info(struct mtp_device *m, struct mtp_result *r);
static void op_open_session(struct mtp_device *m, struct mtp_result *r);
static void op_close_session(struct mtp_device *m, struct mtp_result *r);

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

/* ---- answering: the one writer of responses ---- */

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
	return mtp_container_encode_response(buf, &resp);
}

static void respond(struct mtp_device *m, uint16_t rc, unsigned int n, const uint32_t *params)
{
	uint8_t buf[MTP_COMMAND_MAX];

	vdev_in_write(m->vdev, MTP_EP_BULK_IN, buf, encode_response(m, rc, n, params, buf), true);
}

static void respond_rc(struct mtp_device *m, uint16_t rc)
{
	respond(m, rc, 0, NULL);
}

/* A data phase from a built dataset, then OK (a failed build: GeneralError). */
static void send_dataset(struct mtp_device *m, const struct mtp_buf *b)
{
	uint8_t hdr[MTP_HEADER_SIZE];

	if (b->failed) {
		respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	mtp_container_encode_data_header(hdr, m->op.code, m->op.transaction_id, b->len);
	vdev_in_write(m->vdev, MTP_EP_BULK_IN, hdr, sizeof(hdr), b->len == 0);
	if (b->len)
		vdev_in_write(m->vdev, MTP_EP_BULK_IN, b->data, b->len, true);
	respond_rc(m, PTP_RC_OK);
}

/*
 * File data: the header now, the data as the host's URBs take it
 * (in_direct, in_next), and the response when the next URB asks after it.
 */
static void send_file(struct mtp_device *m, struct mtp_result *r)
{
	uint8_t hdr[MTP_HEADER_SIZE];

	mtp_stream_start_in(m, r->in.fd, r->in.offset, r->in.count, r->in.with_count);
	r->in.fd = -1; /* the stream's now */
	mtp_container_encode_data_header(hdr, m->op.code, m->op.transaction_id, r->in.count);
	vdev_in_write(m->vdev, MTP_EP_BULK_IN, hdr, sizeof(hdr), r->in.count == 0);
}

void mtp_session_event(struct mtp_device *m, uint16_t code, uint32_t handle)
{
	struct mtp_operation ev = { .code = code, .params = { handle }, .num_params = 1 };
	uint8_t buf[MTP_COMMAND_MAX];

	log_debug("mtp: event 0x%04x for object %u", code, handle);
	if (!m->session_open || !vdev_configured(m->vdev))
		return;
	/* Bounded: an initiator that never reads events loses the oldest news, not memory. */
	if (vdev_in_queued(m->vdev, MTP_EP_INTR_IN) > EVENTS_QUEUED)
		vdev_in_flush(m->vdev, MTP_EP_INTR_IN);
	vdev_in_write(m->vdev, MTP_EP_INTR_IN, buf, mtp_container_encode_event(buf, &ev), true);
}

/* Sends what an operation returned (not a RECEIVE: that is no answer yet), and frees it. */
static void answer(struct mtp_device *m, struct mtp_result *r)
{
	unsigned int i;

	if (r->kind == MTP_RESULT_DATASET)
		send_dataset(m, &r->data);
	else if (r->kind == MTP_RESULT_FILE)
		send_file(m, r);
	else
		respond(m, r->rc, r->num_params, r->params);
	for (i = 0; i < r->num_events; i++)
		mtp_session_event(m, r->events[i].code, r->events[i].handle);
	mtp_result_free(r);
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

size_t mtp_session_in_direct(struct mtp_device *m, uint8_t *buf, size_t room, bool *end)
{
	return mtp_stream_direct(m, buf, room, end);
}

/* ---- the session's own operations ---- */

static void op_get_device_info(struct mtp_device *m, struct mtp_result *r)
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
	mtp_container_encode_device_info(&b, &info);
	mtp_result_dataset(r, &b);
}

/*
 * OpenSession while one is open is answered SessionAlreadyOpen with the
 * open session's id, and the session goes on, as Android does: libmtp
 * takes that answer and carries on (an mtp-tools run killed before its
 * CloseSession leaves the session open for the next one).
 */
static void op_open_session(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t *handles;
	size_t count;

	if (m->session_open) {
		mtp_result_rc1(r, PTP_RC_SessionAlreadyOpen, m->session_id);
		return;
	}
	if (m->op.num_params < 1 || m->op.params[0] == 0) {
		mtp_result_rc(r, PTP_RC_InvalidParameter);
		return;
	}
	m->session_open = true;
	m->session_id = m->op.params[0];
	/* Events queued before the session are no news to its initiator. */
	vdev_in_flush(m->vdev, MTP_EP_INTR_IN);
	/* The top folders are watched from now on, for events about them. */
	if (mtp_object_list(m, NULL, 0, false, &handles, &count) == 0)
		free(handles);
	mtp_result_rc(r, PTP_RC_OK);
}

static void op_close_session(struct mtp_device *m, struct mtp_result *r)
{
	m->session_open = false;
	mtp_result_rc(r, PTP_RC_OK);
}

/* ---- dispatch ---- */

/* The result every operation starts from: an error, should it say nothing. */
static struct mtp_result new_result(void)
{
	return (struct mtp_result){ .kind = MTP_RESULT_RESPONSE, .rc = PTP_RC_GeneralError };
}

/* A data phase from the host ends without an answer; a half-made object is not kept. */
static void abandon_out(struct mtp_device *m)
{
	if (mtp_stream_abandon_out(m) && m->cur && (m->cur->flags & MTP_OP_TAKES_SEND))
		mtp_object_cancel_send(m);
}

/* The command's data phase begins: the operation says where its data goes. */
static void begin_out(struct mtp_device *m, uint16_t rc)
{
	struct mtp_result r = new_result();

	mtp_stream_begin_out(m, rc);
	if (rc)
		return;
	if (m->send_pending && !(m->cur->flags & MTP_OP_KEEPS_SEND))
		mtp_object_cancel_send(m); /* the ObjectInfo was abandoned */
	m->cur->run(m, &r);
	if (r.kind == MTP_RESULT_RECEIVE) {
		mtp_stream_receive(m, &r); /* the stream takes its descriptor */
		return;
	}
	mtp_stream_refuse(m, r.rc);
	mtp_result_free(&r);
}

/* The data phase is over: rc (0: all in) and the operation's done make the answer. */
static void end_out(struct mtp_device *m, uint16_t rc)
{
	struct mtp_result r = new_result();

	if (rc || !m->cur || !m->cur->done) {
		if (m->cur && (m->cur->flags & MTP_OP_TAKES_SEND))
			mtp_object_cancel_send(m); /* a half-made object is not kept */
		mtp_result_rc(&r, rc ? rc : PTP_RC_GeneralError);
	} else {
		m->cur->done(m, &r);
	}
	mtp_container_buf_free(&m->dataset);
	answer(m, &r);
}

/* A malformed command: answered GeneralError, with its code and id if it has a header. */
static void malformed(struct mtp_device *m, const uint8_t *buf, size_t len)
{
	struct mtp_header hdr;

	m->op = (struct mtp_operation){ 0 };
	if (buf && mtp_container_decode_header(buf, len, &hdr, NULL) == 0) {
		m->op.code = hdr.code;
		m->op.transaction_id = hdr.transaction_id;
	}
	respond_rc(m, PTP_RC_GeneralError);
}

/* A whole command container from the host. */
static void command(struct mtp_device *m, const uint8_t *buf, size_t len)
{
	struct mtp_operation op;
	struct usbip_error err;
	struct mtp_result r = new_result();
	uint16_t rc = 0;

	m->cur = NULL;
	if (mtp_container_decode_command(buf, len, &op, &err)) {
		log_warn("mtp: malformed command: %s", err.msg);
		malformed(m, buf, len);
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
		respond_rc(m, PTP_RC_OperationNotSupported);
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
		begin_out(m, rc);
		return;
	}
	if (rc) {
		respond_rc(m, rc);
		return;
	}
	if (m->send_pending && !(m->cur->flags & MTP_OP_KEEPS_SEND))
		mtp_object_cancel_send(m); /* the ObjectInfo was abandoned */
	m->cur->run(m, &r);
	answer(m, &r);
}

/* One OUT transfer of the host's data phase. */
static void data_out(struct mtp_device *m, const uint8_t *data, size_t len)
{
	uint16_t rc = 0;

	switch (mtp_stream_out(m, data, len, &rc)) {
	case MTP_STREAM_MORE:
		break;
	case MTP_STREAM_ENDED:
		end_out(m, rc);
		break;
	case MTP_STREAM_COMMAND:
		abandon_out(m);
		if (m->cmd_len)
			command(m, m->cmd, m->cmd_len);
		m->cmd_len = 0;
		break;
	}
}

void mtp_session_out(struct mtp_device *m, const uint8_t *data, size_t len)
{
	bool short_xfer = len % MTP_BULK_MPS != 0 || len == 0;

	if (m->in_data_out) {
		data_out(m, data, len);
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
		malformed(m, NULL, 0);
	} else {
		command(m, m->cmd, m->cmd_len);
	}
	m->cmd_len = 0;
	m->cmd_overflow = false;
}

void mtp_session_reset(struct mtp_device *m)
{
	mtp_stream_stop_in(m);
	abandon_out(m);
	mtp_object_cancel_send(m);
	mtp_container_buf_free(&m->dataset);
	m->cmd_len = 0;
	m->cmd_overflow = false;
}
