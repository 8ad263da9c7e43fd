// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/host_source.h"

#include <stdlib.h>

#include "kernel/host.h"

static int host_source_list(struct device_source *src, struct usbip_local_device **devs,
			    size_t *count)
{
	/* Only what is bound to usbip-host can be exported. */
	return host_list(devs, count, true);
}

static int host_candidates(struct device_source *src, struct usbip_local_device **devs,
			   size_t *count)
{
	return host_list(devs, count, false);
}

static int host_source_get(struct device_source *src, const char *busid,
			   struct usbip_local_device *dev)
{
	return host_get(busid, dev);
}

static int host_prepare(struct device_source *src, const char *busid)
{
	return host_bind(busid, true);
}

static enum usbip_op_status host_hand_over(struct device_source *src, const char *busid,
					   struct usbip_conn *conn, int *watch_fd)
{
	return device_source_hand_to_kernel(busid, conn, host_export, watch_fd);
}

static int host_release(struct device_source *src, const char *busid)
{
	return host_unbind(busid);
}

static int host_source_reclaim(struct device_source *src, const char *busid)
{
	return host_reclaim(busid);
}

static void host_destroy(struct device_source *src)
{
	free(src);
}

static const struct device_source_ops host_ops = {
	.list = host_source_list,
	.candidates = host_candidates,
	.list_noun = "bound device",
	.candidates_noun = "exportable device",
	.get = host_source_get,
	.prepare = host_prepare,
	.hand_over = host_hand_over,
	.release = host_release,
	.reclaim = host_source_reclaim,
	.destroy = host_destroy,
};

struct device_source *host_source_new(void)
{
	struct device_source *src = calloc(1, sizeof(*src));

	if (src)
		device_source_init(src, &host_ops, "usbip-host");
	return src;
}
