// SPDX-License-Identifier: GPL-2.0-or-later
#include "vdev/vdev_usbip.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "util/log.h"
#include "wire/usbip_proto.h"
#include "util/io.h"

/*
 * IN URBs complete only while the replies waiting to go out hold less than
 * FILL_MARK, and again once under FILL_RESUME: their data is made as the
 * socket takes it, so a peer that reads nothing gets nothing made for it,
 * and several URBs in flight reuse one buffer that stays in the cache
 * instead of being filled ahead in several. Requests are read while the
 * replies hold less than VDEV_USBIP_OUTPUT_MARK.
 */
#define FILL_MARK   (256u << 10)
#define FILL_RESUME (FILL_MARK / 2)

/*
 * The same idea one level down: the socket keeps at most this much not yet
 * sent (TCP_NOTSENT_LOWAT; data in flight is not limited), so that replies
 * wait here, unmade, rather than pile up in the kernel. With a peer that
 * keeps several URBs in flight and reads them as they come, megabytes used
 * to queue in the socket and fall out of the cache: measured on loopback,
 * four 512 KiB URBs in flight cost 0.47 ms of CPU per MiB against 0.27 ms
 * one at a time; with 64 KiB both cost 0.27 ms (16 KiB and 128 KiB did
 * worse).
 */
#define SOCKET_UNSENT (64 << 10)

/* A reply on its way out: its bytes inline, or an URB's memory taken over. */
struct out_buf {
	STAILQ_ENTRY(out_buf) link;
	uint8_t *data;
	size_t len, off;
	uint8_t *owned; /* given back to the engine with the out_buf */
	size_t owned_size;
	size_t held; /* the memory this reply holds, counted against the mark */
	uint8_t inline_data[];
};

#define STAGE_SIZE (64u << 10)

struct vdev_usbip {
	struct ev_loop *loop;
	struct usbip_conn *conn;
	struct vdev *dev;
	struct ev_watch watch;
	vdev_usbip_closed_fn closed;
	void *closed_arg;

	/* input: read in big pieces (one recv usually holds a whole command) */
	uint8_t *stage;
	size_t stage_len, stage_off;
	/* a header, then the URB's OUT data and any ISO descriptors */
	uint8_t hdr_buf[USBIP_URB_HEADER_SIZE];
	size_t hdr_got;
	struct usbip_urb_header hdr;
	struct vdev_urb *urb; /* being read */
	size_t data_got;
	size_t skip; /* ISO descriptor bytes to discard (no ISO endpoint here) */

	STAILQ_HEAD(, out_buf) output; /* what waits for the socket, oldest first */
	size_t out_held;
	bool in_held; /* the engine holds IN completions (vdev_in_hold) */
	bool failed;

	uint32_t idle_ms; /* 0: no idle timeout */
	long long last_active_ms;
	bool active; /* a command came or a reply went since last_active_ms */
};

static void update_events(struct vdev_usbip *s)
{
	bool room = s->out_held < VDEV_USBIP_OUTPUT_MARK;
	long long deadline = 0;

	s->watch.events = (short)((room ? POLLIN : 0) | (STAILQ_EMPTY(&s->output) ? 0 : POLLOUT));
	if (s->idle_ms) {
		if (s->active) {
			s->last_active_ms = ev_now_ms();
			s->active = false;
		}
		deadline = s->last_active_ms + s->idle_ms;
	}
	/*
	 * Input TLS already holds (poll cannot see it) is taken on the next
	 * turn of the loop: a deadline of now calls us back at once.
	 */
	if (room && usbip_conn_pending(s->conn))
		deadline = ev_now_ms();
	s->watch.deadline_ms = deadline;
}

static void append_output(struct vdev_usbip *s, struct out_buf *b)
{
	b->off = 0;
	STAILQ_INSERT_TAIL(&s->output, b, link);
	s->out_held += b->held;
	if (!s->in_held && s->out_held >= FILL_MARK) {
		s->in_held = true;
		vdev_in_hold(s->dev, true);
	}
	update_events(s);
}

static void free_buf(struct vdev_usbip *s, struct out_buf *b)
{
	vdev_mem_release(s->dev, b->owned, b->owned_size);
	free(b);
}

