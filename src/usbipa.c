// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa: the application-side daemon that accepts devices exported with
 * 'usbip connect'. Not built yet; it says so rather than pretend.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr,
		"usbipa: not built yet: accepting exported devices is not in this version\n");
	return 3;
}
