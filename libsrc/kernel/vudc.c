// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/vudc.h"

#include <errno.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "kernel/sysfs.h"
#include "wire/usb_descriptors.h"

/* The name usbip-vudc gives its gadget: the UDC's uevent has USB_UDC_NAME=. */
#define VUDC_GADGET_NAME "usbip-vudc"

/* Where configfs gadgets live when configfs is mounted where it always is. */
#define CONFIGFS_GADGETS "/sys/kernel/config/usb_gadget"

/*
 * The UDC's current_speed is usb_speed_string() of the gadget's speed:
 * "high-speed" once a gadget is bound (the vudc offers at most high speed),
 * "UNKNOWN" without one.
 */
static uint32_t parse_udc_speed(const char *s)
{
	static const struct sysfs_word map[] = {
		{ "low-speed", USBIP_SPEED_LOW },
		{ "full-speed", USBIP_SPEED_FULL },
		{ "high-speed", USBIP_SPEED_HIGH },
		{ "wireless", USBIP_SPEED_WIRELESS },
		{ "super-speed", USBIP_SPEED_SUPER },
		{ "super-speed-plus", USBIP_SPEED_SUPER_PLUS },
	};

	return sysfs_word_value(map, sizeof(map) / sizeof(map[0]), s, USBIP_SPEED_UNKNOWN);
}

/* dir/name into buf; -1 if it does not fit (a path that long is no sysfs path). */
static int join_path(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static bool is_vudc(struct udev_device *udc)
{
	const char *name = udev_device_get_property_value(udc, "USB_UDC_NAME");

	return name && strcmp(name, VUDC_GADGET_NAME) == 0;
}

/*
 * dev_desc is the device descriptor the vudc asked its gadget for when the
 * gadget was pulled up; reading it fails (ENODEV) while no gadget is bound
 * or the gadget is soft-disconnected. That is the test for "has a gadget"
 * the kernel's usbipd uses too.
 */
static int read_dev_desc(const char *platform, struct usbip_usb_device *u)
{
	uint8_t desc[64];
	char path[PATH_MAX];
	ssize_t n;

	if (join_path(path, sizeof(path), platform, "dev_desc") != 0)
		return -1;
	n = sysfs_read_binary(path, desc, sizeof(desc));
	if (n < 0)
		return -1;
	if (usb_descriptors_device(desc, (size_t)n, u) != 0) {
		log_debug("%s: %zd bytes that are no device descriptor", path, n);
		return -1;
	}
	return 0;
}

/*
 * The gadget's serial number, for usbipa's policy: the vudc does not show
 * the gadget's strings, but a configfs gadget bound to this UDC has them in
 * configfs. The UDC's "function" is the gadget driver's name, which for a
 * configfs gadget is its directory; the gadget's own UDC file must name this
 * UDC back. Legacy gadget modules (g_mass_storage, ...) get "".
 */
static void read_configfs_serial(const char *function, const char *udc_name, char *out, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], bound[64];

	out[0] = '\0';
	if (!*function || strchr(function, '/') || strcmp(function, ".") == 0 ||
	    strcmp(function, "..") == 0)
		return;
	if (join_path(dir, sizeof(dir), CONFIGFS_GADGETS, function) != 0 ||
	    join_path(path, sizeof(path), dir, "UDC") != 0 ||
	    sysfs_read_attr(path, bound, sizeof(bound)) != 0 || strcmp(bound, udc_name) != 0)
		return;
	if (join_path(path, sizeof(path), dir, "strings/0x409/serialnumber") != 0 ||
	    sysfs_read_attr(path, out, size) != 0)
		out[0] = '\0';
}

/*
 * Fills out for one UDC, as the kernel's usbipd --device does (the same
 * bytes on the wire):
 *   path, busid   the platform device's sysfs path and name (usbip-vudc.N)
 *   busnum, devnum 0: a gadget is on no local bus
 *   speed         from the UDC's current_speed
 *   ids, bcdDevice, class triple, bNumConfigurations  from dev_desc
 *   bConfigurationValue 0, bNumInterfaces 0: the vudc shows only the device
 *                 descriptor (no configuration descriptors, no interfaces in
 *                 sysfs), so the record carries no interface entries; the
 *                 importer reads the configuration over USB/IP after attach
 * Returns -1 when the UDC has no gadget (dev_desc unreadable).
 */
