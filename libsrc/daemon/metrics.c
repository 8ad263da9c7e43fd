// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/metrics.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listen.h"
#include "net/relay_stats.h"
#include "util/log.h"

#define METRICS_LISTEN_MAX 4

void metrics_family(struct metrics_text *m, const char *name, const char *type, const char *help)
{
	fprintf(m->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with backslash, quote and newline escaped. */
static void metrics_label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

void metrics_sample(struct metrics_text *m, const char *name, double value, ...)
{
	const char *key, *sep = "{";
	va_list ap;

	fputs(name, m->out);
	va_start(ap, value);
	while ((key = va_arg(ap, const char *))) {
		fprintf(m->out, "%s%s=\"", sep, key);
		metrics_label_value(m->out, va_arg(ap, const char *));
		fputc('"', m->out);
		sep = ",";
	}
	va_end(ap);
	if (sep[0] == ',')
		fputc('}', m->out);
	if (value == (double)(long long)value)
		fprintf(m->out, " %lld\n", (long long)value);
	else
		fprintf(m->out, " %.17g\n", value);
}

void metrics_relays(struct metrics_text *m, const char *prefix)
{
	struct relay_stats s;
	char bytes[96], started[96], running[96];
	int t, d;

	if (!relay_stats_read(&s))
		return;
	snprintf(bytes, sizeof(bytes), "%s_relay_bytes_total", prefix);
	snprintf(started, sizeof(started), "%s_relays_started_total", prefix);
	snprintf(running, sizeof(running), "%s_relays_running", prefix);
	metrics_family(m, bytes, "counter",
		       "bytes of the USB/IP stream the relay processes carried, by direction");
	for (t = 0; t < RELAY_TRANSPORTS; t++)
		for (d = 0; d < RELAY_DIRECTIONS; d++)
			metrics_sample(m, bytes, (double)s.bytes[t][d], "transport",
				       relay_stats_transport_str(t), "direction",
				       relay_stats_direction_str(d), METRICS_END);
	metrics_family(m, started, "counter", "relay processes started");
	for (t = 0; t < RELAY_TRANSPORTS; t++)
		metrics_sample(m, started, (double)s.started[t], "transport",
			       relay_stats_transport_str(t), METRICS_END);
	metrics_family(m, running, "gauge", "relay processes started and not yet ended");
	for (t = 0; t < RELAY_TRANSPORTS; t++)
		metrics_sample(m, running,
			       s.started[t] > s.ended[t] ? (double)(s.started[t] - s.ended[t]) : 0,
			       "transport", relay_stats_transport_str(t), METRICS_END);
}

/* The end of the header (an empty line), or NULL. */
static const char *metrics_header_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return buf + i;
		if (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i;
	}
	return NULL;
}

/* Whether the target is /metrics, a query string allowed. */
static bool metrics_path_ok(const char *t, size_t len)
{
	return len >= 8 && memcmp(t, "/metrics", 8) == 0 && (len == 8 || t[8] == '?');
}

enum metrics_request metrics_request_parse(const char *buf, size_t len)
{
	const char *sp1, *sp2, *eol;
	size_t i;

	if (!metrics_header_end(buf, len))
		return len >= METRICS_REQUEST_MAX ? METRICS_REQ_TOO_LARGE : METRICS_REQ_INCOMPLETE;
	eol = memchr(buf, '\n', len);
	for (i = 0; buf + i < eol; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\r')
			return METRICS_REQ_BAD;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == buf || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return METRICS_REQ_BAD;
	if ((size_t)(sp1 - buf) != 3 || memcmp(buf, "GET", 3) != 0)
		return METRICS_REQ_METHOD;
	return metrics_path_ok(sp1 + 1, (size_t)(sp2 - sp1 - 1)) ? METRICS_REQ_GET
								 : METRICS_REQ_NOT_FOUND;
}

static const char *metrics_status_line(enum metrics_request r)
{
	switch (r) {
	case METRICS_REQ_GET:
		return "200 OK";
	case METRICS_REQ_NOT_FOUND:
		return "404 Not Found";
	case METRICS_REQ_METHOD:
		return "405 Method Not Allowed";
	case METRICS_REQ_TOO_LARGE:
		return "431 Request Header Fields Too Large";
	default:
		return "400 Bad Request";
	}
}

char *metrics_response(enum metrics_request r, metrics_fn fn, void *arg, size_t *len)
{
	struct metrics_text m;
	char *body = NULL, *all = NULL;
	size_t body_len = 0;
	int n;

	m.out = open_memstream(&body, &body_len);
	if (!m.out)
		return NULL;
	if (r == METRICS_REQ_GET)
		fn(&m, arg);
	else
		fprintf(m.out, "%s\n", metrics_status_line(r));
	if (fclose(m.out) != 0) {
		free(body);
		return NULL;
	}
	n = asprintf(&all,
		     "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
		     metrics_status_line(r), body_len,
		     r == METRICS_REQ_METHOD ? "Allow: GET\r\n" : "", body);
	free(body);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return all;
}

struct metrics_conn {
	struct ev_watch watch;
	struct metrics_server *server;
	bool in_use;
	char request[METRICS_REQUEST_MAX];
	size_t got;
	char *response; /* NULL while reading */
	size_t response_len, sent;
};

struct metrics_server {
	struct ev_watch listeners[METRICS_LISTEN_MAX];
	int nlisteners;
	struct metrics_conn conns[METRICS_CONN_MAX];
	struct ev_loop *loop;
	metrics_fn fn;
	void *arg;
	bool watched;
};

static void metrics_conn_end(struct metrics_conn *c)
{
	ev_watch_remove(c->server->loop, &c->watch);
	close(c->watch.fd);
	free(c->response);
	c->response = NULL;
	c->in_use = false;
}

/* Reads what came; once the request is whole, turns to writing the answer. */
static void metrics_conn_read(struct metrics_conn *c)
{
	enum metrics_request r;
	ssize_t n = recv(c->watch.fd, c->request + c->got, sizeof(c->request) - c->got, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		metrics_conn_end(c);
		return;
	}
	c->got += (size_t)n;
	r = metrics_request_parse(c->request, c->got);
	if (r == METRICS_REQ_INCOMPLETE)
		return;
	c->response = metrics_response(r, c->server->fn, c->server->arg, &c->response_len);
	if (!c->response) {
		metrics_conn_end(c);
		return;
	}
	c->watch.events = POLLOUT;
}

static void metrics_conn_write(struct metrics_conn *c)
{
	ssize_t n =
		send(c->watch.fd, c->response + c->sent, c->response_len - c->sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->sent += (size_t)n) == c->response_len)
		metrics_conn_end(c);
}

static void metrics_on_conn(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct metrics_conn *c = w->data;

	(void)loop;
	if (revents == 0 || (revents & (POLLERR | POLLNVAL)))
		metrics_conn_end(c); /* its time is up, or the socket broke */
	else if (c->response)
		metrics_conn_write(c);
	else
		metrics_conn_read(c);
}

static struct metrics_conn *metrics_free_conn(struct metrics_server *s)
{
	int i;

	for (i = 0; i < METRICS_CONN_MAX; i++)
		if (!s->conns[i].in_use)
			return &s->conns[i];
	return NULL;
}

static void metrics_on_accept(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct metrics_server *s = w->data;
	struct metrics_conn *c;
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)revents;
	if (fd < 0)
		return;
	c = metrics_free_conn(s);
	if (!c) {
		close(fd); /* as many scrapes as it takes are under way already */
		return;
	}
	*c = (struct metrics_conn){ .server = s, .in_use = true };
	c->watch = (struct ev_watch){ .fd = fd,
				      .events = POLLIN,
				      .deadline_ms = ev_now_ms() + METRICS_CONN_MS,
				      .cb = metrics_on_conn,
				      .data = c };
	if (ev_watch_add(loop, &c->watch) != 0) {
		close(fd);
		c->in_use = false;
	}
}

