// SPDX-License-Identifier: GPL-2.0-or-later
#include "vdev/vdev.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "wire/usb_descriptors.h"
#include "wire/usbip_proto.h"

/* Standard requests (USB 2.0, table 9-4) and descriptor types. */
#define REQ_GET_STATUS	      0x00
#define REQ_CLEAR_FEATURE     0x01
#define REQ_SET_FEATURE	      0x03
#define REQ_SET_ADDRESS	      0x05
#define REQ_GET_DESCRIPTOR    0x06
#define REQ_GET_CONFIGURATION 0x08
#define REQ_SET_CONFIGURATION 0x09
#define REQ_GET_INTERFACE     0x0a
#define REQ_SET_INTERFACE     0x0b
#define DT_STRING	      0x03
#define DT_DEVICE_QUALIFIER   0x06
#define DT_ENDPOINT	      0x05
#define FEATURE_ENDPOINT_HALT 0
#define STRING_MAX	      126 /* UTF-16 units in a 254-byte string descriptor */

/*
 * Large URB buffers freed lately, kept for the next URBs. A host keeps
 * several URBs of one size in flight; without this their memory went back
 * to the system between them (glibc trims the top of its heap once more
 * than its trim threshold is free there) and came back one page fault at a
 * time: with four 512 KiB URBs in flight that cost twice the CPU per MiB
 * of streaming. Bounded, and emptied when the host goes away.
 */
#define POOL_SLOTS 8
#define POOL_MIN   (64u << 10) /* smaller ones are cheap for malloc */
#define POOL_BYTES (2 * ((size_t)USBIP_MAX_TRANSFER + VDEV_URB_HEADROOM))

/* A piece of an IN message waiting for URBs. */
struct vdev_chunk {
	STAILQ_ENTRY(vdev_chunk) link;
	size_t len, off;
	bool end; /* the message ends with this chunk */
	uint8_t data[];
};

struct vdev_ep {
	bool present;
	uint8_t type;
	uint8_t interface;
	uint16_t max_packet;
	bool halted;
	TAILQ_HEAD(, vdev_urb) urbs; /* IN URBs waiting for data, oldest first */
	unsigned int waiting;
	STAILQ_HEAD(, vdev_chunk) chunks; /* IN data waiting for URBs */
	size_t queued;
	uint64_t msg_sent; /* bytes of the current message handed to URBs */
	bool zlp_pending;  /* the message ended exactly at a full URB: the next URB gets a ZLP */
};

struct vdev {
	struct vdev_config cfg;
	size_t config_len;
	uint8_t config_value; /* of the descriptor */
	uint8_t current_config;
	struct vdev_ep in[VDEV_MAX_ENDPOINTS], out[VDEV_MAX_ENDPOINTS];
	vdev_complete_fn complete;
	void *complete_arg;
	bool in_held; /* vdev_in_hold */
	struct {
		uint8_t *mem[POOL_SLOTS];
		size_t size[POOL_SLOTS];
		unsigned int n;
		size_t bytes;
	} pool;
};

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void init_queues(struct vdev *dev)
{
	int i;

	for (i = 0; i < VDEV_MAX_ENDPOINTS; i++) {
		TAILQ_INIT(&dev->in[i].urbs);
		STAILQ_INIT(&dev->in[i].chunks);
		TAILQ_INIT(&dev->out[i].urbs);
		STAILQ_INIT(&dev->out[i].chunks);
	}
}

struct vdev *vdev_new(const struct vdev_config *config)
{
	struct vdev *dev;
	const uint8_t *c = config->config_desc;
	size_t total, off;
	uint8_t cur_intf = 0;

