// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/capacity.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

void capacity_init(struct capacity *c, unsigned max_imports, bool draining)
{
	memset(c, 0, sizeof(*c));
	c->max_imports = max_imports;
	c->draining = draining;
}

/* The drain's device came back and is refused: it goes to another host now. */
static void note_moved_on(struct capacity *c, const char *busid, const char *host, long long now_ms)
{
	if (!c->moving || strcmp(c->moving_busid, busid) != 0 || strcmp(c->moving_host, host) != 0)
		return;
	if (c->moving_until_ms > now_ms + CAPACITY_DRAIN_SETTLE_MS)
		c->moving_until_ms = now_ms + CAPACITY_DRAIN_SETTLE_MS;
}

enum capacity_verdict capacity_check(struct capacity *c, unsigned imports, bool port_free,
				     const char *busid, const char *host, long long now_ms)
{
	enum capacity_verdict v = CAPACITY_ROOM;

	if (c->draining)
		v = CAPACITY_DRAINING;
	else if (c->max_imports && imports >= c->max_imports)
		v = CAPACITY_MAX_IMPORTS;
	else if (!port_free)
		v = CAPACITY_NO_VHCI_PORT;
	if (v == CAPACITY_ROOM)
		return v;
	c->refused[v]++;
	if (v == CAPACITY_DRAINING)
		note_moved_on(c, busid, host, now_ms);
	return v;
}

const char *capacity_verdict_str(enum capacity_verdict v)
{
	switch (v) {
	case CAPACITY_ROOM:
		return "room";
	case CAPACITY_DRAINING:
		return "draining";
	case CAPACITY_MAX_IMPORTS:
		return "--max-imports reached";
	case CAPACITY_NO_VHCI_PORT:
		return "no free vhci port for its speed";
	case CAPACITY_VERDICTS:
		break;
	}
	return "?";
}

void capacity_set_draining(struct capacity *c, bool on)
{
	if (c->draining == on)
		return;
	c->draining = on;
	c->moving = false;
	if (on)
		log_info("draining: refusing new exports, moving the devices away one by one");
	else
		log_info("no longer draining: taking exports again");
}

bool capacity_drain_due(const struct capacity *c, unsigned imports, long long now_ms)
{
	if (!c->draining || imports == 0)
		return false;
	return !c->moving || now_ms >= c->moving_until_ms;
}

void capacity_drain_moving(struct capacity *c, const char *busid, const char *host,
			   long long now_ms)
{
	c->moving = true;
	snprintf(c->moving_busid, sizeof(c->moving_busid), "%s", busid);
	snprintf(c->moving_host, sizeof(c->moving_host), "%s", host);
	c->moving_until_ms = now_ms + CAPACITY_DRAIN_STEP_MS;
}
