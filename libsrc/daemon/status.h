/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a running daemon is doing, for `usbip status`: a Unix socket under
 * the runstatedir (RUNSTATEDIR/usbip/NAME.sock, mode 0600 in a 0700
 * folder: root only) that answers every connection with one JSON object
 * and closes. The object's fields are documented in usbip(8), STATUS; its
 * "schema" field is STATUS_SCHEMA and grows only by new fields.
 */
#ifndef USBIP_DAEMON_STATUS_H
#define USBIP_DAEMON_STATUS_H

#include "daemon/ev.h"
#include "util/json.h"

#define STATUS_SCHEMA 1
#define STATUS_DIR    RUNSTATEDIR "/usbip"
/* The most a status answer may be; the client reads no more. */
#define STATUS_MAX_BYTES (1 << 20)

/* Writes the daemon's own fields into the object being written. */
typedef void (*status_fn)(struct json_writer *w, void *arg);

struct status_socket;

/* Listens on STATUS_DIR/name.sock; NULL (with a warning) if it cannot. */
struct status_socket *status_listen(struct ev_loop *loop, const char *name, status_fn fn,
				    void *arg);
/* Stops listening and removes the socket. */
void status_close(struct status_socket *s);

#endif