	if (!config->device_desc || config->device_desc[0] < USB_DT_DEVICE_SIZE ||
	    config->device_desc[1] != USB_DT_DEVICE || !c || c[0] < USB_DT_CONFIG_SIZE ||
	    c[1] != USB_DT_CONFIG)
		return NULL;
	total = get_le16(c + 2);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->cfg = *config;
	dev->config_len = total;
	dev->config_value = c[5];
	dev->out[0] = (struct vdev_ep){ .present = true,
					.type = VDEV_EP_CONTROL,
					.max_packet = config->device_desc[7] };
	dev->in[0] = dev->out[0];
	init_queues(dev);
	for (off = 0; off + 2 <= total && c[off] >= 2; off += c[off]) {
		struct vdev_ep *ep;
		uint8_t addr;

		if (c[off + 1] == USB_DT_INTERFACE && c[off] >= USB_DT_INTERFACE_SIZE)
			cur_intf = c[off + 2];
		if (c[off + 1] != DT_ENDPOINT || c[off] < 7 || off + 7 > total)
			continue;
		addr = c[off + 2];
		ep = (addr & 0x80) ? &dev->in[addr & 0x0f] : &dev->out[addr & 0x0f];
		ep->present = true;
		ep->type = c[off + 3] & 3;
		ep->interface = cur_intf;
		ep->max_packet = get_le16(c + off + 4) & 0x7ff;
		if (!ep->max_packet)
			ep->max_packet = 512;
	}
	return dev;
}

void vdev_set_completion(struct vdev *dev, vdev_complete_fn fn, void *arg)
{
	dev->complete = fn;
	dev->complete_arg = arg;
}

/*
 * size bytes or more; *got says how many. A pooled buffer is taken if it
 * wastes little, the one given back last first: it is likely still in the cache.
 */
static uint8_t *mem_take(struct vdev *dev, size_t size, size_t *got)
{
	unsigned int i;

	for (i = dev->pool.n; size >= POOL_MIN && i-- > 0;) {
		uint8_t *mem = dev->pool.mem[i];

		if (dev->pool.size[i] < size || dev->pool.size[i] - size > size / 4)
			continue;
		*got = dev->pool.size[i];
		dev->pool.bytes -= *got;
		dev->pool.n--;
		dev->pool.mem[i] = dev->pool.mem[dev->pool.n];
		dev->pool.size[i] = dev->pool.size[dev->pool.n];
		return mem;
	}
	*got = size;
	return malloc(size);
}

void vdev_mem_release(struct vdev *dev, uint8_t *mem, size_t size)
{
	if (!mem)
		return;
	if (size < POOL_MIN || dev->pool.n == POOL_SLOTS || dev->pool.bytes + size > POOL_BYTES) {
		free(mem);
		return;
	}
	dev->pool.mem[dev->pool.n] = mem;
	dev->pool.size[dev->pool.n++] = size;
	dev->pool.bytes += size;
}

static void pool_empty(struct vdev *dev)
{
	while (dev->pool.n)
		free(dev->pool.mem[--dev->pool.n]);
	dev->pool.bytes = 0;
}

/* Gives urb a buffer for size bytes of data (IN: at most its length). */
static int urb_alloc_buffer(struct vdev *dev, struct vdev_urb *urb, size_t size)
{
	if (urb->mem)
		return 0;
	urb->mem = mem_take(dev, VDEV_URB_HEADROOM + size, &urb->mem_size);
	if (!urb->mem)
		return -1;
	urb->buf = urb->mem + VDEV_URB_HEADROOM;
	return 0;
}

struct vdev_urb *vdev_urb_new(struct vdev *dev, uint32_t length, bool with_buffer)
{
	struct vdev_urb *urb = calloc(1, sizeof(*urb));

	if (!urb)
		return NULL;
	urb->length = length;
	if (with_buffer && urb_alloc_buffer(dev, urb, length) != 0) {
		free(urb);
		return NULL;
	}
	return urb;
}

void vdev_urb_free(struct vdev *dev, struct vdev_urb *urb)
{
	if (!urb)
		return;
	vdev_mem_release(dev, urb->mem, urb->mem_size);
	free(urb);
}

