/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The export agent split across privilege separation (daemon/privsep.h):
 * the agent (udev events, binding, handing sockets to usbip-host) stays
 * root, and the exchanges with usbipa (dialing, the proxy, TLS, the
 * export request and its reply) are made by the unprivileged network
 * process, which sends back the socket to hand over (SCM_RIGHTS). Its
 * root is not empty: it resolves the remotes' names.
 */
#ifndef USBIP_AGENT_EXPORT_DIALER_H
#define USBIP_AGENT_EXPORT_DIALER_H

#include "daemon/privsep.h"
#include "net/tls.h"
#include "source/device_export.h"

/* What the network process serves, with the client TLS context (or NULL) as arg. */
extern const struct privsep_op export_dialer_ops[];
extern const size_t export_dialer_nops;

/* The dialer for device_export_target, asking over *chan (the runner's d->priv). */
struct export_dialer {
	struct device_export_dialer dialer;
	struct privsep **chan;
};

void export_dialer_init(struct export_dialer *d, struct privsep **chan);

#endif