/* A reply without data. */
static void queue_header(struct vdev_usbip *s, const struct usbip_urb_header *hdr)
{
	struct out_buf *b = malloc(sizeof(*b) + USBIP_URB_HEADER_SIZE);

	if (!b) {
		s->failed = true;
		return;
	}
	usbip_proto_encode_urb_header(b->inline_data, hdr);
	b->data = b->inline_data;
	b->len = USBIP_URB_HEADER_SIZE;
	b->owned = NULL;
	b->owned_size = 0;
	b->held = sizeof(*b) + USBIP_URB_HEADER_SIZE;
	append_output(s, b);
}

static void on_complete(void *arg, struct vdev_urb *urb, int status)
{
	struct vdev_usbip *s = arg;
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_RET_SUBMIT, .seqnum = urb->seqnum },
		.u.ret_submit = {
			.status = status,
			.actual_length = urb->actual,
			.start_frame = urb->start_frame,
			.number_of_packets = urb->number_of_packets,
		},
	};

	struct out_buf *b;

	if (urb->actual > urb->length)
		hdr.u.ret_submit.actual_length = urb->length; /* never: vhci would drop us */
	if (!urb->dir_in || !hdr.u.ret_submit.actual_length || !urb->mem) {
		/* No memory, no data: an IN reply never claims bytes it does not carry. */
		if (urb->dir_in)
			hdr.u.ret_submit.actual_length = 0;
		queue_header(s, &hdr);
		vdev_urb_free(s->dev, urb);
		return;
	}
	/* IN data: the header goes in the URB's headroom, and the memory with it. */
	b = malloc(sizeof(*b));
	if (!b) {
		s->failed = true;
		vdev_urb_free(s->dev, urb);
		return;
	}
	b->data = urb->buf - USBIP_URB_HEADER_SIZE;
	usbip_proto_encode_urb_header(b->data, &hdr);
	b->len = USBIP_URB_HEADER_SIZE + hdr.u.ret_submit.actual_length;
	b->owned = urb->mem;
	b->owned_size = urb->mem_size;
	b->held = sizeof(*b) + urb->mem_size;
	urb->mem = urb->buf = NULL;
	vdev_urb_free(s->dev, urb);
	append_output(s, b);
}

static void send_ret_unlink(struct vdev_usbip *s, uint32_t seqnum, int status)
{
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_RET_UNLINK, .seqnum = seqnum },
		.u.ret_unlink = { .status = status },
	};

	queue_header(s, &hdr);
}

static void free_output(struct vdev_usbip *s)
{
	struct out_buf *b;

	while ((b = STAILQ_FIRST(&s->output))) {
		STAILQ_REMOVE_HEAD(&s->output, link);
		free_buf(s, b);
	}
	s->out_held = 0;
}

void vdev_usbip_stop(struct vdev_usbip *s)
{
	if (!s)
		return;
	ev_watch_remove(s->loop, &s->watch);
	vdev_set_completion(s->dev, NULL, NULL);
	/* Memory goes back to the engine first: disconnecting empties its pool. */
	free_output(s);
	vdev_urb_free(s->dev, s->urb);
	vdev_disconnect(s->dev);
	free(s->stage);
	conn_close(s->conn);
	free(s);
}

size_t vdev_usbip_output_held(const struct vdev_usbip *s)
{
	return s->out_held;
}

static void end_session(struct vdev_usbip *s)
{
	vdev_usbip_closed_fn closed = s->closed;
	void *arg = s->closed_arg;

	vdev_usbip_stop(s);
	if (closed)
		closed(arg);
}

/* Sends what the socket takes; 1 when it took everything, 0 when it is full, -1 on error. */
static int send_queued(struct vdev_usbip *s)
{
	struct out_buf *b;

	while ((b = STAILQ_FIRST(&s->output))) {
		ssize_t n = s->conn->ops->send(s->conn, b->data + b->off, b->len - b->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (io_would_block(errno))
				return 0;
			log_info("%s: sending: %m", s->conn->peer);
			return -1;
		}
		b->off += (size_t)n;
		s->active = true;
		if (b->off < b->len)
			continue;
		STAILQ_REMOVE_HEAD(&s->output, link);
		s->out_held -= b->held;
		free_buf(s, b);
	}
	return 1;
}

static int flush_output(struct vdev_usbip *s)
{
	int rc;

	for (;;) {
		rc = send_queued(s);
		if (rc < 0)
			return -1;
		if (!s->in_held || s->out_held >= FILL_RESUME)
			break;
		/* Under the mark again: held URBs complete, and go while the socket has room. */
		s->in_held = false;
		vdev_in_hold(s->dev, false);
		if (rc == 0 || STAILQ_EMPTY(&s->output))
			break;
	}
	update_events(s);
	return 0;
}

