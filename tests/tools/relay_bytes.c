// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay_bytes: the relay processes count what they carry in the shared
 * page (net/relay_stats.h), exactly, by transport and direction. Run by
 * tests/daemon/relay_bytes.sh, which makes the keys; prints TAP.
 *
 * usage: relay_bytes PKI_DIR   (ca.pem, server.pem, server.key: make_certs)
 *
 * This process makes the page, as a daemon does, then for each transport
 * forks a peer on loopback and takes the client's side as attach and
 * connect do: TLS with the relay data path (usbip_conn_kernel_fd), a
 * WebSocket (ws_client_start). Through the relay's socket it writes
 * TO_PEER bytes and reads the FROM_PEER bytes the peer sends back, sizes
 * that take many reads; then it closes and waits for the relay to end.
 * The counters must say exactly those numbers, one relay started and
 * ended. The peer let go of the page first: its own WebSocket relay (a
 * server's) counts nothing, as a process without the page must (had it
 * counted, the totals would be the sum of both sides).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/relay_stats.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "net/ws.h"
#include "util/io.h"

#define TO_PEER	     (1024 * 1024 + 3)
#define FROM_PEER    300007
#define IO_TIMEOUT   10000
#define CASE_SECONDS 60

static const char *pki;
static int n;

static void result(bool ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	fflush(stdout);
}

/* The byte at offset i of a stream: not all one value, so that a lost piece shows. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static unsigned char *make_bytes(size_t len)
{
	unsigned char *b = malloc(len);
	size_t i;

	if (!b)
		exit(1);
	for (i = 0; i < len; i++)
		b[i] = pattern(i);
	return b;
}

static bool is_pattern(const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != pattern(i))
			return false;
	return true;
}

/* A listening loopback socket and a client connected to it: *client, *server. */
static void tcp_pair(int *client, int *server)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
		exit(1);
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) != 0)
		exit(1);
	*server = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*server < 0)
		exit(1);
	close(lfd);
}

static struct usbip_tls *context(bool server)
{
	struct usbip_tls_options o = { .datapath = USBIP_TLS_RELAY };
	char cert[512], key[512], ca[512], err[256];
	struct usbip_tls *tls;

	snprintf(cert, sizeof(cert), "%s/server.pem", pki);
	snprintf(key, sizeof(key), "%s/server.key", pki);
	snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
	if (server) {
		o.cert_file = cert;
		o.key_file = key;
	} else {
		o.ca_file = ca;
	}
	tls = tls_new(&o, server, err, sizeof(err));
	if (!tls) {
		fprintf(stderr, "relay_bytes: %s\n", err);
		exit(1);
	}
	return tls;
}

/* The peer's part, on its plain stream: TO_PEER bytes in, FROM_PEER out, then until the end. */
static void peer_talk(struct usbip_conn *conn)
{
	unsigned char *got = malloc(TO_PEER), *back = make_bytes(FROM_PEER), byte;

	if (!got || conn_read_full(conn, got, TO_PEER, IO_TIMEOUT) != 0 ||
	    !is_pattern(got, TO_PEER) || conn_write_full(conn, back, FROM_PEER, IO_TIMEOUT) != 0)
		_exit(1);
	while (conn_read_full(conn, &byte, 1, IO_TIMEOUT) == 0)
		;
	conn_close(conn);
	_exit(0);
}

/* The peer process: no page (its relays count nothing), TLS in itself or a WebSocket relay. */
static pid_t start_peer(int fd, enum relay_transport t)
{
	struct ws_options o = { 0 };
	struct usbip_conn *conn;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	relay_stats_close();
	alarm(CASE_SECONDS);
	conn = tcp_conn_from_fd(fd);
	if (!conn)
		_exit(1);
	if (t == RELAY_TLS &&
	    (tls_wrap(context(true), conn, NULL) != 0 || tls_handshake(conn, IO_TIMEOUT) != 0))
		_exit(1);
	if (t == RELAY_WS && ws_server_start(&conn, NULL, &o) != 0)
		_exit(1);
	peer_talk(conn);
	return 0;
}