static void complete(struct vdev *dev, struct vdev_urb *urb, int status)
{
	if (dev->complete)
		dev->complete(dev->complete_arg, urb, status);
	else
		vdev_urb_free(dev, urb);
}

static void free_chunks(struct vdev_ep *ep)
{
	struct vdev_chunk *c;

	while ((c = STAILQ_FIRST(&ep->chunks))) {
		STAILQ_REMOVE_HEAD(&ep->chunks, link);
		free(c);
	}
	ep->queued = 0;
	ep->msg_sent = 0;
	ep->zlp_pending = false;
}

static void drop_urbs(struct vdev *dev, struct vdev_ep *ep)
{
	struct vdev_urb *u;

	while ((u = TAILQ_FIRST(&ep->urbs))) {
		TAILQ_REMOVE(&ep->urbs, u, link);
		vdev_urb_free(dev, u);
	}
	ep->waiting = 0;
}

void vdev_free(struct vdev *dev)
{
	int i;

	if (!dev)
		return;
	for (i = 0; i < VDEV_MAX_ENDPOINTS; i++) {
		drop_urbs(dev, &dev->in[i]);
		free_chunks(&dev->in[i]);
	}
	pool_empty(dev);
	free(dev);
}

static struct vdev_urb *pop_urb(struct vdev_ep *ep)
{
	struct vdev_urb *u = TAILQ_FIRST(&ep->urbs);

	TAILQ_REMOVE(&ep->urbs, u, link);
	ep->waiting--;
	return u;
}

static int in_status(const struct vdev_urb *urb)
{
	if (urb->actual < urb->length && (urb->flags & USBIP_URB_SHORT_NOT_OK))
		return -EREMOTEIO;
	return 0;
}

/* Fills the first waiting URB from the queued chunks; true when it is done (full or message end).
 */
static bool fill_urb(struct vdev *dev, uint8_t num, struct vdev_urb *urb)
{
	struct vdev_ep *ep = &dev->in[num];
	struct vdev_chunk *c;
	bool ended = false;

	if (ep->zlp_pending) {
		ep->zlp_pending = false;
		return true;
	}
	if ((!STAILQ_EMPTY(&ep->chunks) || dev->cfg.ops->in_direct) && urb->length &&
	    urb_alloc_buffer(dev, urb, urb->length) != 0)
		return false; /* out of memory: the URB waits (the host will time out or unlink) */
	while ((c = STAILQ_FIRST(&ep->chunks)) && (urb->actual < urb->length || c->off == c->len)) {
		size_t n = c->len - c->off;

		if (n > urb->length - urb->actual)
			n = urb->length - urb->actual;
		memcpy(urb->buf + urb->actual, c->data + c->off, n);
		urb->actual += (uint32_t)n;
		c->off += n;
		ep->queued -= n;
		ep->msg_sent += n;
		if (c->off < c->len)
			break;
		STAILQ_REMOVE_HEAD(&ep->chunks, link);
		ended = c->end;
		free(c);
		if (ended)
			break;
	}
	if (!ended && STAILQ_EMPTY(&ep->chunks) && urb->actual < urb->length &&
	    dev->cfg.ops->in_direct) {
		/* The rest of the message straight from the function's source: no copy. */
		size_t n = dev->cfg.ops->in_direct(dev->cfg.priv, (uint8_t)(0x80 | num),
						   urb->buf + urb->actual,
						   urb->length - urb->actual, &ended);

		urb->actual += (uint32_t)n;
		ep->msg_sent += n;
	}
	if (ended) {
		/* A full URB cannot hold the terminating ZLP: it goes to the next one. */
		if (urb->length && urb->actual == urb->length && ep->msg_sent % ep->max_packet == 0)
			ep->zlp_pending = true;
		ep->msg_sent = 0;
		return true;
	}
	return urb->actual == urb->length;
}

