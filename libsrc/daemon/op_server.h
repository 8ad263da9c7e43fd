/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control-phase server shared by usbipd and usbipa: accepts
 * connections on the event loop, reads one OP request per connection
 * without blocking (each peer has a deadline, and the oldest pending peer is
 * dropped when too many are open), hands the complete request to the
 * daemon's handler, sends the reply and closes. Nothing a peer sends can
 * block the loop or make it allocate more than one fixed-size request.
 */
#ifndef USBIP_OP_SERVER_H
#define USBIP_OP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/ev.h"
#include "match/policy.h"
#include "net/conn.h"
#include "net/tls.h"
#include "net/ws.h"
#include "wire/usbip_proto.h"

struct op_server;
struct op_session;

struct op_request {
	struct usbip_op_header hdr;
	const uint8_t *body; /* usbip_proto_op_body_size(hdr.code) bytes */
	size_t body_len;
};

struct op_server_config {
	const char *name;	  /* daemon name, for logs and TCP wrappers */
	const uint16_t *requests; /* the request codes served, 0-terminated */
	/*
	 * Called once per complete, well-formed request. It answers with
	 * op_server_session_reply* before returning; with no reply the connection is
	 * closed.
	 */
	void (*handle)(struct op_session *session, const struct op_request *req, void *arg);
	void *arg;
	struct usbip_tls *tls; /* TLS on every connection, or NULL */
	/*
	 * Whether a new peer may go on (hosts.allow/hosts.deny): NULL for
	 * the TCP wrappers' own check here, or one made elsewhere (by the
	 * privileged process, which can read those files).
	 */
	bool (*admit)(int fd, void *admit_arg);
	void *admit_arg;
	/*
	 * Which Unix peers may go on, by their credentials (NULL or empty:
	 * any the socket file lets connect). TCP wrappers see IP peers only:
	 * a Unix or vsock peer meets this, or nothing, instead of admit.
	 */
	const struct policy_creds *creds;
	int max_sessions; /* 0: a default of 256 */
	int timeout_ms;	  /* per connection; 0: USBIP_IO_TIMEOUT_MS */
};

struct op_server *op_server_new(struct ev_loop *loop, const struct op_server_config *config);
/* Serves connections arriving on listen_fd (non-blocking); the server owns it. */
int op_server_listen(struct op_server *server, int listen_fd);
/*
 * The same for a ws:// or wss:// listener (ws NULL: plain USB/IP): each
 * peer admitted goes to a relay process (net/ws.h) for the outer TLS
 * (wss, or NULL), the upgrade on ws->path and the frames, and the session
 * runs on the relay's plain stream. ws is copied; its strings must last.
 */
int op_server_listen_ws(struct op_server *server, int listen_fd, const struct ws_options *ws,
			struct usbip_tls *wss);
void op_server_free(struct op_server *server);

struct usbip_conn *op_server_session_conn(struct op_session *session);

/*
 * For a handler whose connection goes on in user space after the reply (a
 * virtual device, a relay): sends the queued reply now (blocking, with the
 * usual timeout), then hands the connection over and ends the session. The
 * caller owns the connection; NULL if the reply could not be sent.
 */
struct usbip_conn *op_server_session_take_conn(struct op_session *session);

/* Queue the reply; the connection closes once it is sent. */
int op_server_session_reply(struct op_session *session, uint16_t code, uint32_t status,
			    const struct usbip_usb_device *udev);
int op_server_session_reply_devlist(struct op_session *session, const struct usbip_devlist *list);

#endif
