// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/op_server.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"
#include "net/tcp.h"
#include "net/tcp_wrappers.h"
#include "util/log.h"
#include "util/io.h"

#define DEFAULT_MAX_SESSIONS 256
#define ACCEPT_BURST	     64
/* Sessions open at once after which the last one to close gives memory back. */
#define TRIM_AFTER 16

/* The list entry first: pmccabe misreads a struct that ends with one. */
struct op_listener {
	SLIST_ENTRY(op_listener) link;
	struct ev_watch watch;
	struct op_server *server;
	bool ws_on; /* a ws:// or wss:// listener */
	struct ws_options ws;
	struct usbip_tls *wss;
};

struct op_session {
	struct ev_watch watch;
	struct op_server *server;
	struct usbip_conn *conn;
	TAILQ_ENTRY(op_session) link; /* oldest first */
	uint8_t in[USBIP_OP_HEADER_SIZE + USBIP_DEVICE_RECORD_SIZE];
	size_t in_len, in_need;
	bool have_header;
	struct usbip_op_header hdr;
	uint8_t *out;
	size_t out_len, out_off;
	bool taken; /* the handler took the connection */
};

struct op_server {
	struct ev_loop *loop;
	struct op_server_config config;
	SLIST_HEAD(, op_listener) listeners;
	TAILQ_HEAD(, op_session) sessions_open;
	int sessions, peak;
};

struct op_server *op_server_new(struct ev_loop *loop, const struct op_server_config *config)
{
	struct op_server *server = calloc(1, sizeof(*server));

	if (!server)
		return NULL;
	server->loop = loop;
	SLIST_INIT(&server->listeners);
	TAILQ_INIT(&server->sessions_open);
	server->config = *config;
	if (!server->config.max_sessions)
		server->config.max_sessions = DEFAULT_MAX_SESSIONS;
	if (!server->config.timeout_ms)
		server->config.timeout_ms = USBIP_IO_TIMEOUT_MS;
	return server;
}

static void session_close(struct op_session *s)
{
	struct op_server *server = s->server;

	ev_watch_remove(server->loop, &s->watch);
	TAILQ_REMOVE(&server->sessions_open, s, link);
	server->sessions--;
	conn_close(s->conn);
	free(s->out);
	free(s);
	/*
	 * After a burst (256 peers in a TLS handshake hold ~50 KiB each), the
	 * memory is free but malloc keeps it: give it back to the system once
	 * the burst is over, or a daemon keeps its peak for the rest of its life.
	 */
	if (server->sessions == 0 && server->peak >= TRIM_AFTER) {
		server->peak = 0;
#ifdef __GLIBC__
		malloc_trim(0);
#endif
	}
}

struct usbip_conn *op_server_session_conn(struct op_session *s)
{
	return s->conn;
}

struct usbip_conn *op_server_session_take_conn(struct op_session *s)
{
	struct usbip_conn *conn = s->conn;

	if (s->out && conn_write_full(conn, s->out + s->out_off, s->out_len - s->out_off,
				      s->server->config.timeout_ms) != 0) {
		log_warn("%s: sending the reply: %m", conn->peer);
		return NULL; /* the session closes it after the handler returns */
	}
	free(s->out);
	s->out = NULL;
	s->conn = NULL;
	s->taken = true;
	return conn;
}

static bool serves(const struct op_server *server, uint16_t code)
{
	const uint16_t *c;

	for (c = server->config.requests; *c; c++)
		if (*c == code)
			return true;
	return false;
}

static int queue_output(struct op_session *s, uint8_t *buf, size_t len)
{
	free(s->out);
	s->out = buf;
	s->out_len = len;
	s->out_off = 0;
	return 0;
}

int op_server_session_reply(struct op_session *s, uint16_t code, uint32_t status,
			    const struct usbip_usb_device *udev)
{
	size_t len = USBIP_OP_HEADER_SIZE + (udev ? USBIP_DEVICE_RECORD_SIZE : 0);
	struct usbip_op_header hdr = { USBIP_VERSION, code, status };
	uint8_t *buf = malloc(len);

	if (!buf)
		return -1;
	usbip_proto_encode_op_header(buf, &hdr);
	if (udev && usbip_proto_encode_device(buf + USBIP_OP_HEADER_SIZE, udev) != 0) {
		free(buf);
		return -1;
	}
	return queue_output(s, buf, len);
}

