// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip disconnect: withdraw a device exported with connect. Asks the usbipa
 * to detach it (OP_REQ_UNEXPORT, on a new connection), then gives the device
 * back to its own driver whatever the answer, so the device side is never
 * left without its device.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/host.h"
#include "net/conn.h"
#include "source/export_client.h"
#include "util/log.h"
#include "usbip.h"

int usbip_disconnect(int argc, char **argv)
{
	static const char help[] =
		"Asks the usbipa on HOST to detach BUSID, then unbinds it from\n"
		"usbip-host so that its own driver takes it again.\n"
		"Exit status: 0 done, 1 failed, 2 bad arguments, 4 HOST unreachable,\n"
		"5 HOST refused (the device is given back locally in every case).\n";
	const char *host, *busid;
	enum usbip_export_result r;
	uint32_t status;
	int rc = usbip_parse_device_args(argc, argv, "disconnect", help, &host, &busid);

	if (rc >= 0)
		return rc;
	r = usbip_unexport_device(host, usbip_opts.tcp_port, usbip_opts.tls, busid,
				  USBIP_IO_TIMEOUT_MS, &status);
	if (usbip_host_unbind(busid) != 0)
		log_warn("%s was not bound to usbip-host", busid);
	switch (r) {
	case USBIP_EXPORT_OK:
		printf("disconnected %s from %s\n", busid, host);
		rc = USBIP_EXIT_OK;
		break;
	case USBIP_EXPORT_UNREACHABLE:
		rc = USBIP_EXIT_UNREACHABLE;
		break;
	case USBIP_EXPORT_REFUSED:
		rc = USBIP_EXIT_REFUSED;
		break;
	default:
		rc = USBIP_EXIT_FAILURE;
		break;
	}
	return rc;
}
