// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip port: the devices imported through vhci-hcd and where they come from. */
#include "config.h"

#include <getopt.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vhci.h"
#include "util/json.h"
#include "util/usb_names.h"
#include "usbip.h"

/* Names the local device on the port, from its vhci busid. */
static void local_product(const char *busid, char *buf, size_t len, unsigned *vid, unsigned *pid)
{
	struct udev *udev = udev_new();
	struct udev_device *dev =
		udev ? udev_device_new_from_subsystem_sysname(udev, "usb", busid) : NULL;
	const char *v, *p;

	*vid = *pid = 0;
	if (dev) {
		v = udev_device_get_sysattr_value(dev, "idVendor");
		p = udev_device_get_sysattr_value(dev, "idProduct");
		*vid = v ? (unsigned)strtoul(v, NULL, 16) : 0;
		*pid = p ? (unsigned)strtoul(p, NULL, 16) : 0;
		udev_device_unref(dev);
	}
	if (udev)
		udev_unref(udev);
	usb_names_product(buf, len, (uint16_t)*vid, (uint16_t)*pid);
}

int usbip_port(int argc, char **argv)
{
	static const char help[] =
		"Lists the devices imported through vhci-hcd: port, speed, local\n"
		"busid, and the remote host, port and busid they came from.\n";
	struct usbip_vhci vhci;
	struct json_writer w;
	bool json;
	unsigned i;
	int rc = usbip_parse_json_only(argc, argv, "port", help, &json);

	if (rc >= 0)
		return rc;
	if (vhci_open(&vhci) != 0)
		return USBIP_EXIT_FAILURE;
	usb_names_load(USBIDS_FILE);
	if (json) {
		json_init(&w, stdout);
		json_array_begin(&w, NULL);
	} else {
		printf("Imported USB devices\n====================\n");
	}
	for (i = 0; i < vhci.nports; i++) {
		const struct usbip_vhci_port *p = &vhci.ports[i];
		struct usbip_vhci_record rec;
		bool have_rec;
		char product[512];
		unsigned vid, pid;

		if (p->status == USBIP_VDEV_NULL)
			continue;
		have_rec = vhci_record_read(i, &rec) == 0;
		local_product(p->local_busid, product, sizeof(product), &vid, &pid);
		if (json) {
			json_object_begin(&w, NULL);
			json_uint(&w, "port", i);
			json_string(&w, "hub", p->superspeed ? "ss" : "hs");
			json_string(&w, "status", vhci_status_str(p->status));
			json_string(&w, "speed", usbip_proto_speed_str(p->speed));
			json_string(&w, "local_busid", p->local_busid);
			json_hex(&w, "vendor", vid, 4);
			json_hex(&w, "product", pid, 4);
			json_string(&w, "name", product);
			json_uint(&w, "remote_busnum", p->devid >> 16);
			json_uint(&w, "remote_devnum", p->devid & 0xffff);
			if (have_rec) {
				json_string(&w, "remote_host", rec.host);
				json_string(&w, "remote_port", rec.service);
				json_string(&w, "remote_busid", rec.busid);
			}
			json_object_end(&w);
			continue;
		}
		printf("Port %02u: <%s> at %s\n", i, vhci_status_str(p->status),
		       usbip_proto_speed_str(p->speed));
		printf("       %s\n", product);
		if (have_rec)
			printf("%10s -> usbip://%s:%s/%s\n", p->local_busid, rec.host, rec.service,
			       rec.busid);
		else
			printf("%10s -> unknown host, remote port and remote busid\n",
			       p->local_busid);
		printf("%10s -> remote bus/dev %03u/%03u\n", " ", p->devid >> 16,
		       p->devid & 0xffff);
	}
	if (json) {
		json_array_end(&w);
		json_finish(&w);
	}
	usb_names_free();
	vhci_close(&vhci);
	return USBIP_EXIT_OK;
}
