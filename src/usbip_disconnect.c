// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip disconnect: withdraw a device exported with connect */
#include "usbip.h"

#include <stdio.h>
#include <string.h>

int usbip_disconnect(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: usbip disconnect ...\n\nwithdraw a device exported with "
		       "connect.\nNot built in this version.\n");
		return USBIP_EXIT_OK;
	}
	return usbip_not_built("disconnect",
			       "withdraw a device exported with connect is not in this version");
}
