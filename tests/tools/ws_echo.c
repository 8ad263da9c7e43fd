// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ws_echo: the plain-HTTP upstream behind the guest's TLS proxies (nginx,
 * HAProxy) in tests/vm/cases/60-net-tools.sh, so that a case can see the
 * proxy pass both a request and a WebSocket upgrade. Plain libc: built by
 * the test suite and by tests/vm/mkinitramfs.sh alike.
 *
 * usage: ws_echo PORT [ADDRESS]     (IPv4, default 0.0.0.0; PORT 0: any)
 *
 * Prints "ready PORT" once it listens, then serves each connection in a
 * child of its own, until killed:
 *   - a request with "Upgrade: websocket" and a Sec-WebSocket-Key: "101
 *     Switching Protocols" with the right Sec-WebSocket-Accept (RFC 6455),
 *     then every byte it gets back as it is (raw, no framing), until the
 *     peer closes or the bytes hold "QUIT";
 *   - any other request: "200 OK" and the body "ws_echo PATH\n".
 * Each request is one line on stderr: "ws_echo: upgrade PATH" or
 * "ws_echo: http PATH". A head over 8 KiB, or without an end: 400.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192
#define WS_GUID	 "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static uint32_t rol(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

/* One 64-byte block of SHA-1 (FIPS 180-4) into h. */
static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

/* SHA-1 of a short message (len < 120: a key and the GUID). */
static void sha1_short(const char *msg, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	unsigned char buf[128] = { 0 };
	size_t blocks = (len + 9 + 63) / 64;
	uint64_t bits = (uint64_t)len * 8;

	memcpy(buf, msg, len);
	buf[len] = 0x80;
	for (int i = 0; i < 8; i++)
		buf[blocks * 64 - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < blocks; i++)
		sha1_block(h, buf + 64 * i);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The value of header NAME in the request head, trimmed, into out. */
static int header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		const char *end, *v;

		l += 2;
		if (strncasecmp(l, name, nlen) != 0 || l[nlen] != ':')
			continue;
		v = l + nlen + 1;
		v += strspn(v, " \t");
		end = strstr(v, "\r\n");
		if (!end)
			return -1;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - v) >= size)
			return -1;
		memcpy(out, v, (size_t)(end - v));
		out[end - v] = '\0';
		return 0;
	}
	return -1;
}

/* Echo raw bytes (first the len already read) until EOF or "QUIT". */
static void echo_loop(int fd, const char *pending, size_t len)
{
	char buf[4096];
	ssize_t n;

	if (len > 0 && (send_all(fd, pending, len) < 0 || memmem(pending, len, "QUIT", 4)))
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (send_all(fd, buf, (size_t)n) < 0 || memmem(buf, (size_t)n, "QUIT", 4))
			return;
	}
}

static void answer_upgrade(int fd, const char *key, const char *rest, size_t len)
{
	char msg[128], accept[32], reply[256];
	unsigned char digest[20];
	int n;

	n = snprintf(msg, sizeof(msg), "%s%s", key, WS_GUID);
	sha1_short(msg, (size_t)n, digest);
	base64(digest, sizeof(digest), accept);
	n = snprintf(reply, sizeof(reply),
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		     accept);
	if (send_all(fd, reply, (size_t)n) == 0)
		echo_loop(fd, rest, len);
}

static void answer_http(int fd, const char *path)
{
	char body[300], reply[512];
	int blen = snprintf(body, sizeof(body), "ws_echo %.256s\n", path);
	int n = snprintf(reply, sizeof(reply),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
			 "Connection: close\r\n\r\n%s",
			 blen, body);

	send_all(fd, reply, (size_t)n);
}

static void serve(int fd)
{
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
	char head[HEAD_MAX + 1], path[257] = "", upgrade[64], key[64];
	size_t got = 0;
	char *end = NULL;

	while (!end && got < HEAD_MAX) {
		ssize_t n = read(fd, head + got, HEAD_MAX - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		head[got] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (!end || sscanf(head, "%*15s %256s", path) != 1) {
		send_all(fd, bad, sizeof(bad) - 1);
		return;
	}
	end[2] = '\0'; /* the head with its last header's CRLF */
	if (header_value(head, "Upgrade", upgrade, sizeof(upgrade)) == 0 &&
	    strcasecmp(upgrade, "websocket") == 0 &&
	    header_value(head, "Sec-WebSocket-Key", key, sizeof(key)) == 0) {
		fprintf(stderr, "ws_echo: upgrade %s\n", path);
		answer_upgrade(fd, key, end + 4, got - (size_t)(end + 4 - head));
		return;
	}
	fprintf(stderr, "ws_echo: http %s\n", path);
	answer_http(fd, path);
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t slen = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) < 0) {
		perror("ws_echo: listen");
		exit(1);
	}
	printf("ready %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	int lfd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ws_echo PORT [ADDRESS]\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(argc > 2 ? argv[2] : "0.0.0.0", atoi(argv[1]));
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			serve(fd);
			shutdown(fd, SHUT_WR);
			_exit(0);
		}
		close(fd);
	}
}
