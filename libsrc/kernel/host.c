// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/host.h"

#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/sysfs.h"
#include "util/log.h"
#include "wire/usb_descriptors.h"

uint32_t host_parse_speed(const char *s)
{
	static const struct sysfs_word map[] = {
		{ "1.5", USBIP_SPEED_LOW },	     { "12", USBIP_SPEED_FULL },
		{ "480", USBIP_SPEED_HIGH },	     { "53.3-480", USBIP_SPEED_WIRELESS },
		{ "5000", USBIP_SPEED_SUPER },	     { "10000", USBIP_SPEED_SUPER_PLUS },
		{ "20000", USBIP_SPEED_SUPER_PLUS },
	};

	return sysfs_word_value(map, sizeof(map) / sizeof(map[0]), s, USBIP_SPEED_UNKNOWN);
}

static unsigned long attr_num(struct udev_device *dev, const char *name, int base)
{
	const char *v = udev_device_get_sysattr_value(dev, name);

	return v ? strtoul(v, NULL, base) : 0;
}

/* A device below vhci_hcd was imported; exporting it again would loop. */
static bool on_vhci(struct udev_device *dev)
{
	return strstr(udev_device_get_syspath(dev), "/vhci_hcd") != NULL;
}

static bool is_hub(struct udev_device *dev)
{
	return attr_num(dev, "bDeviceClass", 16) == 0x09;
}

static void read_interfaces(struct udev *udev, struct udev_device *dev,
			    struct usbip_devlist_entry *e)
{
	const char *busid = udev_device_get_sysname(dev);
	unsigned i;

	for (i = 0; i < e->udev.num_interfaces; i++) {
		struct udev_device *intf;
		char name[64];

		snprintf(name, sizeof(name), "%s:%u.%u", busid, e->udev.configuration_value, i);
		intf = udev_device_new_from_subsystem_sysname(udev, "usb", name);
		if (!intf)
			continue;
		e->interfaces[i].interface_class = (uint8_t)attr_num(intf, "bInterfaceClass", 16);
		e->interfaces[i].interface_subclass =
			(uint8_t)attr_num(intf, "bInterfaceSubClass", 16);
		e->interfaces[i].interface_protocol =
			(uint8_t)attr_num(intf, "bInterfaceProtocol", 16);
		udev_device_unref(intf);
	}
}

/*
 * usbip-host leaves the device unconfigured, so its interfaces are gone from
 * sysfs; the raw descriptors still tell what they are, and a client listing
 * the device wants to see them.
 */
static void read_unconfigured_interfaces(const char *syspath, struct usbip_devlist_entry *e)
{
	uint8_t desc[4096];
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/descriptors", syspath);
	n = sysfs_read_binary(path, desc, sizeof(desc));
	if (n > 0 && usb_descriptors_interfaces(desc, (size_t)n, &e->udev.configuration_value,
						&e->udev.num_interfaces, e->interfaces) != 0)
		e->udev.num_interfaces = 0;
}

static void read_device(struct udev *udev, struct udev_device *dev, struct usbip_local_device *out)
{
	struct usbip_usb_device *u = &out->info.udev;
	const char *v;
	char path[PATH_MAX], status[16];

	memset(out, 0, sizeof(*out));
	out->hub = is_hub(dev);
	out->imported = on_vhci(dev);
	snprintf(u->path, sizeof(u->path), "%s", udev_device_get_syspath(dev));
	snprintf(u->busid, sizeof(u->busid), "%s", udev_device_get_sysname(dev));
	u->busnum = (uint32_t)attr_num(dev, "busnum", 10);
	u->devnum = (uint32_t)attr_num(dev, "devnum", 10);
	u->speed = host_parse_speed(udev_device_get_sysattr_value(dev, "speed"));
	u->id_vendor = (uint16_t)attr_num(dev, "idVendor", 16);
	u->id_product = (uint16_t)attr_num(dev, "idProduct", 16);
	u->bcd_device = (uint16_t)attr_num(dev, "bcdDevice", 16);
	u->device_class = (uint8_t)attr_num(dev, "bDeviceClass", 16);
	u->device_subclass = (uint8_t)attr_num(dev, "bDeviceSubClass", 16);
	u->device_protocol = (uint8_t)attr_num(dev, "bDeviceProtocol", 16);
	/* Empty while the device is unconfigured: 0 then. */
	u->configuration_value = (uint8_t)attr_num(dev, "bConfigurationValue", 10);
	u->num_configurations = (uint8_t)attr_num(dev, "bNumConfigurations", 10);
	u->num_interfaces = (uint8_t)attr_num(dev, "bNumInterfaces", 10);
	if (u->num_interfaces > USBIP_MAX_INTERFACES)
		u->num_interfaces = USBIP_MAX_INTERFACES;
	if (u->configuration_value)
		read_interfaces(udev, dev, &out->info);
	else
		read_unconfigured_interfaces(u->path, &out->info);

	v = udev_device_get_sysattr_value(dev, "serial");
	snprintf(out->serial, sizeof(out->serial), "%s", v ? v : "");
	v = udev_device_get_driver(dev);
	snprintf(out->driver, sizeof(out->driver), "%s", v ? v : "");
	if (strcmp(out->driver, "usbip-host") == 0) {
		snprintf(path, sizeof(path), "%s/usbip_status", u->path);
		out->stub_status = USBIP_STUB_ERROR;
		if (sysfs_read_attr(path, status, sizeof(status)) == 0)
			out->stub_status = host_parse_stub_status(status);
	}
}

