/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtual USB device made in user space: its descriptors, the standard
 * control requests of chapter 9, and per-endpoint URB queues. A function
 * (MTP, ...) plugs in through struct vdev_ops and never sees URBs: it gets
 * the bytes of OUT transfers and writes IN data as "messages" that the
 * engine cuts into URBs with the USB short-packet rules. The transport (the
 * USB/IP session) submits URBs and gets completions back; it never sees
 * descriptors.
 *
 * URB rules kept here, as a host controller would keep them:
 *  - an IN URB completes when its buffer is full or its message ends (a
 *    short packet); a message whose length is a multiple of the endpoint's
 *    wMaxPacketSize ends with a zero-length packet, which completes the
 *    next URB with no data when the previous one was filled exactly;
 *  - IN URBs wait (any number, in order) until there is data;
 *  - URB_SHORT_NOT_OK turns a short IN completion into -EREMOTEIO;
 *  - an unlinked URB that is still queued is dropped and never completed.
 */
#ifndef USBIP_VDEV_H
#define USBIP_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct vdev;

/* The 8-byte SETUP packet of a control transfer, in host order. */
struct vdev_setup {
	uint8_t request_type;
	uint8_t request;
	uint16_t value;
	uint16_t index;
	uint16_t length;
};

#define VDEV_REQ_DIR_IN	    0x80
#define VDEV_REQ_TYPE_MASK  0x60
#define VDEV_REQ_STANDARD   0x00
#define VDEV_REQ_CLASS	    0x20
#define VDEV_REQ_VENDOR	    0x40
#define VDEV_REQ_RECIP_MASK 0x1f
#define VDEV_REQ_RECIP_DEV  0x00
#define VDEV_REQ_RECIP_INTF 0x01
#define VDEV_REQ_RECIP_EP   0x02

/* bmAttributes transfer types of an endpoint descriptor */
#define VDEV_EP_CONTROL 0
#define VDEV_EP_ISO	1
#define VDEV_EP_BULK	2
#define VDEV_EP_INTR	3

#define VDEV_MAX_ENDPOINTS 16 /* per direction, including ep0 */

/*
 * Calls go one way. in_next and in_direct are called while the engine
 * works through an IN queue: they answer with what they return and call
 * nothing of the engine on the device but vdev_in_alloc. The others are
 * called outside that work, and may write IN data (vdev_in_write ...).
 */
struct vdev_ops {
	/*
	 * A class or vendor request on ep0. data holds setup->length bytes:
	 * the host's data for an OUT request, room for the answer for an IN
	 * request. Returns the number of bytes answered (0 for OUT), or -1 to
	 * stall.
	 */
	int (*control)(void *priv, const struct vdev_setup *setup, uint8_t *data);
	/*
	 * One OUT transfer on a bulk or interrupt endpoint (len may be 0: a
	 * zero-length packet). The data is only valid during the call.
	 */
	void (*out)(void *priv, uint8_t ep, const uint8_t *data, size_t len);
	/*
	 * An IN URB waits on ep and nothing is queued there: the function's
	 * next IN data, in a buffer from vdev_in_alloc that the engine takes
	 * (*len bytes of it, *end at the end of a message), or NULL when it
	 * has none now. The engine asks again whenever an URB waits with
	 * nothing queued, so this is also how a function says what follows a
	 * message that ended (e.g. the response after a data phase).
	 */
	uint8_t *(*in_next)(void *priv, uint8_t ep, size_t *len, bool *end);
	/*
	 * Optional, for bulk data: the rest of the message in progress on ep
	 * (its start was queued with end false), written straight into an
	 * URB's buffer of room bytes. Returns the bytes written (0: none now)
	 * and sets *end on the last of them; what follows is asked with
	 * in_next.
	 */
	size_t (*in_direct)(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end);
	/* The configuration was set or cleared, an interface was reset, or the host went away. */
	void (*reset)(void *priv);
	/* CLEAR_FEATURE(ENDPOINT_HALT) on ep. */
	void (*halt_cleared)(void *priv, uint8_t ep);
};

/* What the device looks like. The strings are indexes 1..n; index 0 is English (0x0409). */
struct vdev_config {
	const uint8_t *device_desc; /* 18 bytes */
	const uint8_t *config_desc; /* wTotalLength bytes: configuration, interfaces, endpoints */
	const char *const *strings; /* ASCII/UTF-8 */
	unsigned int num_strings;
	uint32_t speed; /* enum usbip_speed */
	const struct vdev_ops *ops;
	void *priv;
};

