/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The URB phase of USB/IP for a virtual device: reads CMD_SUBMIT and
 * CMD_UNLINK from a connection without blocking, hands the URBs to the
 * vdev engine and sends RET_SUBMIT/RET_UNLINK as they complete, all on the
 * shared event loop. Replies are matched by seqnum alone (vhci-hcd does so),
 * so their devid, direction and ep are 0.
 */
#ifndef USBIP_VDEV_USBIP_H
#define USBIP_VDEV_USBIP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/ev.h"
#include "net/conn.h"
#include "vdev/vdev.h"

struct vdev_usbip;

/* Called once the session has ended (peer gone, protocol error) and freed itself. */
typedef void (*vdev_usbip_closed_fn)(void *arg);

/*
 * Replies waiting to be sent may hold this much memory (what their buffers
 * take, not just their bytes); past it the session reads no more requests
 * until the peer has read some. IN URBs complete only under a much lower
 * mark, so that their data is made as the peer takes it.
 */
#define VDEV_USBIP_OUTPUT_MARK (4u << 20)

/* Without a URB from the peer for this long, the session ends (the default). */
#define VDEV_USBIP_IDLE_TIMEOUT_MS (10u * 60 * 1000)

struct vdev_usbip_options {
	/*
	 * The session ends when the peer has sent no URB (CMD_SUBMIT or
	 * CMD_UNLINK) and taken none of our replies for this long, so that an
	 * importer that does nothing cannot keep the device from everyone
	 * else. URBs waiting on the device (an event endpoint's) are not
	 * activity. 0: VDEV_USBIP_IDLE_TIMEOUT_MS; UINT32_MAX: never.
	 */
	uint32_t idle_timeout_ms;
};

/*
 * Starts serving dev on conn (which the session now owns and makes
 * non-blocking); options may be NULL for the defaults. NULL on failure,
 * with conn closed.
 */
struct vdev_usbip *vdev_usbip_start_with(struct ev_loop *loop, struct usbip_conn *conn,
					 struct vdev *dev, const struct vdev_usbip_options *options,
					 vdev_usbip_closed_fn closed, void *arg);
/* The same with the default options. */
struct vdev_usbip *vdev_usbip_start(struct ev_loop *loop, struct usbip_conn *conn, struct vdev *dev,
				    vdev_usbip_closed_fn closed, void *arg);
/* Ends the session now (without calling closed): drops queued URBs and closes conn. */
void vdev_usbip_stop(struct vdev_usbip *session);
/* Bytes of memory the replies not yet sent hold (what the output mark counts). */
size_t vdev_usbip_output_held(const struct vdev_usbip *session);

#endif
