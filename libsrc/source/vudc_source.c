// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/vudc_source.h"

#include <stdlib.h>

#include "kernel/vudc.h"

static int vudc_source_list(struct device_source *src, struct usbip_local_device **devs,
			    size_t *count)
{
	return vudc_list(devs, count);
}

static int vudc_source_get(struct device_source *src, const char *busid,
			   struct usbip_local_device *dev)
{
	return vudc_get(busid, dev);
}

static enum usbip_op_status vudc_hand_over(struct device_source *src, const char *busid,
					   struct usbip_conn *conn, int *watch_fd)
{
	return device_source_hand_to_kernel(busid, conn, vudc_export, watch_fd);
}

static void vudc_destroy(struct device_source *src)
{
	free(src);
}

static const struct device_source_ops vudc_ops = {
	.list = vudc_source_list,
	.list_noun = "gadget on usbip-vudc",
	.candidates_noun = "gadget on usbip-vudc",
	.get = vudc_source_get,
	.hand_over = vudc_hand_over,
	.destroy = vudc_destroy,
};

struct device_source *vudc_source_new(void)
{
	struct device_source *src = calloc(1, sizeof(*src));

	if (src)
		device_source_init(src, &vudc_ops, "usbip-vudc");
	return src;
}
