// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bad_peer: a misbehaving USB/IP client, to show that a daemon survives what
 * peers send. Deliberately independent of libusbip: it builds its bytes by
 * hand, so a bug in our encoder cannot hide a bug in our decoder.
 *
 * usage: bad_peer HOST PORT MODE [COUNT] [SECONDS]
 *   garbage   COUNT connections sending random bytes of random lengths
 *   truncated every prefix of a valid import and export request, then close
 *   fields    requests with wrong version, unknown/reply codes, bad busids
 *   hold      open COUNT connections that never write, hold them SECONDS
 *   flood     COUNT connect+close in a row
 *   slow      send a devlist request one byte per second
 *   export    a well-formed OP_REQ_EXPORT of a made-up device 1-1; prints
 *             the reply's status and exits 0 when a proper reply came
 *   unexport  the same with OP_REQ_UNEXPORT
 * Exits 0 when every connection could be made (what the daemon answers is
 * up to the test), 1 when the daemon could not be reached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *port;

static int dial(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Sends buf, then reads (and discards) whatever comes back for up to 1 s. */
static int exchange(const uint8_t *buf, size_t len, int half_close)
{
	struct pollfd pfd;
	uint8_t sink[4096];
	int fd = dial();

	if (fd < 0)
		return -1;
	if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0) {
		close(fd);
		return 0; /* the daemon may already have hung up: fine */
	}
	if (half_close)
		shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 1000) > 0 && recv(fd, sink, sizeof(sink), 0) > 0)
		;
	close(fd);
	return 0;
}

static void put_header(uint8_t *p, uint16_t version, uint16_t code)
{
	p[0] = (uint8_t)(version >> 8);
	p[1] = (uint8_t)version;
	p[2] = (uint8_t)(code >> 8);
	p[3] = (uint8_t)code;
	memset(p + 4, 0, 4);
}

static int mode_garbage(int count)
{
	uint8_t buf[700];
	int i;
	size_t j, len;

	srand((unsigned)time(NULL));
	for (i = 0; i < count; i++) {
		len = (size_t)(rand() % (int)sizeof(buf));
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* Every other one starts like a real request, to get past the header. */
		if (i % 2 && len >= 8)
			put_header(buf, 0x0111, i % 4 == 1 ? 0x8003 : 0x8005);
		if (exchange(buf, len, i % 3 == 0) < 0)
			return 1;
	}
	return 0;
}

static int mode_truncated(void)
{
	uint8_t req[8 + 312];
	size_t n;

	put_header(req, 0x0111, 0x8003);
	memset(req + 8, 0, sizeof(req) - 8);
	memcpy(req + 8, "1-1", 3);
	for (n = 0; n < 8 + 32; n++)
		if (exchange(req, n, n % 2) < 0)
			return 1;
	put_header(req, 0x0111, 0x8006);
	for (n = 0; n < sizeof(req); n += 13)
		if (exchange(req, n, 1) < 0)
			return 1;
	return 0;
}

static int mode_fields(void)
{
	static const uint16_t codes[] = { 0x0003, 0x0005, 0x8001, 0x8004, 0x80ff, 0xffff, 0x0000 };
	uint8_t req[8 + 312];
	size_t i;

	/* Wrong versions, with an otherwise valid devlist request. */
	put_header(req, 0x0106, 0x8005);
	if (exchange(req, 8, 0) < 0)
		return 1;
	put_header(req, 0xffff, 0x8005);
	exchange(req, 8, 0);
	/* Unknown and reply codes. */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		put_header(req, 0x0111, codes[i]);
		exchange(req, 8, 0);
	}
	/* Import with a busid lacking its zero, with a path, with an interface. */
	put_header(req, 0x0111, 0x8003);
	memset(req + 8, '1', 32);
	exchange(req, 40, 0);
	memset(req + 8, 0, 32);
	memcpy(req + 8, "../../../../dev/sda", 19);
	exchange(req, 40, 0);
	memset(req + 8, 0, 32);
	memcpy(req + 8, "1-1:1.0", 7);
	exchange(req, 40, 0);
	/* An export request with a device record full of 0xff. */
	put_header(req, 0x0111, 0x8006);
	memset(req + 8, 0xff, 312);
	exchange(req, sizeof(req), 0);
	/* Two requests back to back on one connection. */
	put_header(req, 0x0111, 0x8005);
	put_header(req + 8, 0x0111, 0x8005);
	exchange(req, 16, 0);
	return 0;
}

