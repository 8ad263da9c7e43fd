// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/device_source.h"

int device_source_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	return src->ops->list(src, devs, count);
}

int device_source_get(struct device_source *src, const char *busid, struct usbip_local_device *dev)
{
	return src->ops->get(src, busid, dev);
}

int device_source_prepare(struct device_source *src, const char *busid)
{
	return src->ops->prepare ? src->ops->prepare(src, busid) : 0;
}

enum usbip_op_status device_source_hand_over(struct device_source *src, const char *busid,
					     struct usbip_conn *conn)
{
	return src->ops->hand_over(src, busid, conn);
}

int device_source_release(struct device_source *src, const char *busid)
{
	return src->ops->release ? src->ops->release(src, busid) : 0;
}

void device_source_free(struct device_source *src)
{
	if (src)
		src->ops->destroy(src);
}

enum usbip_op_status device_source_status(const struct usbip_local_device *dev)
{
	switch (dev->stub_status) {
	case USBIP_STUB_AVAILABLE:
		return USBIP_ST_OK;
	case USBIP_STUB_USED:
		return USBIP_ST_DEV_BUSY;
	case USBIP_STUB_NOT_BOUND:
		return USBIP_ST_NA;
	case USBIP_STUB_ERROR:
		break;
	}
	return USBIP_ST_DEV_ERR;
}
