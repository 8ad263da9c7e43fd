/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How every client reaches a server: TCP, then TLS when configured. The one
 * place a client's connection is made, so that what comes between (a proxy)
 * is added once for all of them.
 */
#ifndef USBIP_NET_DIAL_H
#define USBIP_NET_DIAL_H

#include "net/conn.h"
#include "net/tls.h"

/* Connects to host:port over TCP and, with tls, TLS; logs why on failure. */
struct usbip_conn *usbip_dial(const char *host, const char *port, int timeout_ms,
			      struct usbip_tls *tls);

#endif