int op_server_session_reply_devlist(struct op_session *s, const struct usbip_devlist *list)
{
	size_t len = usbip_proto_devlist_reply_size(list);
	uint8_t *buf = malloc(len);

	if (!buf)
		return -1;
	if (usbip_proto_encode_devlist_reply(buf, len, list) < 0) {
		free(buf);
		return -1;
	}
	return queue_output(s, buf, len);
}

/* Called when the header and body are in; runs the handler, then sends. */
static void dispatch(struct op_session *s)
{
	struct op_request req = {
		.hdr = s->hdr,
		.body = s->in + USBIP_OP_HEADER_SIZE,
		.body_len = s->in_len - USBIP_OP_HEADER_SIZE,
	};

	s->server->config.handle(s, &req, s->server->config.arg);
	if (!s->out || s->taken) {
		session_close(s);
		return;
	}
	s->watch.events = POLLOUT;
}

/* Decodes the header once it is in; false if the session was closed. */
static bool take_header(struct op_session *s)
{
	struct usbip_error err;

	if (usbip_proto_decode_op_header(s->in, s->in_len, 0, &s->hdr, &err) != 0) {
		log_warn("%s: bad request: %s%s", s->conn->peer, err.msg,
			 s->in[0] == 0x16 && s->in[1] == 0x03
				 ? " (a TLS handshake: start the daemon with --tls)"
				 : "");
		session_close(s);
		return false;
	}
	if (!serves(s->server, s->hdr.code)) {
		log_warn("%s: request 0x%04x is not served here", s->conn->peer, s->hdr.code);
		session_close(s);
		return false;
	}
	s->have_header = true;
	s->in_need += usbip_proto_op_body_size(s->hdr.code, s->hdr.status);
	return true;
}

/*
 * Reads until the request is complete or the connection would block. It
 * must not stop early: TLS may hold the rest of a record already, where
 * poll(2) cannot see it.
 */
static void on_readable(struct op_session *s)
{
	while (s->in_len < s->in_need) {
		ssize_t n = s->conn->ops->recv(s->conn, s->in + s->in_len, s->in_need - s->in_len);

		if (n < 0 && io_try_again(errno)) {
			s->watch.events = s->conn->want ? s->conn->want : POLLIN;
			return;
		}
		if (n <= 0) {
			log_debug("%s: closed before a complete request", s->conn->peer);
			session_close(s);
			return;
		}
		s->watch.events = POLLIN;
		s->in_len += (size_t)n;
		if (s->in_len == s->in_need && !s->have_header && !take_header(s))
			return;
	}
	dispatch(s);
}

static void on_writable(struct op_session *s)
{
	ssize_t n = s->conn->ops->send(s->conn, s->out + s->out_off, s->out_len - s->out_off);

	if (n < 0 && io_try_again(errno)) {
		s->watch.events = s->conn->want ? s->conn->want : POLLOUT;
		return;
	}
	if (n < 0) {
		log_debug("%s: sending the reply: %m", s->conn->peer);
		session_close(s);
		return;
	}
	s->out_off += (size_t)n;
	if (s->out_off == s->out_len)
		session_close(s);
}

static void session_event(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct op_session *s = w->data;

	if (revents == 0) {
		log_warn("%s: no complete request within %d ms, closing", s->conn->peer,
			 s->server->config.timeout_ms);
		session_close(s);
	} else if (s->out) {
		on_writable(s);
	} else {
		on_readable(s);
	}
}

