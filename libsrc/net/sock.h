/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stream sockets of every family an address names (TCP's own resolving
 * and listening are net/tcp.h's): socket addresses of unix: and vsock:
 * addresses, a connect bounded in time, a peer's name for logs and a Unix
 * peer's credentials (SO_PEERCRED) for access rules.
 */
#ifndef USBIP_NET_SOCK_H
#define USBIP_NET_SOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net/address.h"

/* Who is at the other end of a Unix socket, as the kernel saw it connect. */
struct sock_peer_cred {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/*
 * The socket address of a unix: or vsock: address (a listener's vsock:PORT
 * with any CID, port 0 any port). 0, or -1 for a TCP or WebSocket address,
 * which name hosts to resolve (net/tcp.h).
 */
int sock_addr(const struct net_address *a, struct sockaddr_storage *ss, socklen_t *len);

/* connect(2) on fd, waiting at most timeout_ms; 0 or an errno value. */
int sock_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms);

/*
 * A connected stream socket to a unix: or vsock: address (close-on-exec,
 * blocking), or -1 after logging one line saying why.
 */
int sock_dial(const struct net_address *a, int timeout_ms);

/* The credentials of fd's peer (a Unix socket); 0, or -1 with errno set. */
int sock_peer_cred(int fd, struct sock_peer_cred *out);

/*
 * Names fd's peer, whose address is sa (from getpeername), for logs in
 * peer ("10.0.0.1:3240", "[::1]:3240", "vsock:3:5000", "unix uid 1000 gid
 * 1000 pid 42": a Unix peer has no address worth showing, its credentials
 * are) and alone in host ("10.0.0.1", "vsock:3", "unix uid 1000").
 */
void sock_name(int fd, const struct sockaddr *sa, socklen_t len, char *peer, size_t peer_len,
	       char *host, size_t host_len);

/*
 * What fd is bound to, as an address (a TCP host numeric): 0, or -1 with
 * errno set. The port the kernel chose for a port-0 listener is found here.
 */
int sock_local_address(int fd, struct net_address *out);

/*
 * Closes every descriptor above 2 but a and b: a relay process just forked
 * (TLS, WebSocket) keeps its two sockets and nothing else of its parent's.
 */
void sock_close_all_but(int a, int b);

#endif