/* One URB as the transport submitted it; the engine owns it from vdev_submit on. */
struct vdev_urb {
	uint32_t seqnum;
	uint8_t ep;	 /* endpoint number, 0..15 */
	bool dir_in;	 /* USBIP_DIR_IN */
	uint32_t flags;	 /* transfer_flags */
	uint32_t length; /* transfer_buffer_length */
	int32_t start_frame;
	uint32_t number_of_packets;
	int32_t interval;
	uint8_t setup[8];
	uint8_t *buf; /* OUT: the host's data (length bytes); IN: filled by the engine */
	uint32_t actual;
	/*
	 * buf is mem + VDEV_URB_HEADROOM: the transport may build its reply
	 * header in front of the data and send both without a copy (taking
	 * mem over and setting it to NULL, and giving it back with
	 * vdev_mem_release once sent). mem_size is what mem holds: for an IN
	 * URB at least the headroom and actual, and what a reply waiting to
	 * be sent costs.
	 */
	uint8_t *mem;
	size_t mem_size;
	TAILQ_ENTRY(vdev_urb) link; /* in its endpoint's queue */
};

/*
 * Called by the engine when an URB completes (status 0 or -errno); the
 * callee sends the reply and frees the URB with vdev_urb_free. It may hold
 * IN completions (vdev_in_hold true), but it neither submits, releases
 * the hold nor writes IN data: the engine is in the middle of its queue.
 */
typedef void (*vdev_complete_fn)(void *arg, struct vdev_urb *urb, int status);

struct vdev *vdev_new(const struct vdev_config *config);
void vdev_free(struct vdev *dev);
void vdev_set_completion(struct vdev *dev, vdev_complete_fn fn, void *arg);

#define VDEV_URB_HEADROOM 64

/*
 * Allocates an URB of length bytes (bounded by the caller) for dev. OUT
 * URBs get their buffer now; IN URBs (with_buffer false) only when data
 * arrives, and then (on ep0) only as much as the answer, so that URBs
 * waiting for data, or holding a short answer, cost no more than that.
 */
struct vdev_urb *vdev_urb_new(struct vdev *dev, uint32_t length, bool with_buffer);
void vdev_urb_free(struct vdev *dev, struct vdev_urb *urb);
/* Gives back the memory of a completed URB that the transport took over (mem, mem_size). */
void vdev_mem_release(struct vdev *dev, uint8_t *mem, size_t size);

/* Waiting IN URBs beyond this make vdev_submit refuse new ones with -ENOMEM. */
#define VDEV_MAX_WAITING 4096

/* Takes an URB: it completes now, or later through the completion callback. */
void vdev_submit(struct vdev *dev, struct vdev_urb *urb);
/*
 * Back-pressure from the transport: while held, IN URBs wait and nothing
 * is asked of the function, even when it has data, so that a peer that
 * reads nothing cannot make the device produce everything it asks for
 * into memory. Releasing the hold fills the waiting URBs again.
 */
void vdev_in_hold(struct vdev *dev, bool hold);
/*
 * CMD_UNLINK: returns true (and frees the URB without completing it) if
 * seqnum was still queued, false if it is unknown or already completed.
 */
bool vdev_unlink(struct vdev *dev, uint32_t seqnum);
/* The host went away: drop queued URBs (never completed) and queued IN data, reset the function. */
void vdev_disconnect(struct vdev *dev);

/*
 * For the function: queue IN data on endpoint address ep (0x81 ...).
 * end marks the end of a message (a transfer: the device sends a short
 * packet or a ZLP after it). Returns 0, or -1 out of memory.
 */
int vdev_in_write(struct vdev *dev, uint8_t ep, const void *data, size_t len, bool end);
/*
 * The same without a copy: a buffer of up to cap bytes to fill, then
 * queued with vdev_in_commit (len <= cap bytes of it), or dropped with
 * vdev_in_discard. NULL out of memory.
 */
uint8_t *vdev_in_alloc(size_t cap);
int vdev_in_commit(struct vdev *dev, uint8_t ep, uint8_t *buf, size_t len, bool end);
void vdev_in_discard(uint8_t *buf);
/* Bytes queued and not yet taken by URBs on IN endpoint ep. */
size_t vdev_in_queued(const struct vdev *dev, uint8_t ep);
/* Drops the IN data queued on ep (a cancelled transaction). */
void vdev_in_flush(struct vdev *dev, uint8_t ep);
/* Stalls ep until the host clears the halt. */
void vdev_halt(struct vdev *dev, uint8_t ep);
/* IN URBs waiting for data on ep. */
unsigned int vdev_in_waiting(const struct vdev *dev, uint8_t ep);
bool vdev_configured(const struct vdev *dev);

/* Device and interface identity for an OP_REP_DEVLIST/IMPORT record, from the descriptors. */
struct usbip_usb_device;
struct usbip_usb_interface;
void vdev_describe(const struct vdev *dev, struct usbip_usb_device *udev,
		   struct usbip_usb_interface *interfaces, unsigned int max_interfaces);

#endif
