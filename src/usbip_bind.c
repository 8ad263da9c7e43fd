// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip bind: make a local device exportable by binding it to usbip-host. */
#include <stdio.h>

#include "kernel/host.h"
#include "usbip.h"

int usbip_bind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds the device from its driver and binds it to usbip-host, so\n"
		"that usbipd can export it. Hubs and imported devices are refused.\n";
	const char *busid;
	int rc = usbip_parse_device_args(argc, argv, "bind", help, NULL, &busid, NULL);

	if (rc >= 0)
		return rc;
	if (usbip_host_bind(busid, false) != 0)
		return USBIP_EXIT_FAILURE;
	printf("bind device on busid %s: complete\n", busid);
	return USBIP_EXIT_OK;
}