static int mode_hold(int count, int seconds)
{
	int *fds = calloc((size_t)count, sizeof(int));
	int i, opened = 0;

	if (!fds)
		return 1;
	for (i = 0; i < count; i++) {
		fds[i] = dial();
		if (fds[i] >= 0)
			opened++;
	}
	printf("holding %d idle connections for %d s\n", opened, seconds);
	fflush(stdout);
	sleep((unsigned)seconds);
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return opened ? 0 : 1;
}

static int mode_flood(int count)
{
	int i, fd;

	for (i = 0; i < count; i++) {
		fd = dial();
		if (fd < 0)
			return 1;
		close(fd);
	}
	return 0;
}

static int mode_slow(void)
{
	uint8_t req[8];
	int fd = dial(), i;

	if (fd < 0)
		return 1;
	put_header(req, 0x0111, 0x8005);
	for (i = 0; i < 8; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) < 0)
			break;
		sleep(1);
	}
	close(fd);
	return 0;
}

/* A well-formed export or unexport request; 0 when the daemon answered properly. */
static int mode_request(uint16_t code)
{
	uint8_t req[8 + 312] = { 0 }, rep[8];
	size_t got = 0;
	ssize_t n;
	int fd = dial();

	if (fd < 0)
		return 1;
	put_header(req, 0x0111, code);
	strcpy((char *)req + 8, "/sys/devices/pci0000:00/0000:00:01.0/usb1/1-1");
	strcpy((char *)req + 8 + 256, "1-1");
	/* Big endian fields of the record: busnum, devnum, speed, idVendor, idProduct. */
	req[8 + 291] = 1;
	req[8 + 295] = 2;
	req[8 + 299] = 3; /* high speed */
	req[8 + 300] = 0x46;
	req[8 + 301] = 0xf4;
	req[8 + 303] = 0x01;
	if (send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		close(fd);
		return 1;
	}
	while (got < sizeof(rep) && (n = recv(fd, rep + got, sizeof(rep) - got, 0)) > 0)
		got += (size_t)n;
	close(fd);
	if (got != sizeof(rep) || rep[0] != 0x01 || rep[1] != 0x11 || rep[2] != 0 ||
	    rep[3] != (code & 0xff)) {
		fprintf(stderr, "bad_peer: no proper reply (%zu bytes)\n", got);
		return 3;
	}
	printf("status %u\n", (unsigned)rep[4] << 24 | rep[5] << 16 | rep[6] << 8 | rep[7]);
	return 0;
}

int main(int argc, char **argv)
{
	int count, seconds, rc;

	if (argc < 4) {
		fprintf(stderr, "usage: bad_peer HOST PORT MODE [COUNT] [SECONDS]\n");
		return 2;
	}
	host = argv[1];
	port = argv[2];
	count = argc > 4 ? atoi(argv[4]) : 100;
	seconds = argc > 5 ? atoi(argv[5]) : 5;
	if (strcmp(argv[3], "garbage") == 0)
		rc = mode_garbage(count);
	else if (strcmp(argv[3], "truncated") == 0)
		rc = mode_truncated();
	else if (strcmp(argv[3], "fields") == 0)
		rc = mode_fields();
	else if (strcmp(argv[3], "hold") == 0)
		rc = mode_hold(count, seconds);
	else if (strcmp(argv[3], "flood") == 0)
		rc = mode_flood(count);
	else if (strcmp(argv[3], "slow") == 0)
		rc = mode_slow();
	else if (strcmp(argv[3], "export") == 0)
		return mode_request(0x8006);
	else if (strcmp(argv[3], "unexport") == 0)
		return mode_request(0x8007);
	else {
		fprintf(stderr, "bad_peer: unknown mode '%s'\n", argv[3]);
		return 2;
	}
	if (rc)
		fprintf(stderr, "bad_peer: cannot reach %s port %s: %s\n", host, port,
			strerror(errno));
	return rc;
}
