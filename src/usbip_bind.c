// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip bind: make local devices exportable by binding them to usbip-host;
 * usbip unbind: give them back to their own drivers. The two directions of
 * one act, alike but for the verb: one file.
 */
#include <stdio.h>

#include "kernel/host.h"
#include "usbip.h"

static bool json_output; /* --json */

/* One busid named alone is refused when bound already; a pattern's matches are not. */
static int bind_one(const char *busid, bool one_of_many)
{
	if (host_bind(busid, one_of_many) != 0)
		return -1;
	return usbip_report_local(busid, json_output, "bind", "bound");
}

static int unbind_one(const char *busid, bool one_of_many)
{
	(void)one_of_many;
	if (host_unbind(busid) != 0)
		return -1;
	return usbip_report_local(busid, json_output, "unbind", "unbound");
}

/* Parses -b/-i and --json, then acts on each selected device (unbind: the bound ones). */
static int each_selected(int argc, char **argv, const char *command, const char *help,
			 bool bound_only, int (*act)(const char *busid, bool one_of_many))
{
	struct usbip_device_args args;
	int rc = usbip_parse_device_args(argc, argv, command, help, 0, &args);

	if (rc >= 0)
		return rc;
	json_output = args.json;
	return usbip_each_local(&args.selector, bound_only, act);
}

int usbip_bind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds each selected device from its driver and binds it to usbip-host,\n"
		"so that usbipd can export it. Hubs and imported devices are refused.\n";

	return each_selected(argc, argv, "bind", help, false, bind_one);
}

int usbip_unbind(int argc, char **argv)
{
	static const char help[] =
		"Unbinds each selected device from usbip-host (ending any export) and\n"
		"lets the kernel probe its usual driver again.\n";

	return each_selected(argc, argv, "unbind", help, true, unbind_one);
}
