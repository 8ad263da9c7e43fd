/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Offers one virtual device over USB/IP, in either direction:
 *  - listening: answers OP_REQ_DEVLIST and OP_REQ_IMPORT like usbipd, so
 *    any `usbip attach` (Debian's too) imports it; while it is imported it
 *    is not listed and a second import gets "device busy";
 *  - exporting: connects to a usbipa, sends OP_REQ_EXPORT with the device
 *    record and, once accepted, serves the URB phase on that connection.
 */
#ifndef USBIP_VDEV_SERVER_H
#define USBIP_VDEV_SERVER_H

#include "daemon/ev.h"
#include "vdev/vdev.h"
#include "wire/usbip_proto.h"

struct usbip_tls;

struct vdev_server_options {
	const char *busid; /* e.g. "1-1" */
	const char *path;  /* the sysfs-like path shown in the device list */
	uint32_t busnum, devnum;
	struct usbip_tls *listen_tls; /* TLS server context for listening, or NULL */
	struct usbip_tls *dial_tls;   /* TLS client context for exporting, or NULL */
};

struct vdev_server;

/* NULL on allocation failure. */
struct vdev_server *vdev_server_new(struct ev_loop *loop, struct vdev *dev,
				    const struct vdev_server_options *opts);
void vdev_server_free(struct vdev_server *server);

/* Listening mode on non-blocking listening sockets (the server owns them). */
int vdev_server_listen(struct vdev_server *server, const int *fds, int nfds);

/*
 * Exporting mode: OP_REQ_EXPORT to host:port, then the URB phase. Returns 0
 * once the device is attached there, or a usbip exit code: 4 unreachable,
 * 5 refused (with *status), 1 other failures.
 */
int vdev_server_export(struct vdev_server *server, const char *host, const char *port,
		       int timeout_ms, uint32_t *status);
/*
 * Asks the usbipa at host:port to detach the device (OP_REQ_UNEXPORT on a
 * new connection). Returns 0, or an exit code as vdev_server_export.
 */
int vdev_server_unexport(struct vdev_server *server, const char *host, const char *port,
			 int timeout_ms, uint32_t *status);
/* Whether an importer is attached right now. */
int vdev_server_attached(const struct vdev_server *server);
/* Called when an attached importer goes away (e.g. to export again or to stop). */
void vdev_server_on_detach(struct vdev_server *server, void (*fn)(void *arg), void *arg);

#endif
