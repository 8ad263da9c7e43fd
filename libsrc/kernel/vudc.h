/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The usbip-vudc driver on the device side (vUDC mode, usbipd --device): a
 * virtual USB device controller whose "cable" is a USB/IP connection. A
 * gadget (configfs, or a legacy gadget module) bound to it is the device that
 * is exported; the vudc itself answers the importer's USB requests.
 *
 * A vudc is named by its platform device, usbip-vudc.N, which is also its
 * busid on the wire, as with the kernel's own usbipd. Its USB/IP files
 * (usbip_status, usbip_sockfd, dev_desc) are on that platform device, its
 * UDC class device (current_speed, function, ...) is /sys/class/udc/usbip-vudc.N.
 */
#ifndef USBIP_KERNEL_VUDC_H
#define USBIP_KERNEL_VUDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/host.h"
#include "wire/usbip_proto.h"

#define USBIP_VUDC_DRIVER_DIR "/sys/bus/platform/drivers/usbip-vudc"

/*
 * Lists every usbip-vudc UDC that has a gadget bound and pulled up (one
 * without a gadget has no device descriptor, and is left out, as the kernel's
 * usbipd leaves it out). The record is filled as the kernel's usbipd fills
 * it: see vudc.c. stub_status is the vudc's usbip_status: available, used
 * (exported) or error. Returns 0 and a malloc'd array in *devs (free it; NULL
 * when *count is 0), or -1 after logging.
 */
int vudc_list(struct usbip_local_device **devs, size_t *count);

/* Fills dev for one busid (usbip-vudc.N); -1 (logged) if there is no such
 * vudc or no gadget is bound to it. */
int vudc_get(const char *busid, struct usbip_local_device *dev);

/* Whether the usbip-vudc driver is loaded; logs a hint when it is not. */
bool vudc_driver_loaded(void);

/*
 * Hands sockfd to the vudc (usbip_sockfd) and fills dev with what it is.
 * Returns an OP status: USBIP_ST_OK, or why not: NODEV (no such vudc, or no
 * gadget bound), DEV_BUSY (already exported), DEV_ERR (the vudc is in its
 * error state), NA (the vudc refused the socket).
 */
enum usbip_op_status vudc_export(const char *busid, int sockfd, struct usbip_local_device *dev);

#endif
