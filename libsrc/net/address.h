/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a peer is, as users type it: HOST, HOST:PORT, [V6] or [V6]:PORT (a
 * bare IPv6 literal too, without a port). The one parser of that syntax, so
 * that -r, remote = and the like all take the same forms. Only TCP for now;
 * the kind is there so that other ways to reach a peer (ws://, unix:,
 * vsock:) can be added as forms of this same text.
 */
#ifndef USBIP_NET_ADDRESS_H
#define USBIP_NET_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/result.h"

/* DNS names are at most 253 bytes; an IPv6 literal with a zone fits too. */
#define NET_ADDRESS_HOST_MAX 256
#define NET_ADDRESS_PORT_MAX 6 /* "65535" */

enum net_address_kind {
	NET_ADDRESS_TCP, /* host and port */
};

struct net_address {
	enum net_address_kind kind;
	char host[NET_ADDRESS_HOST_MAX]; /* a name or an IP literal, IPv6 without brackets */
	char port[NET_ADDRESS_PORT_MAX]; /* decimal, 0 to 65535 */
	bool port_given;		 /* the text named the port (else default_port) */
};

/*
 * Parses text into out, the port default_port when the text has none.
 * Returns 0, or -1 with why in err (one line that quotes the text, may be NULL): an
 * empty host, an unclosed '[', a port that is not 0 to 65535, a name too
 * long, a byte that has no place in a host name.
 */
int net_address_parse(const char *text, const char *default_port, struct net_address *out,
		      struct usbip_error *err);

/* "host:port", "[v6]:port": the form to show and to parse again. */
void net_address_format(const struct net_address *a, char *out, size_t len);

#endif
