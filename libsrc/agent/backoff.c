// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/backoff.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void backoff_reset(struct backoff *b)
{
	b->failures = 0;
}

long long backoff_window_ms(const struct backoff *b)
{
	long long window = BACKOFF_FIRST_MS;
	unsigned i;

	for (i = 0; i < b->failures && window < BACKOFF_CAP_MS; i++)
		window *= 2;
	return window < BACKOFF_CAP_MS ? window : BACKOFF_CAP_MS;
}

/* random scaled to [lo, hi]. */
static long long draw(uint32_t random, long long lo, long long hi)
{
	return lo +
	       (long long)(((unsigned long long)random * (unsigned long long)(hi - lo + 1)) >> 32);
}

long long backoff_pause_ms(struct backoff *b, uint32_t random)
{
	long long pause = draw(random, BACKOFF_FLOOR_MS, backoff_window_ms(b));

	if (b->failures < 32)
		b->failures++;
	return pause;
}

long long backoff_after_close_ms(uint32_t random)
{
	return draw(random, 0, BACKOFF_CLOSE_MS);
}

uint32_t backoff_random(void)
{
	uint32_t r;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	/* No entropy yet (early boot): still different per process and moment. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16);
}
