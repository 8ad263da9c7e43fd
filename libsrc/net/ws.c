// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/ws.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "net/address.h"
#include "net/relay_stats.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "util/io.h"
#include "util/log.h"
#include "util/privdrop.h"

/* RFC 6455 section 1.3: what the server appends to the client's key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* The most one relay read takes from the local stream into one message. */
#define RELAY_CHUNK 65536
/* A message larger than this from the peer ends the connection (close 1009). */
#define RELAY_MAX_MSG (1u << 20)
/* Messages queued towards the peer before the local side is read again. */
#define RELAY_MAX_QUEUED 32

static long long ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ws_parse_option(int id, const char *arg, struct ws_options *o, struct ws_tls_options *wt,
		    char *err, size_t err_len)
{
	char *end;
	unsigned long v;

	switch (id) {
	case WS_OPT_PING:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 3600) {
			snprintf(err, err_len, "--ws-ping wants seconds from 1 to 3600, not '%s'",
				 arg);
			return -1;
		}
		o->ping_s = (unsigned)v;
		return 1;
	case WS_OPT_TRUSTED_PROXY:
		if (o->ntrusted >= WS_MAX_TRUSTED) {
			snprintf(err, err_len, "at most %d --trusted-proxy", WS_MAX_TRUSTED);
			return -1;
		}
		o->trusted[o->ntrusted++] = arg;
		return 1;
	case WS_OPT_WSS_CA:
		wt->tls.ca_file = arg;
		break;
	case WS_OPT_WSS_PIN:
		wt->tls.pin = arg;
		break;
	case WS_OPT_WSS_CERT:
		wt->tls.cert_file = arg;
		break;
	case WS_OPT_WSS_KEY:
		wt->tls.key_file = arg;
		break;
	default:
		return 0;
	}
	wt->given = true;
	return 1;
}

int ws_accept_key(const char *key, char *out)
{
	unsigned char digest[SHA_DIGEST_LENGTH];
	char joined[WS_KEY_LEN + sizeof(ws_guid)];
	int n = snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);

	if (n < 0 || (size_t)n >= sizeof(joined))
		return -1;
	SHA1((const unsigned char *)joined, (size_t)n, digest);
	return EVP_EncodeBlock((unsigned char *)out, digest, sizeof(digest)) == WS_ACCEPT_LEN ? 0
											      : -1;
}

/*
 * The value of the last header called name (case-insensitive: HAProxy
 * lower-cases them) in hdr, a NUL-terminated header, its blanks trimmed.
 * 1 if found, 0 if not.
 */
static int header_value(const char *hdr, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *line = strstr(hdr, "\r\n");
	int found = 0;

	while (line && line[2]) {
		const char *p = line + 2, *eol = strstr(p, "\r\n");
		size_t vlen;

		if (!eol)
			break;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			vlen = (size_t)(eol - p);
			while (vlen && (p[vlen - 1] == ' ' || p[vlen - 1] == '\t'))
				vlen--;
			snprintf(out, len, "%.*s", (int)vlen, p);
			found = 1;
		}
		line = eol;
	}
	return found;
}