uint8_t *vdev_in_alloc(size_t cap)
{
	struct vdev_chunk *c = malloc(sizeof(*c) + cap);

	/* Not a leak: chunk_of() finds c again from its data. */
	// cppcheck-suppress memleak
	return c ? c->data : NULL;
}

// cppcheck-suppress constParameter
static struct vdev_chunk *chunk_of(uint8_t *buf)
{
	return (struct vdev_chunk *)(buf - offsetof(struct vdev_chunk, data));
}

void vdev_in_discard(uint8_t *buf)
{
	if (buf)
		free(chunk_of(buf));
}

/* Appends len bytes in buf (from vdev_in_alloc) to ep's queue. */
static void queue_chunk(struct vdev_ep *ep, uint8_t *buf, size_t len, bool end)
{
	struct vdev_chunk *c = chunk_of(buf);

	c->len = len;
	c->off = 0;
	c->end = end;
	STAILQ_INSERT_TAIL(&ep->chunks, c, link);
	ep->queued += len;
}

/*
 * Asks the function for its next IN data on ep and queues it; true if it
 * gave some. The engine queues it itself: the function never writes into
 * the endpoint from inside the engine's call.
 */
static bool ask_for_data(struct vdev *dev, uint8_t num)
{
	uint8_t *buf;
	size_t len = 0;
	bool end = false;

	if (!dev->cfg.ops->in_next)
		return false;
	buf = dev->cfg.ops->in_next(dev->cfg.priv, (uint8_t)(0x80 | num), &len, &end);
	if (!buf)
		return false;
	if (!len && !end) {
		vdev_in_discard(buf); /* nothing at all: asking again would loop */
		return false;
	}
	queue_chunk(&dev->in[num], buf, len, end);
	return true;
}

static void process_in(struct vdev *dev, uint8_t num)
{
	struct vdev_ep *ep = &dev->in[num];

	while (!TAILQ_EMPTY(&ep->urbs) && !dev->in_held) {
		struct vdev_urb *urb = TAILQ_FIRST(&ep->urbs);

		if (ep->halted) {
			complete(dev, pop_urb(ep), -EPIPE);
			continue;
		}
		if (fill_urb(dev, num, urb)) {
			pop_urb(ep);
			complete(dev, urb, in_status(urb));
			continue;
		}
		/* Not enough data: ask the function; stop when it has none now. */
		if (STAILQ_EMPTY(&ep->chunks) && ask_for_data(dev, num))
			continue;
		break;
	}
}

int vdev_in_write(struct vdev *dev, uint8_t addr, const void *data, size_t len, bool end)
{
	uint8_t *buf = vdev_in_alloc(len);

	if (!buf)
		return -1;
	if (len)
		memcpy(buf, data, len);
	return vdev_in_commit(dev, addr, buf, len, end);
}

int vdev_in_commit(struct vdev *dev, uint8_t addr, uint8_t *buf, size_t len, bool end)
{
	struct vdev_ep *ep = &dev->in[addr & 0x0f];

	if (!(addr & 0x80) || !ep->present) {
		vdev_in_discard(buf);
		return -1;
	}
	queue_chunk(ep, buf, len, end);
	process_in(dev, addr & 0x0f);
	return 0;
}

size_t vdev_in_queued(const struct vdev *dev, uint8_t addr)
{
	return dev->in[addr & 0x0f].queued;
}

unsigned int vdev_in_waiting(const struct vdev *dev, uint8_t addr)
{
	return dev->in[addr & 0x0f].waiting;
}

void vdev_in_flush(struct vdev *dev, uint8_t addr)
{
	free_chunks(&dev->in[addr & 0x0f]);
}

void vdev_halt(struct vdev *dev, uint8_t addr)
{
	struct vdev_ep *ep = (addr & 0x80) ? &dev->in[addr & 0x0f] : &dev->out[addr & 0x0f];

	if (!ep->present || (addr & 0x0f) == 0)
		return;
	ep->halted = true;
	if (addr & 0x80)
		process_in(dev, addr & 0x0f);
}

