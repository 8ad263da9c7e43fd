// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/device_server.h"

#include <stdlib.h>

#include "util/log.h"

const uint16_t device_server_requests[] = { USBIP_OP_REQ_DEVLIST, USBIP_OP_REQ_IMPORT, 0 };

static void handle_devlist(struct device_source *src, struct op_session *session)
{
	struct usbip_local_device *devs = NULL;
	struct usbip_devlist list = { 0, NULL };
	size_t n = 0, i;

	if (device_source_list(src, &devs, &n) == 0)
		list.entries = calloc(n ? n : 1, sizeof(*list.entries));
	if (!list.entries) {
		free(devs);
		op_server_session_reply(session, USBIP_OP_REP_DEVLIST, USBIP_ST_ERROR, NULL);
		return;
	}
	/* Like the kernel's usbipd: a device in use is not offered. */
	for (i = 0; i < n && list.count < USBIP_MAX_DEVLIST; i++) {
		if (device_source_availability(&devs[i]) != USBIP_ST_OK)
			continue;
		list.entries[list.count] = devs[i].info;
		device_source_record(&devs[i], &list.entries[list.count++].udev);
	}
	free(devs);
	log_info("%s: listed %u exportable devices", op_server_session_conn(session)->peer,
		 list.count);
	op_server_session_reply_devlist(session, &list);
	usbip_proto_devlist_free(&list);
}

static void handle_import(struct device_source *src, struct op_session *session,
			  const struct op_request *req)
{
	struct usbip_conn *conn = op_server_session_conn(session);
	struct usbip_local_device dev;
	struct usbip_error err;
	char busid[USBIP_BUSID_SIZE];
	enum usbip_op_status status;

	if (usbip_proto_decode_import_request(req->body, req->body_len, busid, &err) != 0) {
		log_warn("%s: bad import request: %s", conn->peer, err.msg);
		op_server_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	status = device_source_get(src, busid, &dev) == 0 ? device_source_availability(&dev)
							  : USBIP_ST_NODEV;
	if (status != USBIP_ST_OK) {
		log_warn("%s: import of %s refused: %s", conn->peer, busid,
			 usbip_proto_op_status_str(status));
		op_server_session_reply(session, USBIP_OP_REP_IMPORT, status, NULL);
		return;
	}
	/*
	 * The reply goes first, on the connection as it is (TLS included); only
	 * then does the device take it, so nothing (a kernel TLS socket, a
	 * relay process) is set up for a request that is refused.
	 */
	op_server_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_OK, &dev.info.udev);
	conn = op_server_session_take_conn(session);
	if (!conn)
		return;
	log_info("%s: importing %s (%04x:%04x, %s)", conn->peer, busid, dev.info.udev.id_vendor,
		 dev.info.udev.id_product, src->kind);
	device_source_note(src, busid, conn);
	status = device_source_hand_over(src, busid, conn, NULL);
	if (status != USBIP_ST_OK)
		log_err("%s: %s could not take the connection after it was accepted: %s", busid,
			src->kind, usbip_proto_op_status_str(status));
}

void device_server_handle(struct op_session *session, const struct op_request *req, void *arg)
{
	struct device_source *src = arg;

	if (req->hdr.code == USBIP_OP_REQ_DEVLIST)
		handle_devlist(src, session);
	else
		handle_import(src, session, req);
}
