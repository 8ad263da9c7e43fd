/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipd --auto-bind: binds the local devices some selector matches to
 * usbip-host as they appear (those present at start too), so that the
 * device list always offers them, and gives each back to its own driver
 * when stopped. A device matches when it matches any one of the selectors.
 */
#ifndef USBIP_AGENT_AUTO_BIND_H
#define USBIP_AGENT_AUTO_BIND_H

#include "daemon/ev.h"
#include "match/selector.h"

#define AUTO_BIND_MAX 16

struct auto_bind;

/*
 * "VID:PID[:SERIAL]" or a busid pattern ("1-1.*"), as --auto-bind takes it.
 * -1 with a message on bad syntax.
 */
int auto_bind_parse(const char *spec, struct usbip_selector *sel, char *err, size_t err_len);

/* Starts on loop; NULL (logged) if USB devices cannot be watched. */
struct auto_bind *auto_bind_start(struct ev_loop *loop, const struct usbip_selector *selectors,
				  unsigned count);
/* Gives every device it bound back to its own driver, and frees it. */
void auto_bind_stop(struct auto_bind *ab);

#endif
