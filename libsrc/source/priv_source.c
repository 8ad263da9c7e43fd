// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/priv_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tcp.h"
#include "net/tls.h"
#include "util/log.h"

enum {
	PRIV_SOURCE_LIST = PRIVSEP_TYPE_DAEMON,
	PRIV_SOURCE_GET,
	PRIV_SOURCE_HAND_OVER,
};

/* The list comes in pages that fit in one message. */
#define PRIV_LIST_PAGE 48

struct priv_list_request {
	uint32_t start; /* the index of the first device wanted */
};

struct priv_list_reply {
	uint32_t total; /* in the whole list */
	uint32_t count; /* in this page */
	struct usbip_local_device devs[PRIV_LIST_PAGE];
};

struct priv_busid_request {
	char busid[USBIP_BUSID_SIZE];
};

struct priv_get_reply {
	struct usbip_local_device dev;
};

/* How the network process carries the connection, for status. */
enum priv_datapath { PRIV_DATAPATH_TCP, PRIV_DATAPATH_KTLS, PRIV_DATAPATH_RELAY };

struct priv_hand_over_request {
	char busid[USBIP_BUSID_SIZE];
	char peer[80];
	uint8_t datapath; /* enum priv_datapath */
};

struct priv_status_reply {
	uint32_t status; /* enum usbip_op_status */
};

/* --- The privileged side: the real source answers. --- */

static ssize_t serve_list(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct priv_list_request *req = request;
	struct priv_list_reply *rep = reply;
	struct usbip_local_device *listed = NULL;
	size_t n = 0, i;

	rep->total = rep->count = 0;
	if (device_source_list(arg, &listed, &n) == 0) {
		rep->total = (uint32_t)n;
		for (i = req->start; i < n && rep->count < PRIV_LIST_PAGE; i++)
			rep->devs[rep->count++] = listed[i];
	}
	free(listed);
	return (ssize_t)(offsetof(struct priv_list_reply, devs) +
			 rep->count * sizeof(rep->devs[0]));
}

static ssize_t serve_get(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct priv_busid_request *req = request;
	struct priv_get_reply *rep = reply;

	if (!PRIVSEP_STRING_OK(req->busid) || !usbip_proto_busid_ok(req->busid))
		return -1; /* the child's decoder refuses such a busid */
	if (device_source_get(arg, req->busid, &rep->dev) != 0)
		return 0; /* no such device: an empty answer */
	return sizeof(*rep);
}

static ssize_t serve_hand_over(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	static const char *const datapaths[] = { NULL, "ktls", "relay" };
	const struct priv_hand_over_request *req = request;
	struct priv_status_reply *rep = reply;
	struct usbip_local_device dev;
	struct usbip_conn *conn;

	if (!PRIVSEP_STRING_OK(req->busid) || !usbip_proto_busid_ok(req->busid) ||
	    !PRIVSEP_STRING_OK(req->peer) || req->datapath > PRIV_DATAPATH_RELAY) {
		close(fd);
		return -1;
	}
	/*
	 * Only a device that is there and free, whatever the network process
	 * asked before: the drivers check too, but not every source is a driver.
	 */
	rep->status = device_source_get(arg, req->busid, &dev) == 0
			      ? device_source_availability(&dev)
			      : USBIP_ST_NODEV;
	if (rep->status != USBIP_ST_OK) {
		close(fd);
		return sizeof(*rep);
	}
	/* Nothing is read from it here: the driver takes it as it is. */
	conn = tcp_conn_from_fd(fd);
	if (!conn) {
		rep->status = USBIP_ST_ERROR;
		return sizeof(*rep);
	}
	device_source_note_peer(arg, req->busid, req->peer, datapaths[req->datapath]);
	rep->status = device_source_hand_over(arg, req->busid, conn, NULL);
	return sizeof(*rep);
}

_Static_assert(sizeof(struct priv_list_reply) <= PRIVSEP_MAX_MESSAGE,
	       "a page of the list fits in one message");

