/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rules of `usbip agent`: the [export NAME] and [attach NAME] sections
 * of usbip.conf (usbip.conf(5)), and its [agent] section. A rule's keys are
 * the long options of connect and attach, parsed by the same code; a rule
 * is checked as a whole once every key is in (one FILE:LINE line per
 * problem), and its TLS context made then, so that --check refuses what a
 * start would. Each rule runs as one persistent job (agent/persist.h).
 *
 * A reload compares the new file's rules with the running ones by kind
 * and name: a rule whose keys are the same, in the same order, goes on
 * untouched (same connection, same vhci port); one that is new or changed
 * starts; one that is gone, or the old version of a changed one, stops.
 */
#ifndef USBIP_AGENT_AGENT_RULES_H
#define USBIP_AGENT_AGENT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "agent/dialer.h"
#include "agent/persist.h"
#include "daemon/ev.h"
#include "match/selector.h"
#include "net/tls.h"
#include "util/json.h"

#define AGENT_RULES_MAX_STRINGS 64

/* What a reload makes of a rule (agent_rules_merge). */
enum agent_rules_change {
	AGENT_RULES_ADDED,     /* no running rule of its kind and name: it starts */
	AGENT_RULES_CHANGED,   /* one runs with other keys: the new one starts, the old stops */
	AGENT_RULES_UNCHANGED, /* the running one goes on */
	AGENT_RULES_REMOVED,   /* running, not in the new file: it stops */
};

struct agent_rule {
	TAILQ_ENTRY(agent_rule) entry;
	char kind[8]; /* "export" or "attach" */
	char name[128];
	int line; /* of its section's header, for messages */
	struct usbip_selector selector;
	const char *remotes[AGENT_MAX_REMOTES];
	unsigned nremotes;
	const char *port;
	bool gadget, use_tls;
	unsigned max_attempts; /* 0: no limit */
	struct usbip_tls_options tls_options;
	struct usbip_tls *tls;			/* made by the check when use_tls */
	char *strings[AGENT_RULES_MAX_STRINGS]; /* the values the pointers above point into */
	unsigned nstrings;
	char settings[2048];		/* every key = value, in order: equal settings, same rule */
	enum agent_rules_change change; /* ADDED when read; set by agent_rules_merge */
	struct persist_job job;
};

TAILQ_HEAD(agent_rule_list, agent_rule);

struct agent_rules {
	struct agent_rule_list list; /* in the file's order */
	int dead_peer_s;	     /* [agent] dead-peer-timeout; 0: not given */
	struct dialer *dialer;	     /* that knows the rules' TLS contexts, or NULL */
};

/* An empty set; dialer as for struct agent_rules. */
void agent_rules_init(struct agent_rules *rules, struct dialer *dialer);

/*
 * Reads the rules of file into rules (initialised, empty). Returns the
 * number of errors, each said on stderr in one line; the first also in
 * first (if not NULL) for `usbip status`.
 */
unsigned agent_rules_read(struct agent_rules *rules, const char *file, char *first, size_t len);

/* Stops every rule that runs and frees them all; rules is empty after. */
void agent_rules_free(struct agent_rules *rules);

struct agent_rule *agent_rules_find(const struct agent_rules *rules, const char *kind,
				    const char *name);

/* Makes the rules' TLS contexts known to rules->dialer; -1 (logged) if there are too many. */
int agent_rules_register_tls(struct agent_rules *rules, bool *any);

/* How many rules a merge found of each change. */
struct agent_rules_diff {
	unsigned added, changed, unchanged, removed;
};

/*
 * A reload: fresh (as read) becomes the running set, in fresh's order,
 * each rule's change set; an unchanged rule is the running one itself,
 * which takes the fresh one's place (the fresh copy is freed). The running
 * rules that go (removed ones, and the old versions of changed ones) are
 * moved to retired, for the caller to stop and free. fresh is empty after.
 */
void agent_rules_merge(struct agent_rules *running, struct agent_rules *fresh,
		       struct agent_rules *retired, struct agent_rules_diff *diff);

/* Starts every rule that is not UNCHANGED on loop, one log line each; how many started. */
unsigned agent_rules_start(struct agent_rules *rules, struct ev_loop *loop);

/* SIGUSR1: every rule stops retrying what is not connected now; how many devices. */
unsigned agent_rules_give_up(struct agent_rules *rules);

/* `usbip status`: "rules", every rule and what it is doing. */
void agent_rules_status(const struct agent_rules *rules, struct json_writer *w);

#endif
