/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hosts.allow/hosts.deny checks through libwrap, when built with it. */
#ifndef USBIP_TCP_WRAPPERS_H
#define USBIP_TCP_WRAPPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sandbox.h"

/* Whether the peer on fd may use the daemon; always true without libwrap. */
bool tcp_wrappers_allow(int fd, const char *daemon_name);

/*
 * What the check reads on every connection, for a process confined with
 * util/sandbox.h that checks peers itself: /etc, read-only (libwrap opens
 * /etc/hosts.allow and /etc/hosts.deny each time, files that may appear
 * later, and refuses everyone when it cannot read one). None without
 * libwrap.
 */
extern const struct sandbox_path usbip_tcp_wrappers_paths[];
extern const size_t usbip_tcp_wrappers_npaths;

#endif
