// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/dial.h"

#include "net/tcp.h"
#include "util/log.h"

struct usbip_conn *usbip_dial(const char *host, const char *port, int timeout_ms,
			      struct usbip_tls *tls)
{
	struct usbip_conn *conn = usbip_tcp_connect(host, port, timeout_ms);

	if (!conn || !tls)
		return conn;
	if (usbip_tls_wrap(tls, conn, host) != 0) {
		log_err("%s: cannot set up TLS", conn->peer);
		usbip_conn_close(conn);
		return NULL;
	}
	if (usbip_tls_handshake(conn, timeout_ms) != 0) {
		usbip_conn_close(conn);
		return NULL;
	}
	return conn;
}
