/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mDNS/DNS-SD through avahi-daemon (Debian's libavahi-client; optional at
 * configure time, --with-avahi): a daemon's announcement of its service
 * (`--announce`: usbipd _usbip._tcp, usbipa _usbipa._tcp) and a bounded
 * browse for `usbip list --discover`. Nothing is announced unless asked:
 * a host should not advertise by default.
 *
 * The announcement runs in a small process of its own, forked by the
 * daemon's main process and run as the unprivileged user (as the network
 * process is): it talks D-Bus to avahi-daemon and to nothing else, and
 * ends when the daemon lets it go. Without avahi-daemon it says so in one
 * line and waits for it; the daemon runs on either way. What a browse
 * finds is only ever shown (or asked for its device list, as `list -r`
 * does): nothing found on the LAN is trusted to choose a connection.
 */
#ifndef USBIP_DAEMON_MDNS_H
#define USBIP_DAEMON_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The service types. */
#define MDNS_TYPE_USBIPD "_usbip._tcp"
#define MDNS_TYPE_USBIPA "_usbipa._tcp"

/* At most this many services are kept from one browse; the rest are counted. */
#define MDNS_BROWSE_MAX 64

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

/* One service a browse found and resolved. */
struct mdns_service {
	char name[64];	  /* the instance name (escaped for a log) */
	char host[256];	  /* its host name */
	char address[64]; /* its address, IPv6 without brackets */
	bool ipv6;
	unsigned port;
	char version[32];    /* TXT version= ("" when not given) */
	char tls[8];	     /* TXT tls= */
	char transports[64]; /* TXT transports= */
};

/*
 * Browses the LAN for type for timeout_ms and resolves what it finds into
 * found (at most max, one per name; *count of them). 0, or -1 with one
 * line in err (no Avahi in this build, avahi-daemon not running).
 */
int mdns_browse(const char *type, int timeout_ms, struct mdns_service *found, size_t max,
		size_t *count, char *err, size_t err_len);

#endif
