// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip unbind: give a device bound to usbip-host back to its own driver. */
#include <getopt.h>
#include <stdio.h>

#include "host_driver.h"
#include "usbip.h"

int usbip_unbind(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "busid", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *busid = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			busid = optarg;
			break;
		case 'h':
			printf("usage: usbip unbind -b BUSID\n\n"
			       "Unbinds the device from usbip-host (ending any export) and lets\n"
			       "the kernel probe its usual driver again.\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_usage_error("unbind", "unknown option");
		}
	}
	if (!busid)
		return usbip_usage_error("unbind", "which device? give -b BUSID");
	if (optind < argc)
		return usbip_usage_error("unbind", "unexpected argument '%s'", argv[optind]);
	if (usbip_host_unbind(busid) != 0)
		return USBIP_EXIT_FAILURE;
	printf("unbind device on busid %s: complete\n", busid);
	return USBIP_EXIT_OK;
}