const struct privsep_op priv_source_ops[] = {
	{ PRIV_SOURCE_LIST, "the device list", sizeof(struct priv_list_request), false,
	  sizeof(struct priv_list_reply), serve_list },
	{ PRIV_SOURCE_GET, "a device", sizeof(struct priv_busid_request), false,
	  sizeof(struct priv_get_reply), serve_get },
	{ PRIV_SOURCE_HAND_OVER, "a hand-over", sizeof(struct priv_hand_over_request), true,
	  sizeof(struct priv_status_reply), serve_hand_over },
};
const size_t priv_source_nops = sizeof(priv_source_ops) / sizeof(priv_source_ops[0]);

/* --- The network side: asks. --- */

struct priv_source {
	struct device_source base;
	struct privsep *chan;
};

static struct privsep *chan_of(struct device_source *src)
{
	return ((struct priv_source *)src)->chan;
}

static int ask_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	struct priv_list_request req = { 0 };
	struct usbip_local_device *all = NULL, *grown;
	struct priv_list_reply *rep = malloc(sizeof(*rep));
	size_t n = 0;
	ssize_t len;

	if (!rep)
		return -1;
	for (;;) {
		len = privsep_call(chan_of(src), PRIV_SOURCE_LIST, &req, sizeof(req), -1, rep,
				   sizeof(*rep), NULL);
		if (len < (ssize_t)offsetof(struct priv_list_reply, devs) ||
		    rep->count > PRIV_LIST_PAGE ||
		    (size_t)len != offsetof(struct priv_list_reply, devs) +
					   rep->count * sizeof(rep->devs[0]) ||
		    n + rep->count > USBIP_MAX_DEVLIST)
			break;
		if (rep->count) {
			grown = realloc(all, (n + rep->count) * sizeof(*all));
			if (!grown)
				break;
			all = grown;
			memcpy(all + n, rep->devs, rep->count * sizeof(*all));
			n += rep->count;
		}
		/* All of it, or an empty page: the list got shorter while it was read. */
		if (!rep->count || n >= rep->total) {
			free(rep);
			*devs = all;
			*count = n;
			return 0;
		}
		req.start = (uint32_t)n;
	}
	free(rep);
	free(all);
	return -1;
}

static int ask_get(struct device_source *src, const char *busid, struct usbip_local_device *dev)
{
	struct priv_busid_request req = { { 0 } };
	struct priv_get_reply rep = { 0 };

	snprintf(req.busid, sizeof(req.busid), "%s", busid);
	if (privsep_call(chan_of(src), PRIV_SOURCE_GET, &req, sizeof(req), -1, &rep, sizeof(rep),
			 NULL) != (ssize_t)sizeof(rep))
		return -1;
	*dev = rep.dev;
	return 0;
}

static enum usbip_op_status ask_hand_over(struct device_source *src, const char *busid,
					  struct usbip_conn *conn, int *watch_fd)
{
	struct priv_hand_over_request req = { .datapath = PRIV_DATAPATH_TCP };
	struct priv_status_reply rep = { USBIP_ST_ERROR };
	const char *datapath = tls_datapath(conn);
	/* Sets up kernel TLS or starts the relay here, in the network process. */
	int fd = usbip_conn_kernel_fd(conn);

	snprintf(req.busid, sizeof(req.busid), "%s", busid);
	snprintf(req.peer, sizeof(req.peer), "%s", conn->peer);
	req.datapath = !datapath		       ? PRIV_DATAPATH_TCP
		       : strcmp(datapath, "ktls") == 0 ? PRIV_DATAPATH_KTLS
						       : PRIV_DATAPATH_RELAY;
	if (fd >= 0 && privsep_call(chan_of(src), PRIV_SOURCE_HAND_OVER, &req, sizeof(req), fd,
				    &rep, sizeof(rep), NULL) != (ssize_t)sizeof(rep))
		rep.status = USBIP_ST_ERROR;
	/* The driver holds its own reference now (or nothing does). */
	conn_close(conn);
	return (enum usbip_op_status)rep.status;
}

static void priv_destroy(struct device_source *src)
{
	free(src);
}

static const struct device_source_ops priv_ops = {
	.list = ask_list,
	.get = ask_get,
	.hand_over = ask_hand_over,
	.destroy = priv_destroy,
};

struct device_source *priv_source_new(struct privsep *chan, const char *kind)
{
	struct priv_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	device_source_init(&src->base, &priv_ops, kind);
	src->chan = chan;
	return &src->base;
}
