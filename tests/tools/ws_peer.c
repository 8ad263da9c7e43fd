// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ws_peer: a misbehaving WebSocket peer, and a proxy that cuts idle
 * connections, for tests/daemon/ws.sh. Frames are built by hand here (not
 * with libwslay, nor net/ws.c) so that they can be wrong.
 *
 * usage:
 *   ws_peer client PORT PATH MODE   dials 127.0.0.1:PORT, upgrades on PATH
 *       (MODE wrong-path: /nope; silent: sends nothing at all; huge-header:
 *       9000 bytes of header), then per MODE sends a text frame (text), an
 *       unmasked binary frame (unmasked), a ping of 126 bytes (big-ping), a
 *       ping without FIN (frag-ping), or nothing and answers no ping
 *       (no-pong); then waits up to 30 s for the daemon to close and prints
 *       "closed after N ms". Exits 0 once closed, 3 if still open.
 *   ws_peer server MODE             listens on 127.0.0.1 (a port the kernel
 *       picks; prints "ready PORT"), reads one upgrade, then: bad-accept (a
 *       wrong Sec-WebSocket-Accept), silent (never answers), text (a good
 *       101, then a text frame), no-pong (a good 101, then nothing).
 *   ws_peer idle-proxy PORT IDLE_MS forwards connections on a port the
 *       kernel picks (prints "ready PORT") to 127.0.0.1:PORT, cutting both
 *       sides after IDLE_MS with no byte either way: a reverse proxy's
 *       read timeout.
 * Exits 2 on bad usage, 1 when a socket call fails.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 8192

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("ws_peer: connect");
		exit(1);
	}
	return fd;
}

static int listen_any(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("ws_peer: listen");
		exit(1);
	}
	printf("ready %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		fprintf(stderr, "ws_peer: short send\n");
}

/* Reads a header up to its blank line into buf; its length, or -1. */
static int read_head(int fd, char *buf)
{
	size_t got = 0;

	while (got < HEAD_MAX - 1) {
		ssize_t n = recv(fd, buf + got, HEAD_MAX - 1 - got, 0);
		char *end;

		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		end = memmem(buf, got, "\r\n\r\n", 4);
		if (end)
			return (int)(end + 4 - buf);
	}
	return -1;
}

/* A frame: FIN as fin, opcode, len bytes of x, masked or not. */
static void send_frame(int fd, int fin, int opcode, size_t len, int masked)
{
	unsigned char f[300] = { 0 };
	size_t h = 2;

	f[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		f[1] = (unsigned char)len;
	} else {
		f[1] = 126;
		f[2] = (unsigned char)(len >> 8);
		f[3] = (unsigned char)len;
		h = 4;
	}
	if (masked) {
		f[1] |= 0x80;
		memcpy(f + h, "\x12\x34\x56\x78", 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++)
		f[h + i] = (unsigned char)('x' ^ (masked ? f[h - 4 + i % 4] : 0));
	send_all(fd, f, h + len);
}

static void send_upgrade(int fd, const char *path, int huge)
{
	char req[HEAD_MAX + 2048];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: USB/IP\r\n",
			 path);

	if (huge) {
		memset(req + n, 'a', 9000 - (size_t)n);
		n = 9000;
	} else {
		n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	}
	send_all(fd, req, (size_t)n);
}

/* Reads (and drops) until the peer closes, at most 30 s. 0 if it closed. */
static int wait_close(int fd)
{
	long long start = now_ms();
	char buf[4096];

	while (now_ms() - start < 30000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 1000) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0) {
			printf("closed after %lld ms\n", now_ms() - start);
			return 0;
		}
	}
	printf("still open after 30 s\n");
	return 3;
}

static int mode_client(int port, const char *path, const char *mode)
{
	int fd = dial(port);
	char head[HEAD_MAX];

	if (strcmp(mode, "silent") == 0)
		return wait_close(fd);
	send_upgrade(fd, strcmp(mode, "wrong-path") == 0 ? "/nope" : path,
		     strcmp(mode, "huge-header") == 0);
	if (read_head(fd, head) < 0 || strncmp(head, "HTTP/1.1 101", 12) != 0)
		return wait_close(fd);
	if (strcmp(mode, "text") == 0)
		send_frame(fd, 1, 0x1, 5, 1);
	else if (strcmp(mode, "unmasked") == 0)
		send_frame(fd, 1, 0x2, 8, 0);
	else if (strcmp(mode, "big-ping") == 0)
		send_frame(fd, 1, 0x9, 126, 1);
	else if (strcmp(mode, "frag-ping") == 0)
		send_frame(fd, 0, 0x9, 4, 1);
	else if (strcmp(mode, "no-pong") != 0)
		return 2;
	return wait_close(fd);
}

static void good_answer(int fd, const char *head, int wrong)
{
	char key[64] = "", joined[128], accept[64], answer[512];
	unsigned char digest[SHA_DIGEST_LENGTH];
	const char *k = strcasestr(head, "Sec-WebSocket-Key:");

	if (k)
		sscanf(k + 18, " %63[^\r]", key);
	snprintf(joined, sizeof(joined), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((unsigned char *)joined, strlen(joined), digest);
	EVP_EncodeBlock((unsigned char *)accept, digest, sizeof(digest));
	if (wrong)
		accept[0] = accept[0] == 'A' ? 'B' : 'A';
	snprintf(answer, sizeof(answer),
		 "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
		 "sec-websocket-accept: %s\r\nsec-websocket-protocol: USB/IP\r\n\r\n",
		 accept);
	send_all(fd, answer, strlen(answer));
}

static int mode_server(const char *mode)
{
	int lfd = listen_any(), fd = accept(lfd, NULL, NULL);
	char head[HEAD_MAX];

	if (fd < 0 || read_head(fd, head) < 0)
		return 1;
	if (strcmp(mode, "silent") != 0)
		good_answer(fd, head, strcmp(mode, "bad-accept") == 0);
	if (strcmp(mode, "text") == 0)
		send_frame(fd, 1, 0x1, 5, 0);
	return wait_close(fd);
}

/* Moves bytes between a and b until either ends or idle_ms pass with none. */
static void forward(int a, int b, int idle_ms)
{
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	char buf[16384];

	for (;;) {
		int i, rc = poll(p, 2, idle_ms);

		if (rc == 0) {
			fprintf(stderr, "ws_peer: idle for %d ms, cutting\n", idle_ms);
			return;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (!p[i].revents)
				continue;
			n = recv(p[i].fd, buf, sizeof(buf), 0);
			if (n <= 0)
				return;
			send_all(p[1 - i].fd, buf, (size_t)n);
		}
	}
}

static int mode_idle_proxy(int port, int idle_ms)
{
	int lfd = listen_any();

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			forward(fd, dial(port), idle_ms);
			_exit(0);
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return mode_client(atoi(argv[2]), argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return mode_server(argv[2]);
	if (argc == 4 && strcmp(argv[1], "idle-proxy") == 0)
		return mode_idle_proxy(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: ws_peer client PORT PATH MODE | server MODE | "
			"idle-proxy PORT IDLE_MS\n");
	return 2;
}
