// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/dial.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "net/address.h"
#include "net/tcp.h"
#include "util/log.h"

/*
 * The proxy belongs to the process, as its resolver does: set once from
 * the options and the environment, so that every connection made anywhere
 * (a list, an export, an agent's rule) takes the same way out.
 */
static const struct usbip_proxy *dial_proxy;

void usbip_dial_set_proxy(const struct usbip_proxy *proxy)
{
	dial_proxy = proxy;
}

/* TCP to host:port, or through the proxy unless no_proxy names host. */
static enum usbip_result connect_tcp(const char *host, const char *port, int timeout_ms,
				     struct usbip_conn **conn)
{
	const struct usbip_proxy *p = dial_proxy;
	enum usbip_result rc;
	struct usbip_conn *c;
	bool v6;
	int n;

	if (!p || proxy_no_proxy_match(p->no_proxy, host)) {
		*conn = usbip_tcp_connect(host, port, timeout_ms);
		return *conn ? USBIP_OK : USBIP_E_UNREACHABLE;
	}
	c = usbip_tcp_connect_to("proxy", p->host, p->port, timeout_ms);
	if (!c)
		return USBIP_E_UNREACHABLE;
	rc = proxy_connect(c->fd, p, host, port, timeout_ms);
	if (rc != USBIP_OK) {
		usbip_conn_close(c);
		return rc;
	}
	/* Messages name the far end (and the way); the socket's peer is the proxy. */
	v6 = strchr(host, ':') != NULL;
	n = snprintf(c->peer, sizeof(c->peer), "%s%s%s:%s via %s", v6 ? "[" : "", host,
		     v6 ? "]" : "", port, p->name);
	if (n < 0 || (size_t)n >= sizeof(c->peer))
		log_debug("%s: name cut short", c->peer);
	*conn = c;
	return USBIP_OK;
}

enum usbip_result usbip_dial(const char *host, const char *port, int timeout_ms,
			     struct usbip_tls *tls, struct usbip_conn **conn)
{
	struct net_address addr;
	struct usbip_conn *c;
	enum usbip_result rc;
	struct usbip_error err;

	*conn = NULL;
	/* HOST:PORT and [V6]:PORT name their own port; port is the default. */
	if (net_address_parse(host, port, &addr, &err) != 0) {
		log_err("%s", err.msg);
		return USBIP_E_CONFIG;
	}
	rc = connect_tcp(addr.host, addr.port, timeout_ms, &c);
	if (rc != USBIP_OK)
		return rc;
	if (tls && usbip_tls_wrap(tls, c, addr.host) != 0) {
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
