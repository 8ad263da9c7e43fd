/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How much a usbipa takes, and its draining: the rules, apart from
 * vhci-hcd, so that they are tested alone. A usbipa that is full (its
 * --max-imports, or no free vhci port of the device's speed) or draining
 * answers an export with status 2 (no free port), which sends the node on
 * to its next target at once rather than after its backoff: that refusal
 * is what spreads a pool's devices, with no protocol of our own.
 *
 * Draining moves the devices one by one, so that a pool never has all of
 * one host's devices reconnecting at once: one import is detached (its
 * node sees the connection end and exports it again, elsewhere since this
 * host refuses), then the next once the node has come back here and been
 * refused (it is on its way to another host: CAPACITY_DRAIN_SETTLE_MS
 * more), or after CAPACITY_DRAIN_STEP_MS at most.
 */
#ifndef USBIP_DAEMON_CAPACITY_H
#define USBIP_DAEMON_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>

/* The longest wait for one device's move before the next is detached. */
#define CAPACITY_DRAIN_STEP_MS 5000
/* After the moving device's node was refused here: its export elsewhere. */
#define CAPACITY_DRAIN_SETTLE_MS 1000

/* Whether an export finds room, and if not why: for logs and counters by reason. */
enum capacity_verdict {
	CAPACITY_ROOM,	       /* taken */
	CAPACITY_DRAINING,     /* draining: no new import */
	CAPACITY_MAX_IMPORTS,  /* --max-imports reached */
	CAPACITY_NO_VHCI_PORT, /* no free vhci-hcd port of the device's speed */
	CAPACITY_VERDICTS      /* how many there are */
};

struct capacity {
	unsigned max_imports; /* 0: as many as vhci-hcd has ports */
	bool draining;
	unsigned long long refused[CAPACITY_VERDICTS]; /* refusals counted by reason */
	/* The one device a drain has sent away and waits for. */
	bool moving;
	char moving_busid[32];	   /* its bus id on its node */
	char moving_host[64];	   /* its node's address */
	long long moving_until_ms; /* when the next may go */
};

void capacity_init(struct capacity *c, unsigned max_imports, bool draining);

/*
 * Whether an export of busid from host (numeric address) finds room, with
 * imports live imports now and port_free whether vhci-hcd has a port of
 * its speed. A refusal is counted; the refused export of the device a
 * drain moves tells that its node has moved on (see the top).
 */
enum capacity_verdict capacity_check(struct capacity *c, unsigned imports, bool port_free,
				     const char *busid, const char *host, long long now_ms);

/* "draining", "max-imports reached", ...: for the log line of a refusal. */
const char *capacity_verdict_str(enum capacity_verdict v);

/* Starts or ends draining (SIGUSR1, --drain); says so in one log line. */
void capacity_set_draining(struct capacity *c, bool on);

/*
 * Whether a drain detaches one more import now, with imports live ones
 * left: the caller then detaches one and calls capacity_drain_moving.
 */
bool capacity_drain_due(const struct capacity *c, unsigned imports, long long now_ms);

/* The import just detached by the drain: busid from host; waited for from now_ms. */
void capacity_drain_moving(struct capacity *c, const char *busid, const char *host,
			   long long now_ms);

#endif
