// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/sock.h"
#include "util/log.h"

/* How long a probe waits for a listener on an old socket file to answer. */
#define STALE_PROBE_MS 1000

static const struct net_listen_opts default_opts;

/*
 * Makes way for a Unix socket at a's path: nothing there, or a socket
 * nobody listens on any more (a daemon gone without removing it), which is
 * removed. Anything else stays and is an error: another daemon's live
 * socket, or a file that is no socket (a mistyped path must not cost data).
 */
static int clear_stale_socket(const struct net_address *a)
{
	struct sockaddr_storage ss;
	struct stat st;
	socklen_t len;
	int fd, err;

	if (lstat(a->path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if (sock_addr(a, &ss, &len) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	err = sock_connect(fd, (struct sockaddr *)&ss, len, STALE_PROBE_MS);
	close(fd);
	if (err != ECONNREFUSED) {
		errno = err ? err : EADDRINUSE;
		return -1;
	}
	return unlink(a->path);
}

/* bind(2) then listen(2); 0, or -1 with errno set. */
static int bind_listen(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		return -1;
	return listen(fd, SOMAXCONN);
}

/*
 * Binds with a umask that leaves the file its owner's alone, then gives it
 * its group and mode: at no moment may more users connect than chosen.
 */
static int listen_unix(const struct net_address *a, const struct net_listen_opts *o)
{
	mode_t mode = o->mode ? o->mode : NET_LISTEN_UNIX_MODE, old_mask;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc, saved;

	if (sock_addr(a, &ss, &len) != 0 || clear_stale_socket(a) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&ss, len);
	umask(old_mask);
	if (rc == 0 && (!o->set_group || chown(a->path, (uid_t)-1, o->group) == 0) &&
	    chmod(a->path, mode) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	saved = errno;
	if (rc == 0)
		unlink(a->path);
	close(fd);
	errno = saved;
	return -1;
}

static int listen_vsock(const struct net_address *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, saved;

	if (sock_addr(a, &ss, &len) != 0)
		return -1;
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind_listen(fd, &ss, len) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* One socket for a unix: or vsock: address, logged either way. */
static int listen_one(const struct net_address *a, const struct net_listen_opts *o, int *fds,
		      int max)
{
	char name[NET_ADDRESS_TEXT_MAX];
	struct net_address bound;
	int fd;

	address_format(a, name, sizeof(name));
	if (max < 1) {
		log_err("cannot listen on %s: too many addresses", name);
		return -1;
	}
	fd = a->scheme == NET_ADDRESS_UNIX ? listen_unix(a, o) : listen_vsock(a);
	if (fd < 0) {
		log_err("cannot listen on %s: %s", name,
			errno == EEXIST ? "a file that is not a socket is there" : strerror(errno));
		return -1;
	}
	/* vsock port 0: the port the kernel chose. */
	if (sock_local_address(fd, &bound) == 0 && a->scheme == NET_ADDRESS_VSOCK)
		address_format(&bound, name, sizeof(name));
	log_info("listening on %s", name);
	fds[0] = fd;
	return 1;
}

int listen_open(const struct net_address *a, const struct net_listen_opts *opts, int *fds, int max)
{
	const struct net_listen_opts *o = opts ? opts : &default_opts;
	char name[NET_ADDRESS_TEXT_MAX], port[12];

	switch (a->scheme) {
	case NET_ADDRESS_TCP:
	case NET_ADDRESS_WS: /* TCP sockets; the upgrade is the server's (net/ws.h) */
	case NET_ADDRESS_WSS:
		snprintf(port, sizeof(port), "%u", a->port);
		return tcp_listen(a->host[0] ? a->host : NULL, port, o->family, fds, max);
	case NET_ADDRESS_UNIX:
	case NET_ADDRESS_VSOCK:
		return listen_one(a, o, fds, max);
	case NET_ADDRESS_SRV: /* refused by address_parse_listener */
	case NET_ADDRESS_MDNS:
		break;
	}
	address_format(a, name, sizeof(name));
	log_err("cannot listen on %s: an unknown kind of address", name);
	return -1;
}

int listen_remove(const struct net_address *a)
{
	struct stat st;

	if (a->scheme != NET_ADDRESS_UNIX)
		return 0;
	if (lstat(a->path, &st) != 0)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(a->path);
}
