// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/vdev_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vdev/vdev_usbip.h"

struct vdev_source {
	struct device_source base; /* first: the interface's pointer is ours */
	struct ev_loop *loop;
	struct vdev *dev;
	struct usbip_local_device local; /* the record offered, with its interfaces */
	struct vdev_usbip *session;	 /* the importer, if any */
	void (*on_detach)(void *arg);
	void *detach_arg;
};

static struct vdev_source *to_vdev(struct device_source *src)
{
	return (struct vdev_source *)src;
}

static void session_closed(void *arg)
{
	struct vdev_source *s = arg;

	s->session = NULL;
	s->local.stub_status = USBIP_STUB_AVAILABLE;
	log_info("%s: importer gone; the device is offered again", s->local.info.udev.busid);
	if (s->on_detach)
		s->on_detach(s->detach_arg);
}

static int vdev_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	struct vdev_source *s = to_vdev(src);

	*devs = malloc(sizeof(**devs));
	if (!*devs) {
		log_err("out of memory");
		return -1;
	}
	**devs = s->local;
	*count = 1;
	return 0;
}

static int vdev_get(struct device_source *src, const char *busid, struct usbip_local_device *dev)
{
	struct vdev_source *s = to_vdev(src);

	if (strcmp(busid, s->local.info.udev.busid) != 0)
		return -1;
	*dev = s->local;
	return 0;
}

static enum usbip_op_status vdev_hand_over(struct device_source *src, const char *busid,
					   struct usbip_conn *conn, int *watch_fd)
{
	struct vdev_source *s = to_vdev(src);

	if (strcmp(busid, s->local.info.udev.busid) != 0 || s->session) {
		conn_close(conn);
		return s->session ? USBIP_ST_DEV_BUSY : USBIP_ST_NODEV;
	}
	s->session = vdev_usbip_start(s->loop, conn, s->dev, session_closed, s);
	if (!s->session)
		return USBIP_ST_ERROR; /* conn is closed */
	s->local.stub_status = USBIP_STUB_USED;
	return USBIP_ST_OK;
}

static void vdev_destroy(struct device_source *src)
{
	struct vdev_source *s = to_vdev(src);

	vdev_usbip_stop(s->session);
	free(s);
}

static const struct device_source_ops vdev_ops = {
	.list = vdev_list,
	.list_noun = "virtual device",
	.candidates_noun = "virtual device",
	.get = vdev_get,
	.hand_over = vdev_hand_over,
	.destroy = vdev_destroy,
};

struct device_source *vdev_source_new(struct ev_loop *loop, struct vdev *dev,
				      const struct vdev_source_options *opts)
{
	struct vdev_source *s = calloc(1, sizeof(*s));
	struct usbip_usb_device *u;

	if (!s)
		return NULL;
	device_source_init(&s->base, &vdev_ops, "virtual");
	s->loop = loop;
	s->dev = dev;
	u = &s->local.info.udev;
	snprintf(u->busid, sizeof(u->busid), "%s", opts->busid);
	snprintf(u->path, sizeof(u->path), "%s", opts->path);
	u->busnum = opts->busnum;
	u->devnum = opts->devnum;
	vdev_describe(dev, u, s->local.info.interfaces, USBIP_MAX_INTERFACES);
	s->local.stub_status = USBIP_STUB_AVAILABLE;
	return &s->base;
}

const char *vdev_source_busid(const struct device_source *src)
{
	return ((const struct vdev_source *)src)->local.info.udev.busid;
}

bool vdev_source_attached(const struct device_source *src)
{
	return ((const struct vdev_source *)src)->session != NULL;
}

void vdev_source_on_detach(struct device_source *src, void (*fn)(void *arg), void *arg)
{
	struct vdev_source *s = to_vdev(src);

	s->on_detach = fn;
	s->detach_arg = arg;
}
