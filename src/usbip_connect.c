// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip connect: export a local device to a remote usbipa */
#include "usbip.h"

#include <stdio.h>
#include <string.h>

int usbip_connect(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: usbip connect ...\n\nexport a local device to a remote usbipa.\nNot "
		       "built in this version.\n");
		return USBIP_EXIT_OK;
	}
	return usbip_not_built("connect",
			       "export a local device to a remote usbipa is not in this version");
}