bool vdev_configured(const struct vdev *dev)
{
	return dev->current_config != 0;
}

static void reset_endpoints(struct vdev *dev, int interface)
{
	int i;

	for (i = 1; i < VDEV_MAX_ENDPOINTS; i++) {
		if (interface < 0 || dev->in[i].interface == interface) {
			dev->in[i].halted = false;
			free_chunks(&dev->in[i]);
		}
		if (interface < 0 || dev->out[i].interface == interface)
			dev->out[i].halted = false;
	}
}

void vdev_in_hold(struct vdev *dev, bool hold)
{
	int i;

	dev->in_held = hold;
	for (i = 1; i < VDEV_MAX_ENDPOINTS && !dev->in_held; i++)
		if (!TAILQ_EMPTY(&dev->in[i].urbs))
			process_in(dev, (uint8_t)i);
}

void vdev_disconnect(struct vdev *dev)
{
	int i;

	for (i = 0; i < VDEV_MAX_ENDPOINTS; i++)
		drop_urbs(dev, &dev->in[i]);
	reset_endpoints(dev, -1);
	dev->current_config = 0;
	dev->in_held = false;
	pool_empty(dev); /* the next host may never come: give the memory back */
	if (dev->cfg.ops->reset)
		dev->cfg.ops->reset(dev->cfg.priv);
}

bool vdev_unlink(struct vdev *dev, uint32_t seqnum)
{
	int i;

	for (i = 0; i < VDEV_MAX_ENDPOINTS; i++) {
		struct vdev_ep *ep = &dev->in[i];
		struct vdev_urb *u;

		TAILQ_FOREACH(u, &ep->urbs, link) {
			if (u->seqnum != seqnum)
				continue;
			TAILQ_REMOVE(&ep->urbs, u, link);
			ep->waiting--;
			vdev_urb_free(dev, u);
			return true;
		}
	}
	return false;
}

/* A string descriptor from an ASCII/UTF-8 string (non-ASCII bytes become '?'). */
static int string_desc(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (n > STRING_MAX)
		n = STRING_MAX;
	if (cap < 2 + 2 * n)
		n = cap >= 2 ? (cap - 2) / 2 : 0;
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = DT_STRING;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[2 + 2 * i] = ch < 0x80 ? ch : '?';
		out[3 + 2 * i] = 0;
	}
	return (int)(2 + 2 * n);
}

static struct vdev_ep *ep_of_index(struct vdev *dev, uint16_t index)
{
	struct vdev_ep *ep = (index & 0x80) ? &dev->in[index & 0x0f] : &dev->out[index & 0x0f];

	return ep->present ? ep : NULL;
}

/* Copies len bytes of src into the answer; returns the answered length. */
static int answer(uint8_t *data, size_t room, const void *src, size_t len)
{
	if (len > room)
		len = room;
	memcpy(data, src, len);
	return (int)len;
}

static int get_descriptor(struct vdev *dev, const struct vdev_setup *s, uint8_t *data, size_t room)
{
	uint8_t type = s->value >> 8, index = s->value & 0xff, tmp[256];
	const uint8_t *d = dev->cfg.device_desc;

	switch (type) {
	case USB_DT_DEVICE:
		return answer(data, room, d, USB_DT_DEVICE_SIZE);
	case USB_DT_CONFIG:
		if (index != 0)
			return -1;
		return answer(data, room, dev->cfg.config_desc, dev->config_len);
	case DT_STRING:
		if (index == 0) {
			static const uint8_t langs[] = { 4, DT_STRING, 0x09, 0x04 };

			return answer(data, room, langs, sizeof(langs));
		}
		if (index > dev->cfg.num_strings || !dev->cfg.strings[index - 1])
			return -1; /* none (a NULL entry: a gap, e.g. before 0xEE, MS OS) */
		return answer(data, room, tmp,
			      (size_t)string_desc(dev->cfg.strings[index - 1], tmp, sizeof(tmp)));
	case DT_DEVICE_QUALIFIER: {
		uint8_t q[10] = {
			10, DT_DEVICE_QUALIFIER, d[2], d[3], d[4], d[5], d[6], d[7], d[17], 0
		};

		return answer(data, room, q, sizeof(q));
	}
	}
	return -1;
}

