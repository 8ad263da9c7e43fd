// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip disconnect: withdraw devices exported with connect. Asks the usbipa
 * to detach each (OP_REQ_UNEXPORT, on a new connection), then gives the
 * device back to its own driver whatever the answer, so the device side is
 * never left without its device. A usbip-vudc gadget (-d) stays bound to
 * its UDC.
 */
#include <stdio.h>
#include <string.h>

#include "source/device_export.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"
#include "usbip.h"

static struct {
	struct device_export_target to;
	struct device_source *src;
	bool gadget;
	enum usbip_result worst;
} disconnect;

static int disconnect_one(const char *busid, bool one_of_many)
{
	struct usbip_local_device dev;
	enum usbip_result r;
	uint32_t status;

	/* A device that is not here: one line (the source's), nothing to withdraw. */
	if (device_source_get(disconnect.src, busid, &dev) != 0)
		return -1;
	r = device_export_withdraw(disconnect.src, busid, &disconnect.to, &status);
	if (!disconnect.gadget && device_source_release(disconnect.src, busid) != 0)
		log_warn("%s was not bound to usbip-host", busid);
	if (r == USBIP_OK)
		printf("disconnected %s from %s\n", busid, disconnect.to.host);
	else
		disconnect.worst = r;
	return r == USBIP_OK ? 0 : -1;
}

int usbip_disconnect(int argc, char **argv)
{
	static const char help[] =
		"Asks the usbipa on HOST to detach each selected device, then unbinds it\n"
		"from usbip-host so that its own driver takes it again. With -d, --device\n"
		"the device is a gadget on usbip-vudc (see 'usbip list -d'), which stays bound.\n"
		"Exit status: 0 done, 1 failed, 2 bad arguments, 4 HOST unreachable,\n"
		"5 HOST refused (the device is given back locally in every case).\n";
	struct usbip_device_args args;
	int rc = usbip_parse_device_args(argc, argv, "disconnect", help,
					 USBIP_ARGS_REMOTE | USBIP_ARGS_GADGET, &args);

	if (rc >= 0)
		return rc;
	if (args.gadget && !selector_is_one_busid(&args.selector))
		return usbip_usage_error("disconnect", "with -d, give the gadget's busid (-b)");
	disconnect.to = (struct device_export_target){ .host = args.host,
						       .port = usbip_opts.tcp_port,
						       .tls = usbip_opts.tls,
						       .timeout_ms = USBIP_IO_TIMEOUT_MS };
	disconnect.gadget = args.gadget;
	disconnect.worst = USBIP_OK;
	disconnect.src = args.gadget ? vudc_source_new() : host_source_new();
	if (!disconnect.src)
		return USBIP_EXIT_FAILURE;
	rc = usbip_each_local(&args.selector, true, disconnect_one);
	device_source_free(disconnect.src);
	/* The most telling failure: unreachable and refused have their own statuses. */
	return disconnect.worst != USBIP_OK ? exit_status(disconnect.worst) : rc;
}
