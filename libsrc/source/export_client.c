// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/export_client.h"

#include <stdio.h>
#include <string.h>

#include "kernel/host.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "net/tls.h"
#include "util/log.h"

/* The record to send: the device as sysfs shows it, with its serial for policies. */
static int device_record(const char *busid, struct usbip_local_device *dev)
{
	uint8_t probe[USBIP_DEVICE_RECORD_SIZE];

	if (usbip_host_get(busid, dev) != 0)
		return -1;
	if (strlen(dev->serial) < sizeof(dev->info.udev.serial))
		strcpy(dev->info.udev.serial, dev->serial);
	if (usbip_encode_device(probe, &dev->info.udev) != 0 ||
	    strcmp(dev->info.udev.serial, dev->serial) != 0) {
		log_warn("%s: serial '%s' does not fit in the export request; sent without it",
			 busid, dev->serial);
		dev->info.udev.serial[0] = '\0';
	}
	return 0;
}

/* One request/reply exchange; returns the connection for the caller to keep or close. */
static enum usbip_export_result exchange(const char *host, const char *port, struct usbip_tls *tls,
					 uint16_t req, uint16_t rep,
					 const struct usbip_usb_device *udev, int timeout_ms,
					 uint32_t *status, struct usbip_conn **conn_out)
{
	struct usbip_op_header hdr;
	struct usbip_conn *conn;

	*status = USBIP_ST_ERROR;
	conn = usbip_dial(host, port, timeout_ms, tls);
	if (!conn)
		return USBIP_EXPORT_UNREACHABLE;
	if (op_msg_send(conn, req, USBIP_ST_OK, udev) != 0 ||
	    op_msg_recv_header(conn, rep, &hdr) != 0) {
		usbip_conn_close(conn);
		return USBIP_EXPORT_FAILED;
	}
	*status = hdr.status;
	if (hdr.status != USBIP_ST_OK) {
		log_err("%s: refused %s: %s", conn->peer, udev->busid,
			usbip_op_status_str(hdr.status));
		usbip_conn_close(conn);
		return USBIP_EXPORT_REFUSED;
	}
	*conn_out = conn;
	return USBIP_EXPORT_OK;
}

enum usbip_export_result usbip_export_device(const char *host, const char *port,
					     struct usbip_tls *tls, const char *busid,
					     int timeout_ms, uint32_t *status)
{
	struct usbip_local_device dev;
	struct usbip_conn *conn = NULL;
	enum usbip_export_result rc;
	enum usbip_op_status st;

	*status = USBIP_ST_ERROR;
	if (device_record(busid, &dev) != 0)
		return USBIP_EXPORT_FAILED;
	if (dev.stub_status != USBIP_STUB_AVAILABLE) {
		log_err("%s is %s", busid,
			dev.stub_status == USBIP_STUB_USED ? "already exported"
							   : "not ready on usbip-host");
		return USBIP_EXPORT_FAILED;
	}
	rc = exchange(host, port, tls, USBIP_OP_REQ_EXPORT, USBIP_OP_REP_EXPORT, &dev.info.udev,
		      timeout_ms, status, &conn);
	if (rc != USBIP_EXPORT_OK)
		return rc;
	/* Only now the stub takes the socket: the server has attached or will. */
	st = usbip_host_export(busid, usbip_conn_kernel_fd(conn), &dev);
	usbip_conn_close(conn);
	if (st != USBIP_ST_OK) {
		log_err("%s: usbip-host did not take the connection: %s", busid,
			usbip_op_status_str(st));
		return USBIP_EXPORT_FAILED;
	}
	return USBIP_EXPORT_OK;
}

enum usbip_export_result usbip_unexport_device(const char *host, const char *port,
					       struct usbip_tls *tls, const char *busid,
					       int timeout_ms, uint32_t *status)
{
	struct usbip_local_device dev;
	struct usbip_conn *conn = NULL;
	enum usbip_export_result rc;

	*status = USBIP_ST_ERROR;
	if (device_record(busid, &dev) != 0)
		return USBIP_EXPORT_FAILED;
	rc = exchange(host, port, tls, USBIP_OP_REQ_UNEXPORT, USBIP_OP_REP_UNEXPORT, &dev.info.udev,
		      timeout_ms, status, &conn);
	usbip_conn_close(conn);
	return rc;
}
