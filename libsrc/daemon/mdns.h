/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mDNS/DNS-SD through avahi-daemon (Debian's libavahi-client; optional at
 * configure time, --with-avahi): a daemon's announcement of its service
 * (`--announce`: usbipd _usbip._tcp, usbipa _usbipa._tcp). Nothing is
 * announced unless asked: a host should not advertise by default. (The
 * browsing half, `usbip list --discover` and the mdns: remotes, is
 * net/mdns_browse.h's: every layer that dials may need it.)
 *
 * The announcement runs in a small process of its own, forked by the
 * daemon's main process and run as the unprivileged user (as the network
 * process is): it talks D-Bus to avahi-daemon and to nothing else, and
 * ends when the daemon lets it go. Without avahi-daemon it says so in one
 * line and waits for it; the daemon runs on either way.
 */
#ifndef USBIP_DAEMON_MDNS_H
#define USBIP_DAEMON_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/mdns_browse.h" /* the service types, and browsing */

/* Whether this build has Avahi. */
bool mdns_available(void);

struct mdns_announcer;

/*
 * Announces type on port (every interface) with TXT records txt (strings
 * "key=value", NULL-ended), named "WHAT on HOSTNAME", from a process run
 * as user (when root). NULL (logged in one line) when it cannot start.
 */
struct mdns_announcer *mdns_announce_start(const char *what, const char *user, const char *type,
					   unsigned port, const char *const txt[]);
/* The announcing process (to know it when it is reaped elsewhere). */
pid_t mdns_announce_pid(const struct mdns_announcer *a);
/* It ended and was reaped elsewhere: its pid is no longer its. */
void mdns_announce_reaped(struct mdns_announcer *a);
void mdns_announce_stop(struct mdns_announcer *a);

#endif
