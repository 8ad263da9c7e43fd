/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device side's export agent (`usbip connect --persist`): exports every
 * local device its selector matches, those present at start and each one
 * plugged in later (udev events, no polling), each on its own connection
 * to the first remote usbipa that takes it. It withdraws an export when
 * its device is unplugged, exports again when the device comes back in any
 * port, when the connection drops or when usbipa returns (jittered pauses,
 * agent/backoff.h), and on stop withdraws everything and gives
 * each device back to its own driver. Every change is one log line.
 */
#ifndef USBIP_AGENT_EXPORT_AGENT_H
#define USBIP_AGENT_EXPORT_AGENT_H

#include <stdbool.h>

#include "daemon/ev.h"
#include "match/selector.h"
#include "net/tls.h"
#include "source/device_export.h"
#include "util/json.h"

#define AGENT_MAX_REMOTES 8

struct export_agent_config {
	struct usbip_selector selector;
	const char *remotes[AGENT_MAX_REMOTES]; /* tried in this order */
	unsigned nremotes;
	const char *port;      /* the remotes' TCP port */
	struct usbip_tls *tls; /* client context, or NULL */
	bool gadgets;	       /* usbip-vudc gadgets instead of usbip-host devices */
	int attempt_timeout_ms;
	unsigned max_attempts; /* per device, in a row; then it gives up (0: no limit) */
	const struct device_export_dialer *dialer; /* NULL: dial from this process */
	/*
	 * The caller's source (serve-mtp's virtual device), borrowed: its
	 * devices are exported, nothing watches udev, nothing is released or
	 * freed; the caller says when an export ends (export_agent_dropped).
	 * NULL: usbip-host devices, or gadgets.
	 */
	struct device_source *source;
	/* Called when a device gives up (max_attempts, or told to), or NULL. */
	void (*gave_up)(void *arg, const char *busid);
	void *gave_up_arg;
};

struct export_agent;

/* Starts on loop: exports what is there now and watches for more. NULL (logged) on failure. */
struct export_agent *export_agent_start(struct ev_loop *loop,
					const struct export_agent_config *config);
/* How many devices it exports right now. */
unsigned export_agent_exported(const struct export_agent *agent);
/* Writes "devices" (each with its state, remote or reason, since when) and "state". */
void export_agent_status(const struct export_agent *agent, struct json_writer *w);

/* For /metrics: what an agent's rules hold, summed over them (usbip(8), METRICS). */
struct agent_counts {
	unsigned exported, exporting, export_given_up; /* export rules' devices */
	unsigned attached, waiting, attach_given_up;   /* attach rules */
	unsigned long long reconnects;		       /* exported or attached again after a drop */
	long long last_change; /* the newest state change (wall clock), 0 for none */
};

/* Adds what agent holds to c. */
void export_agent_count(const struct export_agent *agent, struct agent_counts *c);
/*
 * Stops retrying: every device still trying its remotes gives up (until it
 * is plugged again); exported ones stay. Returns how many gave up.
 */
unsigned export_agent_give_up(struct export_agent *agent);
/*
 * The export of busid ended (a borrowed source's importer went away: the
 * connection dropped, usbipa detached it or died): export it again, first
 * within BACKOFF_CLOSE_MS. Nothing if busid is not exported.
 */
void export_agent_dropped(struct export_agent *agent, const char *busid);
/* Withdraws every export, gives every device back, frees the agent. */
void export_agent_stop(struct export_agent *agent);

#endif
