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

#include <pwd.h>

#include "daemon/ev.h"
#include "util/json.h"

#define STATUS_SCHEMA 1
#define STATUS_DIR    RUNSTATEDIR "/usbip"
/* The most a status answer may be; the client reads no more. */
#define STATUS_MAX_BYTES (1 << 20)

/* Writes the daemon's own fields into the object being written. */
typedef void (*status_fn)(struct json_writer *w, void *arg);

struct status_socket;

/*
 * Listens on STATUS_DIR/name.sock (USBIP_STATUS_DIR when set), not yet
 * answering: made while the daemon still may, before it gives root up and
 * enters its sandbox. A daemon that will run as user (not NULL) gets
 * STATUS_DIR/USER/name.sock, the folder and socket that user's, so that
 * it can still remove the socket at its stop (`usbip status` looks one
 * folder down too). When another live instance answers on name, alt (not
 * NULL) is tried instead: a second usbipa on another port still shows in
 * `usbip status`. NULL (with a warning) if it cannot.
 */
struct status_socket *status_open(const char *name, const char *alt, const struct passwd *user,
				  status_fn fn, void *arg);
/* The folder the socket is in, for the sandbox's rules; NULL for none. */
const char *status_folder(const struct status_socket *s);
/* Answers on loop from now on: 0, or -1 (with a warning; s stays to close). */
int status_watch(struct status_socket *s, struct ev_loop *loop);
/* Stops listening and removes the socket. */
void status_close(struct status_socket *s);

#endif
