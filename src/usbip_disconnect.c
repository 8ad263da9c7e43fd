// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip disconnect: withdraw a device exported with connect. Asks the usbipa
 * to detach it (OP_REQ_UNEXPORT, on a new connection), then gives the device
 * back to its own driver whatever the answer, so the device side is never
 * left without its device.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "export_client.h"
#include "host_driver.h"
#include "log.h"
#include "usbip.h"

int usbip_disconnect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = NULL, *busid = NULL;
	enum usbip_export_result r;
	uint32_t status;
	int c, rc;

	while ((c = getopt_long(argc, argv, "r:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			host = optarg;
			break;
		case 'b':
			busid = optarg;
			break;
		case 'h':
			printf("usage: usbip disconnect -r HOST -b BUSID\n\n"
			       "Asks the usbipa on HOST to detach BUSID, then unbinds it from\n"
			       "usbip-host so that its own driver takes it again.\n"
			       "Exit status: 0 done, 1 failed, 2 bad arguments, 4 HOST "
			       "unreachable,\n"
			       "5 HOST refused (the device is given back locally in every "
			       "case).\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_usage_error("disconnect", "unknown option");
		}
	}
	if (!host || !busid)
		return usbip_usage_error("disconnect", "give both -r HOST and -b BUSID");
	if (optind < argc)
		return usbip_usage_error("disconnect", "unexpected argument '%s'", argv[optind]);

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
