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

/* Where to export to. */
struct device_export_target {
	const char *host, *port;
	struct usbip_tls *tls; /* the client context, or NULL for plain TCP */
	int timeout_ms;	       /* for the connection and the exchange */
};

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
