// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/vdev_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/op_server.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/log.h"
#include "vdev/vdev_usbip.h"

struct vdev_server {
	struct ev_loop *loop;
	struct vdev *dev;
	struct op_server *ops;
	struct usbip_devlist_entry entry;
	struct vdev_usbip *session; /* the importer, if any */
	void (*on_detach)(void *arg);
	void *detach_arg;
	struct usbip_tls *listen_tls, *dial_tls;
};

static void session_closed(void *arg)
{
	struct vdev_server *s = arg;

	s->session = NULL;
	log_info("%s: importer gone; the device is offered again", s->entry.udev.busid);
	if (s->on_detach)
		s->on_detach(s->detach_arg);
}

static void handle_devlist(struct vdev_server *s, struct op_session *session)
{
	struct usbip_devlist list = { .count = s->session ? 0 : 1, .entries = &s->entry };

	op_session_reply_devlist(session, &list);
}

static void handle_import(struct vdev_server *s, struct op_session *session,
			  const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_wire_error err;
	char busid[USBIP_BUSID_SIZE];

	if (usbip_decode_import_request(req->body, req->body_len, busid, &err) != 0) {
		log_warn("%s: bad import request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	if (strcmp(busid, s->entry.udev.busid) != 0) {
		op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_NODEV, NULL);
		return;
	}
	if (s->session) {
		log_info("%s: %s is already imported", conn->peer, busid);
		op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_DEV_BUSY, NULL);
		return;
	}
	op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_OK, &s->entry.udev);
	conn = op_session_take_conn(session);
	if (!conn)
		return;
	log_info("%s: imported %s", conn->peer, busid);
	s->session = vdev_usbip_start(s->loop, conn, s->dev, session_closed, s);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	struct vdev_server *s = arg;

	if (req->hdr.code == USBIP_OP_REQ_DEVLIST)
		handle_devlist(s, session);
	else
		handle_import(s, session, req);
}

struct vdev_server *vdev_server_new(struct ev_loop *loop, struct vdev *dev,
				    const struct vdev_server_options *opts)
{
	struct vdev_server *s = calloc(1, sizeof(*s));
	struct usbip_usb_device *u;

	if (!s)
		return NULL;
	s->loop = loop;
	s->dev = dev;
	s->listen_tls = opts->listen_tls;
	s->dial_tls = opts->dial_tls;
	u = &s->entry.udev;
	snprintf(u->busid, sizeof(u->busid), "%s", opts->busid);
	snprintf(u->path, sizeof(u->path), "%s", opts->path);
	u->busnum = opts->busnum;
	u->devnum = opts->devnum;
	vdev_describe(dev, u, s->entry.interfaces, USBIP_MAX_INTERFACES);
	return s;
}

int vdev_server_listen(struct vdev_server *s, const int *fds, int nfds)
{
	static const uint16_t served[] = { USBIP_OP_REQ_DEVLIST, USBIP_OP_REQ_IMPORT, 0 };
	struct op_server_config config = {
		.name = "usbip serve-mtp",
		.requests = served,
		.handle = handle_request,
		.arg = s,
		.tls = s->listen_tls,
	};
	int i;

	if (!s->ops) {
		s->ops = op_server_new(s->loop, &config);
		if (!s->ops)
			return -1;
	}
	for (i = 0; i < nfds; i++)
		if (op_server_listen(s->ops, fds[i]) != 0)
			return -1;
	return 0;
}

int vdev_server_export(struct vdev_server *s, const char *host, const char *port, int timeout_ms,
		       uint32_t *status)
{
	struct usbip_conn *conn;
	struct usbip_op_header hdr;

	*status = USBIP_ST_ERROR;
	if (s->session)
		return 1;
	conn = usbip_dial(host, port, timeout_ms, s->dial_tls);
	if (!conn)
		return 4;
	if (op_msg_send(conn, USBIP_OP_REQ_EXPORT, USBIP_ST_OK, &s->entry.udev) != 0 ||
	    op_msg_recv_header(conn, USBIP_OP_REP_EXPORT, &hdr) != 0) {
		usbip_conn_close(conn);
		return 1;
	}
	*status = hdr.status;
	if (hdr.status != USBIP_ST_OK) {
		log_err("%s: refused %s: %s", conn->peer, s->entry.udev.busid,
			usbip_op_status_str(hdr.status));
		usbip_conn_close(conn);
		return 5;
	}
	log_info("%s: exported %s", conn->peer, s->entry.udev.busid);
	s->session = vdev_usbip_start(s->loop, conn, s->dev, session_closed, s);
	return s->session ? 0 : 1;
}

int vdev_server_unexport(struct vdev_server *s, const char *host, const char *port, int timeout_ms,
			 uint32_t *status)
{
	struct usbip_conn *conn;
	struct usbip_op_header hdr;

	*status = USBIP_ST_ERROR;
	conn = usbip_dial(host, port, timeout_ms, s->dial_tls);
	if (!conn)
		return 4;
	if (op_msg_send(conn, USBIP_OP_REQ_UNEXPORT, USBIP_ST_OK, &s->entry.udev) != 0 ||
	    op_msg_recv_header(conn, USBIP_OP_REP_UNEXPORT, &hdr) != 0) {
		usbip_conn_close(conn);
		return 1;
	}
	usbip_conn_close(conn);
	*status = hdr.status;
	return hdr.status == USBIP_ST_OK ? 0 : 5;
}

int vdev_server_attached(const struct vdev_server *s)
{
	return s->session != NULL;
}

void vdev_server_on_detach(struct vdev_server *s, void (*fn)(void *arg), void *arg)
{
	s->on_detach = fn;
	s->detach_arg = arg;
}

void vdev_server_free(struct vdev_server *s)
{
	if (!s)
		return;
	vdev_usbip_stop(s->session);
	op_server_free(s->ops);
	free(s);
}
