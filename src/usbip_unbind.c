// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip unbind: give devices bound to usbip-host back to their own drivers. */
#include <stdio.h>

#include "kernel/host.h"
#include "usbip.h"

static bool json_output; /* --json */

static int unbind_one(const char *busid, bool one_of_many)
{
	if (usbip_host_unbind(busid) != 0)
		return -1;
	return usbip_report_local(busid, json_output, "unbind", "unbound");
}

int usbip_unbind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds each selected device from usbip-host (ending any export) and\n"
		"lets the kernel probe its usual driver again.\n";
	struct usbip_device_args args;
	int rc = usbip_parse_device_args(argc, argv, "unbind", help, 0, &args);

	if (rc >= 0)
		return rc;
	json_output = args.json;
	return usbip_each_local(&args.selector, true, unbind_one);
}
