/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hosts.allow/hosts.deny checks through libwrap, when built with it. */
#ifndef USBIP_TCP_WRAPPERS_H
#define USBIP_TCP_WRAPPERS_H

#include <stdbool.h>

/* Whether the peer on fd may use the daemon; always true without libwrap. */
bool usbip_tcp_wrappers_allow(int fd, const char *daemon_name);

#endif