/* The client's side: its relay started, the local stream's socket in *fd. */
static struct usbip_conn *client_relay(int fd, enum relay_transport t, int *kfd)
{
	struct ws_options o = { 0 };
	struct usbip_conn *conn = tcp_conn_from_fd(fd);

	if (!conn)
		return NULL;
	if (t == RELAY_TLS) {
		if (tls_wrap(context(false), conn, "localhost") != 0 ||
		    tls_handshake(conn, IO_TIMEOUT) != 0)
			return NULL;
		*kfd = usbip_conn_kernel_fd(conn);
	} else {
		if (ws_client_start(&conn, "localhost", "/usbip", &o, IO_TIMEOUT) != 0)
			return NULL;
		*kfd = conn->fd;
	}
	return *kfd >= 0 ? conn : NULL;
}

/* Waits for the relays of t to have all ended (the page says so). */
static bool relays_ended(enum relay_transport t)
{
	struct relay_stats s;
	int waited;

	for (waited = 0; waited < IO_TIMEOUT; waited += 10) {
		relay_stats_read(&s);
		if (s.started[t] == s.ended[t])
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

static void one_case(enum relay_transport t)
{
	const char *name = relay_stats_transport_str(t);
	unsigned char *out = make_bytes(TO_PEER), *in = malloc(FROM_PEER);
	struct relay_stats before, during, after;
	struct usbip_conn *conn;
	int cfd, sfd, kfd = -1, status = -1;
	char what[160];
	pid_t peer;

	tcp_pair(&cfd, &sfd);
	peer = start_peer(sfd, t);
	close(sfd);
	relay_stats_read(&before);
	conn = client_relay(cfd, t, &kfd);
	if (!conn || !in || io_write_all(kfd, out, TO_PEER) != 0 ||
	    io_read_all(kfd, in, FROM_PEER) != FROM_PEER || !is_pattern(in, FROM_PEER)) {
		snprintf(what, sizeof(what), "%s: the bytes went through the relay both ways",
			 name);
		result(false, what);
		exit(1);
	}
	relay_stats_read(&during);
	snprintf(what, sizeof(what), "%s: one relay running while it carries", name);
	result(during.started[t] - during.ended[t] == 1 &&
		       during.started[t] == before.started[t] + 1,
	       what);
	conn_close(conn); /* the relay sees the end of its local stream, and ends */
	waitpid(peer, &status, 0);
	snprintf(what, sizeof(what), "%s: the peer got the pattern and sent its own (exit 0)",
		 name);
	result(WIFEXITED(status) && WEXITSTATUS(status) == 0, what);
	snprintf(what, sizeof(what), "%s: the relay ended and is counted so", name);
	result(relays_ended(t), what);
	relay_stats_read(&after);
	snprintf(what, sizeof(what), "%s: to_peer %llu bytes, exactly the %d written", name,
		 (unsigned long long)(after.bytes[t][RELAY_TO_PEER] -
				      before.bytes[t][RELAY_TO_PEER]),
		 TO_PEER);
	result(after.bytes[t][RELAY_TO_PEER] - before.bytes[t][RELAY_TO_PEER] == TO_PEER, what);
	snprintf(what, sizeof(what), "%s: from_peer %llu bytes, exactly the %d the peer sent", name,
		 (unsigned long long)(after.bytes[t][RELAY_FROM_PEER] -
				      before.bytes[t][RELAY_FROM_PEER]),
		 FROM_PEER);
	result(after.bytes[t][RELAY_FROM_PEER] - before.bytes[t][RELAY_FROM_PEER] == FROM_PEER,
	       what);
	snprintf(what, sizeof(what), "%s: the other transport's counters did not move", name);
	result(memcmp(after.bytes[!t], before.bytes[!t], sizeof(after.bytes[!t])) == 0 &&
		       after.started[!t] == before.started[!t],
	       what);
	free(out);
	free(in);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: relay_bytes PKI_DIR\n");
		return 2;
	}
	pki = argv[1];
	signal(SIGPIPE, SIG_IGN);
	alarm(2 * CASE_SECONDS);
	printf("1..12\n");
	if (relay_stats_open() != 0)
		return 1;
	one_case(RELAY_TLS);
	one_case(RELAY_WS);
	return 0;
}
