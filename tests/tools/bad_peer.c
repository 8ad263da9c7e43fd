// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bad_peer: a misbehaving USB/IP client, to show that a daemon survives what
 * peers send. Deliberately independent of libusbip: it builds its bytes by
 * hand, so a bug in our encoder cannot hide a bug in our decoder.
 *
 * usage: bad_peer [--tls] HOST PORT MODE [ARG...]
 *   cases KIND     the names of the malformed inputs for KIND, one a line:
 *                  usbipd (DEVLIST and IMPORT served), usbipa (EXPORT and
 *                  UNEXPORT), serve-mtp (usbipd's, and URBs after a real
 *                  import of 1-1), tls (raw bytes for a daemon with --tls)
 *   case NAME      sends that one input (some are many connections)
 *   mtp BUSID      a good client of serve-mtp: imports BUSID, configures
 *                  it, opens an MTP session and lists the storages; exits
 *                  0 when every answer was right
 *   mtp-hold BUSID STATE [NAME]
 *                  a client of serve-mtp that stops in STATE (idle, upload,
 *                  download) and waits for the daemon to close (mode_mtp_hold)
 *   export         a well-formed OP_REQ_EXPORT of a made-up device 1-1;
 *                  prints the reply's status and exits 0 when a proper
 *                  reply came
 *   unexport       the same with OP_REQ_UNEXPORT
 *   garbage COUNT, truncated, fields, hold COUNT SECONDS, flood COUNT,
 *   slow           groups of bad inputs (the guest cases use them)
 * --tls: every connection does a TLS handshake first (nothing verified)
 * and what the mode sends goes inside it.
 * Exits 0 when every connection could be made (what the daemon answers is
 * up to the test), 1 when the daemon could not be reached, 2 on bad usage,
 * 3 when a good client got a wrong answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *host, *port;
static SSL_CTX *tls_ctx; /* --tls */

struct peer {
	int fd;
	SSL *ssl;
};

/* ---- connections ---------------------------------------------------- */