static void add_session(struct op_server *server, struct usbip_conn *conn)
{
	struct op_session *s;

	if (server->sessions >= server->config.max_sessions) {
		/* Full: the oldest peer has had the longest chance; it goes. */
		log_warn("%d connections open: dropping the oldest, %s", server->sessions,
			 TAILQ_FIRST(&server->sessions_open)->conn->peer);
		session_close(TAILQ_FIRST(&server->sessions_open));
	}
	if (server->config.tls && tls_wrap(server->config.tls, conn, NULL) != 0) {
		log_warn("%s: cannot set up TLS", conn->peer);
		conn_close(conn);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		conn_close(conn);
		return;
	}
	s->server = server;
	s->conn = conn;
	s->in_need = USBIP_OP_HEADER_SIZE;
	s->watch = (struct ev_watch){
		.fd = conn->fd,
		.events = POLLIN,
		.deadline_ms = ev_now_ms() + server->config.timeout_ms,
		.cb = session_event,
		.data = s,
	};
	if (ev_watch_add(server->loop, &s->watch) != 0) {
		conn_close(conn);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&server->sessions_open, s, link);
	server->sessions++;
	if (server->sessions > server->peak)
		server->peak = server->sessions;
}

/*
 * Whether a peer just accepted may go on, said in one line when not: a
 * Unix peer by its credentials (creds), a vsock peer as the kernel let it
 * connect, an IP peer by TCP wrappers (or what admit asks of them).
 */
static bool admitted(const struct op_server_config *c, const struct usbip_conn *conn)
{
	struct sock_peer_cred cred;

	switch (conn->peer_addr.ss_family) {
	case AF_UNIX:
		if (sock_peer_cred(conn->fd, &cred) == 0 &&
		    policy_allows_cred(c->creds, cred.uid, cred.gid))
			return true;
		log_warn("%s: refused: no --allow-uid or --allow-gid names it", conn->peer);
		return false;
	case AF_VSOCK:
		return true;
	}
	if (c->admit ? c->admit(conn->fd, c->admit_arg) : tcp_wrappers_allow(conn->fd, c->name))
		return true;
	log_warn("%s: refused by TCP wrappers (hosts.allow/hosts.deny)", conn->peer);
	return false;
}

/*
 * One connection from l's socket, or NULL when none is waiting: the one
 * place where a listener's connection begins (a WebSocket upgrade goes
 * here).
 */
static struct usbip_conn *listener_accept(struct op_listener *l)
{
	return tcp_accept(l->watch.fd);
}

static void listener_event(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct op_listener *l = w->data;
	int i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		struct usbip_conn *conn = listener_accept(l);

		if (!conn)
			return;
		if (!admitted(&l->server->config, conn)) {
			conn_close(conn);
			continue;
		}
		log_info("connection from %s", conn->peer);
		/* Admitted by the proxy's (or the peer's) address; the relay then takes it. */
		if (l->ws_on && ws_server_start(&conn, l->wss, &l->ws) != 0)
			continue;
		add_session(l->server, conn);
	}
}

int op_server_listen(struct op_server *server, int listen_fd)
{
	return op_server_listen_ws(server, listen_fd, NULL, NULL);
}

int op_server_listen_ws(struct op_server *server, int listen_fd, const struct ws_options *ws,
			struct usbip_tls *wss)
{
	struct op_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return -1;
	l->ws_on = ws != NULL;
	if (ws)
		l->ws = *ws;
	l->wss = wss;
	l->server = server;
	l->watch = (struct ev_watch){
		.fd = listen_fd, .events = POLLIN, .cb = listener_event, .data = l
	};
	if (ev_watch_add(server->loop, &l->watch) != 0) {
		free(l);
		return -1;
	}
	SLIST_INSERT_HEAD(&server->listeners, l, link);
	return 0;
}

void op_server_free(struct op_server *server)
{
	struct op_listener *l;

	if (!server)
		return;
	while (!TAILQ_EMPTY(&server->sessions_open))
		session_close(TAILQ_FIRST(&server->sessions_open));
	while ((l = SLIST_FIRST(&server->listeners))) {
		SLIST_REMOVE_HEAD(&server->listeners, link);
		ev_watch_remove(server->loop, &l->watch);
		close(l->watch.fd);
		free(l);
	}
	free(server);
}
