// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip disconnect: withdraw a device exported with connect. Asks the usbipa
 * to detach it (OP_REQ_UNEXPORT, on a new connection), then gives the device
 * back to its own driver whatever the answer, so the device side is never
 * left without its device. A usbip-vudc gadget (-d) stays bound to its UDC.
 */
#include <stdio.h>
#include <string.h>

#include "net/conn.h"
#include "source/device_export.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"
#include "usbip.h"

int usbip_disconnect(int argc, char **argv)
{
	static const char help[] =
		"Asks the usbipa on HOST to detach BUSID, then unbinds it from\n"
		"usbip-host so that its own driver takes it again. With -d, --device\n"
		"BUSID is a gadget on usbip-vudc (see 'usbip list -d'), which stays bound.\n"
		"Exit status: 0 done, 1 failed, 2 bad arguments, 4 HOST unreachable,\n"
		"5 HOST refused (the device is given back locally in every case).\n";
	struct device_export_target to = { .port = usbip_opts.tcp_port,
					   .tls = usbip_opts.tls,
					   .timeout_ms = USBIP_IO_TIMEOUT_MS };
	struct device_source *src;
	const char *busid;
	enum usbip_result r;
	uint32_t status;
	bool gadget;
	int rc = usbip_parse_device_args(argc, argv, "disconnect", help, &to.host, &busid, &gadget);

	if (rc >= 0)
		return rc;
	src = gadget ? vudc_source_new() : host_source_new();
	if (!src)
		return USBIP_EXIT_FAILURE;
	r = device_export_withdraw(src, busid, &to, &status);
	if (!gadget && device_source_release(src, busid) != 0)
		log_warn("%s was not bound to usbip-host", busid);
	device_source_free(src);
	if (r == USBIP_OK)
		printf("disconnected %s from %s\n", busid, to.host);
	return usbip_exit_status(r);
}
