// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/relay_stats.h"

#include <string.h>
#include <sys/mman.h>

#include "util/log.h"

/*
 * Processes share the page, not a lock: each counter is one 64-bit word
 * changed by an atomic add, which needs the add to be a single instruction
 * (a lock of libatomic's would be this process's own).
 */
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "64-bit atomic adds work across processes on a shared page");

static struct relay_stats *page;

int relay_stats_open(void)
{
	void *p;

	if (page)
		return 0;
	p = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_err("cannot map the relays' counters: %m");
		return -1;
	}
	page = p; /* zeroed by the kernel */
	return 0;
}

void relay_stats_close(void)
{
	if (page)
		munmap(page, sizeof(*page));
	page = NULL;
}

bool relay_stats_on(void)
{
	return page != NULL;
}

void relay_stats_add(enum relay_transport t, enum relay_direction dir, size_t n)
{
	if (page && t < RELAY_TRANSPORTS && dir < RELAY_DIRECTIONS)
		__atomic_add_fetch(&page->bytes[t][dir], (uint64_t)n, __ATOMIC_RELAXED);
}

void relay_stats_started(enum relay_transport t)
{
	if (page && t < RELAY_TRANSPORTS)
		__atomic_add_fetch(&page->started[t], 1, __ATOMIC_RELEASE);
}

void relay_stats_ended(enum relay_transport t)
{
	if (page && t < RELAY_TRANSPORTS)
		__atomic_add_fetch(&page->ended[t], 1, __ATOMIC_RELEASE);
}

bool relay_stats_read(struct relay_stats *out)
{
	int t, d;

	memset(out, 0, sizeof(*out));
	if (!page)
		return false;
	for (t = 0; t < RELAY_TRANSPORTS; t++) {
		for (d = 0; d < RELAY_DIRECTIONS; d++)
			out->bytes[t][d] = __atomic_load_n(&page->bytes[t][d], __ATOMIC_RELAXED);
		/* Ended first: a relay that ends meanwhile is never counted ended but not started.
		 */
		out->ended[t] = __atomic_load_n(&page->ended[t], __ATOMIC_ACQUIRE);
		out->started[t] = __atomic_load_n(&page->started[t], __ATOMIC_ACQUIRE);
	}
	return true;
}

const char *relay_stats_transport_str(enum relay_transport t)
{
	return t == RELAY_TLS ? "tls" : t == RELAY_WS ? "ws" : "?";
}

const char *relay_stats_direction_str(enum relay_direction dir)
{
	return dir == RELAY_TO_PEER ? "to_peer" : dir == RELAY_FROM_PEER ? "from_peer" : "?";
}