enum usbip_stub_status host_parse_stub_status(const char *text)
{
	/* What usbip-host's usbip_status_show prints: one digit (the newline is gone). */
	if (text[0] >= '0' && text[0] <= '3' && !text[1])
		return (enum usbip_stub_status)(text[0] - '0');
	return USBIP_STUB_ERROR;
}

bool host_driver_loaded(void)
{
	static bool said_missing;

	return sysfs_note_driver(access(USBIP_HOST_DRIVER_DIR, F_OK) == 0, "usbip-host",
				 "usbip-host", &said_missing);
}

int host_list(struct usbip_local_device **devs, size_t *count, bool bound_only)
{
	struct udev *udev = udev_new();
	struct udev_enumerate *en;
	struct udev_list_entry *entry;
	struct usbip_local_device *list = NULL;
	size_t n = 0, cap = 0;

	*devs = NULL;
	*count = 0;
	if (!udev) {
		log_err("cannot open udev");
		return -1;
	}
	en = udev_enumerate_new(udev);
	udev_enumerate_add_match_subsystem(en, "usb");
	udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
	udev_enumerate_scan_devices(en);
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en))
	{
		struct udev_device *dev =
			udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));

		if (!dev)
			continue;
		if (!is_hub(dev) && !on_vhci(dev)) {
			const char *drv = udev_device_get_driver(dev);

			if (!bound_only || (drv && strcmp(drv, "usbip-host") == 0)) {
				if (n == cap) {
					struct usbip_local_device *bigger;

					cap = cap ? cap * 2 : 8;
					bigger = realloc(list, cap * sizeof(*list));
					if (!bigger) {
						udev_device_unref(dev);
						break;
					}
					list = bigger;
				}
				read_device(udev, dev, &list[n++]);
			}
		}
		udev_device_unref(dev);
	}
	udev_enumerate_unref(en);
	udev_unref(udev);
	*devs = list;
	*count = n;
	return 0;
}

bool host_busid_valid(const char *busid)
{
	size_t digits = 0;
	bool dash = false;
	const char *p;

	if (strlen(busid) >= USBIP_BUSID_SIZE)
		return false;
	for (p = busid; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			digits++;
			continue;
		}
		/* After digits: the one '-' between bus and port, then '.' between ports. */
		if (!digits || (*p == '-' && dash) || (*p != '-' && (*p != '.' || !dash)))
			return false;
		dash = true;
		digits = 0;
	}
	return dash && digits;
}

/* Looks up a device by busid; logs and returns NULL if there is none. */
static struct udev_device *find_device(struct udev *udev, const char *busid)
{
	struct udev_device *dev;

	if (!host_busid_valid(busid)) {
		log_err("'%s' is not a busid (like 1-2 or 1-2.3)", busid);
		return NULL;
	}
	dev = udev_device_new_from_subsystem_sysname(udev, "usb", busid);

	if (!dev || strcmp(udev_device_get_devtype(dev) ?: "", "usb_device") != 0) {
		log_err("no USB device with busid %s", busid);
		if (dev)
			udev_device_unref(dev);
		return NULL;
	}
	return dev;
}

int host_get(const char *busid, struct usbip_local_device *out)
{
	struct udev *udev = udev_new();
	struct udev_device *dev;

	if (!udev) {
		log_err("cannot open udev");
		return -1;
	}
	dev = find_device(udev, busid);
	if (dev) {
		read_device(udev, dev, out);
		udev_device_unref(dev);
	}
	udev_unref(udev);
	return dev ? 0 : -1;
}

int host_peek(const char *busid, struct usbip_local_device *dev)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s", busid);
	if (!busid[0] || access(path, F_OK) != 0)
		return -1;
	return host_get(busid, dev);
}

static int write_driver_file(const char *driver, const char *file, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/usb/drivers/%s/%s", driver, file);
	if (sysfs_write_attr(path, value) == 0)
		return 0;
	log_debug("write '%s' to %s: %s", value, path, strerror(errno));
	return -1;
}

static int match_busid(const char *op, const char *busid)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%s %s", op, busid);
	return write_driver_file("usbip-host", "match_busid", cmd);
}

