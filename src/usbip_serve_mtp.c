// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip serve-mtp: serve a directory as a virtual MTP device */
#include "usbip.h"

#include <stdio.h>
#include <string.h>

int usbip_serve_mtp(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: usbip serve-mtp ...\n\nserve a directory as a virtual MTP "
		       "device.\nNot built in this version.\n");
		return USBIP_EXIT_OK;
	}
	return usbip_not_built("serve-mtp",
			       "serve a directory as a virtual MTP device is not in this version");
}
