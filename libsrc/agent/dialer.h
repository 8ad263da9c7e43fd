/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agents split across privilege separation (daemon/privsep.h): what
 * needs root stays in the agent (udev events, binding, handing sockets to
 * usbip-host, attaching to vhci-hcd), and every exchange with a remote
 * (dialing, the proxy, TLS, the OP requests and their replies: export,
 * unexport, device list, import) is made by the unprivileged network
 * process, which sends back the socket to hand to the kernel (SCM_RIGHTS).
 * Its root is not empty: it resolves the remotes' names.
 *
 * TLS contexts are made by the agent before the network process is
 * forked, which then has them too; a request names one by its index in
 * the dialer's table. Contexts made later (a reload) need a new network
 * process (daemon_renew_network).
 */
#ifndef USBIP_AGENT_DIALER_H
#define USBIP_AGENT_DIALER_H

#include "agent/vhci_import.h"
#include "daemon/privsep.h"
#include "net/tls.h"
#include "source/device_export.h"

#define DIALER_MAX_TLS 64

struct dialer {
	struct privsep **chan;		       /* the runner's d->priv */
	struct usbip_tls *tls[DIALER_MAX_TLS]; /* [0] is plain TCP */
	struct device_export_dialer exporter;  /* for device_export_target.dialer */
	struct vhci_import_dialer importer;    /* for vhci_import_target.dialer */
	struct privsep_table serves;	       /* for usbip_daemon.privsep_table */
};

void dialer_init(struct dialer *d, struct privsep **chan);
/* Makes tls known to the next network process; -1 (logged) if the table is full. */
int dialer_add_tls(struct dialer *d, struct usbip_tls *tls);
/* Before tls is freed. */
void dialer_drop_tls(struct dialer *d, const struct usbip_tls *tls);

#endif
