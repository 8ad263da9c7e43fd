// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/tcp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"
#include "util/log.h"
#include "util/io.h"

static ssize_t tcp_recv(struct usbip_conn *conn, void *buf, size_t len)
{
	return recv(conn->fd, buf, len, MSG_DONTWAIT);
}

static ssize_t tcp_send(struct usbip_conn *conn, const void *buf, size_t len)
{
	return send(conn->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int tcp_kernel_fd(struct usbip_conn *conn)
{
	return conn->fd;
}

static void tcp_destroy(struct usbip_conn *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn);
}

static const struct usbip_conn_ops tcp_ops = {
	.name = "tcp",
	.recv = tcp_recv,
	.send = tcp_send,
	.kernel_fd = tcp_kernel_fd,
	.destroy = tcp_destroy,
};

static void format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t out_len)
{
	char host[64];

	sock_name(-1, sa, len, out, out_len, host, sizeof(host));
}

static unsigned dead_peer_s = USBIP_DEAD_PEER_DEFAULT_S;

/*
 * Three probes, the last one due when the timeout runs out: with
 * TCP_USER_TIMEOUT set, Linux ends a connection at the first unanswered
 * probe past it, so later probes would only make it later.
 */
struct usbip_keepalive tcp_keepalive_for(unsigned timeout_s)
{
	struct usbip_keepalive k = { .count = 3 };

	k.interval_s = timeout_s / 5 ? (int)(timeout_s / 5) : 1;
	k.idle_s = (int)timeout_s - k.count * k.interval_s;
	if (k.idle_s < 1)
		k.idle_s = 1;
	return k;
}

int tcp_parse_dead_peer(const char *text, char *err, size_t err_len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno || v < USBIP_DEAD_PEER_MIN_S || v > USBIP_DEAD_PEER_MAX_S) {
		snprintf(err, err_len, "--dead-peer-timeout wants seconds from %d to %d, not '%s'",
			 USBIP_DEAD_PEER_MIN_S, USBIP_DEAD_PEER_MAX_S, text);
		return -1;
	}
	return (int)v;
}

void tcp_set_dead_peer(unsigned timeout_s)
{
	dead_peer_s = timeout_s;
}

unsigned tcp_dead_peer(void)
{
	return dead_peer_s;
}

/*
 * Options every USB/IP connection wants: no Nagle delay for small URB
 * headers, and a dead peer noticed within dead_peer_s, with URBs in flight
 * (TCP_USER_TIMEOUT; keepalive alone never fires while data is
 * unacknowledged, and retransmissions go on for about 15 minutes) and idle
 * (keepalive), even after the socket belongs to the kernel. A socket that
 * is not TCP (a relay's socketpair end) takes none of them, harmlessly.
 */
static void tune_socket(int fd)
{
	struct usbip_keepalive k = tcp_keepalive_for(dead_peer_s);
	unsigned user_timeout_ms = dead_peer_s * 1000;
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k.idle_s, sizeof(k.idle_s));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k.interval_s, sizeof(k.interval_s));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k.count, sizeof(k.count));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

struct usbip_conn *tcp_conn_from_fd(int fd)
{
	struct usbip_conn *conn = calloc(1, sizeof(*conn));
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!conn) {
		close(fd);
		return NULL;
	}
	conn->ops = &tcp_ops;
	conn->fd = fd;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		sock_name(fd, (struct sockaddr *)&ss, len, conn->peer, sizeof(conn->peer),
			  conn->peer_host, sizeof(conn->peer_host));
		conn->peer_addr = ss;
		conn->peer_addr_len = len;
	} else {
		snprintf(conn->peer, sizeof(conn->peer), "?");
		snprintf(conn->peer_host, sizeof(conn->peer_host), "?");
	}
	tune_socket(fd);
	return conn;
}

struct usbip_conn *tcp_connect(const char *host, const char *port, int timeout_ms)
{
	return tcp_connect_to(NULL, host, port, timeout_ms);
}

