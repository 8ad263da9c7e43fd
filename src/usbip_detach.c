// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip detach: detach an imported device from its vhci-hcd port. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/host.h"
#include "kernel/vhci.h"
#include "util/log.h"
#include "usbip.h"

static bool port_in_use(const struct usbip_vhci_port *p)
{
	return p->status != USBIP_VDEV_NULL;
}

/*
 * Whether the device on port p is selected: -b matches the busid it has on
 * the remote (from the port's record), -i what it is here (its local
 * device, as usb.ids and sysfs see it).
 */
static bool port_selected(const struct usbip_vhci_port *p, const struct usbip_selector *sel)
{
	struct usbip_vhci_record rec;
	struct usbip_local_device dev;

	if (vhci_record_read(p->port, &rec) != 0)
		rec.busid[0] = '\0';
	if (!p->local_busid[0] || strcmp(p->local_busid, "0-0") == 0 ||
	    host_get(p->local_busid, &dev) != 0)
		return sel->nhwids == 0 && selector_matches(sel, rec.busid, 0, 0, "");
	return selector_matches(sel, rec.busid, dev.info.udev.id_vendor, dev.info.udev.id_product,
				dev.serial);
}

static int detach_selected(struct usbip_vhci *vhci, const struct usbip_selector *sel)
{
	unsigned i, detached = 0;
	int rc = USBIP_EXIT_OK;
	char text[256];

	for (i = 0; i < vhci->nports; i++) {
		if (!port_in_use(&vhci->ports[i]) || !port_selected(&vhci->ports[i], sel))
			continue;
		if (vhci_detach(i) != 0) {
			rc = USBIP_EXIT_FAILURE;
			continue;
		}
		printf("port %u is now detached\n", i);
		detached++;
	}
	if (!detached && rc == USBIP_EXIT_OK) {
		selector_describe(sel, text, sizeof(text));
		log_err("no imported device matches %s", text);
		rc = USBIP_EXIT_FAILURE;
	}
	return rc;
}

int usbip_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "busid", required_argument, NULL, 'b' },
		{ "hardware-id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_selector sel = { 0 };
	const char *port_arg = NULL;
	bool all = false;
	struct usbip_vhci vhci;
	unsigned long port = 0;
	unsigned i, detached = 0;
	char *end;
	int c, rc = USBIP_EXIT_OK;

	while ((c = getopt_long(argc, argv, "p:ab:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port_arg = optarg;
			break;
		case 'b':
		case 'i':
			if (usbip_selector_option("detach", c, optarg, &sel) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			printf("usage: usbip detach -p PORT | --all | (-b BUSID | -i "
			       "VID:PID[:SERIAL])...\n\n"
			       "Detaches the device imported on PORT ('usbip port' lists them),\n"
			       "every imported device with --all, or each imported device the\n"
			       "selectors match: -b its busid on the remote (a pattern such as\n"
			       "'1-1.*' too), -i what it is.\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("detach", argv, opts);
		}
	}
	if ((port_arg != NULL) + all + !selector_empty(&sel) != 1)
		return usbip_usage_error("detach", "give one of -p PORT, --all or -b/-i");
	if (optind < argc)
		return usbip_usage_error("detach", "unexpected argument '%s'", argv[optind]);
	if (port_arg) {
		port = strtoul(port_arg, &end, 10);
		if (!*port_arg || *end || port_arg[0] == '-')
			return usbip_usage_error("detach", "'%s' is not a port number", port_arg);
	}
	if (vhci_open(&vhci) != 0)
		return USBIP_EXIT_FAILURE;

	if (!selector_empty(&sel)) {
		rc = detach_selected(&vhci, &sel);
		vhci_close(&vhci);
		return rc;
	}
	if (all) {
		for (i = 0; i < vhci.nports; i++) {
			if (!port_in_use(&vhci.ports[i]))
				continue;
			if (vhci_detach(i) != 0)
				rc = USBIP_EXIT_FAILURE;
			else
				detached++;
		}
		printf("detached %u port(s)\n", detached);
		vhci_close(&vhci);
		return rc;
	}
	if (port >= vhci.nports) {
		log_err("port %s does not exist (vhci-hcd has ports 0 to %u)", port_arg,
			vhci.nports - 1);
		rc = USBIP_EXIT_FAILURE;
	} else if (!port_in_use(&vhci.ports[port])) {
		log_err("port %lu is not in use", port);
		vhci_record_remove((unsigned)port);
		rc = USBIP_EXIT_FAILURE;
	} else if (vhci_detach((unsigned)port) != 0) {
		rc = USBIP_EXIT_FAILURE;
	} else {
		printf("port %lu is now detached\n", port);
	}
	vhci_close(&vhci);
	return rc;
}
