/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The other end of the status sockets (daemon/status.h), for `usbip
 * status`: an answer is read whole within a deadline and a size bound, and
 * parsed before anything of it is shown. An answer that does not parse, or
 * does not come whole in time, is that daemon's error; nothing a daemon
 * sends reaches the output but through the parser and the JSON writer (or,
 * for people, escaped).
 */
#ifndef USBIP_DAEMON_STATUS_CLIENT_H
#define USBIP_DAEMON_STATUS_CLIENT_H

#include <stdio.h>

#include "util/json_parse.h"

/* For the whole answer, not for each read. */
#define STATUS_DEADLINE_MS 2000
/* The answer's own nesting; usbip status's document adds two levels (JSON_MAX_DEPTH). */
#define STATUS_MAX_DEPTH  12
#define STATUS_MAX_VALUES 65536

enum status_asked {
	STATUS_NOBODY,	 /* nothing listens there (a socket left by a daemon that died) */
	STATUS_ANSWERED, /* *answer is the parsed answer (json_parse_value_free it) */
	STATUS_FAILED,	 /* err says why: no whole answer in time, too large, not JSON */
};

enum status_asked status_client_ask(const char *path, int deadline_ms, struct json_value **answer,
				    char *err, size_t err_len);

/* An answer: one JSON object within the limits above; NULL with a one-line reason. */
struct json_value *status_client_answer_parse(const char *text, size_t len, char *err,
					      size_t err_len);

/*
 * An object's members as indented "key: value" lines for people: "since"
 * and "started" as local times, every string of the peer's escaped (no
 * control character reaches a terminal), each value cut at a bound.
 */
void status_client_render(FILE *out, const struct json_value *object);

/*
 * The text form for people: a table as usbip port's, DAEMON, DEVICE, PEER,
 * SINCE, TRANSPORT, STATE, one row per device or rule of every answer added
 * (an object with a busid or a rule member, at any depth), or one for a
 * daemon that has none; the header before the first row. Each cell is the
 * member escaped and cut to STATUS_CELL bytes.
 */
#define STATUS_CELL 96

struct status_table {
	FILE *out;
	unsigned rows;		  /* printed so far */
	char daemon[STATUS_CELL]; /* the answer being added: its "daemon", or the name given */
};

void status_client_table_add(struct status_table *t, const char *daemon,
			     const struct json_value *answer);

#endif
