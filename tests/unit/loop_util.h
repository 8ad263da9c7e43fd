/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For unit tests that drive the event loop: run it for a while, then return. */
#ifndef USBIP_LOOP_UTIL_H
#define USBIP_LOOP_UTIL_H

#include "daemon/ev.h"

static inline void loop_util_stop(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	(void)w;
	(void)revents;
	ev_loop_stop(loop);
}

/* Runs loop for ms milliseconds (long enough to let it go idle), then returns. */
static inline int run_loop_for(struct ev_loop *loop, int ms)
{
	struct ev_watch t = { .fd = -1, .deadline_ms = ev_now_ms() + ms, .cb = loop_util_stop };

	if (ev_watch_add(loop, &t) != 0)
		return -1;
	ev_loop_run(loop);
	ev_watch_remove(loop, &t);
	return 0;
}

#endif