static int read_vudc(struct udev_device *udc, struct usbip_local_device *out)
{
	struct usbip_usb_device *u = &out->info.udev;
	struct udev_device *plat = udev_device_get_parent(udc);
	const char *function;
	char path[PATH_MAX], status[16];

	memset(out, 0, sizeof(*out));
	if (!plat)
		return -1;
	snprintf(u->path, sizeof(u->path), "%s", udev_device_get_syspath(plat));
	snprintf(u->busid, sizeof(u->busid), "%s", udev_device_get_sysname(plat));
	if (read_dev_desc(u->path, u) != 0)
		return -1;
	u->speed = parse_udc_speed(udev_device_get_sysattr_value(udc, "current_speed"));

	/* The gadget driver bound to the UDC (a configfs gadget's name). */
	function = udev_device_get_sysattr_value(udc, "function");
	snprintf(out->driver, sizeof(out->driver), "%s", function ? function : "");
	read_configfs_serial(out->driver, udev_device_get_sysname(udc), out->serial,
			     sizeof(out->serial));

	/* usbip_status: 1 available, 2 used (exported), 3 error; as usbip-host's. */
	out->stub_status = USBIP_STUB_ERROR;
	if (join_path(path, sizeof(path), u->path, "usbip_status") == 0 &&
	    sysfs_read_attr(path, status, sizeof(status)) == 0) {
		if (strcmp(status, "1") == 0)
			out->stub_status = USBIP_STUB_AVAILABLE;
		else if (strcmp(status, "2") == 0)
			out->stub_status = USBIP_STUB_USED;
	}
	return 0;
}

bool vudc_driver_loaded(void)
{
	static bool said_missing;

	return sysfs_note_driver(access(USBIP_VUDC_DRIVER_DIR, F_OK) == 0, "usbip-vudc",
				 "usbip-vudc", &said_missing);
}

/*
 * Calls found() for each vudc UDC with a gadget (in sysfs order); stops
 * when it returns non-zero and returns that, else 0. -1 if udev fails.
 */
static int for_each_vudc(int (*found)(const struct usbip_local_device *dev, void *ctx), void *ctx)
{
	struct udev *udev = udev_new();
	struct udev_enumerate *en;
	struct udev_list_entry *entry;
	int rc = 0;

	if (!udev) {
		log_err("cannot open udev");
		return -1;
	}
	en = udev_enumerate_new(udev);
	if (!en) {
		log_err("cannot enumerate udev devices");
		udev_unref(udev);
		return -1;
	}
	/* The kernel's tools find vudcs the same way: UDCs whose gadget is
	 * named usbip-vudc. */
	udev_enumerate_add_match_subsystem(en, "udc");
	udev_enumerate_scan_devices(en);
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en))
	{
		struct udev_device *udc =
			udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
		struct usbip_local_device dev;

		if (!udc)
			continue;
		if (is_vudc(udc) && read_vudc(udc, &dev) == 0)
			rc = found(&dev, ctx);
		udev_device_unref(udc);
		if (rc)
			break;
	}
	udev_enumerate_unref(en);
	udev_unref(udev);
	return rc;
}

struct vudc_array {
	struct usbip_local_device *list;
	size_t n, cap;
};

static int append_vudc(const struct usbip_local_device *dev, void *ctx)
{
	struct vudc_array *a = ctx;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct usbip_local_device *bigger = realloc(a->list, cap * sizeof(*bigger));

		if (!bigger) {
			log_err("out of memory listing usbip-vudc gadgets");
			return -1;
		}
		a->list = bigger;
		a->cap = cap;
	}
	a->list[a->n++] = *dev;
	return 0;
}

int vudc_list(struct usbip_local_device **devs, size_t *count)
{
	struct vudc_array a = { NULL, 0, 0 };

	*devs = NULL;
	*count = 0;
	if (for_each_vudc(append_vudc, &a) != 0) {
		free(a.list);
		return -1;
	}
	*devs = a.list;
	*count = a.n;
	return 0;
}

struct vudc_lookup {
	const char *busid;
	struct usbip_local_device *out;
};

static int match_busid(const struct usbip_local_device *dev, void *ctx)
{
	struct vudc_lookup *l = ctx;

	if (strcmp(dev->info.udev.busid, l->busid) != 0)
		return 0;
	*l->out = *dev;
	return 1;
}

int vudc_get(const char *busid, struct usbip_local_device *dev)
{
	struct vudc_lookup l = { busid, dev };
	int rc;

	/* Compared with the names sysfs lists, never made into a path. */
	if (!*busid || strlen(busid) >= USBIP_BUSID_SIZE) {
		log_err("'%s' is not a vudc busid (like usbip-vudc.0)", busid);
		return -1;
	}
	rc = for_each_vudc(match_busid, &l);
	if (rc == 1)
		return 0;
	if (rc == 0)
		log_err("no gadget bound to a usbip-vudc UDC named %s", busid);
	return -1;
}

enum usbip_op_status vudc_export(const char *busid, int sockfd, struct usbip_local_device *dev)
{
	/* No vudc, or one without a gadget: the kernel's usbipd does not list
	 * it, and answers NODEV for it. */
	if (vudc_get(busid, dev) != 0)
		return USBIP_ST_NODEV;
	/*
	 * The vudc looks the number up in the writing process's file table
	 * (sockfd_lookup) and takes its own reference: the caller closes its
	 * copy afterwards. It refuses a socket that is not SOCK_STREAM, and
	 * one while connected (EBUSY) or with no gadget pulled up (ENODEV).
	 */
	return host_give_socket(dev, "usbip-vudc", sockfd);
}
