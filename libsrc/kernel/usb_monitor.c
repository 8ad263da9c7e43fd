// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/usb_monitor.h"

#include <libudev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

struct usb_monitor {
	struct udev *udev;
	struct udev_monitor *mon;
	usb_monitor_fn fn;
	void *arg;
};

/*
 * udevd's events come after its rules ran, but where no udevd runs (an
 * initramfs, a container) only the kernel's own do: take those then. What
 * is read here (sysfs attributes) is there at the kernel's "add" already.
 */
static const char *event_source(void)
{
	return access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
}

struct usb_monitor *usb_monitor_new(usb_monitor_fn fn, void *arg)
{
	struct usb_monitor *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->fn = fn;
	m->arg = arg;
	m->udev = udev_new();
	m->mon = m->udev ? udev_monitor_new_from_netlink(m->udev, event_source()) : NULL;
	if (!m->mon ||
	    udev_monitor_filter_add_match_subsystem_devtype(m->mon, "usb", "usb_device") < 0 ||
	    udev_monitor_enable_receiving(m->mon) < 0) {
		log_err("cannot watch USB devices through udev");
		usb_monitor_free(m);
		return NULL;
	}
	return m;
}

int usb_monitor_fd(const struct usb_monitor *m)
{
	return udev_monitor_get_fd(m->mon);
}

void usb_monitor_dispatch(struct usb_monitor *m)
{
	struct udev_device *dev;

	/* The socket is non-blocking: NULL once nothing is left. */
	while ((dev = udev_monitor_receive_device(m->mon)) != NULL) {
		const char *action = udev_device_get_action(dev);
		const char *busid = udev_device_get_sysname(dev);

		if (action && busid && strcmp(action, "add") == 0)
			m->fn(m->arg, USB_MONITOR_ADDED, busid);
		else if (action && busid && strcmp(action, "remove") == 0)
			m->fn(m->arg, USB_MONITOR_REMOVED, busid);
		udev_device_unref(dev);
	}
}

void usb_monitor_free(struct usb_monitor *m)
{
	if (!m)
		return;
	if (m->mon)
		udev_monitor_unref(m->mon);
	if (m->udev)
		udev_unref(m->udev);
	free(m);
}
