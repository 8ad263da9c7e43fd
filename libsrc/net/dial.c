// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/dial.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "net/address.h"
#include "net/mdns_browse.h"
#include "net/sock.h"
#include "net/srv.h"
#include "net/tcp.h"
#include "net/ws.h"
#include "util/log.h"

/*
 * The proxy belongs to the process, as its resolver does: set once from
 * the options and the environment, so that every connection made anywhere
 * (a list, an export, an agent's rule) takes the same way out.
 */
static const struct usbip_proxy *dial_proxy;

void dial_set_proxy(const struct usbip_proxy *proxy)
{
	dial_proxy = proxy;
}

/* The same for WebSocket: the ping interval, and the outer TLS of wss://. */
static const struct ws_options *dial_ws;
static struct usbip_tls *dial_wss_tls;

void dial_set_ws(const struct ws_options *options, struct usbip_tls *wss_tls)
{
	dial_ws = options;
	dial_wss_tls = wss_tls;
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
		*conn = tcp_connect(host, port, timeout_ms);
		return *conn ? USBIP_OK : USBIP_E_UNREACHABLE;
	}
	c = tcp_connect_to("proxy", p->host, p->port, timeout_ms);
	if (!c)
		return USBIP_E_UNREACHABLE;
	rc = proxy_connect(c->fd, p, host, port, timeout_ms);
	if (rc != USBIP_OK) {
		conn_close(c);
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

/* A unix: or vsock: address: straight there (a proxy is for the network). */
static enum usbip_result connect_stream(const struct net_address *a, int timeout_ms,
					struct usbip_conn **conn)
{
	int fd = sock_dial(a, timeout_ms);
	struct usbip_conn *c;
	char name[NET_ADDRESS_TEXT_MAX];

	if (fd < 0)
		return USBIP_E_UNREACHABLE;
	c = tcp_conn_from_fd(fd);
	if (!c)
		return USBIP_E_UNREACHABLE;
	/* The address dialled names the server; the socket's peer is its credentials. */
	address_format(a, name, sizeof(name));
	snprintf(c->peer, sizeof(c->peer), "%.*s", (int)sizeof(c->peer) - 1, name);
	*conn = c;
	return USBIP_OK;
}

/*
 * ws:// and wss://: TCP (through the proxy, if any), the outer TLS for
 * wss://, the upgrade; *conn is then the relay's plain stream.
 */
static enum usbip_result connect_ws(const struct net_address *a, int timeout_ms,
				    struct usbip_conn **conn)
{
	static const struct ws_options defaults;
	char port[12], host[NET_ADDRESS_HOST_MAX + 16], name[NET_ADDRESS_TEXT_MAX];
	bool v6 = strchr(a->host, ':') != NULL;
	enum usbip_result rc;

	snprintf(port, sizeof(port), "%u", a->port);
	rc = connect_tcp(a->host, port, timeout_ms, conn);
	if (rc != USBIP_OK)
		return rc;
	if (a->scheme == NET_ADDRESS_WSS &&
	    (!dial_wss_tls || tls_wrap(dial_wss_tls, *conn, a->host) != 0 ||
	     tls_handshake(*conn, timeout_ms) != 0)) {
		if (!dial_wss_tls)
			log_err("%s: wss:// without a TLS context", (*conn)->peer);
		conn_close(*conn);
		*conn = NULL;
		return USBIP_E_UNREACHABLE;
	}
	snprintf(host, sizeof(host), "%s%s%s:%u", v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
	if (ws_client_start(conn, host, a->path, dial_ws ? dial_ws : &defaults, timeout_ms) != 0)
		return USBIP_E_UNREACHABLE;
	address_format(a, name, sizeof(name));
	snprintf((*conn)->peer, sizeof((*conn)->peer), "%.*s", (int)sizeof((*conn)->peer) - 1,
		 name);
	return USBIP_OK;
}

/* Connects to a by its kind; the name TLS checks the certificate against in *server_name. */
static enum usbip_result connect_any(const struct net_address *a, int timeout_ms,
				     struct usbip_conn **conn, const char **server_name)
{
	char port[12];

	*server_name = NULL;
	switch (a->scheme) {
	case NET_ADDRESS_TCP:
		*server_name = a->host;
		snprintf(port, sizeof(port), "%u", a->port);
		return connect_tcp(a->host, port, timeout_ms, conn);
	case NET_ADDRESS_UNIX:
	case NET_ADDRESS_VSOCK:
		return connect_stream(a, timeout_ms, conn);
	case NET_ADDRESS_WS:
	case NET_ADDRESS_WSS:
		*server_name = a->host;
		return connect_ws(a, timeout_ms, conn);
	case NET_ADDRESS_SRV: /* dial looks it up first */
	case NET_ADDRESS_MDNS:
		break;
	}
	return USBIP_E_CONFIG;
}

/* What a srv: or mdns: remote's targets are dialled with. */
struct dial_args {
	int timeout_ms;
	struct usbip_tls *tls;
	struct usbip_conn **conn;
};

/*
 * A target: a SRV record's (TLS checks its host name), or an announced
 * service's (its address dialled, TLS checking the announced host name).
 */
static enum usbip_result dial_target(const char *remote, const char *tls_name, void *arg)
{
	struct dial_args *a = arg;

	return dial_named(remote, USBIP_DEFAULT_PORT, tls_name, a->timeout_ms, a->tls, a->conn);
}

/* srv: and mdns: remotes: usbipd's targets in their order, the first that answers. */
static enum usbip_result dial_each(const struct net_address *addr, int timeout_ms,
				   struct usbip_tls *tls, struct usbip_conn **conn)
{
	struct dial_args args = { timeout_ms, tls, conn };

	if (addr->scheme == NET_ADDRESS_SRV)
		return srv_try_each(SRV_SERVICE_USBIP, addr->host, NULL, dial_target, &args);
	return mdns_browse_try_each(MDNS_TYPE_USBIPD, addr->host, NULL, dial_target, &args);
}

enum usbip_result dial(const char *host, const char *port, int timeout_ms, struct usbip_tls *tls,
		       struct usbip_conn **conn)
{
	return dial_named(host, port, NULL, timeout_ms, tls, conn);
}

enum usbip_result dial_named(const char *host, const char *port, const char *tls_name,
			     int timeout_ms, struct usbip_tls *tls, struct usbip_conn **conn)
{
	struct net_address addr;
	struct usbip_conn *c = NULL;
	enum usbip_result rc;
	const char *server_name;
	char err[NET_ADDRESS_HOST_MAX + 80];

	*conn = NULL;
	/* HOST:PORT and [V6]:PORT name their own port; port is the default. */
	if (address_parse(host, port, &addr, err, sizeof(err)) != 0 ||
	    address_dialable(&addr, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return USBIP_E_CONFIG;
	}
	if (addr.scheme == NET_ADDRESS_SRV || addr.scheme == NET_ADDRESS_MDNS)
		return dial_each(&addr, timeout_ms, tls, conn);
	rc = connect_any(&addr, timeout_ms, &c, &server_name);
	if (rc != USBIP_OK)
		return rc;
	if (tls && tls_wrap(tls, c, tls_name ? tls_name : server_name) != 0) {
		log_err("%s: cannot set up TLS", c->peer);
		conn_close(c);
		return USBIP_E_UNREACHABLE;
	}
	if (tls && tls_handshake(c, timeout_ms) != 0) {
		conn_close(c);
		return USBIP_E_UNREACHABLE;
	}
	*conn = c;
	return USBIP_OK;
}
