// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtual device engine driven as vhci-hcd drives it: hand-built URB
 * PDUs over a socketpair into a USB/IP session on the event loop, replies
 * read back and checked: standard control requests, class requests passed
 * to the function, IN URBs held until there is data, CMD_UNLINK of queued
 * and completed URBs, the zero-length-packet rule and URB_SHORT_NOT_OK;
 * and what a hostile peer tries: reading nothing while a large message
 * streams, control URBs whose direction disagrees with their request, huge
 * control buffers for tiny answers, TLS input already decrypted, and an
 * importer that does nothing; and the engine asking a function what
 * follows a message rather than being written into from its own call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ev.h"
#include "net/tcp.h"
#include "vdev/vdev.h"
#include "vdev/vdev_usbip.h"
#include "wire/usbip_proto.h"
#include "loop_util.h"

static const uint8_t dev_desc[18] = { 18,   1,	  0x00, 0x02, 0,    0, 0, 64, 0x6b,
				      0x1d, 0x34, 0x12, 0x00, 0x01, 1, 2, 0,  1 };
static const uint8_t cfg_desc[] = {
	9, 2,	 32,   0, 1,	1,    0, 0xc0, 1, 9,	4,    0, 0,
	2, 0xff, 0,    0, 0,	7,    5, 0x81, 2, 0x00, 0x02, 0, /* bulk IN, 512 */
	7, 5,	 0x02, 2, 0x00, 0x02, 0,			 /* bulk OUT, 512 */
};
static const char *const strings[] = { "maker", "thing" };

struct harness {
	int client; /* vhci's end */
	struct ev_loop *loop;
	struct vdev *dev;
	struct vdev_usbip *session;
	bool closed;
	int class_requests;
	uint8_t dir_of[256]; /* submit direction by seqnum, to parse RET_SUBMIT */
	/* the streaming function: an OUT "GET" starts a message of stream_len bytes */
	uint64_t stream_len, stream_off;
	bool streaming;
};

/* Byte off of the streamed message: cheap to make and to check. */
static uint8_t stream_byte(uint64_t off)
{
	return (uint8_t)(off >> 12);
}

/* The function: echoes each OUT transfer back on 0x81 as one message. */
static void echo_out(void *priv, uint8_t ep, const uint8_t *data, size_t len)
{
	struct harness *h = priv;

	(void)ep;
	vdev_in_write(h->dev, 0x81, data, len, true);
}

static int class_request(void *priv, const struct vdev_setup *s, uint8_t *data)
{
	struct harness *h = priv;

	h->class_requests++;
	if (s->request != 0x42)
		return -1;
	if (s->request_type & VDEV_REQ_DIR_IN) {
		memcpy(data, "\x01\x02\x03", 3);
		return 3;
	}
	return 0;
}

static const struct vdev_ops ops = { .control = class_request, .out = echo_out };

/* A function like MTP's GetObject: a 3-byte header queued, the rest written straight into URBs. */
static void stream_out(void *priv, uint8_t ep, const uint8_t *data, size_t len)
{
	struct harness *h = priv;

	(void)ep;
	if (len == 3 && memcmp(data, "GET", 3) == 0) {
		h->streaming = true;
		h->stream_off = 0;
		vdev_in_write(h->dev, 0x81, "HDR", 3, false);
	}
}

static size_t stream_direct(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end)
{
	struct harness *h = priv;
	size_t n, i;

	if (ep != 0x81 || !h->streaming)
		return 0;
	n = h->stream_len - h->stream_off < room ? (size_t)(h->stream_len - h->stream_off) : room;
	for (i = 0; i < n;) {
		size_t run = 4096 - ((h->stream_off + i) & 4095);

		if (run > n - i)
			run = n - i;
		memset(buf + i, stream_byte(h->stream_off + i), run);
		i += run;
	}
	h->stream_off += n;
	if (h->stream_off == h->stream_len) {
		h->streaming = false;
		*end = true;
	}
	return n;
}

static const struct vdev_ops stream_ops = { .out = stream_out, .in_direct = stream_direct };

/* The session ended: stop the loop, so that waiting for this is waiting for a condition. */
static void closed(void *arg)
{
	struct harness *h = arg;

	h->closed = true;
	ev_loop_stop(h->loop);
}

/* Runs the loop until it has been idle for a moment. */
static void pump(struct harness *h)
{
	assert_int_equal(run_loop_for(h->loop, 40), 0);
}