/* A whole command has arrived: hand it over. */
static int dispatch(struct vdev_usbip *s)
{
	struct vdev_urb *urb = s->urb;

	s->urb = NULL;
	s->active = true;
	if (s->hdr.base.command == USBIP_CMD_UNLINK) {
		uint32_t target = s->hdr.u.cmd_unlink.unlink_seqnum;

		send_ret_unlink(s, s->hdr.base.seqnum,
				vdev_unlink(s->dev, target) ? -ECONNRESET : 0);
		return 0;
	}
	vdev_submit(s->dev, urb);
	return 0;
}

/* Starts a command from its decoded header; -1 drops the connection. */
static int begin_command(struct vdev_usbip *s)
{
	struct usbip_error err;
	struct usbip_proto_urb_payload pl;
	const struct usbip_cmd_submit *c = &s->hdr.u.cmd_submit;
	struct vdev_urb *urb;

	if (usbip_proto_decode_urb_header(s->hdr_buf, sizeof(s->hdr_buf), &s->hdr, &err) ||
	    usbip_proto_urb_payload(&s->hdr, 0, &pl, &err)) {
		log_warn("%s: bad URB header: %s", s->conn->peer, err.msg);
		return -1;
	}
	if (s->hdr.base.command == USBIP_CMD_UNLINK)
		return 0;
	if (s->hdr.base.command != USBIP_CMD_SUBMIT) {
		log_warn("%s: unexpected URB command %u", s->conn->peer, s->hdr.base.command);
		return -1;
	}
	/*
	 * Bounded by the decoder: transfer_buffer_length <= USBIP_MAX_TRANSFER.
	 * IN URBs get memory from the engine only when there is data for them.
	 */
	urb = vdev_urb_new(s->dev, c->transfer_buffer_length,
			   s->hdr.base.direction != USBIP_DIR_IN);
	if (!urb) {
		log_err("%s: out of memory for a %u-byte URB", s->conn->peer,
			c->transfer_buffer_length);
		return -1;
	}
	urb->seqnum = s->hdr.base.seqnum;
	urb->ep = s->hdr.base.ep > 0xff ? 0xff : (uint8_t)s->hdr.base.ep;
	urb->dir_in = s->hdr.base.direction == USBIP_DIR_IN;
	urb->flags = c->transfer_flags;
	urb->start_frame = c->start_frame;
	urb->number_of_packets = c->number_of_packets;
	urb->interval = c->interval;
	memcpy(urb->setup, c->setup, sizeof(urb->setup));
	s->urb = urb;
	s->data_got = 0;
	s->skip = (size_t)pl.iso_count * USBIP_ISO_PACKET_SIZE;
	/* IN URBs carry no data on the wire: data_got starts complete. */
	if (!urb->dir_in && pl.data_len != urb->length)
		return -1;
	if (urb->dir_in)
		s->data_got = urb->length;
	return 0;
}

/* Takes up to len bytes for dst from the staged input; returns how many. */
static size_t from_stage(struct vdev_usbip *s, uint8_t *dst, size_t len)
{
	size_t n = s->stage_len - s->stage_off;

	if (n > len)
		n = len;
	if (dst)
		memcpy(dst, s->stage + s->stage_off, n);
	s->stage_off += n;
	return n;
}

/* Moves staged bytes into the command being read; dispatches it when complete. */
static int consume(struct vdev_usbip *s)
{
	while (s->stage_off < s->stage_len) {
		if (s->hdr_got < sizeof(s->hdr_buf)) {
			s->hdr_got += from_stage(s, s->hdr_buf + s->hdr_got,
						 sizeof(s->hdr_buf) - s->hdr_got);
			if (s->hdr_got < sizeof(s->hdr_buf))
				return 0;
			if (begin_command(s))
				return -1;
		} else if (s->urb && s->data_got < s->urb->length) {
			s->data_got += from_stage(s, s->urb->buf + s->data_got,
						  s->urb->length - s->data_got);
		} else if (s->skip) {
			s->skip -= from_stage(s, NULL, s->skip);
		}
		if (s->hdr_got == sizeof(s->hdr_buf) &&
		    (!s->urb || s->data_got == s->urb->length) && !s->skip) {
			s->hdr_got = 0;
			dispatch(s);
			if (s->failed)
				return -1;
		}
	}
	return 0;
}

