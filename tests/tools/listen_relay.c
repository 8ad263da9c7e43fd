// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * listen_relay LISTEN TARGET [MODE]: listens on LISTEN the way a daemon's
 * --listen will (listen_open: a unix:PATH with the octal MODE, vsock:,
 * TCP) and relays every connection, byte for byte, to TARGET dialled as
 * the clients dial (dial). For tests/daemon/address.sh: a client
 * reaches a daemon through a Unix socket before the daemons listen on one
 * themselves. Says "listening on ADDRESS" and "ready", runs until killed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/address.h"
#include "net/dial.h"
#include "net/listen.h"
#include "net/sock.h"
#include "net/tcp.h"

/* Copies what from has to to; 0 while both are open, -1 at the end of either. */
static int copy_some(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf)), done = 0, w;

	if (n <= 0)
		return -1;
	while (done < n) {
		w = send(to, buf + done, (size_t)(n - done), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += w;
	}
	return 0;
}

/* One connection, in a child of its own: relays until either end closes. */
static void relay(struct usbip_conn *in, const char *target)
{
	struct usbip_conn *out;
	struct pollfd p[2];
	int i;

	if (dial(target, USBIP_DEFAULT_PORT, USBIP_IO_TIMEOUT_MS, NULL, &out) != USBIP_OK)
		exit(1);
	p[0] = (struct pollfd){ .fd = in->fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = out->fd, .events = POLLIN };
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			exit(1);
		for (i = 0; i < 2; i++)
			if (p[i].revents && copy_some(p[i].fd, p[1 - i].fd) != 0)
				exit(0);
	}
}

int main(int argc, char **argv)
{
	struct net_listen_opts opts = { 0 };
	char err[NET_ADDRESS_HOST_MAX + 80], name[NET_ADDRESS_TEXT_MAX];
	struct net_address a, bound;
	struct usbip_conn *conn;
	int fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: listen_relay LISTEN TARGET [MODE]\n");
		return 2;
	}
	if (address_parse_listener(argv[1], USBIP_DEFAULT_PORT, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "listen_relay: %s\n", err);
		return 2;
	}
	opts.mode = argc == 4 ? (mode_t)strtoul(argv[3], NULL, 8) : 0;
	if (listen_open(&a, &opts, &fd, 1) != 1)
		return 1;
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	if (sock_local_address(fd, &bound) == 0) {
		address_format(&bound, name, sizeof(name));
		printf("listen_relay: listening on %s\n", name);
	}
	printf("listen_relay: ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, -1) < 0 || !(conn = tcp_accept(fd)))
			continue;
		if (fork() == 0) {
			close(fd);
			relay(conn, argv[2]);
		}
		conn_close(conn);
	}
}
