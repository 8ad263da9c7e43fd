/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device side of connect mode: export a device bound to usbip-host to a
 * remote usbipa (OP_REQ_EXPORT, then the connection goes to the stub), and
 * withdraw it (OP_REQ_UNEXPORT on a new connection).
 */
#ifndef USBIP_EXPORT_CLIENT_H
#define USBIP_EXPORT_CLIENT_H

#include <stdint.h>

struct usbip_tls;

enum usbip_export_result {
	USBIP_EXPORT_OK,
	USBIP_EXPORT_UNREACHABLE, /* no connection to the server */
	USBIP_EXPORT_REFUSED,	  /* the server said no: see the status */
	USBIP_EXPORT_FAILED,	  /* a local or protocol failure (logged) */
};

/*
 * Exports busid (already bound to usbip-host) to the usbipa at host:port.
 * On USBIP_EXPORT_REFUSED *status holds the server's OP status.
 */
enum usbip_export_result usbip_export_device(const char *host, const char *port,
					     struct usbip_tls *tls, const char *busid,
					     int timeout_ms, uint32_t *status);

/* Asks the usbipa at host:port to detach busid. */
enum usbip_export_result usbip_unexport_device(const char *host, const char *port,
					       struct usbip_tls *tls, const char *busid,
					       int timeout_ms, uint32_t *status);

#endif