struct usbip_conn *tcp_connect_to(const char *what, const char *host, const char *port,
				  int timeout_ms)
{
	const char *sp = what ? " " : "";
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int rc, last_err = 0;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		log_err("cannot resolve %s%s%s port %s: %s", what ? what : "", sp, host, port,
			gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0) {
			last_err = errno;
			continue;
		}
		last_err = sock_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (!last_err) {
			freeaddrinfo(res);
			return tcp_conn_from_fd(fd);
		}
		close(fd);
	}
	freeaddrinfo(res);
	log_err("cannot connect to %s%s%s port %s: %s", what ? what : "", sp, host, port,
		strerror(last_err));
	return NULL;
}

static void set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons(port);
}

bool tcp_port_ok(const char *text)
{
	unsigned long v;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	return !*end && !errno && v <= 65535;
}

uint16_t tcp_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* One listening socket on ai; -1 with errno set. */
static int listen_on(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	int on = 1, saved;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* One socket per family, so IPv4 and IPv6 can both bind the port. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int tcp_address_ok(const char *addr, enum usbip_family family, char *err, size_t err_len)
{
	struct addrinfo hints = {
		.ai_family = family == USBIP_FAMILY_IPV4   ? AF_INET
			     : family == USBIP_FAMILY_IPV6 ? AF_INET6
							   : AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(addr, "0", &hints, &res);

	if (rc) {
		snprintf(err, err_len, "not an address this machine can listen on (%s)",
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && rc == 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		/* An address given is one the start listens on, or it fails: so here. */
		if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			snprintf(err, err_len, "%s (%s)",
				 errno == EADDRNOTAVAIL ? "not an address of this machine"
							: "cannot listen on it",
				 strerror(errno));
			rc = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	freeaddrinfo(res);
	return rc;
}

int tcp_listen(const char *addr, const char *port, enum usbip_family family, int *fds, int max)
{
	struct addrinfo hints = {
		.ai_family = family == USBIP_FAMILY_IPV4   ? AF_INET
			     : family == USBIP_FAMILY_IPV6 ? AF_INET6
							   : AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE,
	};
	struct addrinfo *res, *ai;
	uint16_t chosen = 0;
	int rc, n = 0, pass, i;

	rc = getaddrinfo(addr, port, &hints, &res);
	if (rc) {
		log_err("cannot listen on %s port %s: %s", addr ? addr : "*", port,
			gai_strerror(rc));
		return -1;
	}
	/*
	 * IPv4 first: with port 0 the kernel picks the port there, and every
	 * other address then listens on that same port.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			char name[80];
			int fd;

			if ((ai->ai_family == AF_INET) != (pass == 0))
				continue;
			if (chosen)
				set_port(ai->ai_addr, chosen);
			format_addr(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
			fd = n < max ? listen_on(ai) : -1;
			if (fd < 0) {
				/*
				 * Only IPv6 on a machine without it may be missing, and only
				 * when nobody asked for it: anything else would leave the
				 * daemon up without an address its clients expect.
				 */
				if (!addr && family == USBIP_FAMILY_ANY &&
				    ai->ai_family == AF_INET6) {
					log_warn("not listening on %s: %s", name, strerror(errno));
					continue;
				}
				log_err("cannot listen on %s: %s", name,
					n < max ? strerror(errno) : "too many addresses");
				goto fail;
			}
			if (!chosen)
				chosen = tcp_local_port(fd);
			set_port(ai->ai_addr, chosen);
			format_addr(ai->ai_addr, ai->ai_addrlen, name, sizeof(name));
			log_info("listening on %s", name);
			fds[n++] = fd;
		}
	}
	freeaddrinfo(res);
	if (n == 0) {
		log_err("cannot listen on %s port %s: no usable address", addr ? addr : "*", port);
		return -1;
	}
	return n;
fail:
	freeaddrinfo(res);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return -1;
}

struct usbip_conn *tcp_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (!io_try_again(errno))
			log_warn("accept: %s", strerror(errno));
		return NULL;
	}
	return tcp_conn_from_fd(fd);
}
