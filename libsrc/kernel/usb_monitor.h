/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB devices as they are plugged and unplugged, from the kernel's uevents
 * through libudev's monitor: one file descriptor for the event loop, no
 * polling. Only whole devices (DEVTYPE usb_device), not their interfaces.
 */
#ifndef USBIP_KERNEL_USB_MONITOR_H
#define USBIP_KERNEL_USB_MONITOR_H

enum usb_monitor_event {
	USB_MONITOR_ADDED,
	USB_MONITOR_REMOVED,
};

typedef void (*usb_monitor_fn)(void *arg, enum usb_monitor_event event, const char *busid);

struct usb_monitor;

/* NULL (logged) if the monitor cannot be opened. */
struct usb_monitor *usb_monitor_new(usb_monitor_fn fn, void *arg);
/* Readable when events wait: hand it to the event loop. */
int usb_monitor_fd(const struct usb_monitor *m);
/* Reads every waiting event and calls fn for each. */
void usb_monitor_dispatch(struct usb_monitor *m);
void usb_monitor_free(struct usb_monitor *m);

#endif