static int standard_request(struct vdev *dev, const struct vdev_setup *s, uint8_t *data,
			    size_t room)
{
	uint8_t recip = s->request_type & VDEV_REQ_RECIP_MASK;
	struct vdev_ep *ep;

	switch (s->request) {
	case REQ_GET_STATUS: {
		uint8_t st[2] = { 0, 0 };

		if (recip == VDEV_REQ_RECIP_DEV) {
			st[0] = 1; /* self-powered */
		} else if (recip == VDEV_REQ_RECIP_EP) {
			ep = ep_of_index(dev, s->index);
			if (!ep)
				return -1;
			st[0] = ep->halted;
		}
		return answer(data, room, st, sizeof(st));
	}
	case REQ_CLEAR_FEATURE:
	case REQ_SET_FEATURE:
		if (recip != VDEV_REQ_RECIP_EP)
			return 0; /* remote wakeup, test mode: nothing to do */
		ep = ep_of_index(dev, s->index);
		if (!ep || s->value != FEATURE_ENDPOINT_HALT)
			return -1;
		if ((s->index & 0x0f) == 0)
			return 0;
		if (s->request == REQ_SET_FEATURE) {
			vdev_halt(dev, (uint8_t)s->index);
			return 0;
		}
		ep->halted = false;
		ep->zlp_pending = false;
		if (dev->cfg.ops->halt_cleared)
			dev->cfg.ops->halt_cleared(dev->cfg.priv, (uint8_t)s->index);
		return 0;
	case REQ_SET_ADDRESS:
		return 0;
	case REQ_GET_DESCRIPTOR:
		return get_descriptor(dev, s, data, room);
	case REQ_GET_CONFIGURATION:
		return answer(data, room, &dev->current_config, 1);
	case REQ_SET_CONFIGURATION:
		if (s->value != 0 && s->value != dev->config_value)
			return -1;
		reset_endpoints(dev, -1);
		dev->current_config = (uint8_t)s->value;
		if (dev->cfg.ops->reset)
			dev->cfg.ops->reset(dev->cfg.priv);
		return 0;
	case REQ_GET_INTERFACE: {
		uint8_t alt = 0;

		return answer(data, room, &alt, 1);
	}
	case REQ_SET_INTERFACE:
		if (s->value != 0)
			return -1; /* only alternate setting 0 exists */
		reset_endpoints(dev, s->index);
		return 0;
	}
	return -1;
}

