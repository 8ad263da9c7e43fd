// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/device_source.h"

#include <string.h>

#include "util/log.h"

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
					     struct usbip_conn *conn, int *watch_fd)
{
	if (watch_fd)
		*watch_fd = -1;
	return src->ops->hand_over(src, busid, conn, watch_fd);
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

void device_source_record(const struct usbip_local_device *dev, struct usbip_usb_device *udev)
{
	uint8_t probe[USBIP_DEVICE_RECORD_SIZE];

	if (udev != &dev->info.udev)
		*udev = dev->info.udev;
	if (!dev->serial[0])
		return;
	if (strlen(dev->serial) < sizeof(udev->serial))
		strcpy(udev->serial, dev->serial);
	if (usbip_encode_device(probe, udev) != 0 || strcmp(udev->serial, dev->serial) != 0) {
		log_warn("%s: serial '%s' does not fit in the device record; sent without it",
			 udev->busid, dev->serial);
		udev->serial[0] = '\0';
	}
}