static int dial(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = 5 };
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
	if (fd >= 0) {
		/* A daemon that stops answering must not hang the test. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* A connection, with a TLS handshake done under --tls; -1 if none could be made. */
static int peer_open(struct peer *p)
{
	p->ssl = NULL;
	p->fd = dial();
	if (p->fd < 0)
		return -1;
	if (!tls_ctx)
		return 0;
	p->ssl = SSL_new(tls_ctx);
	if (!p->ssl || !SSL_set_fd(p->ssl, p->fd) || SSL_connect(p->ssl) != 1) {
		fprintf(stderr, "bad_peer: TLS handshake failed\n");
		SSL_free(p->ssl);
		close(p->fd);
		return -1;
	}
	return 0;
}

/* Sends all of buf; -1 once the daemon is gone (which is its right). */
static int peer_send(struct peer *p, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n = p->ssl ? SSL_write(p->ssl, b, (int)(len > 65536 ? 65536 : len))
				   : send(p->fd, b, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t peer_recv(struct peer *p, void *buf, size_t len)
{
	if (p->ssl)
		return SSL_read(p->ssl, buf, (int)len);
	return recv(p->fd, buf, len, 0);
}

/* Reads exactly len bytes; -1 on EOF, error or 5 s of silence. */
static int peer_read_full(struct peer *p, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n = peer_recv(p, b, len);

		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads and drops what comes until EOF, or until ms pass without a byte. */
static void peer_drain(struct peer *p, int ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint8_t sink[16384];

	while ((p->ssl && SSL_pending(p->ssl)) || poll(&pfd, 1, ms) > 0)
		if (peer_recv(p, sink, sizeof(sink)) <= 0)
			break;
}

static void peer_close(struct peer *p)
{
	if (p->ssl) {
		SSL_shutdown(p->ssl);
		SSL_free(p->ssl);
	}
	close(p->fd);
}

/* How a one-shot input ends. */
enum ending {
	HALF_CLOSE, /* shut the writing side, read until the daemon closes */
	CLOSE,	    /* close at once, reading nothing */
	RESET,	    /* close with a TCP reset */
	HOLD,	    /* read what comes until 0.3 s pass without a byte, then close */
	SILENT,	    /* neither read nor write for half a second, then close */
};

/* One connection that sends buf and ends as told. */
static int one_shot(const void *buf, size_t len, enum ending how)
{
	struct peer p;
	struct linger lin = { 1, 0 };

	if (peer_open(&p) < 0)
		return 1;
	if (len)
		peer_send(&p, buf, len);
	switch (how) {
	case HALF_CLOSE:
		if (p.ssl)
			SSL_shutdown(p.ssl);
		shutdown(p.fd, SHUT_WR);
		peer_drain(&p, 3000);
		break;
	case CLOSE:
		break;
	case RESET:
		setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		SSL_free(p.ssl);
		p.ssl = NULL;
		break;
	case HOLD:
		peer_drain(&p, 300);
		break;
	case SILENT:
		usleep(500000);
		break;
	}
	peer_close(&p);
	return 0;
}

/* ---- the bytes of USB/IP, by hand ------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_header(uint8_t *p, uint16_t version, uint16_t code)
{
	put16(p, version);
	put16(p + 2, code);
	memset(p + 4, 0, 4);
}

#define OP_IMPORT   0x8003
#define OP_DEVLIST  0x8005
#define OP_EXPORT   0x8006
#define OP_UNEXPORT 0x8007
#define RECORD	    312
#define URB_HDR	    48

/* An import request of busid (raw bytes, len of them, the rest zero). */
static size_t import_request(uint8_t *req, const void *busid, size_t len)
{
	put_header(req, 0x0111, OP_IMPORT);
	memset(req + 8, 0, 32);
	memcpy(req + 8, busid, len);
	return 40;
}

/* A device record of a made-up high-speed 46f4:0001 at 1-1, as usbip connect sends it. */
static void device_record(uint8_t *r)
{
	memset(r, 0, RECORD);
	strcpy((char *)r, "/sys/devices/pci0000:00/0000:00:01.0/usb1/1-1");
	strcpy((char *)r + 256, "1-1");
	put32(r + 288, 1);
	put32(r + 292, 2);
	put32(r + 296, 3);
	put16(r + 300, 0x46f4);
	put16(r + 302, 0x0001);
	put16(r + 304, 0x0100);
	r[310] = 1;
	r[311] = 1;
}

static size_t export_request(uint8_t *req, uint16_t code)
{
	put_header(req, 0x0111, code);
	device_record(req + 8);
	return 8 + RECORD;
}

/* A CMD_SUBMIT header. */
static void urb_submit(uint8_t *h, uint32_t seq, uint32_t dir, uint32_t ep, uint32_t len)
{
	memset(h, 0, URB_HDR);
	put32(h, 1);
	put32(h + 4, seq);
	put32(h + 8, 0x00010002);
	put32(h + 12, dir);
	put32(h + 16, ep);
	put32(h + 24, len);
	put32(h + 32, 0xffffffff); /* number_of_packets: not isochronous */
}

static void urb_unlink(uint8_t *h, uint32_t seq, uint32_t target)
{
	memset(h, 0, URB_HDR);
	put32(h, 2);
	put32(h + 4, seq);
	put32(h + 8, 0x00010002);
	put32(h + 20, target);
}

/* A control URB: the setup packet (little endian fields) in the header. */
static void urb_control(uint8_t *h, uint32_t seq, uint8_t type, uint8_t req, uint16_t value,
			uint16_t index, uint16_t length)
{
	urb_submit(h, seq, type & 0x80 ? 1 : 0, 0, type & 0x80 ? length : 0);
	h[40] = type;
	h[41] = req;
	h[42] = (uint8_t)value;
	h[43] = (uint8_t)(value >> 8);
	h[44] = (uint8_t)index;
	h[45] = (uint8_t)(index >> 8);
	h[46] = (uint8_t)length;
	h[47] = (uint8_t)(length >> 8);
}

/* An MTP command container (little endian) of n parameters. */
static size_t mtp_command(uint8_t *c, uint16_t code, uint32_t tid, unsigned n, const uint32_t *par)
{
	uint32_t len = 12 + 4 * n;
	unsigned i;

	put_le32(c, len);
	c[4] = 1; /* a command */
	c[5] = 0;
	c[6] = (uint8_t)code;
	c[7] = (uint8_t)(code >> 8);
	put_le32(c + 8, tid);
	for (i = 0; i < n; i++)
		put_le32(c + 12 + 4 * i, par[i]);
	return len;
}

/* Imports 1-1 from serve-mtp on p; 0 when the device is ours. */
static int mtp_import(struct peer *p, const char *busid)
{
	uint8_t req[40], rep[8 + RECORD];

	import_request(req, busid, strlen(busid));
	if (peer_send(p, req, sizeof(req)) != 0 || peer_read_full(p, rep, 8) != 0)
		return -1;
	if (rep[2] != 0 || rep[3] != 3 || get32(rep + 4) != 0) {
		fprintf(stderr, "bad_peer: import of %s refused (status %u)\n", busid,
			get32(rep + 4));
		return -1;
	}
	return peer_read_full(p, rep + 8, RECORD);
}

/* One connection that imports 1-1 and sends urbs (len bytes), then ends as told. */
static int after_import(const void *urbs, size_t len, enum ending how)
{
	struct peer p;
	struct linger lin = { 1, 0 };

	if (peer_open(&p) < 0)
		return 1;
	if (mtp_import(&p, "1-1") != 0) {
		peer_close(&p);
		return 3;
	}
	if (len)
		peer_send(&p, urbs, len);
	if (how == RESET) {
		setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	} else if (how == HOLD) {
		peer_drain(&p, 300);
	} else if (how == SILENT) {
		usleep(500000);
	} else if (how == HALF_CLOSE) {
		shutdown(p.fd, SHUT_WR);
		peer_drain(&p, 3000);
	}
	peer_close(&p);
	return 0;
}

/* ---- the malformed inputs ------------------------------------------- */

enum kind { K_USBIPD = 1, K_USBIPA = 2, K_MTP = 4, K_TLS = 8 };
#define K_OP (K_USBIPD | K_USBIPA | K_MTP) /* every daemon's control phase */
#define K_DM (K_USBIPD | K_MTP)		   /* DEVLIST and IMPORT served */

struct bad_case {
	const char *name;
	unsigned kinds;
	int (*run)(long arg);
	long arg;
};

/* The OP header cut after arg bytes (a devlist request), then closed or half-closed. */
static int c_header_cut(long arg)
{
	uint8_t req[8];

	put_header(req, 0x0111, OP_DEVLIST);
	return one_shot(req, (size_t)(arg & 0xff), arg & 0x100 ? HALF_CLOSE : CLOSE);
}

/* A devlist request with version arg. */
static int c_version(long arg)
{
	uint8_t req[8];

	put_header(req, (uint16_t)arg, OP_DEVLIST);
	return one_shot(req, sizeof(req), HALF_CLOSE);
}

/* A request code the daemon does not serve (or does not know). */
static int c_code(long arg)
{
	uint8_t req[8 + RECORD] = { 0 };

	put_header(req, 0x0111, (uint16_t)arg);
	return one_shot(req, sizeof(req), HALF_CLOSE);
}

/* A devlist request whose status field is not 0. */
static int c_status(long arg)
{
	uint8_t req[8];

	put_header(req, 0x0111, OP_DEVLIST);
	put32(req + 4, (uint32_t)arg);
	return one_shot(req, sizeof(req), HALF_CLOSE);
}

/* An import request cut after arg bytes of its busid. */
static int c_import_cut(long arg)
{
	uint8_t req[40];

	import_request(req, "1-1", 3);
	return one_shot(req, 8 + (size_t)arg, CLOSE);
}

static const char *const bad_busids[] = {
	"11111111111111111111111111111111", /* 32 bytes: no terminating zero */
	"../../../../dev/sda",
	"1-1:1.0",
	"1-1\nerror: forged line",
	"\x1b]0;owned\x07\x1b[2J",
	"1-1 2",
	"",
	"\xff\xfe\xfd",
	"9-9",
	"1-1\t",
	"%s%s%n%n",
};

static int c_import_busid(long arg)
{
	uint8_t req[40];
	const char *b = bad_busids[arg];

	import_request(req, b, strnlen(b, 32));
	return one_shot(req, sizeof(req), HALF_CLOSE);
}

/* An export (arg & 0x10000: unexport) request cut after (arg & 0xffff) bytes of its record. */
static int c_record_cut(long arg)
{
	uint8_t req[8 + RECORD];

	export_request(req, arg & 0x10000 ? OP_UNEXPORT : OP_EXPORT);
	return one_shot(req, 8 + (size_t)(arg & 0xffff), CLOSE);
}

/* An export request with one field made bad. */
static int c_record_field(long arg)
{
	uint8_t req[8 + RECORD], *r = req + 8;
	size_t at;

	export_request(req, OP_EXPORT);
	switch (arg) {
	case 0: /* all 0xff */
		memset(r, 0xff, RECORD);
		break;
	case 1: /* a path without its zero */
		memset(r, 'p', 256);
		break;
	case 2: /* a busid without its zero */
		memset(r + 256, '1', 32);
		break;
	case 3: /* a busid with a newline */
		strcpy((char *)r + 256, "1-1\nx");
		break;
	case 4: /* an empty busid */
		memset(r + 256, 0, 32);
		break;
	case 5: /* 33 interfaces */
		r[311] = 33;
		break;
	case 6: /* speed 7 */
		put32(r + 296, 7);
		break;
	case 7: /* speed 0: unknown */
		put32(r + 296, 0);
		break;
	case 8: /* the serial extension without its zero */
		at = strlen((char *)r) + 1;
		memcpy(r + at, "serial=", 7);
		memset(r + at + 7, 'S', 256 - at - 7);
		break;
	case 9: /* a serial with a control character */
		at = strlen((char *)r) + 1;
		memcpy(r + at, "serial=AB\x1b[2J", 13);
		break;
	case 10: /* a path with ESC */
		memcpy(r, "/sys/\x1b[2J", 10);
		break;
	case 11: /* busnum and devnum 2^32-1 */
		put32(r + 288, 0xffffffff);
		put32(r + 292, 0xffffffff);
		break;
	}
	return one_shot(req, sizeof(req), HALF_CLOSE);
}

/* Two requests (arg: the code) on one connection, back to back. */
static int c_pipelined(long arg)
{
	uint8_t req[2 * (8 + RECORD)];
	size_t one;

	if (arg == OP_DEVLIST) {
		put_header(req, 0x0111, OP_DEVLIST);
		put_header(req + 8, 0x0111, OP_DEVLIST);
		return one_shot(req, 16, HALF_CLOSE);
	}
	one = export_request(req, (uint16_t)arg);
	memcpy(req + one, req, one);
	return one_shot(req, 2 * one, HALF_CLOSE);
}

/* A request the daemon serves (arg), then arg2 bytes of junk after it. */
static int c_trailing(long arg)
{
	size_t junk = (size_t)(arg >> 16), len;
	uint8_t *req = calloc(1, 8 + RECORD + junk);
	int rc;

	if (!req)
		return 1;
	if ((arg & 0xffff) == OP_DEVLIST) {
		put_header(req, 0x0111, OP_DEVLIST);
		len = 8;
	} else {
		len = export_request(req, (uint16_t)(arg & 0xffff));
	}
	memset(req + len, 0xa5, junk);
	rc = one_shot(req, len + junk, HALF_CLOSE);
	free(req);
	return rc;
}

/* arg bytes of zeros, then a reset. */
static int c_zeros(long arg)
{
	uint8_t *buf = calloc(1, (size_t)arg);
	int rc;

	if (!buf)
		return 1;
	rc = one_shot(buf, (size_t)arg, RESET);
	free(buf);
	return rc;
}

/* Connects and resets at once (arg 0), or after half a request (arg 1). */
static int c_reset(long arg)
{
	uint8_t req[8];

	put_header(req, 0x0111, OP_DEVLIST);
	return one_shot(req, arg ? 4 : 0, RESET);
}

/* A request, and then the peer neither reads nor closes for a second. */
static int c_no_read(long arg)
{
	uint8_t req[8 + RECORD];
	size_t len = 8;

	if (arg == OP_DEVLIST)
		put_header(req, 0x0111, OP_DEVLIST);
	else
		len = export_request(req, (uint16_t)arg);
	return one_shot(req, len, SILENT);
}

/* A TLS record where USB/IP was expected (on a plain daemon): a ClientHello's start. */
static int c_tls_on_plain(long arg)
{
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4,
					 0x03, 0x03, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00 };

	(void)arg;
	return one_shot(hello, sizeof(hello), HALF_CLOSE);
}

static int c_garbage(long arg)
{
	uint8_t buf[700];
	long i;
	size_t j, len;

	srand((unsigned)time(NULL));
	for (i = 0; i < arg; i++) {
		len = (size_t)(rand() % (int)sizeof(buf));
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* Every other one starts like a real request, to get past the header. */
		if (i % 2 && len >= 8)
			put_header(buf, 0x0111,
				   (uint16_t[]){ OP_IMPORT, OP_DEVLIST, OP_EXPORT,
						 OP_UNEXPORT }[i % 4]);
		if (one_shot(buf, len, i % 3 == 0 ? HALF_CLOSE : CLOSE) != 0)
			return 1;
	}
	return 0;
}

static int c_flood(long arg)
{
	long i;

	for (i = 0; i < arg; i++) {
		int fd = dial();

		if (fd < 0)
			return 1;
		close(fd);
	}
	return 0;
}

/* arg connections open at once, each with half a header, all reset together. */
static int c_half_open_burst(long arg)
{
	int *fds = calloc((size_t)arg, sizeof(int));
	struct linger lin = { 1, 0 };
	uint8_t req[8];
	long i;

	if (!fds)
		return 1;
	put_header(req, 0x0111, OP_DEVLIST);
	for (i = 0; i < arg; i++) {
		fds[i] = dial();
		if (fds[i] >= 0)
			send(fds[i], req, 5, MSG_NOSIGNAL);
	}
	for (i = 0; i < arg; i++)
		if (fds[i] >= 0) {
			setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
			close(fds[i]);
		}
	free(fds);
	return 0;
}

/* ---- serve-mtp after a real import ----------------------------------- */

/* After the import: a CMD_SUBMIT header cut after arg bytes. */
static int c_urb_cut(long arg)
{
	uint8_t h[URB_HDR];

	urb_submit(h, 1, 1, 1, 512);
	return after_import(h, (size_t)arg, CLOSE);
}

/* After the import: one URB header with a field made bad, and what it says follows. */
static int c_urb_field(long arg)
{
	uint8_t buf[URB_HDR + 64] = { 0 };
	size_t len = URB_HDR;

	urb_submit(buf, 1, 0, 1, 0);
	switch (arg) {
	case 0: /* command 0 */
		put32(buf, 0);
		break;
	case 1: /* command 5 */
		put32(buf, 5);
		break;
	case 2: /* a RET_SUBMIT from the host */
		put32(buf, 3);
		break;
	case 3: /* direction 2 */
		put32(buf + 12, 2);
		break;
	case 4: /* endpoint 16 */
		put32(buf + 16, 16);
		break;
	case 5: /* OUT of 16 MiB + 1 */
		put32(buf + 24, (16u << 20) + 1);
		break;
	case 6: /* OUT of 4096 bytes, 10 sent: the length lies */
		put32(buf + 24, 4096);
		len += 10;
		break;
	case 7: /* 1025 ISO packets */
		put32(buf + 32, 1025);
		break;
	case 8: /* 2 ISO packets, one descriptor sent */
		put32(buf + 32, 2);
		put32(buf + URB_HDR + 4, 16);
		len += 16;
		break;
	case 9: /* transfer length 2^31 */
		put32(buf + 24, 0x80000000u);
		break;
	case 10: /* an IN URB of 16 MiB on bulk IN */
		urb_submit(buf, 1, 1, 1, 16u << 20);
		break;
	case 11: /* an unlink of itself */
		urb_unlink(buf, 1, 1);
		break;
	}
	return after_import(buf, len, CLOSE);
}

/* After the import and SET_CONFIGURATION: IN (arg < 16) or OUT (arg - 16) URBs on an endpoint. */
static int c_urb_endpoint(long arg)
{
	uint8_t buf[2 * URB_HDR + 8];
	bool in = arg < 16;
	uint32_t ep = (uint32_t)(in ? arg : arg - 16);

	urb_control(buf, 1, 0x00, 9, 1, 0, 0);
	urb_submit(buf + URB_HDR, 2, in ? 1 : 0, ep, in ? 64 : 8);
	memset(buf + 2 * URB_HDR, 0x55, 8);
	return after_import(buf, 2 * URB_HDR + (in ? 0 : 8), HOLD);
}

/* After the import: arg CMD_UNLINKs of seqnums never submitted. */
static int c_unlink_storm(long arg)
{
	uint8_t *buf = malloc((size_t)arg * URB_HDR);
	long i;
	int rc;

	if (!buf)
		return 1;
	for (i = 0; i < arg; i++)
		urb_unlink(buf + i * URB_HDR, (uint32_t)(i + 1), (uint32_t)(1000000 + i));
	rc = after_import(buf, (size_t)arg * URB_HDR, HALF_CLOSE);
	free(buf);
	return rc;
}

/* After the import: arg IN URBs waiting on bulk IN, then an unlink of each. */
static int c_submit_unlink(long arg)
{
	uint8_t *buf = malloc((size_t)(2 * arg + 1) * URB_HDR);
	long i;
	int rc;

	if (!buf)
		return 1;
	urb_control(buf, 1, 0x00, 9, 1, 0, 0);
	for (i = 0; i < arg; i++) {
		urb_submit(buf + (1 + i) * URB_HDR, (uint32_t)(2 + i), 1, 1, 512);
		urb_unlink(buf + (1 + arg + i) * URB_HDR, (uint32_t)(2 + arg + i),
			   (uint32_t)(2 + i));
	}
	rc = after_import(buf, (size_t)(2 * arg + 1) * URB_HDR, HALF_CLOSE);
	free(buf);
	return rc;
}

/* After the import: arg IN URBs on the interrupt endpoint (past what may wait). */
static int c_intr_flood(long arg)
{
	uint8_t *buf = malloc((size_t)(arg + 1) * URB_HDR);
	long i;
	int rc;

	if (!buf)
		return 1;
	urb_control(buf, 1, 0x00, 9, 1, 0, 0);
	for (i = 0; i < arg; i++)
		urb_submit(buf + (1 + i) * URB_HDR, (uint32_t)(2 + i), 1, 2, 64);
	rc = after_import(buf, (size_t)(arg + 1) * URB_HDR, HALF_CLOSE);
	free(buf);
	return rc;
}

/* After the import: a control request that is wrong in some way. */
static int c_control(long arg)
{
	static const struct {
		uint8_t type, req;
		uint16_t value, index, length;
	} bad[] = {
		{ 0x80, 6, 0x0100, 0, 0xffff },	  /* GET_DESCRIPTOR(device) of 65535 bytes */
		{ 0x80, 6, 0x0f00, 0, 255 },	  /* a BOS descriptor it does not have */
		{ 0x80, 6, 0x03ff, 0x0409, 255 }, /* string 255 */
		{ 0x00, 9, 7, 0, 0 },		  /* SET_CONFIGURATION 7 */
		{ 0x01, 11, 3, 5, 0 },		  /* SET_INTERFACE on interface 5 */
		{ 0x02, 1, 0, 0x89, 0 },	  /* CLEAR_FEATURE(HALT) on ep 9 IN */
		{ 0xa1, 0x67, 0, 9, 4 },	  /* class request to interface 9 */
		{ 0x21, 0x64, 0, 0, 100 },	  /* cancel with 100 bytes of data */
		{ 0xc0, 0xee, 0, 4, 0xffff },	  /* MS OS descriptor of 65535 bytes */
		{ 0x40, 0xaa, 0, 0, 0 },	  /* a vendor request */
	};
	uint8_t buf[URB_HDR + 128] = { 0 };
	size_t len = URB_HDR;

	urb_control(buf, 1, bad[arg].type, bad[arg].req, bad[arg].value, bad[arg].index,
		    bad[arg].length);
	if (!(bad[arg].type & 0x80)) {
		put32(buf + 24, bad[arg].length);
		len += bad[arg].length;
	}
	return after_import(buf, len, HOLD);
}

/* After the import and SET_CONFIGURATION: an MTP container that is wrong in some way. */
static int c_mtp(long arg)
{
	uint8_t buf[3 * URB_HDR + 600] = { 0 }, c[600] = { 0 };
	uint32_t par[5] = { 0xffffffff, 0, 0xffffffff, 0, 0 };
	size_t n = 0, off;

	switch (arg) {
	case 0: /* a command container whose length says 1 GiB */
		n = mtp_command(c, 0x1001, 0, 0, NULL);
		c[0] = 0;
		c[3] = 0x40;
		break;
	case 1: /* a data container with no command before it */
		n = mtp_command(c, 0x100d, 7, 0, NULL);
		c[4] = 2;
		break;
	case 2: /* an unknown operation */
		n = mtp_command(c, 0x7777, 0, 5, par);
		break;
	case 3: /* GetObject of a handle that does not exist, before OpenSession */
		n = mtp_command(c, 0x1009, 1, 1, par);
		break;
	case 4: /* a 600-byte command container */
		n = sizeof(c);
		memset(c, 0x41, n);
		c[4] = 1;
		break;
	case 5: /* container type 9 */
		n = mtp_command(c, 0x1001, 0, 0, NULL);
		c[4] = 9;
		break;
	case 6: /* a response container from the host */
		n = mtp_command(c, 0x2001, 0, 0, NULL);
		c[4] = 3;
		break;
	}
	urb_control(buf, 1, 0x00, 9, 1, 0, 0);
	urb_submit(buf + URB_HDR, 2, 0, 1, (uint32_t)n);
	memcpy(buf + 2 * URB_HDR, c, n);
	off = 2 * URB_HDR + n;
	urb_submit(buf + off, 3, 1, 1, 512);
	return after_import(buf, off + URB_HDR, HOLD);
}

/* After the import: arg commands with their IN URBs, and the peer reads nothing for a second. */
static int c_no_reader(long arg)
{
	size_t one = 2 * URB_HDR + 12, len = URB_HDR + (size_t)arg * one;
	uint8_t *buf = malloc(len), *p;
	uint32_t par = 1;
	long i;
	int rc;

	if (!buf)
		return 1;
	urb_control(buf, 1, 0x00, 9, 1, 0, 0);
	p = buf + URB_HDR;
	for (i = 0; i < arg; i++, p += one) {
		urb_submit(p, (uint32_t)(2 + 2 * i), 0, 1, 12);
		mtp_command(p + URB_HDR, 0x1001, (uint32_t)i, 0, &par);
		urb_submit(p + URB_HDR + 12, (uint32_t)(3 + 2 * i), 1, 1, 16384);
	}
	rc = after_import(buf, len, SILENT);
	free(buf);
	return rc;
}

/* While one importer holds the device, a second import (busy), then both go. */
static int c_second_import(long arg)
{
	struct peer a;
	uint8_t req[40];

	(void)arg;
	if (peer_open(&a) < 0)
		return 1;
	if (mtp_import(&a, "1-1") != 0) {
		peer_close(&a);
		return 3;
	}
	import_request(req, "1-1", 3);
	one_shot(req, sizeof(req), HALF_CLOSE);
	peer_close(&a);
	return 0;
}

/* ---- raw TLS for a daemon with --tls --------------------------------- */

static int c_tls_raw(long arg)
{
	uint8_t buf[600] = { 0 };
	size_t len = 0;
	int i;

	switch (arg) {
	case 0: /* a plain USB/IP request on the TLS port */
		put_header(buf, 0x0111, OP_DEVLIST);
		len = 8;
		break;
	case 1: /* a handshake record header alone */
		memcpy(buf, "\x16\x03\x01\x02\x00", 5);
		len = 5;
		break;
	case 2: /* a record whose length says 65535, 100 bytes of it */
		memcpy(buf, "\x16\x03\x03\xff\xff", 5);
		len = 105;
		break;
	case 3: /* an empty handshake record */
		memcpy(buf, "\x16\x03\x03\x00\x00", 5);
		len = 5;
		break;
	case 4: /* an SSLv2-style hello */
		memcpy(buf, "\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10", 11);
		len = 46;
		break;
	case 5: /* an alert instead of a hello */
		memcpy(buf, "\x15\x03\x03\x00\x02\x02\x28", 7);
		len = 7;
		break;
	case 6: /* application data before any handshake */
		memcpy(buf, "\x17\x03\x03\x00\x20", 5);
		len = 37;
		break;
	case 7: /* a handshake header, then 500 random bytes */
		memcpy(buf, "\x16\x03\x01\x01\xf4", 5);
		for (i = 5; i < 505; i++)
			buf[i] = (uint8_t)rand();
		len = 505;
		break;
	}
	return one_shot(buf, len, arg == 1 ? HOLD : HALF_CLOSE);
}

/* A real ClientHello (made by OpenSSL into memory), cut at every arg-th byte, one cut a connection.
 */
static int c_tls_hello_cuts(long arg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	uint8_t hello[2048];
	int n, cut;

	if (!ssl || !rb || !wb)
		return 1;
	SSL_set_bio(ssl, rb, wb);
	SSL_connect(ssl); /* writes the ClientHello, then wants to read */
	n = BIO_read(wb, hello, sizeof(hello));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (n <= 0)
		return 1;
	for (cut = 1; cut < n; cut += (int)arg)
		if (one_shot(hello, (size_t)cut, cut % 2 ? CLOSE : HALF_CLOSE) != 0)
			return 1;
	return 0;
}

/* arg connections that each start a handshake and stall, held for 3 s. */
static int c_tls_stalled(long arg)
{
	int *fds = calloc((size_t)arg, sizeof(int));
	long i, opened = 0;

	if (!fds)
		return 1;
	for (i = 0; i < arg; i++) {
		fds[i] = dial();
		if (fds[i] >= 0 && send(fds[i], "\x16\x03\x01\x02\x00\x01", 6, MSG_NOSIGNAL) == 6)
			opened++;
	}
	sleep(3);
	for (i = 0; i < arg; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return opened ? 0 : 1;
}

/* A whole handshake, then (arg) 0: nothing and close, 1: a reset, 2: garbage records. */
static int c_tls_after_handshake(long arg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct linger lin = { 1, 0 };
	struct peer p;
	uint8_t junk[512];
	int rc = 0;

	if (!ctx)
		return 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	tls_ctx = ctx;
	if (peer_open(&p) < 0) {
		rc = 1;
		goto out;
	}
	if (arg == 1) {
		setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(p.fd);
		SSL_free(p.ssl);
		goto out;
	}
	if (arg == 2) {
		/* Records of the right type and version, with bytes that are no ciphertext. */
		memset(junk, 0xee, sizeof(junk));
		memcpy(junk, "\x17\x03\x03\x01\xfb", 5);
		send(p.fd, junk, sizeof(junk), MSG_NOSIGNAL);
		peer_drain(&p, 2000);
	}
	peer_close(&p);
out:
	tls_ctx = NULL;
	SSL_CTX_free(ctx);
	return rc;
}

static const struct bad_case cases[] = {
	/* The OP header: cut at every byte, closed and half-closed. */
	{ "header cut after 1 byte", K_OP, c_header_cut, 1 },
	{ "header cut after 2 bytes", K_OP, c_header_cut, 2 },
	{ "header cut after 3 bytes", K_OP, c_header_cut, 3 },
	{ "header cut after 4 bytes (version and code)", K_OP, c_header_cut, 4 },
	{ "header cut after 5 bytes", K_OP, c_header_cut, 5 },
	{ "header cut after 6 bytes", K_OP, c_header_cut, 6 },
	{ "header cut after 7 bytes", K_OP, c_header_cut, 7 },
	{ "header cut after 2 bytes, half-closed", K_OP, c_header_cut, 0x102 },
	{ "header cut after 7 bytes, half-closed", K_OP, c_header_cut, 0x107 },
	{ "no bytes at all, half-closed", K_OP, c_header_cut, 0x100 },
	{ "version 1.0.6", K_OP, c_version, 0x0106 },
	{ "version 0", K_OP, c_version, 0x0000 },
	{ "version 0xffff", K_OP, c_version, 0xffff },
	{ "version 1.1.2", K_OP, c_version, 0x0112 },
	{ "code 0", K_OP, c_code, 0x0000 },
	{ "code 0x8001", K_OP, c_code, 0x8001 },
	{ "code 0x80ff", K_OP, c_code, 0x80ff },
	{ "code 0xffff", K_OP, c_code, 0xffff },
	{ "a reply code (OP_REP_IMPORT)", K_OP, c_code, 0x0003 },
	{ "a reply code (OP_REP_DEVLIST)", K_OP, c_code, 0x0005 },
	{ "a reply code (OP_REP_EXPORT)", K_OP, c_code, 0x0006 },
	{ "OP_REQ_EXPORT where it is not served", K_DM, c_code, OP_EXPORT },
	{ "OP_REQ_UNEXPORT where it is not served", K_DM, c_code, OP_UNEXPORT },
	{ "OP_REQ_IMPORT where it is not served", K_USBIPA, c_code, OP_IMPORT },
	{ "OP_REQ_DEVLIST where it is not served", K_USBIPA, c_code, OP_DEVLIST },
	{ "status 0xffffffff in a request", K_OP, c_status, 0xffffffff },
	{ "status 1 in a request", K_OP, c_status, 1 },
	/* OP_REQ_IMPORT: the busid cut at every field boundary, and bad busids. */
	{ "import: no busid", K_DM, c_import_cut, 0 },
	{ "import: busid cut after 1 byte", K_DM, c_import_cut, 1 },
	{ "import: busid cut after 3 bytes (no zero yet)", K_DM, c_import_cut, 3 },
	{ "import: busid cut after 16 bytes", K_DM, c_import_cut, 16 },
	{ "import: busid cut after 31 bytes", K_DM, c_import_cut, 31 },
	{ "import: busid of 32 bytes without a zero", K_DM, c_import_busid, 0 },
	{ "import: busid ../../../../dev/sda", K_DM, c_import_busid, 1 },
	{ "import: busid of an interface (1-1:1.0)", K_DM, c_import_busid, 2 },
	{ "import: busid with a newline", K_DM, c_import_busid, 3 },
	{ "import: busid with terminal escapes", K_DM, c_import_busid, 4 },
	{ "import: busid with a space", K_DM, c_import_busid, 5 },
	{ "import: empty busid", K_DM, c_import_busid, 6 },
	{ "import: busid of bytes past ASCII", K_DM, c_import_busid, 7 },
	{ "import: busid of no device (9-9)", K_DM, c_import_busid, 8 },
	{ "import: busid with a tab", K_DM, c_import_busid, 9 },
	{ "import: busid of printf conversions", K_DM, c_import_busid, 10 },
	/* OP_REQ_EXPORT and OP_REQ_UNEXPORT: the record cut at every field, fields made bad. */
	{ "export: no record", K_USBIPA, c_record_cut, 0 },
	{ "export: record cut in the path (1 byte)", K_USBIPA, c_record_cut, 1 },
	{ "export: record cut in the path (128 bytes)", K_USBIPA, c_record_cut, 128 },
	{ "export: record cut before the busid (256 bytes)", K_USBIPA, c_record_cut, 256 },
	{ "export: record cut in the busid (260 bytes)", K_USBIPA, c_record_cut, 260 },
	{ "export: record cut before busnum (288 bytes)", K_USBIPA, c_record_cut, 288 },
	{ "export: record cut in busnum (290 bytes)", K_USBIPA, c_record_cut, 290 },
	{ "export: record cut before devnum (292 bytes)", K_USBIPA, c_record_cut, 292 },
	{ "export: record cut before speed (296 bytes)", K_USBIPA, c_record_cut, 296 },
	{ "export: record cut before idVendor (300 bytes)", K_USBIPA, c_record_cut, 300 },
	{ "export: record cut before idProduct (302 bytes)", K_USBIPA, c_record_cut, 302 },
	{ "export: record cut before bcdDevice (304 bytes)", K_USBIPA, c_record_cut, 304 },
	{ "export: record cut before the classes (306 bytes)", K_USBIPA, c_record_cut, 306 },
	{ "export: record cut before bNumInterfaces (311 bytes)", K_USBIPA, c_record_cut, 311 },
	{ "unexport: no record", K_USBIPA, c_record_cut, 0x10000 },
	{ "unexport: record cut before the busid", K_USBIPA, c_record_cut, 0x10000 + 256 },
	{ "unexport: record cut before bNumInterfaces", K_USBIPA, c_record_cut, 0x10000 + 311 },
	{ "export: record of 0xff bytes", K_USBIPA, c_record_field, 0 },
	{ "export: path without its zero", K_USBIPA, c_record_field, 1 },
	{ "export: busid without its zero", K_USBIPA, c_record_field, 2 },
	{ "export: busid with a newline", K_USBIPA, c_record_field, 3 },
	{ "export: empty busid", K_USBIPA, c_record_field, 4 },
	{ "export: 33 interfaces (past the bound)", K_USBIPA, c_record_field, 5 },
	{ "export: speed 7", K_USBIPA, c_record_field, 6 },
	{ "export: speed 0", K_USBIPA, c_record_field, 7 },
	{ "export: serial without its zero", K_USBIPA, c_record_field, 8 },
	{ "export: serial with terminal escapes", K_USBIPA, c_record_field, 9 },
	{ "export: path with terminal escapes", K_USBIPA, c_record_field, 10 },
	{ "export: busnum and devnum 2^32-1", K_USBIPA, c_record_field, 11 },
	/* Whole connections that misbehave. */
	{ "two devlist requests back to back", K_DM, c_pipelined, OP_DEVLIST },
	{ "two export requests back to back", K_USBIPA, c_pipelined, OP_EXPORT },
	{ "a devlist request, then 64 KiB of junk", K_DM, c_trailing, OP_DEVLIST | 65536L << 16 },
	{ "an export request, then 64 KiB of junk", K_USBIPA, c_trailing,
	  OP_EXPORT | 65536L << 16 },
	{ "1 MiB of zeros, then a reset", K_OP, c_zeros, 1 << 20 },
	{ "a reset right after connecting", K_OP, c_reset, 0 },
	{ "a reset after half a header", K_OP, c_reset, 1 },
	{ "a devlist request, then no reading", K_DM, c_no_read, OP_DEVLIST },
	{ "an export request, then no reading", K_USBIPA, c_no_read, OP_EXPORT },
	{ "a TLS ClientHello on a plain port", K_OP, c_tls_on_plain, 0 },
	{ "200 connections of random bytes", K_OP, c_garbage, 200 },
	{ "1000 connections opened and closed", K_OP, c_flood, 1000 },
	{ "300 connections with half a header, reset at once", K_OP, c_half_open_burst, 300 },
	/* serve-mtp: URBs after a real import of 1-1. */
	{ "import, then nothing: closed at once", K_MTP, c_urb_cut, 0 },
	{ "import, then an URB header cut after 4 bytes", K_MTP, c_urb_cut, 4 },
	{ "import, then an URB header cut after 8 bytes", K_MTP, c_urb_cut, 8 },
	{ "import, then an URB header cut after 12 bytes", K_MTP, c_urb_cut, 12 },
	{ "import, then an URB header cut after 16 bytes", K_MTP, c_urb_cut, 16 },
	{ "import, then an URB header cut after 20 bytes", K_MTP, c_urb_cut, 20 },
	{ "import, then an URB header cut after 24 bytes", K_MTP, c_urb_cut, 24 },
	{ "import, then an URB header cut after 28 bytes", K_MTP, c_urb_cut, 28 },
	{ "import, then an URB header cut after 32 bytes", K_MTP, c_urb_cut, 32 },
	{ "import, then an URB header cut after 36 bytes", K_MTP, c_urb_cut, 36 },
	{ "import, then an URB header cut after 40 bytes (no setup)", K_MTP, c_urb_cut, 40 },
	{ "import, then an URB header cut after 47 bytes", K_MTP, c_urb_cut, 47 },
	{ "URB: command 0", K_MTP, c_urb_field, 0 },
	{ "URB: command 5", K_MTP, c_urb_field, 1 },
	{ "URB: a RET_SUBMIT from the host", K_MTP, c_urb_field, 2 },
	{ "URB: direction 2", K_MTP, c_urb_field, 3 },
	{ "URB: endpoint 16", K_MTP, c_urb_field, 4 },
	{ "URB: OUT of 16 MiB + 1 (past the bound)", K_MTP, c_urb_field, 5 },
	{ "URB: OUT of 4096 bytes with 10 sent (the length lies)", K_MTP, c_urb_field, 6 },
	{ "URB: 1025 ISO packets (past the bound)", K_MTP, c_urb_field, 7 },
	{ "URB: 2 ISO packets, one descriptor sent", K_MTP, c_urb_field, 8 },
	{ "URB: transfer length 2^31", K_MTP, c_urb_field, 9 },
	{ "URB: IN of 16 MiB on bulk IN", K_MTP, c_urb_field, 10 },
	{ "URB: an unlink of itself", K_MTP, c_urb_field, 11 },
	{ "URB: IN on missing endpoint 3", K_MTP, c_urb_endpoint, 3 },
	{ "URB: IN on missing endpoint 9", K_MTP, c_urb_endpoint, 9 },
	{ "URB: IN on missing endpoint 15", K_MTP, c_urb_endpoint, 15 },
	{ "URB: OUT on endpoint 2 (an IN endpoint)", K_MTP, c_urb_endpoint, 16 + 2 },
	{ "URB: OUT on missing endpoint 7", K_MTP, c_urb_endpoint, 16 + 7 },
	{ "URB: OUT on missing endpoint 15", K_MTP, c_urb_endpoint, 16 + 15 },
	{ "2000 unlinks of URBs never submitted", K_MTP, c_unlink_storm, 2000 },
	{ "1000 IN URBs waiting, each unlinked", K_MTP, c_submit_unlink, 1000 },
	{ "4200 IN URBs on the interrupt endpoint (past 4096 waiting)", K_MTP, c_intr_flood, 4200 },
	{ "control: GET_DESCRIPTOR of 65535 bytes", K_MTP, c_control, 0 },
	{ "control: a BOS descriptor it does not have", K_MTP, c_control, 1 },
	{ "control: string descriptor 255", K_MTP, c_control, 2 },
	{ "control: SET_CONFIGURATION 7", K_MTP, c_control, 3 },
	{ "control: SET_INTERFACE on interface 5", K_MTP, c_control, 4 },
	{ "control: CLEAR_FEATURE(HALT) on missing ep 9", K_MTP, c_control, 5 },
	{ "control: a class request to interface 9", K_MTP, c_control, 6 },
	{ "control: cancel with 100 bytes of data", K_MTP, c_control, 7 },
	{ "control: MS OS descriptor of 65535 bytes", K_MTP, c_control, 8 },
	{ "control: a vendor request", K_MTP, c_control, 9 },
	{ "MTP: a command whose length says 1 GiB", K_MTP, c_mtp, 0 },
	{ "MTP: a data container with no command", K_MTP, c_mtp, 1 },
	{ "MTP: an unknown operation with 5 parameters", K_MTP, c_mtp, 2 },
	{ "MTP: GetObject of no object, no session", K_MTP, c_mtp, 3 },
	{ "MTP: a 600-byte command container", K_MTP, c_mtp, 4 },
	{ "MTP: container type 9", K_MTP, c_mtp, 5 },
	{ "MTP: a response container from the host", K_MTP, c_mtp, 6 },
	{ "2000 commands with their IN URBs, the peer reading nothing", K_MTP, c_no_reader, 2000 },
	{ "a second import while the device is imported", K_MTP, c_second_import, 0 },
	/* TLS, raw, for a daemon with --tls. */
	{ "TLS: a plain USB/IP request on the TLS port", K_TLS, c_tls_raw, 0 },
	{ "TLS: a handshake record header alone, then silence", K_TLS, c_tls_raw, 1 },
	{ "TLS: a record whose length lies (65535, 100 sent)", K_TLS, c_tls_raw, 2 },
	{ "TLS: an empty handshake record", K_TLS, c_tls_raw, 3 },
	{ "TLS: an SSLv2-style hello", K_TLS, c_tls_raw, 4 },
	{ "TLS: an alert instead of a hello", K_TLS, c_tls_raw, 5 },
	{ "TLS: application data before any handshake", K_TLS, c_tls_raw, 6 },
	{ "TLS: a handshake header and 500 random bytes", K_TLS, c_tls_raw, 7 },
	{ "TLS: a real ClientHello cut at every 7th byte", K_TLS, c_tls_hello_cuts, 7 },
	{ "TLS: 300 stalled handshakes held 3 s (past the 256 slots)", K_TLS, c_tls_stalled, 300 },
	{ "TLS: a whole handshake, then closed", K_TLS, c_tls_after_handshake, 0 },
	{ "TLS: a whole handshake, then a reset", K_TLS, c_tls_after_handshake, 1 },
	{ "TLS: a whole handshake, then records that are no ciphertext", K_TLS,
	  c_tls_after_handshake, 2 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int list_cases(const char *kind)
{
	static const struct {
		const char *name;
		unsigned kind;
	} kinds[] = { { "usbipd", K_USBIPD },
		      { "usbipa", K_USBIPA },
		      { "serve-mtp", K_MTP },
		      { "tls", K_TLS } };
	size_t i, k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kind, kinds[k].name) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		fprintf(stderr, "bad_peer: no kind '%s' (usbipd, usbipa, serve-mtp, tls)\n", kind);
		return 2;
	}
	for (i = 0; i < NCASES; i++)
		if (cases[i].kinds & kinds[k].kind)
			printf("%s\n", cases[i].name);
	return 0;
}

static int run_case(const char *name)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		if (strcmp(cases[i].name, name) == 0)
			return cases[i].run(cases[i].arg);
	fprintf(stderr, "bad_peer: no case '%s'\n", name);
	return 2;
}

/* ---- the groups the guest cases use ----------------------------------- */

static int mode_truncated(void)
{
	uint8_t req[8 + RECORD];
	size_t n;

	import_request(req, "1-1", 3);
	for (n = 0; n < 8 + 32; n++)
		if (one_shot(req, n, n % 2 ? HALF_CLOSE : CLOSE) != 0)
			return 1;
	export_request(req, OP_EXPORT);
	for (n = 0; n < sizeof(req); n += 13)
		if (one_shot(req, n, HALF_CLOSE) != 0)
			return 1;
	return 0;
}

static int mode_fields(void)
{
	static const uint16_t codes[] = { 0x0003, 0x0005, 0x8001, 0x8004, 0x80ff, 0xffff, 0x0000 };
	size_t i;

	if (c_version(0x0106) != 0)
		return 1;
	c_version(0xffff);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		c_code(codes[i]);
	for (i = 0; i < 3; i++)
		c_import_busid((long)i);
	c_record_field(0);
	c_pipelined(OP_DEVLIST);
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

static int mode_slow(void)
{
	uint8_t req[8];
	int fd = dial(), i;

	if (fd < 0)
		return 1;
	put_header(req, 0x0111, OP_DEVLIST);
	for (i = 0; i < 8; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) < 0)
			break;
		sleep(1);
	}
	close(fd);
	return 0;
}

/* ---- good clients ------------------------------------------------------ */

/* A well-formed export or unexport request; 0 when the daemon answered properly. */
static int mode_request(uint16_t code)
{
	uint8_t req[8 + RECORD], rep[8];
	struct peer p;

	if (peer_open(&p) < 0)
		return 1;
	export_request(req, code);
	if (peer_send(&p, req, sizeof(req)) != 0 || peer_read_full(&p, rep, sizeof(rep)) != 0 ||
	    rep[0] != 0x01 || rep[1] != 0x11 || rep[2] != 0 || rep[3] != (code & 0xff)) {
		fprintf(stderr, "bad_peer: no proper reply\n");
		peer_close(&p);
		return 3;
	}
	peer_close(&p);
	printf("status %u\n", get32(rep + 4));
	return 0;
}

/* One URB and its RET_SUBMIT; IN data into in (cap bytes). Returns actual_length or -1. */
static long mtp_urb(struct peer *p, uint8_t *h, const uint8_t *out, size_t out_len, uint8_t *in,
		    size_t cap)
{
	uint8_t rep[URB_HDR];
	uint32_t actual;

	if (peer_send(p, h, URB_HDR) != 0 || (out_len && peer_send(p, out, out_len) != 0) ||
	    peer_read_full(p, rep, sizeof(rep)) != 0)
		return -1;
	actual = get32(rep + 24);
	if (get32(rep) != 3 || get32(rep + 4) != get32(h + 4) || get32(rep + 20) != 0 ||
	    (get32(h + 12) == 1 && actual > cap))
		return -1;
	if (get32(h + 12) == 1 && peer_read_full(p, in, actual) != 0)
		return -1;
	return actual;
}

/* A good MTP session: import, SET_CONFIGURATION, OpenSession, GetStorageIDs. */
static int mode_mtp(const char *busid)
{
	uint8_t h[URB_HDR], c[16], in[512];
	uint32_t one = 1;
	struct peer p;
	long n;
	size_t len;
	int rc = 3;

	if (peer_open(&p) < 0)
		return 1;
	if (mtp_import(&p, busid) != 0)
		goto out;
	urb_control(h, 1, 0x00, 9, 1, 0, 0);
	if (mtp_urb(&p, h, NULL, 0, NULL, 0) != 0)
		goto out;
	len = mtp_command(c, 0x1002, 0, 1, &one); /* OpenSession(1) */
	urb_submit(h, 2, 0, 1, (uint32_t)len);
	if (mtp_urb(&p, h, c, len, NULL, 0) != (long)len)
		goto out;
	urb_submit(h, 3, 1, 1, sizeof(in));
	n = mtp_urb(&p, h, NULL, 0, in, sizeof(in));
	if (n != 12 || in[4] != 3 || in[6] != 0x01 || in[7] != 0x20) /* response OK */
		goto out;
	len = mtp_command(c, 0x1004, 1, 0, NULL); /* GetStorageIDs */
	urb_submit(h, 4, 0, 1, (uint32_t)len);
	if (mtp_urb(&p, h, c, len, NULL, 0) != (long)len)
		goto out;
	urb_submit(h, 5, 1, 1, sizeof(in));
	n = mtp_urb(&p, h, NULL, 0, in, sizeof(in));
	if (n < 16 || in[4] != 2 || in[12] == 0) /* data: at least one storage */
		goto out;
	urb_submit(h, 6, 1, 1, sizeof(in));
	n = mtp_urb(&p, h, NULL, 0, in, sizeof(in));
	if (n != 12 || in[4] != 3 || in[6] != 0x01 || in[7] != 0x20)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bad_peer: serve-mtp did not answer an MTP session properly\n");
	peer_close(&p);
	return rc;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An OUT transfer of len bytes on the bulk pipe; 0 when all was taken. */
static int mtp_out(struct peer *p, uint32_t seq, const void *buf, size_t len)
{
	uint8_t h[URB_HDR];

	urb_submit(h, seq, 0, 1, (uint32_t)len);
	return mtp_urb(p, h, buf, len, NULL, 0) == (long)len ? 0 : -1;
}

/* An IN transfer of up to cap bytes on the bulk pipe; its length or -1. */
static long mtp_in(struct peer *p, uint32_t seq, uint8_t *in, size_t cap)
{
	uint8_t h[URB_HDR];

	urb_submit(h, seq, 1, 1, (uint32_t)cap);
	return mtp_urb(p, h, NULL, 0, in, cap);
}

/* The response container of an operation: 0 when it is OK; its first parameter in *par. */
static int mtp_ok(struct peer *p, uint32_t seq, uint32_t *par)
{
	uint8_t in[512];
	long n = mtp_in(p, seq, in, sizeof(in));

	if (n < 12 || in[4] != 3 || in[6] != 0x01 || in[7] != 0x20)
		return -1;
	if (par)
		*par = n >= 16 ? get_le32(in + 12) : 0;
	return 0;
}

/* Import, SET_CONFIGURATION, OpenSession(1) (URBs 1-3); 0 when all was answered right. */
static int mtp_open(struct peer *p, const char *busid)
{
	uint8_t h[URB_HDR], c[16];
	uint32_t one = 1;

	if (mtp_import(p, busid) != 0)
		return -1;
	urb_control(h, 1, 0x00, 9, 1, 0, 0);
	if (mtp_urb(p, h, NULL, 0, NULL, 0) != 0)
		return -1;
	if (mtp_out(p, 2, c, mtp_command(c, 0x1002, 0, 1, &one)) != 0)
		return -1;
	return mtp_ok(p, 3, NULL);
}

/* A data container (header and payload) of operation code, transaction tid. */
static size_t mtp_data(uint8_t *d, uint16_t code, uint32_t tid, const void *payload, size_t len)
{
	put_le32(d, (uint32_t)(12 + len));
	d[4] = 2;
	d[5] = 0;
	d[6] = (uint8_t)code;
	d[7] = (uint8_t)(code >> 8);
	put_le32(d + 8, tid);
	if (len)
		memcpy(d + 12, payload, len);
	return 12 + len;
}

/* An ObjectInfo dataset of a file called name (ASCII) of size bytes, at the top. */
static size_t object_info(uint8_t *d, const char *name, uint32_t size)
{
	size_t len = strlen(name), i;

	memset(d, 0, 52 + 1 + 2 * (len + 1) + 3);
	put_le32(d, 0x00010001);
	d[5] = 0x30; /* ObjectFormat 0x3000: undefined */
	put_le32(d + 8, size);
	put_le32(d + 38, 0xffffffff); /* ParentObject: the top */
	d[52] = (uint8_t)(len + 1);
	for (i = 0; i < len; i++)
		d[53 + 2 * i] = (uint8_t)name[i];
	return 52 + 1 + 2 * (len + 1) + 3; /* and three empty strings */
}

/* An upload of 1 MiB as name, cut after 64 KiB of its data (URBs 4-12). */
static int hold_upload(struct peer *p, const char *name)
{
	uint8_t c[32], info[600], d[700], chunk[16384];
	uint32_t par[2] = { 0x00010001, 0xffffffff };
	uint32_t seq;

	if (strlen(name) > 200)
		return -1;
	if (mtp_out(p, 4, c, mtp_command(c, 0x100c, 1, 2, par)) != 0 ||
	    mtp_out(p, 5, d, mtp_data(d, 0x100c, 1, info, object_info(info, name, 1u << 20))) !=
		    0 ||
	    mtp_ok(p, 6, NULL) != 0)
		return -1;
	if (mtp_out(p, 7, c, mtp_command(c, 0x100d, 2, 0, NULL)) != 0)
		return -1;
	mtp_data(d, 0x100d, 2, NULL, 0);
	put_le32(d, 12 + (1u << 20)); /* the data container's header says 1 MiB */
	if (mtp_out(p, 8, d, 12) != 0)
		return -1;
	memset(chunk, 'u', sizeof(chunk));
	for (seq = 9; seq < 13; seq++)
		if (mtp_out(p, seq, chunk, sizeof(chunk)) != 0)
			return -1;
	return 0;
}

/* A download of the first object at the top, cut after its first 16 KiB (URBs 4-9). */
static int hold_download(struct peer *p)
{
	uint8_t c[32], in[16384];
	uint32_t par[3] = { 0x00010001, 0, 0xffffffff }, handle;
	long n;

	if (mtp_out(p, 4, c, mtp_command(c, 0x1007, 1, 3, par)) != 0)
		return -1;
	n = mtp_in(p, 5, in, 512);
	if (n < 20 || in[4] != 2 || get32(in + 12) == 0) /* data: at least one handle */
		return -1;
	handle = get_le32(in + 16);
	if (mtp_ok(p, 6, NULL) != 0 || mtp_out(p, 7, c, mtp_command(c, 0x1009, 2, 1, &handle)) != 0)
		return -1;
	n = mtp_in(p, 8, in, sizeof(in));
	return n == (long)sizeof(in) && in[4] == 2 ? 0 : -1;
}

/*
 * mtp-hold BUSID STATE [NAME]: imports BUSID and opens an MTP session, gets
 * into STATE (idle; upload: a 1 MiB upload as NAME cut after 64 KiB;
 * download: the first object at the top, cut after 16 KiB), says
 * "holding" on stdout, and waits up to 30 s for the daemon to close the
 * connection: 0 when it did, 3 when it did not or a step went wrong.
 */
static int mode_mtp_hold(const char *busid, const char *state, const char *name)
{
	struct peer p;
	uint8_t sink[4096];
	time_t until;
	int rc = -1;

	if (peer_open(&p) < 0)
		return 1;
	if (mtp_open(&p, busid) == 0) {
		if (strcmp(state, "idle") == 0)
			rc = 0;
		else if (strcmp(state, "upload") == 0)
			rc = hold_upload(&p, name ? name : "upload.bin");
		else if (strcmp(state, "download") == 0)
			rc = hold_download(&p);
	}
	if (rc != 0) {
		fprintf(stderr, "bad_peer: could not get into state '%s'\n", state);
		peer_close(&p);
		return 3;
	}
	printf("holding\n");
	fflush(stdout);
	for (until = time(NULL) + 30; time(NULL) < until;) {
		ssize_t n = peer_recv(&p, sink, sizeof(sink));

		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			peer_close(&p);
			return 0;
		}
	}
	fprintf(stderr, "bad_peer: the connection is still open after 30 s\n");
	peer_close(&p);
	return 3;
}

int main(int argc, char **argv)
{
	int count, seconds, rc;

	signal(SIGPIPE, SIG_IGN); /* a daemon that hangs up is fine; SSL_write would kill us */
	if (argc > 1 && strcmp(argv[1], "--tls") == 0) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (!tls_ctx)
			return 1;
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: bad_peer [--tls] HOST PORT MODE [ARG...]\n");
		return 2;
	}
	host = argv[1];
	port = argv[2];
	count = argc > 4 ? atoi(argv[4]) : 100;
	seconds = argc > 5 ? atoi(argv[5]) : 5;
	if (strcmp(argv[3], "cases") == 0 && argc > 4)
		return list_cases(argv[4]);
	if (strcmp(argv[3], "case") == 0 && argc > 4)
		rc = run_case(argv[4]);
	else if (strcmp(argv[3], "mtp") == 0)
		return mode_mtp(argc > 4 ? argv[4] : "1-1");
	else if (strcmp(argv[3], "mtp-hold") == 0 && argc > 5)
		return mode_mtp_hold(argv[4], argv[5], argc > 6 ? argv[6] : NULL);
	else if (strcmp(argv[3], "garbage") == 0)
		rc = c_garbage(count);
	else if (strcmp(argv[3], "truncated") == 0)
		rc = mode_truncated();
	else if (strcmp(argv[3], "fields") == 0)
		rc = mode_fields();
	else if (strcmp(argv[3], "hold") == 0)
		rc = mode_hold(count, seconds);
	else if (strcmp(argv[3], "flood") == 0)
		rc = c_flood(count);
	else if (strcmp(argv[3], "slow") == 0)
		rc = mode_slow();
	else if (strcmp(argv[3], "export") == 0)
		return mode_request(OP_EXPORT);
	else if (strcmp(argv[3], "unexport") == 0)
		return mode_request(OP_UNEXPORT);
	else {
		fprintf(stderr, "bad_peer: unknown mode '%s'\n", argv[3]);
		return 2;
	}
	if (rc == 1)
		fprintf(stderr, "bad_peer: cannot reach %s port %s: %s\n", host, port,
			strerror(errno));
	return rc;
}
