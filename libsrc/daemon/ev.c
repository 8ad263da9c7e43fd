// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/ev.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"

struct ev_loop {
	struct ev_watch **watches; /* NULL slots are removed watchers */
	size_t count, cap;
	struct pollfd *pfds;
	size_t pfds_cap;
	bool stop;
};

long long ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ev_loop *ev_loop_new(void)
{
	return calloc(1, sizeof(struct ev_loop));
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	free(loop->watches);
	free(loop->pfds);
	free(loop);
}

int ev_watch_add(struct ev_loop *loop, struct ev_watch *w)
{
	if (loop->count == loop->cap) {
		size_t cap = loop->cap ? loop->cap * 2 : 16;
		struct ev_watch **bigger = realloc(loop->watches, cap * sizeof(*bigger));

		if (!bigger)
			return -1;
		loop->watches = bigger;
		loop->cap = cap;
	}
	w->slot = loop->count;
	loop->watches[loop->count++] = w;
	return 0;
}

void ev_watch_remove(struct ev_loop *loop, struct ev_watch *w)
{
	if (w->slot < loop->count && loop->watches[w->slot] == w)
		loop->watches[w->slot] = NULL;
}

void ev_loop_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

/* Drops removed slots, keeping the order (oldest first). */
static void compact(struct ev_loop *loop)
{
	size_t i, j = 0;

	for (i = 0; i < loop->count; i++) {
		if (loop->watches[i]) {
			loop->watches[j] = loop->watches[i];
			loop->watches[j]->slot = j;
			j++;
		}
	}
	loop->count = j;
}

int ev_loop_run(struct ev_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		long long now = ev_now_ms(), next = -1;
		size_t i, n;
		int timeout, rc;

		compact(loop);
		n = loop->count;
		if (n > loop->pfds_cap) {
			struct pollfd *bigger = realloc(loop->pfds, n * sizeof(*bigger));

			if (!bigger)
				return -1;
			loop->pfds = bigger;
			loop->pfds_cap = n;
		}
		for (i = 0; i < n; i++) {
			struct ev_watch *w = loop->watches[i];

			loop->pfds[i] = (struct pollfd){ .fd = w->fd, .events = w->events };
			if (w->deadline_ms && (next < 0 || w->deadline_ms < next))
				next = w->deadline_ms;
		}
		timeout = next < 0	? -1
			  : next <= now ? 0
					: (next - now > INT32_MAX ? INT32_MAX : (int)(next - now));
		rc = poll(loop->pfds, n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %m");
			return -1;
		}
		now = ev_now_ms();
		/* Callbacks may add watchers (appended past n) or remove any. */
		for (i = 0; i < n && !loop->stop; i++) {
			struct ev_watch *w = loop->watches[i];

			if (!w)
				continue;
			if (loop->pfds[i].revents)
				w->cb(loop, w, loop->pfds[i].revents);
			else if (w->deadline_ms && w->deadline_ms <= now)
				w->cb(loop, w, 0);
		}
	}
	return 0;
}
