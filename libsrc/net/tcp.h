/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP transport: connect with a timeout, listen on IPv4 and IPv6, accept. */
#ifndef USBIP_TRANSPORT_TCP_H
#define USBIP_TRANSPORT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"

#define USBIP_DEFAULT_PORT "3240"
#define USBIP_MAX_LISTEN   8

/*
 * Dead-peer detection (--dead-peer-timeout): every connection this process
 * makes or accepts gets TCP_USER_TIMEOUT (data unacknowledged that long
 * ends it) and keepalive probes that end an idle connection within the
 * same time, so that a peer gone silently (no FIN, no RST) is noticed in
 * bounded time even after the socket belongs to usbip-host or vhci-hcd.
 */
#define USBIP_DEAD_PEER_DEFAULT_S 15
#define USBIP_DEAD_PEER_MIN_S	  5
#define USBIP_DEAD_PEER_MAX_S	  3600

/* The keepalive that notices an idle dead peer within timeout_s. */
struct usbip_keepalive {
	int idle_s, interval_s, count;
};
struct usbip_keepalive tcp_keepalive_for(unsigned timeout_s);

/*
 * Parses a --dead-peer-timeout value (seconds, USBIP_DEAD_PEER_MIN_S to
 * USBIP_DEAD_PEER_MAX_S): the seconds, or -1 with a message in err.
 */
int tcp_parse_dead_peer(const char *text, char *err, size_t err_len);

/* The timeout of the connections made or wrapped from now on. */
void tcp_set_dead_peer(unsigned timeout_s);
unsigned tcp_dead_peer(void);

/* Family restriction for listening sockets. */
enum usbip_family { USBIP_FAMILY_ANY, USBIP_FAMILY_IPV4, USBIP_FAMILY_IPV6 };

/*
 * Connects to host (name, IPv4 or IPv6 literal) on port, trying each address
 * in turn, each for at most timeout_ms. On failure logs one line saying why
 * and returns NULL.
 */
struct usbip_conn *tcp_connect(const char *host, const char *port, int timeout_ms);

/* The same; what ("proxy") names the host's role in the line it logs. */
struct usbip_conn *tcp_connect_to(const char *what, const char *host, const char *port,
				  int timeout_ms);

/*
 * Opens listening sockets on port for the given address (NULL: all) and
 * family. Returns how many were opened (at most max) or -1 after logging why.
 */
int tcp_listen(const char *addr, const char *port, enum usbip_family family, int *fds, int max);

/*
 * Whether a daemon could listen on addr (not NULL) in family, found without
 * listening: it parses as an address or resolves, and each of its addresses
 * is one of this machine's (a throwaway socket binds to it, port 0, and is
 * closed at once). 0, or -1 with why in err (without the address).
 */
int tcp_address_ok(const char *addr, enum usbip_family family, char *err, size_t err_len);

/*
 * Whether text is a TCP port as the command lines take it: decimal, 0 to
 * 65535 (0: any, for listening). getaddrinfo would take 99999 as 34463.
 */
bool tcp_port_ok(const char *text);

/* The local port a socket is bound to (0 if unknown). */
uint16_t tcp_local_port(int fd);

/* Accepts one connection from a listening socket; NULL if none is pending. */
struct usbip_conn *tcp_accept(int listen_fd);

/* Wraps a connected TCP socket (takes ownership of fd). */
struct usbip_conn *tcp_conn_from_fd(int fd);

#endif
