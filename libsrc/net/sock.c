// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

int sock_addr(const struct net_address *a, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->scheme == NET_ADDRESS_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		size_t n = strlen(a->path);

		/* The parser bounds the path; a struct built elsewhere is checked again. */
		if (n >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a->path, n + 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	if (a->scheme == NET_ADDRESS_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = a->cid_given ? a->cid : VMADDR_CID_ANY;
		vm->svm_port = a->port ? a->port : VMADDR_PORT_ANY;
		*len = sizeof(*vm);
		return 0;
	}
	return -1;
}

int sock_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int flags = fcntl(fd, F_GETFL), rc, soerr = 0;
	socklen_t soerr_len = sizeof(soerr);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, sa, len);
	/* (A Unix listener with a full backlog says EAGAIN: no connect in progress.) */
	if (rc < 0 && errno != EINPROGRESS)
		return errno;
	if (rc < 0) {
		do {
			rc = poll(&pfd, 1, timeout_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc == 0)
			return ETIMEDOUT;
		if (rc < 0)
			return errno;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) < 0)
			return errno;
		if (soerr)
			return soerr;
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

int sock_dial(const struct net_address *a, int timeout_ms)
{
	char name[NET_ADDRESS_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	address_format(a, name, sizeof(name));
	if (sock_addr(a, &ss, &len) != 0) {
		log_err("cannot connect to %s: not a unix: or vsock: address", name);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? errno : sock_connect(fd, (struct sockaddr *)&ss, len, timeout_ms);
	if (err) {
		log_err("cannot connect to %s: %s", name, strerror(err));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int sock_peer_cred(int fd, struct sock_peer_cred *out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	out->uid = cred.uid;
	out->gid = cred.gid;
	out->pid = cred.pid;
	return 0;
}

/* An IP peer: numeric forms only, so that naming never waits on DNS. */
static void name_inet(const struct sockaddr *sa, socklen_t len, char *peer, size_t peer_len,
		      char *host, size_t host_len)
{
	char numeric[64], serv[8];

	if (getnameinfo(sa, len, numeric, sizeof(numeric), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(peer, peer_len, "?");
		snprintf(host, host_len, "?");
		return;
	}
	snprintf(peer, peer_len, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", numeric, serv);
	snprintf(host, host_len, "%s", numeric);
}

void sock_name(int fd, const struct sockaddr *sa, socklen_t len, char *peer, size_t peer_len,
	       char *host, size_t host_len)
{
	struct sock_peer_cred cred;

	if (sa->sa_family == AF_UNIX && sock_peer_cred(fd, &cred) == 0) {
		snprintf(peer, peer_len, "unix uid %u gid %u pid %d", (unsigned)cred.uid,
			 (unsigned)cred.gid, (int)cred.pid);
		snprintf(host, host_len, "unix uid %u", (unsigned)cred.uid);
	} else if (sa->sa_family == AF_VSOCK && len >= (socklen_t)sizeof(struct sockaddr_vm)) {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)sa;

		snprintf(peer, peer_len, "vsock:%u:%u", vm->svm_cid, vm->svm_port);
		snprintf(host, host_len, "vsock:%u", vm->svm_cid);
	} else {
		name_inet(sa, len, peer, peer_len, host, host_len);
	}
}

/* An IP socket's address as TCP host and port. */
static int local_inet(const struct sockaddr *sa, socklen_t len, struct net_address *out)
{
	char serv[8];

	if (getnameinfo(sa, len, out->host, sizeof(out->host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		errno = EINVAL;
		return -1;
	}
	out->port = (uint32_t)ntohs(sa->sa_family == AF_INET6
					    ? ((const struct sockaddr_in6 *)sa)->sin6_port
					    : ((const struct sockaddr_in *)sa)->sin_port);
	return 0;
}

int sock_local_address(int fd, struct net_address *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	size_t n;

	memset(out, 0, sizeof(*out));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	out->port_given = true;
	if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)&ss;

		n = len > offsetof(struct sockaddr_un, sun_path)
			    ? strnlen(un->sun_path, len - offsetof(struct sockaddr_un, sun_path))
			    : 0;
		out->scheme = NET_ADDRESS_UNIX;
		n = n < sizeof(out->path) ? n : sizeof(out->path) - 1;
		memcpy(out->path, un->sun_path, n);
		return 0;
	}
	if (ss.ss_family == AF_VSOCK) {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)&ss;

		out->scheme = NET_ADDRESS_VSOCK;
		out->cid = vm->svm_cid;
		/* A listener on any CID is written as --listen takes it: vsock:PORT. */
		out->cid_given = vm->svm_cid != VMADDR_CID_ANY;
		out->port = vm->svm_port;
		return 0;
	}
	out->scheme = NET_ADDRESS_TCP;
	return local_inet((const struct sockaddr *)&ss, len, out);
}

void sock_close_all_but(int a, int b)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != a && fd != b)
			close(fd);
}
