/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistent work: an export agent or an attach follower run by a daemon
 * that dials out. The same for `connect --persist`, `attach --persist` and
 * each rule of `usbip agent`: the daemon runner (daemon/daemon.h) with an
 * unprivileged network process that makes every exchange with the remotes
 * (agent/dialer.h), and a job started, asked to give up (SIGUSR1), shown
 * in `usbip status` and stopped the same way whoever runs it.
 */
#ifndef USBIP_AGENT_PERSIST_H
#define USBIP_AGENT_PERSIST_H

#include <stdbool.h>

#include "agent/attach_follower.h"
#include "agent/dialer.h"
#include "agent/export_agent.h"
#include "daemon/daemon.h"
#include "util/json.h"

/*
 * How long one attempt into a silent network may take: with the longest
 * pause (5 s), a device is back within about 10 s of the network's return.
 */
#define PERSIST_ATTEMPT_TIMEOUT_MS 5000

enum persist_kind {
	PERSIST_EXPORT, /* an export agent: local devices to a usbipa */
	PERSIST_ATTACH, /* an attach follower: a remote device onto vhci-hcd */
};

struct persist_job {
	enum persist_kind kind;
	/* The one of kind; the attempt timeout and dialer are set by persist_job_start. */
	struct export_agent_config export;
	struct attach_follower_config attach;
	/* While it runs: */
	struct export_agent *exporter;
	struct attach_follower *follower;
};

/* Starts job on loop, its exchanges made through dialer; false (logged) if it could not. */
bool persist_job_start(struct persist_job *job, struct ev_loop *loop, struct dialer *dialer);
bool persist_job_running(const struct persist_job *job);
/* SIGUSR1: how many devices stop retrying (an attach follower: 1 if it was waiting). */
unsigned persist_job_give_up(struct persist_job *job);
/* Its fields of a status object; "state": "not running" when it is not. */
void persist_job_status(const struct persist_job *job, struct json_writer *w);
/* Adds what job holds to c (export_agent.h). */
void persist_job_count(const struct persist_job *job, struct agent_counts *c);
/* Withdraws its exports or detaches its port, and frees what runs; again is harmless. */
void persist_job_stop(struct persist_job *job);

/*
 * A daemon that runs persistent jobs. After persist_init, the caller may
 * fill more of d (the agent: its name, status socket and hooks).
 */
struct persist {
	struct usbip_daemon d;
	struct dialer dialer;
	struct persist_job job; /* persist_run_one's */
};

/*
 * Clears p, names the daemon "usbip", takes -D, --pid FILE (or NULL) and
 * --user USER (or NULL), and joins the dialer to the runner.
 */
void persist_init(struct persist *p, bool daemonize, const char *pid_file, const char *run_as);

/*
 * connect --persist and attach --persist: runs p->job, with the command
 * line's TLS context (or NULL), until SIGTERM; an attach follower's end
 * (its port detached by hand, or it gave up) ends the run too.
 */
enum usbip_result persist_run_one(struct persist *p, struct usbip_tls *tls);

#endif
