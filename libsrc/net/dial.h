/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How every client reaches a server: TCP, a Unix socket or vsock, then TLS
 * when configured. The one
 * place a client's connection is made, so that what comes between (a proxy)
 * is added once for all of them.
 */
#ifndef USBIP_NET_DIAL_H
#define USBIP_NET_DIAL_H

#include "net/conn.h"
#include "net/proxy.h"
#include "net/tls.h"
#include "net/ws.h"
#include "util/result.h"

/*
 * From now on, connect through this proxy (NULL: directly) unless its
 * no_proxy list names the host. The caller keeps it for as long.
 */
void dial_set_proxy(const struct usbip_proxy *proxy);

/*
 * From now on, dial ws:// and wss:// with these options (NULL: defaults)
 * and, for wss://, this client TLS context (the outer TLS, which a reverse
 * proxy may end). The caller keeps both for as long.
 */
void dial_set_ws(const struct ws_options *options, struct usbip_tls *wss_tls);

/*
 * Connects to host (through the proxy, if one is set, for TCP) and, with
 * tls, TLS; logs why on failure. host is any remote net/address.h parses:
 * HOST:PORT or [V6]:PORT names its own port, else port; unix:PATH and
 * vsock:CID:PORT are dialled directly (TLS then checks no host name);
 * srv:NAME is looked up now (_usbip._tcp.NAME) and its targets tried in
 * their order, the first that connects kept; mdns: and mdns:GLOBS browse
 * the LAN now (_usbip._tcp) and try the services the globs allow the same
 * way (net/mdns_browse.h), TLS checking each one's announced host name;
 * ws:// and wss:// go through the upgrade and a relay process (net/ws.h),
 * wss:// with the outer TLS context dial_set_ws gave; tls is then
 * the TLS inside the WebSocket.
 * Returns USBIP_OK with the connection in *conn, or (*conn NULL)
 * USBIP_E_UNREACHABLE, USBIP_E_REFUSED when the proxy said no (so that
 * callers tell those apart as they do for the server's answer), or
 * USBIP_E_CONFIG for a host that is no address.
 */
enum usbip_result dial(const char *host, const char *port, int timeout_ms, struct usbip_tls *tls,
		       struct usbip_conn **conn);

/*
 * The same, TLS checking the certificate against tls_name (NULL: the
 * address's host) rather than the address dialled: a service an mdns:
 * remote found is dialled at its address and checked as its host name.
 */
enum usbip_result dial_named(const char *host, const char *port, const char *tls_name,
			     int timeout_ms, struct usbip_tls *tls, struct usbip_conn **conn);

#endif
