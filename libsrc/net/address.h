/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a peer is, or where a daemon listens, as users type it. The one
 * parser of that syntax, so that -r, remote =, --listen and the like all
 * take the same forms:
 *
 *   HOST  HOST:PORT  [V6]  [V6]:PORT  V6      TCP (the port default_port)
 *   usbip://HOST[:PORT]                       TCP, the same as URL
 *   ws://HOST[:PORT][/PATH]                   WebSocket (port 80, path /usbip)
 *   wss://HOST[:PORT][/PATH]                  WebSocket over TLS (port 443)
 *   unix:PATH                                 a Unix stream socket's file
 *   vsock:CID:PORT                            vsock (a listener: vsock:PORT too)
 *   srv:NAME                                  the TCP hosts DNS SRV records list
 *                                             for NAME (net/srv.h), remotes only
 *   mdns:  mdns:GLOB[,GLOB...]                the TCP hosts announcing the service
 *                                             on the LAN (any, or only those whose
 *                                             host name a glob matches;
 *                                             net/mdns_browse.h), remotes only
 *
 * A listener may also leave the host out (":PORT": every address).
 * Everything here is text and host-order numbers; making sockets of it is
 * net/sock.h's and net/listen.h's.
 */
#ifndef USBIP_NET_ADDRESS_H
#define USBIP_NET_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DNS names are at most 253 bytes; an IPv6 literal with a zone fits too. */
#define NET_ADDRESS_HOST_MAX 256
/* A WebSocket request path, or a Unix socket's file (which sun_path bounds further). */
#define NET_ADDRESS_PATH_MAX 256
/* Room for any address address_format writes. */
#define NET_ADDRESS_TEXT_MAX (NET_ADDRESS_HOST_MAX + NET_ADDRESS_PATH_MAX + 32)
/* The path of ws:// and wss:// when the text names none. */
#define NET_ADDRESS_WS_PATH "/usbip"

enum net_address_scheme {
	NET_ADDRESS_TCP,   /* host, port */
	NET_ADDRESS_WS,	   /* host, port, path */
	NET_ADDRESS_WSS,   /* host, port, path */
	NET_ADDRESS_UNIX,  /* path */
	NET_ADDRESS_VSOCK, /* cid (if cid_given), port */
	NET_ADDRESS_SRV,   /* host: the name whose SRV records list the targets */
	NET_ADDRESS_MDNS,  /* host: the globs an announced host name must match ("" any) */
};

struct net_address {
	enum net_address_scheme scheme;
	/* A name or an IP literal, IPv6 without brackets; "" for a listener on every address. */
	char host[NET_ADDRESS_HOST_MAX];
	uint32_t port;	 /* TCP and WebSocket: 0 to 65535; vsock: 0 to 0xfffffffe */
	bool port_given; /* the text named the port (else the default) */
	/* WebSocket: the request's path, '/' first; unix: the socket's file. */
	char path[NET_ADDRESS_PATH_MAX];
	uint32_t cid;	/* vsock: the context id (0 hypervisor, 1 local, 2 host, ...) */
	bool cid_given; /* false only for a listener's vsock:PORT (any CID) */
};

/*
 * Parses a remote (what a client dials) into out, the TCP port
 * default_port when the text has none. Returns 0, or -1 with why in err
 * (one line that quotes the text): an empty host, an unclosed '[', a port
 * out of range, a name or path too long, a byte that has no place there,
 * an unknown scheme, a vsock address without its CID.
 */
int address_parse(const char *text, const char *default_port, struct net_address *out, char *err,
		  size_t err_len);

/* The same for a listener (--listen): the host may be empty, vsock:PORT means any CID. */
int address_parse_listener(const char *text, const char *default_port, struct net_address *out,
			   char *err, size_t err_len);

/*
 * The form to show and to parse again (the port always written, usbip://
 * left out): "host:port", "[v6]:port", "ws://host:port/path",
 * "unix:path", "vsock:cid:port". out holds NET_ADDRESS_TEXT_MAX.
 */
void address_format(const struct net_address *a, char *out, size_t len);

/*
 * Whether this build can dial a: 0, or -1 with why in err (mdns: in a
 * build without Avahi). Where a remote is checked
 * before use, so that the user hears it at once, with exit status 2.
 */
int address_dialable(const struct net_address *a, char *err, size_t err_len);

/*
 * Whether name is a DNS host name (letters, digits, '.', '-', '_'; not
 * empty, shorter than NET_ADDRESS_HOST_MAX): what a name the network gave
 * (an SRV target, an mDNS announcement) must be before it is dialled,
 * checked by TLS or logged.
 */
bool address_is_host_name(const char *name);

/* "tcp", "ws", "wss", "unix", "vsock", "srv", "mdns": for messages. */
const char *address_scheme_name(enum net_address_scheme scheme);

#endif
