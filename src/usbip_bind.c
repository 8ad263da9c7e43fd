// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip bind: make local devices exportable by binding them to usbip-host. */
#include <stdio.h>

#include "kernel/host.h"
#include "usbip.h"

static bool json_output; /* --json */

/* One busid named alone is refused when bound already; a pattern's matches are not. */
static int bind_one(const char *busid, bool one_of_many)
{
	if (usbip_host_bind(busid, one_of_many) != 0)
		return -1;
	return usbip_report_local(busid, json_output, "bind", "bound");
}

int usbip_bind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds each selected device from its driver and binds it to usbip-host,\n"
		"so that usbipd can export it. Hubs and imported devices are refused.\n";
	struct usbip_device_args args;
	int rc = usbip_parse_device_args(argc, argv, "bind", help, 0, &args);

	if (rc >= 0)
		return rc;
	json_output = args.json;
	return usbip_each_local(&args.selector, false, bind_one);
}
