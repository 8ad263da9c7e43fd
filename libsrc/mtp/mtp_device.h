/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An MTP responder (a "phone" in MTP terms) on a virtual USB device: the
 * still-image-class interface (06/01/01, "MTP" in its string) with bulk IN,
 * bulk OUT and interrupt IN endpoints, the PTP/MTP operations over an
 * mtp_store, the PTP class requests, and events for changes others make
 * under the directory.
 */
#ifndef USBIP_MTP_DEVICE_H
#define USBIP_MTP_DEVICE_H

#include <stdbool.h>

#include "vdev/vdev.h"

#define MTP_VENDOR_ID  0x1d6b /* Linux Foundation */
#define MTP_PRODUCT_ID 0x0100 /* "PTP Gadget" in usb.ids */

struct mtp_device_options {
	const char *dir;
	bool read_only;
	const char *name; /* DeviceFriendlyName and the storage description */
};

struct mtp_device;

/* NULL with errno set when the directory cannot be opened. */
struct mtp_device *mtp_device_new(const struct mtp_device_options *opts);
void mtp_device_free(struct mtp_device *mdev);
struct vdev *mtp_device_vdev(struct mtp_device *mdev);
/* A descriptor to poll for POLLIN; then call mtp_device_process_changes. */
int mtp_device_watch_fd(const struct mtp_device *mdev);
/* Reads what changed under the directory and sends the events (in a session). */
void mtp_device_process_changes(struct mtp_device *mdev);

#endif