static int setup_with(void **state, const struct vdev_ops *fops)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct vdev_config cfg = { .device_desc = dev_desc,
				   .config_desc = cfg_desc,
				   .strings = strings,
				   .num_strings = 2,
				   .speed = USBIP_SPEED_HIGH,
				   .ops = fops };
	int sv[2];

	assert_non_null(h);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h->client = sv[0];
	h->loop = ev_loop_new();
	cfg.priv = h;
	h->dev = vdev_new(&cfg);
	assert_non_null(h->dev);
	h->session = vdev_usbip_start(h->loop, tcp_conn_from_fd(sv[1]), h->dev, closed, h);
	assert_non_null(h->session);
	*state = h;
	return 0;
}

static int setup_harness(void **state)
{
	return setup_with(state, &ops);
}

static int setup_stream(void **state)
{
	return setup_with(state, &stream_ops);
}

static int teardown(void **state)
{
	struct harness *h = *state;

	if (!h->closed)
		vdev_usbip_stop(h->session);
	vdev_free(h->dev);
	ev_loop_free(h->loop);
	close(h->client);
	free(h);
	return 0;
}

static void submit(struct harness *h, uint32_t seq, uint32_t ep, bool in, uint32_t len,
		   uint32_t flags, const uint8_t setup[8], const void *out_data)
{
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_CMD_SUBMIT,
			  .seqnum = seq,
			  .devid = 0x10002,
			  .direction = in ? USBIP_DIR_IN : USBIP_DIR_OUT,
			  .ep = ep },
		.u.cmd_submit = { .transfer_flags = flags, .transfer_buffer_length = len },
	};
	uint8_t buf[USBIP_URB_HEADER_SIZE];

	if (setup)
		memcpy(hdr.u.cmd_submit.setup, setup, 8);
	h->dir_of[seq & 0xff] = in;
	usbip_proto_encode_urb_header(buf, &hdr);
	assert_int_equal(write(h->client, buf, sizeof(buf)), sizeof(buf));
	if (!in && len)
		assert_int_equal(write(h->client, out_data, len), (ssize_t)len);
}

static void unlink_urb(struct harness *h, uint32_t seq, uint32_t target)
{
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_CMD_UNLINK, .seqnum = seq, .devid = 0x10002 },
		.u.cmd_unlink = { .unlink_seqnum = target },
	};
	uint8_t buf[USBIP_URB_HEADER_SIZE];

	usbip_proto_encode_urb_header(buf, &hdr);
	assert_int_equal(write(h->client, buf, sizeof(buf)), sizeof(buf));
}

static void write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* The next reply; data gets an IN RET_SUBMIT's payload. */
static void reply(struct harness *h, struct usbip_urb_header *hdr, uint8_t *data, size_t cap)
{
	uint8_t buf[USBIP_URB_HEADER_SIZE];
	struct usbip_error err;
	struct usbip_proto_urb_payload pl;

	assert_true(readable(h->client));
	read_full(h->client, buf, sizeof(buf));
	assert_int_equal(usbip_proto_decode_urb_header(buf, sizeof(buf), hdr, &err), 0);
	/* replies carry devid, direction and ep 0: vhci matches by seqnum */
	assert_int_equal(hdr->base.devid, 0);
	assert_int_equal(hdr->base.direction, 0);
	assert_int_equal(hdr->base.ep, 0);
	assert_int_equal(
		usbip_proto_urb_payload(hdr, h->dir_of[hdr->base.seqnum & 0xff], &pl, &err), 0);
	if (hdr->base.command == USBIP_RET_SUBMIT)
		assert_true(pl.data_len <= cap);
	if (pl.data_len)
		read_full(h->client, data, pl.data_len);
}

static void control_in(struct harness *h, uint32_t seq, const char *setup_hex, uint32_t len)
{
	uint8_t setup[8];
	size_t i;

	for (i = 0; i < 8; i++) {
		unsigned int v;

		assert_int_equal(sscanf(setup_hex + 2 * i, "%2x", &v), 1);
		setup[i] = (uint8_t)v;
	}
	submit(h, seq, 0, (setup[0] & 0x80) != 0, len, 0, setup, NULL);
	pump(h);
}

