// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip attach: import a device from a remote usbipd onto the local vhci-hcd. */
#include <stdio.h>
#include <string.h>

#include "kernel/vhci.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/log.h"
#include "usbip.h"

int usbip_attach(int argc, char **argv)
{
	static const char help[] =
		"Imports device BUSID exported by the usbipd on HOST and attaches it to a\n"
		"free vhci-hcd port of the right speed. Prints the port it got.\n\n"
		"  -r, --remote HOST  host name, IPv4 or IPv6 address of the device side\n"
		"  -b, --busid BUSID  the device, as 'usbip list -r HOST' shows it\n";
	const char *host, *busid;
	struct usbip_vhci_record rec;
	struct usbip_usb_device udev;
	struct usbip_conn *conn;
	struct usbip_vhci vhci;
	uint32_t status;
	int port, rc = usbip_parse_device_args(argc, argv, "attach", help, &host, &busid, NULL);

	if (rc >= 0)
		return rc;

	/* Check vhci first: no point importing a device we cannot attach. */
	if (usbip_vhci_open(&vhci) != 0)
		return USBIP_EXIT_FAILURE;
	usbip_vhci_close(&vhci);

	rc = usbip_dial(host, usbip_opts.tcp_port, USBIP_IO_TIMEOUT_MS, usbip_opts.tls, &conn);
	if (rc != USBIP_OK)
		return usbip_exit_status(rc);
	if (op_msg_query_import(conn, busid, &udev, &status) != 0) {
		usbip_conn_close(conn);
		return status != USBIP_ST_OK && status != USBIP_ST_ERROR ? USBIP_EXIT_REFUSED
									 : USBIP_EXIT_FAILURE;
	}
	port = usbip_vhci_attach(&udev, usbip_conn_kernel_fd(conn));
	/* vhci holds its own reference to the socket now. */
	usbip_conn_close(conn);
	if (port < 0)
		return USBIP_EXIT_FAILURE;

	snprintf(rec.host, sizeof(rec.host), "%s", host);
	snprintf(rec.service, sizeof(rec.service), "%s", usbip_opts.tcp_port);
	snprintf(rec.busid, sizeof(rec.busid), "%s", busid);
	usbip_vhci_record_write((unsigned)port, &rec);
	printf("attached %s from %s to port %d\n", busid, host, port);
	return USBIP_EXIT_OK;
}
