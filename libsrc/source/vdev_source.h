/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One virtual device (made in user space, e.g. serve-mtp's MTP device) as
 * a device source. It has one importer at a time: while imported it is
 * listed as in use, and a second import gets "device busy".
 */
#ifndef USBIP_SOURCE_VDEV_SOURCE_H
#define USBIP_SOURCE_VDEV_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/ev.h"
#include "source/device_source.h"
#include "vdev/vdev.h"

struct vdev_source_options {
	const char *busid; /* e.g. "1-1" */
	const char *path;  /* the sysfs-like path shown in the device list */
	uint32_t busnum, devnum;
};

/* NULL on allocation failure. The source does not own dev. */
struct device_source *vdev_source_new(struct ev_loop *loop, struct vdev *dev,
				      const struct vdev_source_options *opts);

/* The busid the device is offered as. */
const char *vdev_source_busid(const struct device_source *src);
/* Whether an importer (or the usbipa it was exported to) has it now. */
bool vdev_source_attached(const struct device_source *src);
/* Called each time that importer goes away. */
void vdev_source_on_detach(struct device_source *src, void (*fn)(void *arg), void *arg);

#endif
