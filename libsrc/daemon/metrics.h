/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus's text format on /metrics (`--metrics ADDRESS`), so that a
 * fleet's existing scraper sees what each host holds without logging in.
 * The daemon writes its metric families at each scrape through a callback,
 * as it writes its status; this file does the format and the HTTP/1.x
 * around it, and only what a scraper needs: GET /metrics, one answer per
 * connection. What is not that is answered 400, 404, 405 or 431 and
 * closed; a request is at most METRICS_REQUEST_MAX bytes and a connection
 * lives at most METRICS_CONN_MS, METRICS_CONN_MAX at a time, so a slow or
 * hostile client costs the daemon a bounded buffer and never its loop.
 */
#ifndef USBIP_DAEMON_METRICS_H
#define USBIP_DAEMON_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon/ev.h"

#define METRICS_REQUEST_MAX 8192
#define METRICS_CONN_MAX    8
#define METRICS_CONN_MS	    5000

/* The text being written for one scrape. */
struct metrics_text {
	FILE *out;
};

/* "# HELP" and "# TYPE" lines: type is "counter" or "gauge". */
void metrics_family(struct metrics_text *m, const char *name, const char *type, const char *help);

/*
 * One sample: name{k1="v1",...} value. The labels are pairs of strings
 * ending with METRICS_END; values are escaped as the format asks.
 */
#define METRICS_END ((const char *)0)
void metrics_sample(struct metrics_text *m, const char *name, double value, ...);

/*
 * PREFIX_relay_bytes_total{transport,direction}, PREFIX_relays_started_total
 * and PREFIX_relays_running{transport}, from the relays' shared page
 * (net/relay_stats.h); nothing when this process has none.
 */
void metrics_relays(struct metrics_text *m, const char *prefix);

/* Writes the daemon's families into m. */
typedef void (*metrics_fn)(struct metrics_text *m, void *arg);

/* What a request (the bytes read so far) asks for. */
enum metrics_request {
	METRICS_REQ_INCOMPLETE, /* no end of header yet */
	METRICS_REQ_GET,	/* GET /metrics (a query string ignored) */
	METRICS_REQ_NOT_FOUND,	/* GET of another path */
	METRICS_REQ_METHOD,	/* a method other than GET */
	METRICS_REQ_BAD,	/* not an HTTP/1.x request line */
	METRICS_REQ_TOO_LARGE,	/* METRICS_REQUEST_MAX bytes and no end of header */
};

enum metrics_request metrics_request_parse(const char *buf, size_t len);

/* The whole answer to request r (body from fn when GET), in a malloc'ed buffer. */
char *metrics_response(enum metrics_request r, metrics_fn fn, void *arg, size_t *len);

struct metrics_server;

/* Whether address is one metrics_open takes: 0, or -1 with why in err. */
int metrics_address_ok(const char *address, char *err, size_t err_len);

/*
 * Listens on address (HOST:PORT, [V6]:PORT or :PORT for every address;
 * port 0 takes one from the kernel), not yet answering. NULL after one
 * line on stderr when it cannot.
 */
struct metrics_server *metrics_open(const char *address, metrics_fn fn, void *arg);
/* The port it listens on (for tests given port 0). */
unsigned metrics_port(const struct metrics_server *s);
/* Whether fd is one of its listening sockets (a forked child keeps them). */
bool metrics_has_fd(const struct metrics_server *s, int fd);
/* Answers on loop from now on: 0, or -1. */
int metrics_watch(struct metrics_server *s, struct ev_loop *loop);
/* Stops listening and drops the connections. */
void metrics_close(struct metrics_server *s);

#endif
