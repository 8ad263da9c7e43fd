// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip unbind: give a device bound to usbip-host back to its own driver. */
#include <stdio.h>

#include "kernel/host.h"
#include "usbip.h"

int usbip_unbind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds the device from usbip-host (ending any export) and lets\n"
		"the kernel probe its usual driver again.\n";
	const char *busid;
	int rc = usbip_parse_device_args(argc, argv, "unbind", help, NULL, &busid, NULL);

	if (rc >= 0)
		return rc;
	if (usbip_host_unbind(busid) != 0)
		return USBIP_EXIT_FAILURE;
	printf("unbind device on busid %s: complete\n", busid);
	return USBIP_EXIT_OK;
}
