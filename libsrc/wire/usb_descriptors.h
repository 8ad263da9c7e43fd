/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading standard USB descriptors (chapter 9 of the USB specification). */
#ifndef USBIP_USB_DESCRIPTORS_H
#define USBIP_USB_DESCRIPTORS_H

#include <stddef.h>
#include <stdint.h>

#include "wire/usbip_proto.h"

#define USB_DT_DEVICE	      0x01
#define USB_DT_CONFIG	      0x02
#define USB_DT_INTERFACE      0x04
#define USB_DT_DEVICE_SIZE    18
#define USB_DT_CONFIG_SIZE    9
#define USB_DT_INTERFACE_SIZE 9

/*
 * The device record's fields a device descriptor holds (class triple, ids,
 * bcdDevice, bNumConfigurations) into u; -1, u untouched, when desc is no
 * device descriptor.
 */
int usb_descriptors_device(const uint8_t *desc, size_t len, struct usbip_usb_device *u);

/*
 * From a device's raw descriptors (what sysfs "descriptors" holds: the
 * device descriptor, then each configuration with its interfaces and
 * endpoints), takes the first configuration's value and the class triple of
 * alternate setting 0 of each interface, as the device record and its
 * interface records want them. Used for devices that usbip-host has
 * unconfigured, whose sysfs attributes are empty. Returns 0, or -1 when the
 * bytes do not hold a well-formed configuration.
 */
int usb_descriptors_interfaces(const uint8_t *desc, size_t len, uint8_t *configuration_value,
			       uint8_t *num_interfaces,
			       struct usbip_usb_interface interfaces[USBIP_MAX_INTERFACES]);

#endif
