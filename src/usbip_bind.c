// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip bind: make a local device exportable by binding it to usbip-host. */
#include <getopt.h>
#include <stdio.h>

#include "host_driver.h"
#include "usbip.h"

int usbip_bind(int argc, char **argv)
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
			printf("usage: usbip bind -b BUSID\n\n"
			       "Unbinds the device from its driver and binds it to usbip-host, so\n"
			       "that usbipd can export it. Hubs and imported devices are refused.\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_usage_error("bind", "unknown option");
		}
	}
	if (!busid)
		return usbip_usage_error("bind", "which device? give -b BUSID");
	if (optind < argc)
		return usbip_usage_error("bind", "unexpected argument '%s'", argv[optind]);
	if (usbip_host_bind(busid, false) != 0)
		return USBIP_EXIT_FAILURE;
	printf("bind device on busid %s: complete\n", busid);
	return USBIP_EXIT_OK;
}
