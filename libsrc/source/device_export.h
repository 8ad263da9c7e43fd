/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connect mode's device side, written once for every device source: export
 * a device to a remote usbipa (OP_REQ_EXPORT; once accepted the connection
 * goes to the device) and withdraw it (OP_REQ_UNEXPORT on a new connection).
 */
#ifndef USBIP_SOURCE_DEVICE_EXPORT_H
#define USBIP_SOURCE_DEVICE_EXPORT_H

#include <stdint.h>

#include "net/tls.h"
#include "source/device_source.h"
#include "util/result.h"

struct device_export_target;

/*
 * Who talks to the usbipa: by default this process; or one that asks the
 * unprivileged network process to (agent/export_dialer.c), so that root
 * reads nothing from the network. On USBIP_OK *conn is the connection to
 * hand to the device.
 */
struct device_export_dialer {
	enum usbip_result (*exchange)(void *arg, const struct device_export_target *to,
				      uint16_t request, const struct usbip_usb_device *udev,
				      uint32_t *status, struct usbip_conn **conn);
	void *arg;
};

/* Where to export to. */
struct device_export_target {
	const char *host, *port;
	struct usbip_tls *tls;			   /* the client context, or NULL for plain TCP */
	int timeout_ms;				   /* for the connection and the exchange */
	const struct device_export_dialer *dialer; /* NULL: this process dials */
};

/*
 * One OP_REQ_EXPORT or OP_REQ_UNEXPORT and its reply, made here: results
 * as device_export; on USBIP_OK the connection is the caller's.
 */
enum usbip_result device_export_exchange(const struct device_export_target *to, uint16_t request,
					 const struct usbip_usb_device *udev, uint32_t *status,
					 struct usbip_conn **conn);

/*
 * Exports busid (exportable already: see device_source_prepare). Returns
 * USBIP_OK once the device has the connection, USBIP_E_UNREACHABLE,
 * USBIP_E_REFUSED (the reply's status in *status, enum
 * usbip_export_status) or USBIP_E_FAILED. With watch_fd: a descriptor
 * that hangs up when the kernel drops the connection, or -1 (see
 * device_source_ops.hand_over).
 */
enum usbip_result device_export(struct device_source *src, const char *busid,
				const struct device_export_target *to, uint32_t *status,
				int *watch_fd);

/* Asks the usbipa to detach busid; results as device_export. */
enum usbip_result device_export_withdraw(struct device_source *src, const char *busid,
					 const struct device_export_target *to, uint32_t *status);

#endif