static void test_descriptors(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[512];

	control_in(h, 1, "8006000100001200", 64); /* GET_DESCRIPTOR device, 18 */
	reply(h, &r, data, 64);
	assert_int_equal(r.base.command, USBIP_RET_SUBMIT);
	assert_int_equal(r.base.seqnum, 1);
	assert_int_equal(r.u.ret_submit.status, 0);
	assert_int_equal(r.u.ret_submit.actual_length, 18);
	assert_memory_equal(data, dev_desc, 18);

	control_in(h, 2, "8006000200000900", 9); /* configuration, first 9 bytes */
	reply(h, &r, data, 9);
	assert_int_equal(r.u.ret_submit.actual_length, 9);
	control_in(h, 3, "800600020000ff00", 255); /* all of it */
	reply(h, &r, data, 255);
	assert_int_equal(r.u.ret_submit.actual_length, sizeof(cfg_desc));
	assert_memory_equal(data, cfg_desc, sizeof(cfg_desc));

	control_in(h, 4, "800600030000ff00", 255); /* languages */
	reply(h, &r, data, 255);
	assert_int_equal(r.u.ret_submit.actual_length, 4);
	control_in(h, 5, "800602030904ff00", 255); /* string 2 */
	reply(h, &r, data, 255);
	assert_int_equal(r.u.ret_submit.actual_length, 12);
	assert_memory_equal(data + 2, "t\0h\0i\0n\0g\0", 10);
	control_in(h, 6, "8006ee030000ff00", 255); /* Microsoft OS string: none, stall */
	reply(h, &r, data, 255);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	assert_int_equal(r.u.ret_submit.actual_length, 0);
	assert_false(h->closed);
}

static void test_configuration_and_halt(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[64];

	control_in(h, 1, "0009010000000000", 0); /* SET_CONFIGURATION 1 */
	reply(h, &r, data, 0);
	assert_int_equal(r.u.ret_submit.status, 0);
	control_in(h, 2, "8008000000000100", 1); /* GET_CONFIGURATION */
	reply(h, &r, data, 1);
	assert_int_equal(data[0], 1);
	control_in(h, 3, "0203000081000000", 0); /* SET_FEATURE(HALT) on 0x81 */
	reply(h, &r, data, 0);
	control_in(h, 4, "8200000081000200", 2); /* GET_STATUS 0x81: halted */
	reply(h, &r, data, 2);
	assert_int_equal(data[0], 1);
	submit(h, 5, 1, true, 512, 0, NULL, NULL);
	pump(h);
	reply(h, &r, data, 64);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	control_in(h, 6, "0201000081000000", 0); /* CLEAR_FEATURE(HALT) */
	reply(h, &r, data, 0);
	control_in(h, 7, "8200000081000200", 2);
	reply(h, &r, data, 2);
	assert_int_equal(data[0], 0);
	control_in(h, 8, "000b010000000000", 0); /* SET_INTERFACE alt 1: none */
	reply(h, &r, data, 0);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	control_in(h, 9, "a142000000000300", 3); /* class request, passed on */
	reply(h, &r, data, 3);
	assert_int_equal(r.u.ret_submit.actual_length, 3);
	assert_memory_equal(data, "\x01\x02\x03", 3);
	control_in(h, 10, "a143000000000300", 3); /* one it refuses */
	reply(h, &r, data, 3);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	assert_int_equal(h->class_requests, 2);
}

static void configure(struct harness *h)
{
	struct usbip_urb_header r;
	uint8_t data[8];

	control_in(h, 200, "0009010000000000", 0);
	reply(h, &r, data, 0);
}

static void test_in_held_and_unlink(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[1024];

	configure(h);
	submit(h, 10, 1, true, 1024, 0, NULL, NULL);
	submit(h, 11, 1, true, 1024, 0, NULL, NULL);
	pump(h);
	assert_false(readable(h->client)); /* held: no data yet */

	unlink_urb(h, 12, 11); /* still queued: -ECONNRESET, and never completed */
	pump(h);
	reply(h, &r, data, 0);
	assert_int_equal(r.base.command, USBIP_RET_UNLINK);
	assert_int_equal(r.base.seqnum, 12);
	assert_int_equal(r.u.ret_unlink.status, -ECONNRESET);

	submit(h, 13, 2, false, 5, 0, NULL, "hello");
	pump(h);
	reply(h, &r, data, 0); /* the OUT URB */
	assert_int_equal(r.base.seqnum, 13);
	assert_int_equal(r.u.ret_submit.actual_length, 5);
	reply(h, &r, data, sizeof(data)); /* URB 10 gets the echo */
	assert_int_equal(r.base.seqnum, 10);
	assert_int_equal(r.u.ret_submit.actual_length, 5);
	assert_memory_equal(data, "hello", 5);
	assert_false(readable(h->client)); /* and 11 never comes */

	unlink_urb(h, 14, 10);	/* already completed: status 0 */
	unlink_urb(h, 15, 999); /* never seen: status 0 */
	pump(h);
	reply(h, &r, data, 0);
	assert_int_equal(r.base.seqnum, 14);
	assert_int_equal(r.u.ret_unlink.status, 0);
	reply(h, &r, data, 0);
	assert_int_equal(r.base.seqnum, 15);
	assert_int_equal(r.u.ret_unlink.status, 0);
}

