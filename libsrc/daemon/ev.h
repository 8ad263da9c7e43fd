/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small poll(2) event loop for the daemons: file descriptors with an
 * optional deadline each. A watcher whose deadline passes is called with
 * revents == 0.
 */
#ifndef USBIP_EVENT_LOOP_H
#define USBIP_EVENT_LOOP_H

#include <stddef.h>

struct ev_loop;
struct ev_watch;

typedef void (*ev_callback)(struct ev_loop *loop, struct ev_watch *w, short revents);

struct ev_watch {
	int fd;
	short events;	       /* POLLIN / POLLOUT */
	long long deadline_ms; /* on ev_now_ms()'s clock; 0 for none */
	ev_callback cb;
	void *data;
	size_t slot; /* owned by the loop */
};

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *loop);

/* Adds w (which must stay valid until removed); -1 on allocation failure. */
int ev_watch_add(struct ev_loop *loop, struct ev_watch *w);
/* Safe to call from any callback, including w's own. */
void ev_watch_remove(struct ev_loop *loop, struct ev_watch *w);

/* Runs until ev_loop_stop; returns 0, or -1 if poll(2) failed. */
int ev_loop_run(struct ev_loop *loop);
void ev_loop_stop(struct ev_loop *loop);

long long ev_now_ms(void);

#endif
