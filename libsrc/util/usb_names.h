/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Vendor, product and class names from the usb.ids database (hwdata). */
#ifndef USBIP_USB_NAMES_H
#define USBIP_USB_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Loads the database once; without it the lookups fall back to numbers. */
void usb_names_load(const char *path);
void usb_names_free(void);

/* "Vendor : Product (vvvv:pppp)", with "unknown" for what is not listed. */
void usb_names_product(char *buf, size_t len, uint16_t vendor, uint16_t product);
/* "Class / Subclass / Protocol (cc/ss/pp)". */
void usb_names_class(char *buf, size_t len, uint8_t cls, uint8_t subclass, uint8_t protocol);

#endif