/* Whether the comma-separated list holds token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
	size_t tlen = strlen(token);

	while (*list) {
		size_t n;

		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		n = strcspn(list, ", \t");
		if (n == tlen && strncasecmp(list, token, n) == 0)
			return true;
		list += n;
	}
	return false;
}

/* Copies a header of len bytes into out (WS_HEADER_MAX + 1), refusing NULs. */
static int header_copy(const char *buf, size_t len, char *out, char *err, size_t err_len)
{
	if (len > WS_HEADER_MAX || memchr(buf, '\0', len)) {
		snprintf(err, err_len, "the upgrade's header is longer than %d bytes or binary",
			 WS_HEADER_MAX);
		return -1;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

/* The request line: GET PATH HTTP/1.x, with PATH (the query left out) the one served. */
static int check_request_line(const char *hdr, const char *want, char *err, size_t err_len)
{
	size_t plen;
	const char *path = hdr + 4;

	if (strncmp(hdr, "GET /", 5) != 0) {
		snprintf(err, err_len, "not a WebSocket upgrade (no GET)");
		return 400;
	}
	plen = strcspn(path, " ?\r");
	if (strlen(want) != plen || strncmp(path, want, plen) != 0) {
		snprintf(err, err_len, "upgrade on path %.*s, not %s", (int)(plen > 64 ? 64 : plen),
			 path, want);
		return 404;
	}
	path += strcspn(path, " \r");
	if (strncmp(path, " HTTP/1.", 8) != 0 || path[8] < '1' || path[8] > '9') {
		snprintf(err, err_len, "not an HTTP/1.1 request");
		return 400;
	}
	return 0;
}

/* The rightmost address of a trusted proxy's Forwarded or X-Forwarded-For, into out. */
static void take_forwarded(const char *hdr, char *out, size_t len)
{
	char v[512];
	const char *p;

	if (header_value(hdr, "Forwarded", v, sizeof(v))) {
		p = strrchr(v, ',');
		p = strcasestr(p ? p : v, "for=");
		if (p) {
			p += 4;
			p += *p == '"';
			p += *p == '[';
			snprintf(out, len, "%.*s", (int)strcspn(p, "]\";, "), p);
			return;
		}
	}
	if (header_value(hdr, "X-Forwarded-For", v, sizeof(v))) {
		p = strrchr(v, ',');
		p = p ? p + 1 : v;
		p += strspn(p, " ");
		snprintf(out, len, "%.*s", (int)strcspn(p, " "), p);
	}
}

static bool trusted_peer(const struct ws_options *o, const char *peer_host)
{
	unsigned i;

	for (i = 0; peer_host && i < o->ntrusted; i++)
		if (strcmp(o->trusted[i], peer_host) == 0)
			return true;
	return false;
}

/* The headers an upgrade must have, with what each must hold. */
static int check_upgrade_headers(const char *hdr, struct ws_request *out, char *err, size_t err_len)
{
	char v[256];

	if (!header_value(hdr, "Upgrade", v, sizeof(v)) || !has_token(v, "websocket") ||
	    !header_value(hdr, "Connection", v, sizeof(v)) || !has_token(v, "upgrade")) {
		snprintf(err, err_len, "not a WebSocket upgrade (Upgrade, Connection)");
		return 400;
	}
	if (!header_value(hdr, "Sec-WebSocket-Version", v, sizeof(v)) || strcmp(v, "13") != 0) {
		snprintf(err, err_len, "WebSocket version '%.16s', not 13", v);
		return 426;
	}
	if (!header_value(hdr, "Sec-WebSocket-Key", v, sizeof(v)) || strlen(v) != WS_KEY_LEN ||
	    strcmp(v + WS_KEY_LEN - 2, "==") != 0) {
		snprintf(err, err_len, "no valid Sec-WebSocket-Key");
		return 400;
	}
	snprintf(out->key, sizeof(out->key), "%s", v);
	out->protocol_offered = header_value(hdr, "Sec-WebSocket-Protocol", v, sizeof(v));
	if (out->protocol_offered && !has_token(v, WS_PROTOCOL)) {
		snprintf(err, err_len, "subprotocol '%.64s' offered, not " WS_PROTOCOL, v);
		return 400;
	}
	return 0;
}

int ws_parse_request(const char *buf, size_t len, const struct ws_options *o, const char *peer_host,
		     struct ws_request *out, char *err, size_t err_len)
{
	char hdr[WS_HEADER_MAX + 1];
	int status;

	memset(out, 0, sizeof(*out));
	if (header_copy(buf, len, hdr, err, err_len) != 0)
		return 400;
	status = check_request_line(hdr, o->path ? o->path : NET_ADDRESS_WS_PATH, err, err_len);
	if (status == 0)
		status = check_upgrade_headers(hdr, out, err, err_len);
	if (status == 0 && trusted_peer(o, peer_host))
		take_forwarded(hdr, out->forwarded, sizeof(out->forwarded));
	return status;
}

int ws_parse_response(const char *buf, size_t len, const char *key, char *err, size_t err_len)
{
	char hdr[WS_HEADER_MAX + 1], v[256], want[WS_ACCEPT_LEN + 1];

	if (header_copy(buf, len, hdr, err, err_len) != 0)
		return -1;
	if (strncmp(hdr, "HTTP/1.", 7) != 0 || strncmp(hdr + 8, " 101", 4) != 0) {
		snprintf(err, err_len, "the server answered '%.*s', not 101 (a WebSocket upgrade)",
			 (int)(strcspn(hdr, "\r") > 80 ? 80 : strcspn(hdr, "\r")), hdr);
		return -1;
	}
	if (!header_value(hdr, "Upgrade", v, sizeof(v)) || !has_token(v, "websocket") ||
	    !header_value(hdr, "Connection", v, sizeof(v)) || !has_token(v, "upgrade")) {
		snprintf(err, err_len, "the server's 101 is no WebSocket upgrade");
		return -1;
	}
	if (ws_accept_key(key, want) != 0 ||
	    !header_value(hdr, "Sec-WebSocket-Accept", v, sizeof(v)) || strcmp(v, want) != 0) {
		snprintf(err, err_len, "wrong Sec-WebSocket-Accept from the server");
		return -1;
	}
	if (header_value(hdr, "Sec-WebSocket-Protocol", v, sizeof(v)) &&
	    strcmp(v, WS_PROTOCOL) != 0) {
		snprintf(err, err_len, "the server chose subprotocol '%.64s', not " WS_PROTOCOL, v);
		return -1;
	}
	return 0;
}

/* Waits for conn to be readable (or writable) until deadline. 0, or -1 (ETIMEDOUT). */
static int wait_conn(struct usbip_conn *conn, short events, long long deadline)
{
	struct pollfd pfd = { .fd = conn->fd, .events = conn->want ? conn->want : events };
	long long left = deadline - ws_now_ms();

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return poll(&pfd, 1, (int)left) < 0 && errno != EINTR ? -1 : 0;
}

/*
 * Reads a header up to its blank line, at most WS_HEADER_MAX bytes, until
 * deadline. buf holds WS_HEADER_MAX; *got is what was read (bytes past the
 * header are the peer's first frames). Returns the header's length, or -1.
 */
static ssize_t read_header(struct usbip_conn *conn, char *buf, size_t *got, long long deadline)
{
	*got = 0;
	for (;;) {
		ssize_t n = conn->ops->recv(conn, buf + *got, WS_HEADER_MAX - *got);
		const char *end;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			errno = n == 0 ? ECONNRESET : errno;
			return -1;
		}
		if (n < 0) {
			if (usbip_conn_pending(conn) == 0 && wait_conn(conn, POLLIN, deadline) != 0)
				return -1;
			continue;
		}
		*got += (size_t)n;
		end = memmem(buf, *got, "\r\n\r\n", 4);
		if (end)
			return end + 4 - buf;
		if (*got == WS_HEADER_MAX) {
			errno = EMSGSIZE;
			return -1;
		}
	}
}

/* The relay's state, in the relay process. */
struct ws_relay {
	struct usbip_conn *conn; /* the WebSocket's connection */
	int pair;		 /* our end of the local stream */
	const char *early;	 /* frames read with the upgrade's header */
	size_t early_len;
	long long last_heard, ping_sent;
	unsigned ping_ms;
	const char *why; /* what ended it, for the one log line */
	int failed;	 /* what wslay_event_recv or _send returned last: 0, WSLAY_ERR_* */
	bool server;
};

static ssize_t relay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *user)
{
	struct ws_relay *r = user;
	ssize_t n;

	(void)flags;
	if (r->early_len) {
		n = (ssize_t)(len < r->early_len ? len : r->early_len);
		memcpy(buf, r->early, (size_t)n);
		r->early += n;
		r->early_len -= (size_t)n;
	} else {
		n = r->conn->ops->recv(r->conn, buf, len);
	}
	if (n > 0) {
		r->last_heard = ws_now_ms();
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (!r->why)
		r->why = n == 0 ? "the peer closed the connection" : "the connection failed";
	wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t relay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
			  void *user)
{
	struct ws_relay *r = user;
	ssize_t n = r->conn->ops->send(r->conn, data, len);

	(void)flags;
	if (n >= 0)
		return n;
	if (errno != EAGAIN && errno != EINTR && !r->why)
		r->why = "sending failed";
	wslay_event_set_error(ctx, errno == EAGAIN || errno == EINTR ? WSLAY_ERR_WOULDBLOCK
								     : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int relay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void relay_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
			 void *user)
{
	struct ws_relay *r = user;

	if (m->opcode == WSLAY_BINARY_FRAME) {
		if (io_write_all(r->pair, m->msg, m->msg_length) != 0) {
			r->why = "the local side closed";
			wslay_event_queue_close(ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
		} else {
			relay_stats_add(RELAY_WS, RELAY_FROM_PEER, m->msg_length);
		}
	} else if (m->opcode == WSLAY_TEXT_FRAME) {
		r->why = "a text frame (USB/IP is binary)";
		wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
	}
}

/* Local bytes into one binary message; end of file into a close. */
static void relay_from_pair(struct ws_relay *r, wslay_event_context_ptr ctx, uint8_t *buf)
{
	ssize_t n = read(r->pair, buf, RELAY_CHUNK);
	struct wslay_event_msg msg = { .opcode = WSLAY_BINARY_FRAME, .msg = buf };

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		r->why = r->why ? r->why : "the local side closed";
		wslay_event_queue_close(ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
		return;
	}
	msg.msg_length = (size_t)n;
	/* Counted once queued: wslay copies it and sends it before the close. */
	if (wslay_event_queue_msg(ctx, &msg) != 0)
		wslay_event_queue_close(ctx, WSLAY_CODE_INTERNAL_SERVER_ERROR, NULL, 0);
	else
		relay_stats_add(RELAY_WS, RELAY_TO_PEER, (size_t)n);
}

/* Pings an idle peer; false once it has said nothing for two intervals. */
static bool relay_keepalive(struct ws_relay *r, wslay_event_context_ptr ctx)
{
	long long now = ws_now_ms();
	struct wslay_event_msg ping = { .opcode = WSLAY_PING };

	if (now - r->last_heard >= 2LL * r->ping_ms) {
		r->why = "no answer to pings";
		return false;
	}
	if (now - r->last_heard >= r->ping_ms && r->ping_sent <= r->last_heard) {
		wslay_event_queue_msg(ctx, &ping);
		r->ping_sent = now;
	}
	return true;
}

static void relay_poll(struct ws_relay *r, wslay_event_context_ptr ctx, struct pollfd *pfd)
{
	int timeout = (int)(r->ping_ms / 4 > 50 ? r->ping_ms / 4 : 50);

	pfd[0] = (struct pollfd){ .fd = r->conn->fd, .events = POLLIN };
	if (wslay_event_want_write(ctx))
		pfd[0].events |= POLLOUT;
	pfd[1] = (struct pollfd){ .fd = r->pair };
	if (wslay_event_get_write_enabled(ctx) &&
	    wslay_event_get_queued_msg_count(ctx) < RELAY_MAX_QUEUED)
		pfd[1].events = POLLIN;
	if (usbip_conn_pending(r->conn) == 0 && poll(pfd, 2, timeout) < 0 && errno != EINTR)
		pfd[0].revents = POLLERR;
	if (usbip_conn_pending(r->conn))
		pfd[0].revents |= POLLIN;
}

/* Moves bytes both ways until either side ends; returns the close code we sent (0: none). */
static uint16_t relay_run(struct ws_relay *r, wslay_event_context_ptr ctx)
{
	uint8_t *buf = malloc(RELAY_CHUNK);
	struct pollfd pfd[2];

	/* Once our close is out, the peer's answer is not waited for: a bad peer may never send it.
	 */
	while (buf && (wslay_event_want_read(ctx) || wslay_event_want_write(ctx)) &&
	       !(wslay_event_get_close_sent(ctx) && !wslay_event_want_write(ctx))) {
		relay_poll(r, ctx, pfd);
		if ((pfd[0].revents || r->early_len) && (r->failed = wslay_event_recv(ctx)) != 0)
			break;
		if (pfd[1].revents)
			relay_from_pair(r, ctx, buf);
		if (wslay_event_want_write(ctx) && (r->failed = wslay_event_send(ctx)) != 0)
			break;
		if (!relay_keepalive(r, ctx))
			break;
	}
	free(buf);
	return wslay_event_get_close_sent(ctx) ? wslay_event_get_status_code_sent(ctx) : 0;
}

/*
 * Says once why the WebSocket ended, if it was not an ordinary end. A
 * client's relay says it only with --debug: the client's own one line
 * (the connection closed) is what the user sees.
 */
static void relay_report(const struct ws_relay *r, uint16_t code)
{
	int level = r->server ? USBIP_LOG_WARN : USBIP_LOG_DEBUG;

	/* Our callbacks say why they fail; a failure without a why is wslay's refusing a frame. */
	if (r->failed && !r->why)
		log_msg(level,
			"%s: WebSocket protocol error from the peer (a frame RFC 6455 forbids), "
			"closing",
			r->conn->peer);
	else if (code == WSLAY_CODE_PROTOCOL_ERROR || code == WSLAY_CODE_MESSAGE_TOO_BIG ||
		 code == WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA)
		log_msg(level, "%s: WebSocket protocol error from the peer (close %u), closing",
			r->conn->peer, code);
	else if (r->why && strcmp(r->why, "no answer to pings") == 0)
		log_msg(level, "%s: WebSocket: no answer to pings for %u s, closing", r->conn->peer,
			2 * r->ping_ms / 1000);
	else if (code == WSLAY_CODE_UNSUPPORTED_DATA)
		log_msg(level, "%s: WebSocket: %s, closing", r->conn->peer, r->why);
	else
		log_debug("%s: WebSocket ended: %s", r->conn->peer, r->why ? r->why : "closed");
}

/* A relay's work, in its process: frames on conn, the plain stream on pair. */
static void relay(struct usbip_conn *conn, int pair, bool server, const char *early,
		  size_t early_len, unsigned ping_s)
{
	struct wslay_event_callbacks cb = { .recv_callback = relay_recv,
					    .send_callback = relay_send,
					    .genmask_callback = relay_genmask,
					    .on_msg_recv_callback = relay_on_msg };
	struct ws_relay r = {
		.conn = conn, .pair = pair, .early = early, .early_len = early_len, .server = server
	};
	wslay_event_context_ptr ctx;
	int rc;

	r.ping_ms = (ping_s ? ping_s : WS_PING_DEFAULT_S) * 1000;
	r.last_heard = ws_now_ms();
	fcntl(conn->fd, F_SETFL, fcntl(conn->fd, F_GETFL) | O_NONBLOCK);
	rc = server ? wslay_event_context_server_init(&ctx, &cb, &r)
		    : wslay_event_context_client_init(&ctx, &cb, &r);
	if (rc != 0)
		return;
	wslay_event_config_set_max_recv_msg_length(ctx, RELAY_MAX_MSG);
	relay_stats_started(RELAY_WS);
	relay_report(&r, relay_run(&r, ctx));
	relay_stats_ended(RELAY_WS);
	wslay_event_context_free(ctx);
}

void ws_relay_run(struct usbip_conn *conn, int pair, bool server, unsigned ping_s)
{
	relay(conn, pair, server, NULL, 0, ping_s);
}

/* Everything a relay process needs, client or server. */
struct ws_start {
	bool server;
	struct usbip_tls *outer_tls; /* server: wss:// */
	const struct ws_options *o;
	const char *early; /* client: frames read with the answer */
	size_t early_len;
};

static int server_upgrade(struct usbip_conn *conn, const struct ws_start *s, char *buf, size_t *got,
			  ssize_t *hlen);

/* Points stdin, stdout and, with upto 2, stderr at /dev/null. */
static void quiet_stdio(int upto)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), fd;

	if (null < 0)
		return;
	for (fd = 0; fd <= upto; fd++)
		dup2(null, fd);
	close(null);
}

/* In the relay process: whatever is left of the upgrade, then the frames. */
static void relay_process(struct usbip_conn *conn, int pair, const struct ws_start *s)
{
	char *buf = NULL;
	size_t got = 0;
	ssize_t hlen = 0;

	quiet_stdio(1);
	if (s->server) {
		buf = malloc(WS_HEADER_MAX);
		if (!buf || server_upgrade(conn, s, buf, &got, &hlen) != 0)
			return;
		relay(conn, pair, true, buf + hlen, got - (size_t)hlen, s->o->ping_s);
	} else {
		/*
		 * A client's relay outlives the command: it says nothing but with
		 * --debug (and so holds no pipe a shell reads the command's
		 * output from). As the server's relay: no keys, not root.
		 */
		if (!log_debugging())
			quiet_stdio(2);
		tls_keep_only(conn);
		if (geteuid() == 0 && privdrop_to(privdrop_default_user()) != 0)
			return;
		relay(conn, pair, false, s->early, s->early_len, s->o->ping_s);
	}
	free(buf);
}

/* The plain stream's end for this process, named as the connection it stands for. */
static struct usbip_conn *local_end(int fd, const struct usbip_conn *was)
{
	struct usbip_conn *c = tcp_conn_from_fd(fd);

	if (!c)
		return NULL;
	memcpy(c->peer, was->peer, sizeof(c->peer));
	memcpy(c->peer_host, was->peer_host, sizeof(c->peer_host));
	c->peer_addr = was->peer_addr;
	c->peer_addr_len = was->peer_addr_len;
	return c;
}

/* Forks the relay process for *conn; *conn becomes the local stream's end. */
static int start_relay(struct usbip_conn **conn, const struct ws_start *s)
{
	struct usbip_conn *c = *conn, *local;
	sigset_t none;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 || (pid = fork()) < 0) {
		log_err("%s: cannot start the WebSocket relay: %s", c->peer, strerror(errno));
		conn_close(c);
		*conn = NULL;
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		sock_close_all_but(c->fd, sp[1]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		setsid();
		relay_process(c, sp[1], s);
		conn_close(c);
		_exit(0);
	}
	close(sp[1]);
	local = local_end(sp[0], c);
	tls_let_go(c); /* the relay speaks on that socket now */
	conn_close(c);
	*conn = local;
	log_debug("%s: WebSocket relay process %d", local ? local->peer : "?", (int)pid);
	return local ? 0 : -1;
}

/* A refusal the peer can read, then the one log line. */
static void refuse(struct usbip_conn *conn, int status, const char *why)
{
	char answer[160];
	const char *text = status == 404   ? "Not Found"
			   : status == 426 ? "Upgrade Required"
					   : "Bad Request";
	int n = snprintf(answer, sizeof(answer),
			 "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n%s\r\n",
			 status, text, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");

	conn_write_full(conn, answer, (size_t)n, 1000);
	log_warn("%s: WebSocket upgrade refused (%d): %s", conn->peer, status, why);
}

static int send_switching(struct usbip_conn *conn, const struct ws_request *req, int timeout_ms)
{
	char accept[WS_ACCEPT_LEN + 1], answer[256];
	int n;

	if (ws_accept_key(req->key, accept) != 0)
		return -1;
	n = snprintf(answer, sizeof(answer),
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
		     accept,
		     req->protocol_offered ? "Sec-WebSocket-Protocol: " WS_PROTOCOL "\r\n" : "");
	return conn_write_full(conn, answer, (size_t)n, timeout_ms);
}

/* In the relay process: outer TLS (wss://), the request, the answer. 0, or -1 logged. */
static int server_upgrade(struct usbip_conn *conn, const struct ws_start *s, char *buf, size_t *got,
			  ssize_t *hlen)
{
	int timeout = s->o->timeout_ms ? s->o->timeout_ms : WS_UPGRADE_TIMEOUT_MS;
	long long deadline = ws_now_ms() + timeout;
	struct ws_request req;
	char err[200];
	int status;

	if (s->outer_tls &&
	    (tls_wrap(s->outer_tls, conn, NULL) != 0 || tls_handshake(conn, timeout) != 0))
		return -1;
	tls_keep_only(conn);
	if (geteuid() == 0 && privdrop_to(privdrop_default_user()) != 0)
		return -1;
	*hlen = read_header(conn, buf, got, deadline);
	if (*hlen < 0) {
		log_warn("%s: no WebSocket upgrade: %s", conn->peer,
			 errno == EMSGSIZE ? "header longer than 8 KiB" : strerror(errno));
		return -1;
	}
	status =
		ws_parse_request(buf, (size_t)*hlen, s->o, conn->peer_host, &req, err, sizeof(err));
	if (status != 0) {
		refuse(conn, status, err);
		return -1;
	}
	if (req.forwarded[0])
		log_info("%s: WebSocket for %s (forwarded by a trusted proxy)", conn->peer,
			 req.forwarded);
	return send_switching(conn, &req, timeout);
}

int ws_server_start(struct usbip_conn **conn, struct usbip_tls *outer_tls,
		    const struct ws_options *o)
{
	struct ws_start s = { .server = true, .outer_tls = outer_tls, .o = o };

	return start_relay(conn, &s);
}

/* The client's request, with a fresh key into key. */
static int send_upgrade(struct usbip_conn *conn, const char *host, const char *path, char *key,
			int timeout_ms)
{
	unsigned char nonce[16];
	char req[NET_ADDRESS_TEXT_MAX + 256];
	int n;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce)) != WS_KEY_LEN)
		return -1;
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		     "Sec-WebSocket-Protocol: " WS_PROTOCOL "\r\n\r\n",
		     path, host, key);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	return conn_write_full(conn, req, (size_t)n, timeout_ms);
}

int ws_client_start(struct usbip_conn **conn, const char *host, const char *path,
		    const struct ws_options *o, int timeout_ms)
{
	struct usbip_conn *c = *conn;
	char key[WS_KEY_LEN + 1], buf[WS_HEADER_MAX], err[200];
	struct ws_start s = { .server = false, .o = o };
	size_t got;
	ssize_t hlen;

	if (send_upgrade(c, host, path, key, timeout_ms) != 0) {
		log_err("%s: cannot send the WebSocket upgrade: %s", c->peer, strerror(errno));
		goto fail;
	}
	hlen = read_header(c, buf, &got, ws_now_ms() + timeout_ms);
	if (hlen < 0) {
		log_err("%s: no answer to the WebSocket upgrade: %s", c->peer,
			errno == EMSGSIZE ? "header longer than 8 KiB" : strerror(errno));
		goto fail;
	}
	if (ws_parse_response(buf, (size_t)hlen, key, err, sizeof(err)) != 0) {
		log_err("%s: %s", c->peer, err);
		goto fail;
	}
	s.early = buf + hlen;
	s.early_len = got - (size_t)hlen;
	return start_relay(conn, &s);
fail:
	conn_close(c);
	*conn = NULL;
	return -1;
}
