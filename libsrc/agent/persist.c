// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/persist.h"

#include <string.h>

#include "util/log.h"

bool persist_job_start(struct persist_job *job, struct ev_loop *loop, struct dialer *dialer)
{
	if (job->kind == PERSIST_EXPORT) {
		job->export.attempt_timeout_ms = PERSIST_ATTEMPT_TIMEOUT_MS;
		job->export.dialer = &dialer->exporter;
		job->exporter = export_agent_start(loop, &job->export);
	} else {
		job->attach.from.timeout_ms = PERSIST_ATTEMPT_TIMEOUT_MS;
		job->attach.from.dialer = &dialer->importer;
		job->follower = attach_follower_start(loop, &job->attach);
	}
	return persist_job_running(job);
}

bool persist_job_running(const struct persist_job *job)
{
	return job->exporter || job->follower;
}

unsigned persist_job_give_up(struct persist_job *job)
{
	if (job->exporter)
		return export_agent_give_up(job->exporter);
	if (job->follower)
		return attach_follower_give_up(job->follower) ? 1 : 0;
	return 0;
}

void persist_job_status(const struct persist_job *job, struct json_writer *w)
{
	if (job->exporter)
		export_agent_status(job->exporter, w);
	else if (job->follower)
		attach_follower_status(job->follower, w);
	else
		json_string(w, "state", "not running");
}

void persist_job_count(const struct persist_job *job, struct agent_counts *c)
{
	if (job->exporter)
		export_agent_count(job->exporter, c);
	else if (job->follower)
		attach_follower_count(job->follower, c);
}

void persist_job_stop(struct persist_job *job)
{
	export_agent_stop(job->exporter);
	job->exporter = NULL;
	attach_follower_stop(job->follower);
	job->follower = NULL;
}

void persist_init(struct persist *p, bool daemonize, const char *pid_file, const char *run_as)
{
	memset(p, 0, sizeof(*p));
	p->d.name = "usbip";
	p->d.daemonize = daemonize;
	p->d.pid_file = pid_file;
	p->d.run_as = run_as;
	dialer_init(&p->dialer, &p->d.priv);
	p->d.privsep = DAEMON_PRIVSEP_NETWORK_SERVES;
	p->d.privsep_table = &p->dialer.serves;
}

/* An attach follower's port was detached by hand: the run is done. */
static void one_ended(void *arg)
{
	struct persist *p = arg;

	daemon_stop(&p->d, USBIP_OK);
}

/* It stopped trying: nothing is left for this process to do. */
static void one_gave_up(void *arg)
{
	struct persist *p = arg;

	daemon_stop(&p->d, USBIP_E_FAILED);
}

static enum usbip_result one_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct persist *p = arg;

	return persist_job_start(&p->job, loop, &p->dialer) ? USBIP_OK : USBIP_E_FAILED;
}

static void one_give_up(struct usbip_daemon *d, void *arg)
{
	struct persist *p = arg;
	unsigned n = persist_job_give_up(&p->job);

	if (p->job.kind == PERSIST_EXPORT)
		log_info("SIGUSR1: %u devices stop retrying", n);
	else if (!n)
		log_info("SIGUSR1: attached now; not attached again once its connection is lost");
}

static void one_stop(struct usbip_daemon *d, void *arg)
{
	struct persist *p = arg;

	persist_job_stop(&p->job);
}

enum usbip_result persist_run_one(struct persist *p, struct usbip_tls *tls)
{
	p->d.hooks = (struct daemon_hooks){
		.start = one_start, .give_up = one_give_up, .stop = one_stop, .arg = p
	};
	if (dialer_add_tls(&p->dialer, tls) < 0)
		return USBIP_E_FAILED;
	if (p->job.kind == PERSIST_EXPORT) {
		p->job.export.tls = tls;
	} else {
		p->job.attach.from.tls = tls;
		p->job.attach.ended = one_ended;
		p->job.attach.gave_up = one_gave_up;
		p->job.attach.arg = p;
	}
	return daemon_run(&p->d);
}
