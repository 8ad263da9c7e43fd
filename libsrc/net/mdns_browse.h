/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Browsing mDNS/DNS-SD through avahi-daemon (Debian's libavahi-client;
 * optional at configure time, --with-avahi): what `usbip list --discover`
 * shows, and the services an `mdns:` remote picks from. (The announcing
 * half, a daemon's --announce, is daemon/mdns.h's.)
 *
 * An mdns: remote is an explicit choice to let the LAN say where to
 * connect, and only among what the remote allows: `mdns:` any host
 * announcing the service, `mdns:PATTERN[,PATTERN...]` only the hosts whose
 * announced host name matches one of the globs (fnmatch, case ignored, a
 * wildcard never matching a dot).
 * Nothing else announced is trusted: an instance name is only shown
 * (escaped), a host name that is not a DNS name is never used, and with
 * TLS the certificate is checked against the announced host name, so that
 * the certificate, not the announcement, says who answered.
 */
#ifndef USBIP_NET_MDNS_BROWSE_H
#define USBIP_NET_MDNS_BROWSE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/result.h"

/* The service types: usbipd's (attach, list) and usbipa's (connect, export). */
#define MDNS_TYPE_USBIPD "_usbip._tcp"
#define MDNS_TYPE_USBIPA "_usbipa._tcp"

/* At most this many services are kept from one browse; the rest are counted. */
#define MDNS_BROWSE_MAX 64
/* How long an mdns: remote browses before each connection attempt, at most. */
#define MDNS_BROWSE_TIME_MS 2000

/* Whether this build has Avahi. */
bool mdns_browse_available(void);

/* One service a browse found and resolved. */
struct mdns_service {
	char name[64];	  /* the instance name, as announced (escape it for a log) */
	char host[256];	  /* its host name, as announced */
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

/*
 * Whether host (an announced host name, a trailing dot ignored) matches
 * patterns: globs separated by commas, case ignored, whose * ? and [...]
 * match within one label (never a dot: lab-*.local is not
 * lab-1.evil.local); "" allows any host.
 */
bool mdns_browse_allowed(const char *patterns, const char *host);

/*
 * Keeps of found[0..n) the services an mdns:PATTERNS remote may use (a
 * host name that is a DNS name patterns allow, an address that is not a
 * link-local IPv6 one, which names no interface) and puts them in the
 * order to try them: host name (case ignored), then port, then instance
 * name, then address. Returns how many, at the front of found.
 */
size_t mdns_browse_select(const char *patterns, struct mdns_service *found, size_t n);

/* A service as a remote address_parse reads ("usbip://ADDRESS:PORT"). */
void mdns_browse_remote(const struct mdns_service *s, char *out, size_t len);

/*
 * An mdns:PATTERNS remote: browses for type now (MDNS_BROWSE_TIME_MS at
 * most), then gives each service mdns_browse_select keeps to try_target
 * with arg, as a remote (mdns_browse_remote) and the name TLS checks the
 * certificate against (its announced host name), in order (but prefer, a
 * remote as mdns_browse_remote writes it, first when it is still
 * announced and allowed: where a device was, as srv_try_each), until one
 * returns USBIP_OK. Returns that, the last one's result, or
 * USBIP_E_UNREACHABLE when none was allowed or the browse failed (one
 * line either way).
 */
enum usbip_result mdns_browse_try_each(const char *type, const char *patterns, const char *prefer,
				       enum usbip_result (*try_target)(const char *remote,
								       const char *tls_name,
								       void *arg),
				       void *arg);

#endif
