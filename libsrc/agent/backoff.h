/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pauses between attempts of the agents and followers: full jitter
 * (each pause random within the window), the window doubling from
 * BACKOFF_FIRST_MS after each failure up to BACKOFF_CAP_MS. A fleet of
 * nodes that lost the same usbipa at once spreads its attempts over the
 * window instead of reconnecting in lockstep.
 *
 * The cap is what a device waits at most between attempts once the network
 * is back, so it bounds how soon it is usable again (within 10 s of the
 * network's return, with an attempt's connect timeout of 5 s): 5 s.
 */
#ifndef USBIP_AGENT_BACKOFF_H
#define USBIP_AGENT_BACKOFF_H

#include <stdint.h>

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_CAP_MS	 5000
/* The shortest pause: never a busy loop against a remote that refuses at once. */
#define BACKOFF_FLOOR_MS 100
/* After a clean close (the remote restarted, the connection ended): soon, but not all at once. */
#define BACKOFF_CLOSE_MS 500

struct backoff {
	unsigned failures; /* in a row, since the last success */
};

/* A success: the next failure starts from the first window again. */
void backoff_reset(struct backoff *b);

/* The window the next pause is drawn from: BACKOFF_FIRST_MS doubled per failure, capped. */
long long backoff_window_ms(const struct backoff *b);

/*
 * A failure: the pause before the next attempt, drawn from the window with
 * random (uniform over 32 bits), at least BACKOFF_FLOOR_MS; the window grows.
 */
long long backoff_pause_ms(struct backoff *b, uint32_t random);

/* The pause after a clean close: within BACKOFF_CLOSE_MS, drawn with random. */
long long backoff_after_close_ms(uint32_t random);

/* 32 random bits from the kernel, different in every process. */
uint32_t backoff_random(void);

#endif
