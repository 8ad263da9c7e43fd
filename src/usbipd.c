// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipd: the device-side daemon of classic mode. Answers OP_REQ_DEVLIST
 * with the devices bound to usbip-host (or, with --device, the gadgets
 * bound to usbip-vudc) and OP_REQ_IMPORT by replying and handing the
 * connection to the device (libsrc/source/device_server.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "daemon/daemon.h"
#include "exit_status.h"
#include "kernel/host.h"
#include "kernel/vudc.h"
#include "source/device_server.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipd.pid"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipd [options]\n\n"
		"Serves the devices bound to usbip-host (see 'usbip bind') to 'usbip "
		"attach'.\n\n"
		"  -e, --device          serve the gadgets bound to usbip-vudc instead\n"
		"                        (vUDC mode: this machine is the USB "
		"device)\n" USBIP_DAEMON_OPTIONS_HELP "  -h, --help            show this help\n"
		"  -v, --version         show the version\n\n"
		"The default pid file is %s.\n",
		DEFAULT_PID_FILE);
}

static int own_option(int opt, const char *arg, void *ctx)
{
	bool *vudc = ctx;

	if (opt != 'e')
		return 0;
	*vudc = true;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", no_argument, NULL, 'e' },
		USBIP_DAEMON_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_daemon d = {
		.name = "usbipd",
		.default_pid_file = DEFAULT_PID_FILE,
		.short_options = "e",
		.listens = true,
		.server = { .name = "usbipd",
			    .requests = device_server_requests,
			    .handle = device_server_handle },
	};
	struct device_source *src;
	enum usbip_result rc;
	int exit_code;
	bool vudc = false;

	usbip_log_init("usbipd", false);
	exit_code = usbip_exit_for_args(
		daemon_parse_args(&d, argc, argv, opts, usage, own_option, &vudc));
	if (exit_code >= 0)
		return exit_code;
	/* Not fatal: the module may be loaded later, and until then the list is empty. */
	if (vudc ? !usbip_vudc_driver_loaded() : !usbip_host_driver_loaded())
		log_warn("serving an empty device list until %s is loaded",
			 vudc ? "usbip-vudc" : "usbip-host");
	src = vudc ? vudc_source_new() : host_source_new();
	if (!src) {
		log_err("out of memory");
		return USBIP_EXIT_FAILURE;
	}
	d.server.arg = src;
	rc = daemon_run(&d);
	device_source_free(src);
	return usbip_exit_status(rc);
}