static void control(struct vdev *dev, struct vdev_urb *urb)
{
	struct vdev_setup s = {
		.request_type = urb->setup[0],
		.request = urb->setup[1],
		.value = get_le16(urb->setup + 2),
		.index = get_le16(urb->setup + 4),
		.length = get_le16(urb->setup + 6),
	};
	bool in = s.request_type & VDEV_REQ_DIR_IN;
	size_t room = s.length < urb->length ? s.length : urb->length;
	uint8_t answer_buf[65536]; /* wLength is 16 bits */
	uint8_t *data = in || !urb->buf ? answer_buf : urb->buf;
	int rc;

	/*
	 * With a data stage, the URB must go the request's way: an IN URB
	 * brings no data for an OUT request (and must not carry a buffer
	 * nobody wrote back), an OUT URB has no room for an answer, and an
	 * OUT URB must hold the whole data stage.
	 */
	if (s.length && (urb->dir_in != in || (!in && urb->length < s.length))) {
		urb->actual = 0;
		complete(dev, urb, -EPIPE);
		return;
	}
	if ((s.request_type & VDEV_REQ_TYPE_MASK) == VDEV_REQ_STANDARD) {
		rc = standard_request(dev, &s, answer_buf, room);
	} else if (dev->cfg.ops->control) {
		/* What the function leaves unwritten of its answer is zeros, not old stack. */
		if (in)
			memset(answer_buf, 0, s.length);
		rc = dev->cfg.ops->control(dev->cfg.priv, &s, data);
		if (rc > (int)room)
			rc = (int)room;
	} else {
		rc = -1;
	}
	if (rc < 0) {
		urb->actual = 0;
		complete(dev, urb, -EPIPE);
		return;
	}
	if (!in) {
		urb->actual = s.length;
		complete(dev, urb, 0);
		return;
	}
	/* The answer alone is kept, not the host's buffer (which may be 16 MiB). */
	if (rc && urb_alloc_buffer(dev, urb, (size_t)rc) != 0) {
		urb->actual = 0;
		complete(dev, urb, -ENOMEM);
		return;
	}
	if (rc)
		memcpy(urb->buf, answer_buf, (size_t)rc);
	urb->actual = (uint32_t)rc;
	complete(dev, urb, in_status(urb));
}

void vdev_submit(struct vdev *dev, struct vdev_urb *urb)
{
	struct vdev_ep *ep;

	urb->actual = 0;
	if (urb->ep >= VDEV_MAX_ENDPOINTS) {
		complete(dev, urb, -EPIPE);
		return;
	}
	if (urb->ep == 0) {
		control(dev, urb);
		return;
	}
	ep = urb->dir_in ? &dev->in[urb->ep & 0x0f] : &dev->out[urb->ep & 0x0f];
	if (!ep->present || !dev->current_config) {
		complete(dev, urb, -EPIPE);
		return;
	}
	if (ep->halted) {
		complete(dev, urb, -EPIPE);
		return;
	}
	if (!urb->dir_in) {
		/* The device takes the data (the URB completes) before it answers. */
		uint8_t *mem = urb->mem, *data = urb->buf, num = urb->ep;
		uint32_t len = urb->length;
		size_t mem_size = urb->mem_size;

		urb->mem = urb->buf = NULL;
		urb->actual = len;
		complete(dev, urb, 0);
		if (dev->cfg.ops->out)
			dev->cfg.ops->out(dev->cfg.priv, num, data, len);
		vdev_mem_release(dev, mem, mem_size);
		return;
	}
	if (ep->waiting >= VDEV_MAX_WAITING) {
		complete(dev, urb, -ENOMEM); /* a flood of IN URBs: bounded */
		return;
	}
	TAILQ_INSERT_TAIL(&ep->urbs, urb, link);
	ep->waiting++;
	process_in(dev, urb->ep & 0x0f);
}

void vdev_describe(const struct vdev *dev, struct usbip_usb_device *udev,
		   struct usbip_usb_interface *interfaces, unsigned int max_interfaces)
{
	const uint8_t *c = dev->cfg.config_desc;
	size_t off;

	udev->speed = dev->cfg.speed;
	/* vdev_new took it for a device descriptor: this cannot fail. */
	usb_descriptors_device(dev->cfg.device_desc, USB_DT_DEVICE_SIZE, udev);
	udev->configuration_value = dev->config_value;
	udev->num_interfaces = c[4];
	for (off = 0; off + 2 <= dev->config_len && c[off] >= 2; off += c[off]) {
		if (c[off + 1] != USB_DT_INTERFACE || c[off] < USB_DT_INTERFACE_SIZE ||
		    off + USB_DT_INTERFACE_SIZE > dev->config_len || c[off + 3] != 0 ||
		    c[off + 2] >= max_interfaces)
			continue;
		interfaces[c[off + 2]].interface_class = c[off + 5];
		interfaces[c[off + 2]].interface_subclass = c[off + 6];
		interfaces[c[off + 2]].interface_protocol = c[off + 7];
	}
}
