/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A daemon's listening sockets for one address (--listen ADDRESS): TCP on
 * a host or every address, a Unix socket's file with the mode and group
 * the caller chose, vsock. The runner calls listen_open once per address
 * before it drops privileges (a file in /run, a port below 1024), accepts
 * with tcp_accept as for TCP (the connection names a Unix peer by
 * its credentials, net/sock.h) and calls listen_remove at tear-down.
 */
#ifndef USBIP_NET_LISTEN_H
#define USBIP_NET_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "net/address.h"
#include "net/tcp.h"

/* The default mode of a Unix socket's file: the owner and the group may connect. */
#define NET_LISTEN_UNIX_MODE 0660

/* What the caller chooses beside the address; zero (or NULL) is the defaults. */
struct net_listen_opts {
	enum usbip_family family; /* TCP on every address: IPv4, IPv6 or both */
	mode_t mode;		  /* unix: the file's mode (0: NET_LISTEN_UNIX_MODE) */
	bool set_group;		  /* unix: give the file to group (else the caller's) */
	gid_t group;
};

/*
 * Listens on a (address_parse_listener's): fills fds with the
 * listening sockets (non-blocking, close-on-exec; TCP on every address
 * may take one per family) and returns how many, at most max; or -1 after
 * logging one line saying why. A TCP or vsock port 0 is chosen by the
 * kernel (sock_local_address tells which). A Unix socket's file left
 * behind by a daemon gone is replaced; anything else at the path (a
 * socket someone listens on, a file that is no socket) is an error.
 * ws:// and wss:// listen on TCP like HOST:PORT (the upgrade is the
 * request server's, net/ws.h).
 */
int listen_open(const struct net_address *a, const struct net_listen_opts *opts, int *fds, int max);

/*
 * Removes the socket file of a unix: listener, if it is still a socket
 * (nothing for other addresses). 0, or -1 with errno set.
 */
int listen_remove(const struct net_address *a);

#endif
