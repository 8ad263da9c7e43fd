/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device source split across privilege separation (daemon/privsep.h).
 * In the network process, priv_source_new gives a device source whose
 * list, get and hand_over ask the privileged process; there, the requests
 * of priv_source_table go to the real source (usbip-host, usbip-vudc),
 * which reads sysfs and hands the connection's socket to the driver. The
 * request server (device_server.c) runs unchanged on either.
 */
#ifndef USBIP_SOURCE_PRIV_SOURCE_H
#define USBIP_SOURCE_PRIV_SOURCE_H

#include "daemon/privsep.h"
#include "source/device_source.h"

/* The requests the network process may make, for the real source as arg. */
extern const struct privsep_op priv_source_ops[];
extern const size_t priv_source_nops;

/*
 * The network process's source: asks over chan. kind is the real
 * source's, for logs. It can list, look up and hand over; preparing and
 * giving devices back is not the request server's to ask.
 */
struct device_source *priv_source_new(struct privsep *chan, const char *kind);

#endif
