// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A status socket that misbehaves, for tests/daemon/status.sh: listens on
 * PATH and answers every connection, one at a time, the way MODE says:
 *   good       a valid answer
 *   drip       a byte every 100 ms, never the end
 *   silent     nothing, and keeps the connection open
 *   garbage    bytes that are not JSON: NUL, control characters, quotes
 *   unbalanced {"a": [}}}]] and the like
 *   deep       100,000 '['
 *   huge       a valid object of 2 MiB
 *   lie        valid JSON that says strange things: wrong types, negative
 *              times, a terminal's escape sequences and a newline in strings
 *   array      valid JSON, but not an object
 *   backlog    accepts nothing, its backlog full
 * It says "ready" once it listens, and runs until killed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_text(int fd, const char *text)
{
	return send_all(fd, text, strlen(text));
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Sends a byte now and then until the reader goes away. */
static void drip(int fd)
{
	if (send_text(fd, "{\"daemon\":\"") != 0)
		return;
	while (send_text(fd, "a") == 0)
		pause_ms(100);
}

/* Waits until the reader closes. */
static void silent(int fd)
{
	char c;

	while (recv(fd, &c, 1, 0) > 0)
		;
}

static void repeat(int fd, char c, size_t n)
{
	char buf[4096];

	memset(buf, c, sizeof(buf));
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		if (send_all(fd, buf, k) != 0)
			return;
		n -= k;
	}
}

static void answer(int fd, const char *mode)
{
	static const char garbage[] = "{\"a\0\x01\x1b[2J\"\"\xff\xfe:::}}\n\r\t\\u";

	if (strcmp(mode, "good") == 0) {
		send_text(fd, "{\"schema\":1,\"daemon\":\"fake\",\"pid\":1,\"started\":0}");
	} else if (strcmp(mode, "drip") == 0) {
		drip(fd);
	} else if (strcmp(mode, "silent") == 0) {
		silent(fd);
	} else if (strcmp(mode, "garbage") == 0) {
		send_all(fd, garbage, sizeof(garbage) - 1);
	} else if (strcmp(mode, "unbalanced") == 0) {
		send_text(fd, "{\"a\": [}}}]] \"b\": {{{[[[");
	} else if (strcmp(mode, "deep") == 0) {
		repeat(fd, '[', 100000);
	} else if (strcmp(mode, "huge") == 0) {
		send_text(fd, "{\"x\":\"");
		repeat(fd, 'a', 2 << 20);
		send_text(fd, "\"}");
	} else if (strcmp(mode, "lie") == 0) {
		send_text(
			fd,
			"{\"schema\":\"one\",\"daemon\":\"\\u001b[2J\\u001b]0;pwned\\u0007x\\ny\","
			"\"pid\":-1.5e300,\"started\":-5,\"since\":\"yesterday\","
			"\"devices\":[[[1,true,null]],{\"\\u202e\":{}}],\"tls\":null}");
	} else if (strcmp(mode, "array") == 0) {
		send_text(fd, "[1,2,3]");
	}
}

/* Fills the listening socket's backlog with connections of its own. */
static void fill_backlog(const struct sockaddr_un *addr)
{
	int i, fd;

	for (i = 0; i < 64; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0)
			break;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd, fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: fake_status PATH MODE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lfd, strcmp(argv[2], "backlog") == 0 ? 0 : 8) != 0) {
		fprintf(stderr, "fake_status: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (strcmp(argv[2], "backlog") == 0)
		fill_backlog(&addr);
	printf("ready\n"); /* listening: the test may ask */
	fflush(stdout);
	while (strcmp(argv[2], "backlog") == 0)
		pause();
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		answer(fd, argv[2]);
		close(fd);
	}
}