/* Asks the kernel to probe the device's usual driver again. */
static void give_back(const char *busid)
{
	if (write_driver_file("usbip-host", "rebind", busid) != 0)
		log_warn("%s: could not hand the device back to its driver: %s", busid,
			 strerror(errno));
}

int host_bind(const char *busid, bool already_ok)
{
	struct usbip_local_device dev;
	struct udev *udev;
	struct udev_device *d;
	bool hub, vhci;

	if (!host_driver_loaded())
		return -1;
	udev = udev_new();
	if (!udev)
		return -1;
	d = find_device(udev, busid);
	if (!d) {
		udev_unref(udev);
		return -1;
	}
	hub = is_hub(d);
	vhci = on_vhci(d);
	read_device(udev, d, &dev);
	udev_device_unref(d);
	udev_unref(udev);

	if (hub) {
		log_err("%s is a hub: hubs cannot be exported", busid);
		return -1;
	}
	if (vhci) {
		log_err("%s is itself imported through vhci_hcd: exporting it would loop", busid);
		return -1;
	}
	if (strcmp(dev.driver, "usbip-host") == 0) {
		if (already_ok)
			return 0;
		log_err("%s is already bound to usbip-host", busid);
		return -1;
	}
	if (dev.driver[0] && write_driver_file(dev.driver, "unbind", busid) != 0) {
		log_err("%s: cannot unbind it from %s: %s", busid, dev.driver, strerror(errno));
		return -1;
	}
	if (match_busid("add", busid) != 0) {
		log_err("%s: cannot add it to usbip-host's match_busid: %s", busid,
			strerror(errno));
		goto rollback_driver;
	}
	if (write_driver_file("usbip-host", "bind", busid) != 0) {
		log_err("%s: usbip-host refused to bind it: %s", busid, strerror(errno));
		match_busid("del", busid);
		goto rollback_driver;
	}
	return 0;

rollback_driver:
	/* Put the device back where it was. */
	if (dev.driver[0] && write_driver_file(dev.driver, "bind", busid) != 0)
		log_warn("%s: could not rebind it to %s: %s", busid, dev.driver, strerror(errno));
	return -1;
}

int host_unbind(const char *busid)
{
	struct usbip_local_device dev;

	if (host_get(busid, &dev))
		return -1;
	if (strcmp(dev.driver, "usbip-host") != 0) {
		log_err("%s is not bound to usbip-host", busid);
		return -1;
	}
	if (write_driver_file("usbip-host", "unbind", busid) != 0) {
		log_err("%s: cannot unbind it from usbip-host: %s", busid, strerror(errno));
		return -1;
	}
	/* "del" and then "rebind", which probes the usual driver (see stub_main.c). */
	if (match_busid("del", busid) != 0)
		log_debug("%s: match_busid del: %s", busid, strerror(errno));
	give_back(busid);
	return 0;
}

int host_reclaim(const char *busid)
{
	struct usbip_local_device dev;
	char path[PATH_MAX];

	if (host_get(busid, &dev) != 0)
		return -1;
	/* -1 tells the stub to drop its connection ("stub down", see stub_dev.c). */
	snprintf(path, sizeof(path), "%s/usbip_sockfd", dev.info.udev.path);
	if (sysfs_write_attr(path, "-1\n") != 0) {
		log_err("%s: cannot take it back from its connection: %s", busid, strerror(errno));
		return -1;
	}
	return 0;
}

void host_forget(const char *busid)
{
	if (match_busid("del", busid) != 0)
		log_debug("%s: match_busid del: %s", busid, strerror(errno));
}

enum usbip_op_status host_give_socket(const struct usbip_local_device *dev, const char *driver,
				      int sockfd)
{
	char path[PATH_MAX], value[16];
	int n;

	switch (dev->stub_status) {
	case USBIP_STUB_AVAILABLE:
		break;
	case USBIP_STUB_USED:
		return USBIP_ST_DEV_BUSY;
	default:
		return USBIP_ST_DEV_ERR;
	}
	n = snprintf(path, sizeof(path), "%s/usbip_sockfd", dev->info.udev.path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return USBIP_ST_NA;
	snprintf(value, sizeof(value), "%d\n", sockfd);
	if (sysfs_write_attr(path, value) != 0) {
		log_err("%s: %s did not take the connection: %s", dev->info.udev.busid, driver,
			strerror(errno));
		return USBIP_ST_NA;
	}
	return USBIP_ST_OK;
}

enum usbip_op_status host_export(const char *busid, int sockfd, struct usbip_local_device *dev)
{
	if (host_get(busid, dev) != 0)
		return USBIP_ST_NODEV;
	if (strcmp(dev->driver, "usbip-host") != 0)
		return USBIP_ST_NA;
	return host_give_socket(dev, "usbip-host", sockfd);
}
