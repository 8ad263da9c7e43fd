// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/dial.h"

#include "net/tcp.h"
#include "util/log.h"

enum usbip_result usbip_dial(const char *host, const char *port, int timeout_ms,
			     struct usbip_tls *tls, struct usbip_conn **conn)
{
	struct usbip_conn *c = usbip_tcp_connect(host, port, timeout_ms);

	*conn = NULL;
	if (!c)
		return USBIP_E_UNREACHABLE;
	if (tls && usbip_tls_wrap(tls, c, host) != 0) {
		log_err("%s: cannot set up TLS", c->peer);
		usbip_conn_close(c);
		return USBIP_E_UNREACHABLE;
	}
	if (tls && usbip_tls_handshake(c, timeout_ms) != 0) {
		usbip_conn_close(c);
		return USBIP_E_UNREACHABLE;
	}
	*conn = c;
	return USBIP_OK;
}