static void test_zlp_and_short_not_ok(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[1024], msg[512];

	configure(h);
	memset(msg, 0xab, sizeof(msg));
	/* a 512-byte message into a 512-byte URB: the ZLP completes the next URB empty */
	submit(h, 20, 1, true, 512, 0, NULL, NULL);
	submit(h, 21, 1, true, 512, 0, NULL, NULL);
	submit(h, 22, 2, false, 512, 0, NULL, msg);
	pump(h);
	reply(h, &r, data, 0);
	assert_int_equal(r.base.seqnum, 22);
	reply(h, &r, data, 512);
	assert_int_equal(r.base.seqnum, 20);
	assert_int_equal(r.u.ret_submit.actual_length, 512);
	reply(h, &r, data, 512);
	assert_int_equal(r.base.seqnum, 21);
	assert_int_equal(r.u.ret_submit.actual_length, 0);

	/* a 512-byte message in a 1024-byte URB: the ZLP ends that URB, nothing spills */
	submit(h, 23, 1, true, 1024, 0, NULL, NULL);
	submit(h, 24, 2, false, 512, 0, NULL, msg);
	pump(h);
	reply(h, &r, data, 0);
	reply(h, &r, data, 1024);
	assert_int_equal(r.base.seqnum, 23);
	assert_int_equal(r.u.ret_submit.actual_length, 512);
	assert_false(readable(h->client));

	/* short with URB_SHORT_NOT_OK: -EREMOTEIO, the data still comes */
	submit(h, 25, 1, true, 1024, USBIP_URB_SHORT_NOT_OK, NULL, NULL);
	submit(h, 26, 2, false, 3, 0, NULL, "abc");
	pump(h);
	reply(h, &r, data, 0);
	reply(h, &r, data, 1024);
	assert_int_equal(r.base.seqnum, 25);
	assert_int_equal(r.u.ret_submit.status, -EREMOTEIO);
	assert_int_equal(r.u.ret_submit.actual_length, 3);
	assert_memory_equal(data, "abc", 3);

	/* a message larger than the URB continues in the next one */
	submit(h, 27, 1, true, 100, 0, NULL, NULL);
	submit(h, 28, 1, true, 1024, 0, NULL, NULL);
	submit(h, 29, 2, false, 300, 0, NULL, data);
	pump(h);
	reply(h, &r, data, 0);
	reply(h, &r, data, 100);
	assert_int_equal(r.u.ret_submit.actual_length, 100);
	reply(h, &r, data, 1024);
	assert_int_equal(r.base.seqnum, 28);
	assert_int_equal(r.u.ret_submit.actual_length, 200);
}

static void test_unconfigured_and_bad_endpoint(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[16];

	submit(h, 30, 1, true, 512, 0, NULL, NULL); /* not configured yet */
	pump(h);
	reply(h, &r, data, 0);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	configure(h);
	submit(h, 31, 5, true, 512, 0, NULL, NULL); /* no such endpoint */
	pump(h);
	reply(h, &r, data, 0);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	assert_false(h->closed);
	submit(h, 32, 99, false, 0, 0, NULL, NULL); /* not an endpoint number: a broken peer */
	pump(h);
	assert_true(h->closed);
}