/* Reads what is there; returns -1 when the connection must end. */
static int read_input(struct vdev_usbip *s)
{
	int rounds = 64; /* let output and other watchers run between bursts */

	while (rounds-- > 0 && s->out_held < VDEV_USBIP_OUTPUT_MARK) {
		uint8_t *dst = s->stage;
		size_t want = STAGE_SIZE;
		bool direct = false;
		ssize_t n;

		/* A large OUT payload is read straight into its URB. */
		if (s->hdr_got == sizeof(s->hdr_buf) && s->urb &&
		    s->urb->length - s->data_got >= STAGE_SIZE) {
			dst = s->urb->buf + s->data_got;
			want = s->urb->length - s->data_got;
			direct = true;
		}
		n = s->conn->ops->recv(s->conn, dst, want);
		if (n == 0) {
			log_info("%s: disconnected", s->conn->peer);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (io_would_block(errno))
				return 0;
			log_info("%s: receiving: %m", s->conn->peer);
			return -1;
		}
		if (direct) {
			s->data_got += (size_t)n;
			if (s->data_got == s->urb->length && !s->skip) {
				s->hdr_got = 0;
				dispatch(s);
				if (s->failed)
					return -1;
			}
			continue;
		}
		s->stage_len = (size_t)n;
		s->stage_off = 0;
		if (consume(s))
			return -1;
		if ((size_t)n < want && !usbip_conn_pending(s->conn))
			return 0; /* drained: no need to ask again until poll says so */
	}
	return 0;
}

static void on_event(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct vdev_usbip *s = w->data;

	(void)loop;
	if (!revents && s->idle_ms && !s->active && ev_now_ms() >= s->last_active_ms + s->idle_ms) {
		log_info("%s: no URB for %u s: ending the session", s->conn->peer,
			 s->idle_ms / 1000);
		end_session(s);
		return;
	}
	if ((revents & POLLOUT) && (flush_output(s) || s->failed)) {
		end_session(s);
		return;
	}
	/* TLS may hold decrypted input that poll(2) does not report. */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) || usbip_conn_pending(s->conn)) {
		if (read_input(s) || flush_output(s) || s->failed) {
			end_session(s);
			return;
		}
	}
	update_events(s);
}

struct vdev_usbip *vdev_usbip_start_with(struct ev_loop *loop, struct usbip_conn *conn,
					 struct vdev *dev, const struct vdev_usbip_options *options,
					 vdev_usbip_closed_fn closed, void *arg)
{
	struct vdev_usbip *s = calloc(1, sizeof(*s));
	uint32_t idle = options ? options->idle_timeout_ms : 0;
	int fl, unsent = SOCKET_UNSENT;

	if (!s) {
		conn_close(conn);
		return NULL;
	}
	STAILQ_INIT(&s->output);
	fl = fcntl(conn->fd, F_GETFL);
	if (fl >= 0)
		fcntl(conn->fd, F_SETFL, fl | O_NONBLOCK);
	/* Not a TCP socket (a test's socketpair): nothing to tune. */
	setsockopt(conn->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent, sizeof(unsent));
	s->stage = malloc(STAGE_SIZE);
	if (!s->stage) {
		conn_close(conn);
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->conn = conn;
	s->dev = dev;
	s->closed = closed;
	s->closed_arg = arg;
	s->idle_ms = idle == UINT32_MAX ? 0 : idle ? idle : VDEV_USBIP_IDLE_TIMEOUT_MS;
	s->last_active_ms = ev_now_ms();
	s->watch = (struct ev_watch){ .fd = conn->fd, .cb = on_event, .data = s };
	/* URBs may have come with the import request, already read by TLS. */
	update_events(s);
	if (ev_watch_add(loop, &s->watch) != 0) {
		conn_close(conn);
		free(s->stage);
		free(s);
		return NULL;
	}
	vdev_set_completion(dev, on_complete, s);
	return s;
}

struct vdev_usbip *vdev_usbip_start(struct ev_loop *loop, struct usbip_conn *conn, struct vdev *dev,
				    vdev_usbip_closed_fn closed, void *arg)
{
	return vdev_usbip_start_with(loop, conn, dev, NULL, closed, arg);
}
