// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/vhci_import.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/vhci.h"
#include "net/address.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "util/log.h"

enum usbip_result vhci_import_find_here(const struct vhci_import_target *from,
					const struct usbip_selector *sel,
					struct usbip_devlist *matches)
{
	struct usbip_devlist list = { 0, NULL };
	struct usbip_conn *conn;
	enum usbip_result r;
	unsigned i;

	matches->count = 0;
	matches->entries = NULL;
	r = dial(from->host, from->port, from->timeout_ms, from->tls, &conn);
	if (r != USBIP_OK)
		return r;
	if (op_msg_query_devlist(conn, &list) != 0) {
		conn_close(conn);
		return USBIP_E_FAILED;
	}
	conn_close(conn);
	matches->entries = calloc(list.count ? list.count : 1, sizeof(*matches->entries));
	if (!matches->entries) {
		usbip_proto_devlist_free(&list);
		return USBIP_E_FAILED;
	}
	for (i = 0; i < list.count; i++) {
		const struct usbip_usb_device *u = &list.entries[i].udev;

		/* The serial is there when the remote is one of ours (after the path's zero). */
		if (selector_matches(sel, u->busid, u->id_vendor, u->id_product, u->serial))
			matches->entries[matches->count++] = list.entries[i];
	}
	usbip_proto_devlist_free(&list);
	return USBIP_OK;
}

enum usbip_result vhci_import_find(const struct vhci_import_target *from,
				   const struct usbip_selector *sel, struct usbip_devlist *matches)
{
	if (from->dialer)
		return from->dialer->find(from->dialer->arg, from, sel, matches);
	return vhci_import_find_here(from, sel, matches);
}

enum usbip_result vhci_import_exchange(const struct vhci_import_target *from, const char *busid,
				       struct usbip_usb_device *udev, uint32_t *status,
				       struct usbip_conn **conn_out)
{
	struct usbip_conn *conn;
	enum usbip_result r;

	*status = USBIP_ST_OK;
	*conn_out = NULL;
	r = dial(from->host, from->port, from->timeout_ms, from->tls, &conn);
	if (r != USBIP_OK)
		return r;
	if (op_msg_query_import(conn, busid, udev, status) != 0) {
		conn_close(conn);
		return *status != USBIP_ST_OK && *status != USBIP_ST_ERROR ? USBIP_E_REFUSED
									   : USBIP_E_FAILED;
	}
	*conn_out = conn;
	return USBIP_OK;
}

/*
 * Where the device on port came from, for usbip port and the kernel's tools:
 * HOST:PORT as typed is recorded as the host and the port it names.
 */
static void record_origin(unsigned port, const struct vhci_import_target *from, const char *busid)
{
	struct usbip_vhci_record rec;
	struct net_address addr;
	char err[NET_ADDRESS_HOST_MAX + 80];

	if (address_parse(from->host, from->port, &addr, err, sizeof(err)) == 0 &&
	    addr.scheme == NET_ADDRESS_TCP) {
		snprintf(rec.host, sizeof(rec.host), "%s", addr.host);
		snprintf(rec.service, sizeof(rec.service), "%u", addr.port);
	} else {
		snprintf(rec.host, sizeof(rec.host), "%s", from->host);
		snprintf(rec.service, sizeof(rec.service), "%s", from->port);
	}
	snprintf(rec.busid, sizeof(rec.busid), "%s", busid);
	vhci_record_write(port, &rec);
}

enum usbip_result vhci_import(const struct vhci_import_target *from, const char *busid, int *port,
			      int *watch_fd, uint32_t *status)
{
	struct usbip_usb_device udev;
	struct usbip_conn *conn;
	struct usbip_vhci vhci;
	enum usbip_result r;
	int fd;

	*status = USBIP_ST_OK;
	if (watch_fd)
		*watch_fd = -1;
	/* No point importing a device that cannot be attached here. */
	if (vhci_open(&vhci) != 0)
		return USBIP_E_FAILED;
	vhci_close(&vhci);
	r = from->dialer
		    ? from->dialer->import(from->dialer->arg, from, busid, &udev, status, &conn)
		    : vhci_import_exchange(from, busid, &udev, status, &conn);
	if (r != USBIP_OK)
		return r;
	fd = usbip_conn_kernel_fd(conn);
	*port = fd < 0 ? -1 : vhci_attach(&udev, fd);
	if (*port >= 0 && watch_fd)
		*watch_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	/* vhci holds its own reference to the socket now. */
	conn_close(conn);
	if (*port < 0)
		return USBIP_E_FAILED;
	record_origin((unsigned)*port, from, busid);
	return USBIP_OK;
}