/* More waiting IN URBs than VDEV_MAX_WAITING: the one too many is refused, not kept. */
static void test_in_urb_flood_bounded(void **state)
{
	struct harness *h = *state;
	size_t n = VDEV_MAX_WAITING + 1, i;
	uint8_t *all = malloc(n * USBIP_URB_HEADER_SIZE), data[16];
	struct usbip_urb_header r;
	int big = 4 << 20;

	assert_non_null(all);
	configure(h);
	setsockopt(h->client, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (i = 0; i < n; i++) {
		struct usbip_urb_header hdr = {
			.base = { .command = USBIP_CMD_SUBMIT,
				  .seqnum = 1000 + (uint32_t)i,
				  .devid = 0x10002,
				  .direction = USBIP_DIR_IN,
				  .ep = 1 },
			.u.cmd_submit = { .transfer_buffer_length = 16u << 20 },
		};

		usbip_proto_encode_urb_header(all + i * USBIP_URB_HEADER_SIZE, &hdr);
	}
	write_full(h->client, all, n * USBIP_URB_HEADER_SIZE);
	free(all);
	pump(h);
	h->dir_of[(1000 + n - 1) & 0xff] = 1;
	reply(h, &r, data, 0);
	assert_int_equal(r.base.seqnum, 1000 + n - 1);
	assert_int_equal(r.u.ret_submit.status, -ENOMEM);
	assert_false(h->closed);
}

static void test_garbage_drops_connection(void **state)
{
	struct harness *h = *state;
	uint8_t junk[USBIP_URB_HEADER_SIZE];

	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(write(h->client, junk, sizeof(junk)), sizeof(junk));
	pump(h);
	assert_true(h->closed);
}

static void test_peer_gone(void **state)
{
	struct harness *h = *state;

	configure(h);
	submit(h, 40, 1, true, 512, 0, NULL, NULL);
	pump(h);
	shutdown(h->client, SHUT_WR);
	pump(h);
	assert_true(h->closed); /* and ASan checks the queued URB was freed */
}

/*
 * Reads replies while the loop runs until want of them came, and counts
 * their IN data in msg_off; with check, it must be the streamed message
 * ("HDR", then stream_byte()).
 */
struct drain {
	struct harness *h;
	bool check;
	unsigned int want, got, failed;
	uint8_t hdr[USBIP_URB_HEADER_SIZE];
	size_t hdr_got, data_left;
	uint64_t msg_off; /* of the streamed message, across IN replies */
	bool bad;
};

static void check_stream(struct drain *d, const uint8_t *p, size_t n)
{
	uint8_t expect[4096];

	if (!d->check) {
		d->msg_off += n;
		return;
	}
	while (n) {
		size_t run;

		if (d->msg_off < 3) {
			d->bad |= *p != (uint8_t) "HDR"[d->msg_off];
			run = 1;
		} else {
			run = 4096 - ((d->msg_off - 3) & 4095);
			if (run > n)
				run = n;
			memset(expect, stream_byte(d->msg_off - 3), run);
			d->bad |= memcmp(p, expect, run) != 0;
		}
		p += run;
		n -= run;
		d->msg_off += run;
	}
}

static void drain_cb(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct drain *d = w->data;
	static uint8_t buf[1 << 16];
	ssize_t n = revents ? read(w->fd, buf, sizeof(buf)) : 0;
	size_t off = 0;

	if (n <= 0) {
		ev_loop_stop(loop); /* the deadline passed, or the session ended */
		return;
	}
	while (off < (size_t)n) {
		size_t k;

		if (d->hdr_got < sizeof(d->hdr)) {
			struct usbip_urb_header r;
			struct usbip_error err;
			struct usbip_proto_urb_payload pl;

			k = sizeof(d->hdr) - d->hdr_got;
			k = k < (size_t)n - off ? k : (size_t)n - off;
			memcpy(d->hdr + d->hdr_got, buf + off, k);
			d->hdr_got += k;
			off += k;
			if (d->hdr_got < sizeof(d->hdr))
				break;
			if (usbip_proto_decode_urb_header(d->hdr, sizeof(d->hdr), &r, &err) ||
			    usbip_proto_urb_payload(&r, d->h->dir_of[r.base.seqnum & 0xff], &pl,
						    &err)) {
				d->bad = true;
				ev_loop_stop(loop);
				return;
			}
			d->failed += r.u.ret_submit.status != 0;
			d->data_left = pl.data_len;
		} else {
			k = d->data_left < (size_t)n - off ? d->data_left : (size_t)n - off;
			check_stream(d, buf + off, k);
			d->data_left -= k;
			off += k;
		}
		if (d->hdr_got == sizeof(d->hdr) && !d->data_left) {
			d->hdr_got = 0;
			d->got++;
		}
	}
	if (d->got >= d->want)
		ev_loop_stop(loop);
}

/* Runs the loop, reading replies, until d->want have come (or 20 s went by). */
static void drain(struct harness *h, struct drain *d)
{
	struct ev_watch w = { .fd = h->client,
			      .events = POLLIN,
			      .deadline_ms = ev_now_ms() + 20000,
			      .cb = drain_cb };

	w.data = d;
	d->h = h;
	assert_int_equal(ev_watch_add(h->loop, &w), 0);
	ev_loop_run(h->loop);
	ev_watch_remove(h->loop, &w);
}

/*
 * A peer that queues big IN URBs, starts a long message and reads nothing
 * must not make the device produce all of it into memory: completions
 * pause while the transport's output is over its mark, and go on as the
 * peer reads. Every byte still arrives, in order.
 */
static void test_unread_output_pauses_completions(void **state)
{
	struct harness *h = *state;
	const unsigned int urbs = 16;
	const uint32_t urb_len = 4u << 20;
	struct drain d = { .check = true, .want = urbs + 1 };
	unsigned int i;

	h->stream_len = (uint64_t)urbs * urb_len - 100; /* the last URB ends short */
	configure(h);
	for (i = 0; i < urbs; i++)
		submit(h, 50 + i, 1, true, urb_len, 0, NULL, NULL);
	submit(h, 50 + urbs, 2, false, 3, 0, NULL, "GET");
	for (i = 0; i < 250 && !h->stream_off; i++)
		pump(h); /* a loaded machine may take a while to get there */
	pump(h);
	assert_true(h->stream_off > 0);
	/* the mark, one URB filled past it, and what the socket holds: far from all 64 MiB */
	assert_true(h->stream_off <= VDEV_USBIP_OUTPUT_MARK + 2 * (uint64_t)urb_len);
	assert_true(vdev_in_waiting(h->dev, 0x81) > 0);
	assert_false(h->closed);

	drain(h, &d);
	assert_int_equal(d.got, urbs + 1);
	assert_int_equal(d.failed, 0);
	assert_false(d.bad);
	assert_int_equal(d.msg_off, h->stream_len + 3);
	assert_int_equal(vdev_in_waiting(h->dev, 0x81), 0);
}

/*
 * An IN URB on ep0 whose SETUP is an OUT request with a data stage has
 * nothing to carry back (and an OUT URB no room for an IN request's
 * answer): it stalls, with no data -- never a buffer nobody wrote.
 */
static void test_control_direction_mismatch(void **state)
{
	struct harness *h = *state;
	static uint8_t data[65536];
	static const uint8_t set_config_long[8] = { 0x00, 0x09, 0x01, 0x00, 0, 0, 0xff, 0xff };
	static const uint8_t get_device[8] = { 0x80, 0x06, 0x00, 0x01, 0, 0, 18, 0 };
	static const uint8_t set_config[8] = { 0x00, 0x09, 0x01, 0x00, 0, 0, 0, 0 };
	struct usbip_urb_header r;

	submit(h, 1, 0, true, 65535, 0, set_config_long, NULL);
	pump(h);
	reply(h, &r, data, sizeof(data));
	assert_int_equal(r.base.seqnum, 1);
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	assert_int_equal(r.u.ret_submit.actual_length, 0);
	assert_false(vdev_configured(h->dev));

	memset(data, 0, 18);
	submit(h, 2, 0, false, 18, 0, get_device, data);
	pump(h);
	reply(h, &r, data, sizeof(data));
	assert_int_equal(r.u.ret_submit.status, -EPIPE);
	assert_int_equal(r.u.ret_submit.actual_length, 0);

	/* without a data stage the direction carries nothing: the request is done */
	submit(h, 3, 0, true, 0, 0, set_config, NULL);
	pump(h);
	reply(h, &r, data, sizeof(data));
	assert_int_equal(r.u.ret_submit.status, 0);
	assert_int_equal(r.u.ret_submit.actual_length, 0);
	assert_true(vdev_configured(h->dev));
	assert_false(h->closed);
}

/* This process's virtual memory in bytes: what a reserved, untouched buffer costs too. */
static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Control IN URBs with 16 MiB buffers and an 18-byte answer, more than the
 * socket takes, never read: what the replies waiting to be sent hold is
 * their answers, not their buffers (as counted, and as the process's
 * address space shows), and all of them are answered.
 */
static void test_control_buffers_not_held(void **state)
{
	struct harness *h = *state;
	const unsigned int n = 20000;
	uint8_t *all = malloc((size_t)n * USBIP_URB_HEADER_SIZE);
	struct drain d = { .want = n };
	int big = 4 << 20;
	unsigned int i;
	size_t held, vm_before;

	assert_non_null(all);
	setsockopt(h->client, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (i = 0; i < n; i++) {
		struct usbip_urb_header hdr = {
			.base = { .command = USBIP_CMD_SUBMIT,
				  .seqnum = 1000 + i,
				  .devid = 0x10002,
				  .direction = USBIP_DIR_IN },
			.u.cmd_submit = { .transfer_buffer_length = 16u << 20,
					  .setup = { 0x80, 0x06, 0x00, 0x01, 0, 0, 18, 0 } },
		};

		usbip_proto_encode_urb_header(all + (size_t)i * USBIP_URB_HEADER_SIZE, &hdr);
	}
	memset(h->dir_of, 1, sizeof(h->dir_of));
	write_full(h->client, all, (size_t)n * USBIP_URB_HEADER_SIZE);
	free(all);
	vm_before = vm_size();
	for (i = 0; i < 250 && !vdev_usbip_output_held(h->session); i++)
		pump(h); /* until the socket is full and replies wait */
	pump(h);
	assert_true(vm_size() < vm_before + (64u << 20));
	held = vdev_usbip_output_held(h->session);
	assert_true(held > 0);
	assert_true(held < (size_t)n * 256);
	drain(h, &d);
	assert_int_equal(d.got, n);
	assert_int_equal(d.failed, 0);
	assert_int_equal(d.msg_off, (uint64_t)n * 18);
	assert_int_equal(vdev_usbip_output_held(h->session), 0);
	assert_false(h->closed);
}

/* A TLS connection that already holds decrypted input, which poll(2) cannot see. */
struct held_input {
	uint8_t buf[USBIP_URB_HEADER_SIZE];
	size_t len, off;
};

static ssize_t held_recv(struct usbip_conn *c, void *buf, size_t len)
{
	struct held_input *t = c->transport;

	if (t->off < t->len) {
		size_t n = t->len - t->off < len ? t->len - t->off : len;

		memcpy(buf, t->buf + t->off, n);
		t->off += n;
		return (ssize_t)n;
	}
	return recv(c->fd, buf, len, MSG_DONTWAIT);
}

static ssize_t held_send(struct usbip_conn *c, const void *buf, size_t len)
{
	return send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int held_kernel_fd(struct usbip_conn *c)
{
	(void)c;
	return -1;
}

static void held_destroy(struct usbip_conn *c)
{
	close(c->fd);
	free(c->transport);
	free(c);
}

static size_t held_pending(struct usbip_conn *c)
{
	const struct held_input *t = c->transport;

	return t->len - t->off;
}

static const struct usbip_conn_ops held_ops = { .name = "held",
						.recv = held_recv,
						.send = held_send,
						.kernel_fd = held_kernel_fd,
						.destroy = held_destroy,
						.pending = held_pending };

/* Replaces the harness's session with one on a new socketpair (conn from make, or plain TCP). */
static struct usbip_conn *restart(struct harness *h, const struct vdev_usbip_options *o,
				  struct usbip_conn *(*make)(int fd))
{
	struct usbip_conn *conn;
	int sv[2];

	vdev_usbip_stop(h->session);
	close(h->client);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h->client = sv[0];
	conn = make ? make(sv[1]) : tcp_conn_from_fd(sv[1]);
	assert_non_null(conn);
	h->session = vdev_usbip_start_with(h->loop, conn, h->dev, o, closed, h);
	assert_non_null(h->session);
	return conn;
}

static struct usbip_conn *held_conn(int fd)
{
	struct usbip_conn *c = calloc(1, sizeof(*c));
	struct held_input *t = calloc(1, sizeof(*t));
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_CMD_SUBMIT,
			  .seqnum = 7,
			  .devid = 0x10002,
			  .direction = USBIP_DIR_IN,
			  .ep = 0 },
		.u.cmd_submit = { .transfer_buffer_length = 64,
				  .setup = { 0x80, 0x06, 0x00, 0x01, 0, 0, 18, 0 } },
	};

	assert_non_null(c);
	assert_non_null(t);
	usbip_proto_encode_urb_header(t->buf, &hdr);
	t->len = sizeof(t->buf);
	c->ops = &held_ops;
	c->fd = fd;
	c->transport = t;
	return c;
}

static void stop_on_readable(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	(void)w;
	(void)revents;
	ev_loop_stop(loop);
}

/* A URB that came in the same TLS record as the import request is answered. */
static void test_tls_held_input_answered(void **state)
{
	struct harness *h = *state;
	struct usbip_urb_header r;
	uint8_t data[64];
	struct ev_watch w = { .events = POLLIN, .cb = stop_on_readable };

	restart(h, NULL, held_conn);
	h->dir_of[7] = 1;
	w.fd = h->client;
	w.deadline_ms = ev_now_ms() + 5000;
	assert_int_equal(ev_watch_add(h->loop, &w), 0);
	ev_loop_run(h->loop);
	ev_watch_remove(h->loop, &w);
	reply(h, &r, data, sizeof(data));
	assert_int_equal(r.base.seqnum, 7);
	assert_int_equal(r.u.ret_submit.actual_length, 18);
	assert_memory_equal(data, dev_desc, 18);
}

/* An importer that sends nothing for the idle timeout loses the device. */
static void test_idle_importer_dropped(void **state)
{
	struct harness *h = *state;
	struct vdev_usbip_options o = { .idle_timeout_ms = 100 };

	restart(h, &o, NULL);
	configure(h);
	submit(h, 40, 1, true, 512, 0, NULL, NULL); /* a URB that waits forever is not activity */
	assert_int_equal(run_loop_for(h->loop, 10000), 0); /* returns when the session ends */
	assert_true(h->closed);
}

/*
 * The engine asks, it is never written into from its own call: a function
 * that sends a message through in_direct says what follows it (its
 * response) through in_next, asked only when an URB waits with nothing
 * queued. Two URBs already waiting when the message starts get the
 * message and then the response, from one write.
 */
struct pull {
	struct vdev *dev;
	bool started;	    /* the message's start is queued */
	size_t direct_left; /* bytes in_direct still has of the message */
	bool owed;	    /* the response follows the message */
	int asked;	    /* in_next calls */
	uint32_t seq[4], actual[4];
	uint8_t first[4];
	int completed;
};

static size_t pull_direct(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end)
{
	struct pull *p = priv;
	size_t n = p->direct_left < room ? p->direct_left : room;

	assert_int_equal(ep, 0x81);
	if (!p->started || !n)
		return 0;
	memset(buf, 'D', n);
	p->direct_left -= n;
	*end = p->direct_left == 0;
	return n;
}

static uint8_t *pull_next(void *priv, uint8_t ep, size_t *len, bool *end)
{
	struct pull *p = priv;
	uint8_t *buf;

	assert_int_equal(ep, 0x81);
	assert_int_equal(vdev_in_waiting(p->dev, 0x81) > 0, 1); /* an URB waits */
	p->asked++;
	if (!p->owed || p->direct_left)
		return NULL;
	buf = vdev_in_alloc(3);
	assert_non_null(buf);
	memcpy(buf, "RSP", 3);
	*len = 3;
	*end = true;
	p->owed = false;
	return buf;
}

static void pull_complete(void *arg, struct vdev_urb *urb, int status)
{
	struct pull *p = arg;

	assert_int_equal(status, 0);
	assert_true(p->completed < 4);
	p->seq[p->completed] = urb->seqnum;
	p->actual[p->completed] = urb->actual;
	p->first[p->completed++] = urb->actual ? urb->buf[0] : 0;
	vdev_urb_free(p->dev, urb);
}

static void pull_submit(struct pull *p, uint32_t seq, uint8_t ep, bool in, uint32_t len,
			const uint8_t *setup)
{
	struct vdev_urb *urb = vdev_urb_new(p->dev, len, !in);

	assert_non_null(urb);
	urb->seqnum = seq;
	urb->ep = ep;
	urb->dir_in = in;
	if (setup)
		memcpy(urb->setup, setup, 8);
	vdev_submit(p->dev, urb);
}

static void test_in_next_after_direct(void **state)
{
	static const uint8_t set_config[8] = { 0x00, 0x09, 1, 0, 0, 0, 0, 0 };
	static const struct vdev_ops pull_ops = { .in_direct = pull_direct, .in_next = pull_next };
	struct pull p = { .direct_left = 100, .owed = true };
	struct vdev_config cfg = { .device_desc = dev_desc,
				   .config_desc = cfg_desc,
				   .strings = strings,
				   .num_strings = 2,
				   .speed = USBIP_SPEED_HIGH,
				   .ops = &pull_ops,
				   .priv = &p };

	(void)state;
	p.dev = vdev_new(&cfg);
	assert_non_null(p.dev);
	vdev_set_completion(p.dev, pull_complete, &p);
	pull_submit(&p, 1, 0, false, 0, set_config);
	assert_int_equal(p.completed, 1);
	pull_submit(&p, 2, 1, true, 512, NULL);
	pull_submit(&p, 3, 1, true, 512, NULL);
	assert_int_equal(p.completed, 1); /* nothing to send yet: both wait */
	p.asked = 0;
	p.started = true;
	assert_int_equal(vdev_in_write(p.dev, 0x81, "HDR", 3, false), 0);
	assert_int_equal(p.completed, 3);
	assert_int_equal(p.seq[1], 2);
	assert_int_equal(p.actual[1], 103); /* the header, then in_direct's message */
	assert_int_equal(p.first[1], 'H');
	assert_int_equal(p.seq[2], 3);
	assert_int_equal(p.actual[2], 3); /* then what in_next says follows it */
	assert_int_equal(p.first[2], 'R');
	assert_int_equal(p.asked, 1);
	/* Nothing owed: an URB waits, is asked about once, and stays. */
	pull_submit(&p, 4, 1, true, 512, NULL);
	assert_int_equal(p.completed, 3);
	assert_int_equal(p.asked, 2);
	assert_int_equal(vdev_in_waiting(p.dev, 0x81), 1);
	vdev_free(p.dev);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_harness, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_descriptors),
		T(test_configuration_and_halt),
		T(test_in_held_and_unlink),
		T(test_zlp_and_short_not_ok),
		T(test_unconfigured_and_bad_endpoint),
		T(test_in_urb_flood_bounded),
		T(test_garbage_drops_connection),
		T(test_peer_gone),
		cmocka_unit_test_setup_teardown(test_unread_output_pauses_completions, setup_stream,
						teardown),
		T(test_control_direction_mismatch),
		T(test_control_buffers_not_held),
		T(test_tls_held_input_answered),
		T(test_idle_importer_dropped),
		cmocka_unit_test(test_in_next_after_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
