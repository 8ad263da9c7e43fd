// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip detach: detach an imported device from its vhci-hcd port. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vhci.h"
#include "util/log.h"
#include "usbip.h"

static bool port_in_use(const struct usbip_vhci_port *p)
{
	return p->status != USBIP_VDEV_NULL;
}

int usbip_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port_arg = NULL;
	bool all = false;
	struct usbip_vhci vhci;
	unsigned long port;
	unsigned i, detached = 0;
	char *end;
	int c, rc = USBIP_EXIT_OK;

	while ((c = getopt_long(argc, argv, "p:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port_arg = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			printf("usage: usbip detach -p PORT | --all\n\n"
			       "Detaches the device imported on PORT ('usbip port' lists them),\n"
			       "or every imported device with --all.\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("detach", argv);
		}
	}
	if (!port_arg == !all)
		return usbip_usage_error("detach", "give either -p PORT or --all");
	if (optind < argc)
		return usbip_usage_error("detach", "unexpected argument '%s'", argv[optind]);
	if (usbip_vhci_open(&vhci) != 0)
		return USBIP_EXIT_FAILURE;

	if (all) {
		for (i = 0; i < vhci.nports; i++) {
			if (!port_in_use(&vhci.ports[i]))
				continue;
			if (usbip_vhci_detach(i) != 0)
				rc = USBIP_EXIT_FAILURE;
			else
				detached++;
		}
		printf("detached %u port(s)\n", detached);
		usbip_vhci_close(&vhci);
		return rc;
	}
	port = strtoul(port_arg, &end, 10);
	if (!*port_arg || *end || port_arg[0] == '-') {
		usbip_vhci_close(&vhci);
		return usbip_usage_error("detach", "'%s' is not a port number", port_arg);
	}
	if (port >= vhci.nports) {
		log_err("port %s does not exist (vhci-hcd has ports 0 to %u)", port_arg,
			vhci.nports - 1);
		rc = USBIP_EXIT_FAILURE;
	} else if (!port_in_use(&vhci.ports[port])) {
		log_err("port %lu is not in use", port);
		usbip_vhci_record_remove((unsigned)port);
		rc = USBIP_EXIT_FAILURE;
	} else if (usbip_vhci_detach((unsigned)port) != 0) {
		rc = USBIP_EXIT_FAILURE;
	} else {
		printf("port %lu is now detached\n", port);
	}
	usbip_vhci_close(&vhci);
	return rc;
}
