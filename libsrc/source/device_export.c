// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/device_export.h"

#include <stdio.h>
#include <string.h>

#include "net/dial.h"
#include "net/mdns_browse.h"
#include "net/op_msg.h"
#include "net/srv.h"
#include "source/placement.h"
#include "util/log.h"

/* The record to send, with the serial usbipa's policy looks at. */
static int device_record(struct device_source *src, const char *busid,
			 struct usbip_local_device *dev)
{
	if (device_source_get(src, busid, dev) != 0) {
		/* The source has said why (one line); the rest at --debug. */
		log_debug("%s: no such device on %s", busid, src->kind);
		return -1;
	}
	device_source_record(dev, &dev->info.udev);
	return 0;
}

/*
 * The exchange with one usbipa, host (not a srv: or mdns: remote), TLS
 * checking tls_name (NULL: host's).
 */
static enum usbip_result exchange_one(const struct device_export_target *to, const char *host,
				      const char *tls_name, uint16_t req,
				      const struct usbip_usb_device *udev, uint32_t *status,
				      struct usbip_conn **conn_out)
{
	uint16_t rep = req == USBIP_OP_REQ_EXPORT ? USBIP_OP_REP_EXPORT : USBIP_OP_REP_UNEXPORT;
	struct usbip_op_header hdr;
	struct usbip_conn *conn;
	enum usbip_result rc;

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	rc = dial_named(host, to->port, tls_name, to->timeout_ms, to->tls, &conn);
	if (rc != USBIP_OK)
		return rc;
	if (op_msg_send(conn, req, USBIP_ST_OK, udev) != 0 ||
	    op_msg_recv_header(conn, rep, &hdr) != 0) {
		conn_close(conn);
		return USBIP_E_FAILED;
	}
	*status = hdr.status;
	if (hdr.status != USBIP_EXPORT_ST_OK) {
		log_err("%s: refused %s: %s", conn->peer, udev->busid,
			usbip_proto_export_status_str(hdr.status));
		conn_close(conn);
		return USBIP_E_REFUSED;
	}
	*conn_out = conn;
	return USBIP_OK;
}

/* One srv: or mdns: export or unexport: what each target is asked. */
struct exchange_args {
	const struct device_export_target *to;
	uint16_t req;
	const struct usbip_usb_device *udev;
	uint32_t *status;
	struct usbip_conn **conn;
};

/*
 * A target: a SRV record's (TLS checks its host name), or an announced
 * usbipa (its address dialled, TLS checking the announced host name).
 */
static enum usbip_result exchange_target(const char *remote, const char *tls_name, void *arg)
{
	struct exchange_args *a = arg;
	enum usbip_result rc =
		exchange_one(a->to, remote, tls_name, a->req, a->udev, a->status, a->conn);

	if (rc == USBIP_OK && a->req == USBIP_OP_REQ_EXPORT) {
		if (tls_name)
			log_info("%s (%s) took %s", tls_name, remote, a->udev->busid);
		else
			log_info("%s took %s", remote, a->udev->busid);
		placement_set(a->to->host, a->udev, remote);
	}
	return rc;
}

enum usbip_result device_export_exchange(const struct device_export_target *to, uint16_t req,
					 const struct usbip_usb_device *udev, uint32_t *status,
					 struct usbip_conn **conn)
{
	struct net_address addr;
	char err[NET_ADDRESS_HOST_MAX + 80];

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	/*
	 * srv:NAME: the usbipa targets DNS lists now, in their order (mdns:
	 * the usbipa the LAN announces now that the remote allows). An
	 * export goes on to the next at once whatever the refusal (a full or
	 * draining one says status 2), so that the caller backs off only when
	 * every one said no; an unexport is asked of each until the one that
	 * has the device says yes (the others answer no such device). Either
	 * asks first the one that took the device last (source/placement.h).
	 */
	if (address_parse(to->host, to->port, &addr, err, sizeof(err)) == 0 &&
	    (addr.scheme == NET_ADDRESS_SRV || addr.scheme == NET_ADDRESS_MDNS)) {
		struct exchange_args args = { to, req, udev, status, conn };
		const char *placed = placement_get(to->host, udev);

		if (addr.scheme == NET_ADDRESS_MDNS)
			return mdns_browse_try_each(MDNS_TYPE_USBIPA, addr.host, placed,
						    exchange_target, &args);
		return srv_try_each(SRV_SERVICE_USBIPA, addr.host, placed, exchange_target, &args);
	}
	return exchange_one(to, to->host, NULL, req, udev, status, conn);
}

/* Through the dialer if there is one. */
static enum usbip_result exchange(const struct device_export_target *to, uint16_t req,
				  const struct usbip_usb_device *udev, uint32_t *status,
				  struct usbip_conn **conn)
{
	*conn = NULL;
	if (to->dialer)
		return to->dialer->exchange(to->dialer->arg, to, req, udev, status, conn);
	return device_export_exchange(to, req, udev, status, conn);
}

enum usbip_result device_export(struct device_source *src, const char *busid,
				const struct device_export_target *to, uint32_t *status,
				int *watch_fd)
{
	struct usbip_local_device dev;
	struct usbip_conn *conn = NULL;
	enum usbip_op_status st;
	enum usbip_result rc;

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	if (watch_fd)
		*watch_fd = -1;
	if (device_record(src, busid, &dev) != 0)
		return USBIP_E_FAILED;
	st = device_source_availability(&dev);
	if (st != USBIP_ST_OK) {
		log_err("%s is %s", busid,
			st == USBIP_ST_DEV_BUSY ? "already exported" : "not ready to export");
		return USBIP_E_FAILED;
	}
	rc = exchange(to, USBIP_OP_REQ_EXPORT, &dev.info.udev, status, &conn);
	if (rc != USBIP_OK)
		return rc;
	/* Only now the device takes the connection: the server has attached it or will. */
	device_source_note(src, busid, conn);
	st = device_source_hand_over(src, busid, conn, watch_fd);
	if (st != USBIP_ST_OK) {
		log_err("%s: %s did not take the connection: %s", busid, src->kind,
			usbip_proto_op_status_str(st));
		return USBIP_E_FAILED;
	}
	return USBIP_OK;
}

enum usbip_result device_export_withdraw(struct device_source *src, const char *busid,
					 const struct device_export_target *to, uint32_t *status)
{
	struct usbip_local_device dev;
	struct usbip_conn *conn = NULL;
	enum usbip_result rc;

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	if (device_record(src, busid, &dev) != 0)
		return USBIP_E_FAILED;
	rc = exchange(to, USBIP_OP_REQ_UNEXPORT, &dev.info.udev, status, &conn);
	conn_close(conn);
	return rc;
}