/*
 * The address as --listen takes it (":PORT" for every address, unix:PATH),
 * a TCP port named.
 */
static int metrics_address_parse(const char *address, struct net_address *a, char *err,
				 size_t err_len)
{
	err[0] = '\0';
	if (address_parse_listener(address, "0", a, err, err_len) != 0)
		return -1;
	if (a->scheme == NET_ADDRESS_TCP && !a->port_given) {
		snprintf(err, err_len, "give the port, as HOST:PORT or :PORT");
		return -1;
	}
	return 0;
}

int metrics_address_ok(const char *address, char *err, size_t err_len)
{
	struct net_address a;

	return metrics_address_parse(address, &a, err, err_len);
}

static int metrics_listen(struct metrics_server *s, const char *address)
{
	struct net_address a;
	struct net_listen_opts opts = { .family = USBIP_FAMILY_ANY };
	char err[320] = "";
	int fds[METRICS_LISTEN_MAX], n, i;

	if (metrics_address_parse(address, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "--metrics %s: %s\n", address, err);
		return -1;
	}
	n = listen_open(&a, &opts, fds, METRICS_LISTEN_MAX);
	for (i = 0; i < n; i++)
		s->listeners[i] = (struct ev_watch){
			.fd = fds[i], .events = POLLIN, .cb = metrics_on_accept, .data = s
		};
	s->nlisteners = n > 0 ? n : 0;
	return n > 0 ? 0 : -1;
}

struct metrics_server *metrics_open(const char *address, metrics_fn fn, void *arg)
{
	struct metrics_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fn = fn;
	s->arg = arg;
	if (metrics_listen(s, address) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

unsigned metrics_port(const struct metrics_server *s)
{
	return s->nlisteners ? tcp_local_port(s->listeners[0].fd) : 0;
}

bool metrics_has_fd(const struct metrics_server *s, int fd)
{
	int i;

	for (i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].fd == fd)
			return true;
	return false;
}

int metrics_watch(struct metrics_server *s, struct ev_loop *loop)
{
	int i;

	s->loop = loop;
	for (i = 0; i < s->nlisteners; i++)
		if (ev_watch_add(loop, &s->listeners[i]) != 0)
			return -1;
	s->watched = true;
	return 0;
}

void metrics_close(struct metrics_server *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < METRICS_CONN_MAX; i++)
		if (s->conns[i].in_use)
			metrics_conn_end(&s->conns[i]);
	for (i = 0; i < s->nlisteners; i++) {
		if (s->watched)
			ev_watch_remove(s->loop, &s->listeners[i]);
		close(s->listeners[i].fd);
	}
	free(s);
}
