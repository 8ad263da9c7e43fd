/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the relay processes carried, for a daemon's /metrics. A relay (the
 * TLS relay where kernel TLS is not used, a WebSocket's) is a process of
 * its own, forked by whichever process made the connection (a daemon's
 * network process, the agent's), so it cannot count in the memory of the
 * main process that answers the scrapes. The daemon maps one shared
 * anonymous page before it forks anything (relay_stats_open); every
 * process forked after that shares it, relays add to it with atomic adds
 * (no lock, nothing allocated per relay), and the main process reads it.
 * A process without the page (a one-shot `usbip attach`) counts nothing.
 *
 * The page holds numbers only: a relay that broke could make them lie,
 * never make the reader do more than print them.
 */
#ifndef USBIP_NET_RELAY_STATS_H
#define USBIP_NET_RELAY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum relay_transport {
	RELAY_TLS, /* the TLS relay (--tls-datapath relay, or no kernel TLS) */
	RELAY_WS,  /* a WebSocket's (ws://, wss://) */
	RELAY_TRANSPORTS
};

enum relay_direction {
	RELAY_TO_PEER,	 /* from the local stream (the driver) to the peer */
	RELAY_FROM_PEER, /* from the peer to the local stream */
	RELAY_DIRECTIONS
};

/* A copy of the page. */
struct relay_stats {
	/* The stream's bytes (no TLS records, no WebSocket frames around them). */
	uint64_t bytes[RELAY_TRANSPORTS][RELAY_DIRECTIONS];
	uint64_t started[RELAY_TRANSPORTS]; /* relays started */
	uint64_t ended[RELAY_TRANSPORTS];   /* relays that ended by themselves */
};

/* Maps the page in this process (once; again is a no-op): 0, or -1 logged. */
int relay_stats_open(void);
/* Unmaps it here: relays forked from now on count nothing. */
void relay_stats_close(void);
/* Whether this process has the page. */
bool relay_stats_on(void);

/* In a relay: n bytes moved in direction dir. */
void relay_stats_add(enum relay_transport t, enum relay_direction dir, size_t n);
/* In a relay: it starts, it ends. */
void relay_stats_started(enum relay_transport t);
void relay_stats_ended(enum relay_transport t);

/* The numbers now into out: false (out zeroed) without the page. */
bool relay_stats_read(struct relay_stats *out);

/* "tls", "ws"; "to_peer", "from_peer": the labels of /metrics. */
const char *relay_stats_transport_str(enum relay_transport t);
const char *relay_stats_direction_str(enum relay_direction dir);

#endif
