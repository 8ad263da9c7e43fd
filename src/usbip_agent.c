// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip agent: runs every [export NAME] and [attach NAME] rule of
 * usbip.conf, the way `connect --persist` and `attach --persist` run one:
 * an export rule is an export agent, an attach rule an attach follower.
 * SIGHUP reads the file again: rules added or removed take effect, rules
 * that did not change go on untouched (their exports and vhci ports stay
 * as they are), and a file with errors is refused whole, the running rules
 * kept, and the reason logged.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/agent_rules.h"
#include "agent/persist.h"
#include "daemon/daemon.h"
#include "util/log.h"
#include "usbip.h"

#define DEFAULT_CONFIG	 SYSCONFDIR "/usbip/usbip.conf"
#define DEFAULT_PID_FILE RUNSTATEDIR "/usbip-agent.pid"

/*
 * The rules' exchanges with their remotes are made by the unprivileged
 * network process (agent/dialer.c), which knows the TLS contexts that
 * existed when it was forked.
 */
struct agent {
	struct persist run;
	const char *config_file;
	struct agent_rules rules;
	char metrics[128]; /* [agent] metrics as the start read it (a change takes a restart) */
	struct ev_loop *loop;
	char reload_error[512];
};

/*
 * The dead-peer timeout: --dead-peer-timeout wins over the file's [agent]
 * section, which wins over the default. 0: not given.
 */
static int command_line_dead_peer_s;

/* The connections made from now on: the command line's timeout, the file's, or the default. */
static void apply_dead_peer(const struct agent_rules *rules)
{
	tcp_set_dead_peer(command_line_dead_peer_s ? (unsigned)command_line_dead_peer_s
			  : rules->dead_peer_s	   ? (unsigned)rules->dead_peer_s
						   : USBIP_DEAD_PEER_DEFAULT_S);
}

static enum usbip_result agent_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct agent *a = arg;

	a->loop = loop;
	agent_rules_start(&a->rules, loop);
	return USBIP_OK;
}

/* Reads the file again into fresh: 0, or -1 with why in a->reload_error (logged). */
static int reload_read(struct agent *a, struct agent_rules *fresh, bool *with_tls)
{
	char first[512];

	first[0] = '\0';
	agent_rules_init(fresh, &a->run.dialer);
	if (agent_rules_read(fresh, a->config_file, first, sizeof(first)) == 0 &&
	    agent_rules_register_tls(fresh, with_tls) == 0) {
		a->reload_error[0] = '\0';
		return 0;
	}
	if (!first[0])
		snprintf(first, sizeof(first), "more than %d rules with TLS", DIALER_MAX_TLS - 1);
	snprintf(a->reload_error, sizeof(a->reload_error), "%s", first);
	log_err("reload of %s refused, the running rules go on: %s", a->config_file, first);
	agent_rules_free(fresh);
	return -1;
}

/* The rules a reload retired: each that ran is stopped; how many. */
static unsigned retire(struct agent_rules *retired)
{
	struct agent_rule *r;
	unsigned stopped = 0;

	TAILQ_FOREACH(r, &retired->list, entry)
		if (persist_job_running(&r->job)) {
			log_info("rule [%s %s]: stopped", r->kind, r->name);
			stopped++;
		}
	agent_rules_free(retired);
	return stopped;
}

/*
 * SIGHUP: the new file whole, or nothing of it. A rule whose settings did
 * not change keeps what it runs (and its TLS context) across the reload.
 */
static void agent_reload(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;
	struct agent_rules fresh, retired;
	struct agent_rules_diff diff;
	unsigned started, stopped;
	bool with_tls;

	unsigned dead_peer_s = tcp_dead_peer();

	if (reload_read(a, &fresh, &with_tls) != 0)
		return;
	apply_dead_peer(&fresh);
	if (strcmp(fresh.metrics, a->metrics) != 0)
		log_warn("reload: [agent] metrics changed: it takes a restart, /metrics stays as "
			 "it is");
	/*
	 * The new rules' TLS contexts, and a new dead-peer timeout, are the
	 * network process's (which makes the sockets) only once it is forked again.
	 */
	if ((with_tls || tcp_dead_peer() != dead_peer_s) && daemon_renew_network(d) != USBIP_OK) {
		agent_rules_free(&fresh);
		return;
	}
	agent_rules_init(&retired, &a->run.dialer);
	agent_rules_merge(&a->rules, &fresh, &retired, &diff);
	started = agent_rules_start(&a->rules, a->loop);
	stopped = retire(&retired);
	log_info("reloaded %s: %u rules unchanged, %u started, %u stopped", a->config_file,
		 diff.unchanged, started, stopped);
}

/* usbip status: every rule and what it is doing; a refused reload and why. */
static void agent_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	struct agent *a = arg;

	if (a->reload_error[0])
		json_string(w, "reload_refused", a->reload_error);
	agent_rules_status(&a->rules, w);
}

static void gauge(struct metrics_text *m, const char *name, const char *help, const char *label,
		  const char *const values[], const unsigned counts[], int n)
{
	int i;

	metrics_family(m, name, "gauge", help);
	for (i = 0; i < n; i++)
		metrics_sample(m, name, counts[i], label, values[i], METRICS_END);
}

/* /metrics: every rule's devices by state (usbip(8), AGENT, METRICS). */
static void agent_metrics(struct usbip_daemon *d, struct metrics_text *m, void *arg)
{
	static const char *const export_states[] = { "exported", "retrying", "given_up" };
	static const char *const attach_states[] = { "attached", "waiting", "given_up" };
	static const char *const kinds[] = { "export", "attach" };
	struct agent *a = arg;
	struct agent_counts c = { 0 };
	unsigned rules[2];

	agent_rules_count(&a->rules, &c, &rules[0], &rules[1]);
	gauge(m, "usbip_agent_rules", "the rules of the configuration, by kind", "kind", kinds,
	      rules, 2);
	gauge(m, "usbip_agent_exports", "devices of export rules, by state", "state", export_states,
	      (const unsigned[]){ c.exported, c.exporting, c.export_given_up }, 3);
	gauge(m, "usbip_agent_imports", "attach rules, by state", "state", attach_states,
	      (const unsigned[]){ c.attached, c.waiting, c.attach_given_up }, 3);
	metrics_family(m, "usbip_agent_reconnects_total", "counter",
		       "devices exported or attached again after their connection dropped");
	metrics_sample(m, "usbip_agent_reconnects_total", (double)c.reconnects, METRICS_END);
	metrics_family(m, "usbip_agent_reload_refused", "gauge",
		       "1 while the last reload was refused (the running rules go on)");
	metrics_sample(m, "usbip_agent_reload_refused", a->reload_error[0] != '\0', METRICS_END);
	metrics_family(m, "usbip_agent_last_change_timestamp_seconds", "gauge",
		       "when a rule's device last changed state (0: none yet)");
	metrics_sample(m, "usbip_agent_last_change_timestamp_seconds", (double)c.last_change,
		       METRICS_END);
}

/* SIGUSR1: every rule stops retrying what is not connected now. */
static void agent_give_up(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;

	log_info("SIGUSR1: %u devices stop retrying", agent_rules_give_up(&a->rules));
}

static void agent_stop(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;

	agent_rules_free(&a->rules);
}

static void usage(void)
{
	printf("usage: usbip agent [--config FILE] [--check] [-D] [--pid FILE] [--metrics "
	       "ADDRESS]\n\n"
	       "Runs every [export NAME] and [attach NAME] rule of FILE (default %s;\n"
	       "see usbip.conf(5)), as 'connect --persist' and 'attach --persist' run one.\n"
	       "SIGHUP reads FILE again: changed rules restart, unchanged ones go on\n"
	       "untouched, and a file with errors is refused whole. SIGTERM stops every\n"
	       "rule: exports are withdrawn, attached devices detached. SIGUSR1: every\n"
	       "device not connected now stops retrying (until its rule restarts).\n\n"
	       "      --config FILE  the configuration file\n"
	       "      --check        check FILE, say what is wrong, and exit (2 if anything)\n"
	       "  -D, --daemon       run in the background, log to syslog\n"
	       "  -P, --pid FILE     write a locked pid file (default with -D: %s)\n"
	       "      --user USER    started as root: talk to the remotes as USER (default\n"
	       "                     usbip, or nobody); binding and vhci-hcd stay root\n"
	       "      --dead-peer-timeout SECONDS  a remote that stops answering is dropped\n"
	       "                     after that long (5 to 3600; default: [agent] of FILE, or "
	       "15)\n"
	       "      --metrics ADDRESS  serve Prometheus metrics on http://ADDRESS/metrics\n"
	       "                     (HOST:PORT, [V6]:PORT or :PORT; port 0: the kernel's pick)\n\n"
	       "Exit status: 0 stopped by a signal (or --check found nothing), 1 failed,\n"
	       "2 bad arguments or configuration.\n",
	       DEFAULT_CONFIG, DEFAULT_PID_FILE);
}

/* --metrics ADDRESS: 0, or -1 said in one line. */
static int metrics_option(struct usbip_daemon *d, const char *address)
{
	char err[400];

	if (daemon_set_option(d, DAEMON_OPT_METRICS, address, err, sizeof(err)) == 1)
		return 0;
	fprintf(stderr, "usbip agent: %s\n", err);
	return -1;
}

/* The command line into a; -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct agent *a, bool *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pid", required_argument, NULL, 'P' },
		{ "user", required_argument, NULL, 'u' },
		{ "dead-peer-timeout", required_argument, NULL, 'X' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_daemon *d = &a->run.d;
	int c;

	while ((c = getopt_long(argc, argv, "DP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_file = optarg;
			break;
		case 'k':
			*check = true;
			break;
		case 'D':
			d->daemonize = true;
			break;
		case 'P':
			d->pid_file = optarg;
			break;
		case 'u':
			d->run_as = optarg;
			break;
		case 'X':
			if (usbip_dead_peer_option("agent", optarg) >= 0)
				return USBIP_EXIT_USAGE;
			command_line_dead_peer_s = (int)tcp_dead_peer();
			break;
		case 'M':
			if (metrics_option(d, optarg) != 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'h':
			usage();
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("agent", argv, opts);
		}
	}
	if (optind < argc)
		return usbip_usage_error("agent", "unexpected argument '%s'", argv[optind]);
	return -1;
}

int usbip_agent(int argc, char **argv)
{
	static struct agent a = { .config_file = DEFAULT_CONFIG };
	struct usbip_daemon *d = &a.run.d;
	bool check = false, with_tls;
	int rc;

	persist_init(&a.run, false, NULL, NULL);
	d->name = "usbip agent";
	d->default_pid_file = DEFAULT_PID_FILE;
	d->status_name = "agent";
	d->hooks = (struct daemon_hooks){ .start = agent_start,
					  .reload = agent_reload,
					  .give_up = agent_give_up,
					  .stop = agent_stop,
					  .status = agent_status,
					  .metrics = agent_metrics,
					  .arg = &a };
	d->metrics_prefix = "usbip_agent";
	rc = parse_args(argc, argv, &a, &check);
	if (rc >= 0)
		return rc;
	agent_rules_init(&a.rules, &a.run.dialer);
	/* Each error said in its FILE:LINE line already: nothing more (one line per mistake). */
	if (agent_rules_read(&a.rules, a.config_file, NULL, 0) != 0) {
		agent_rules_free(&a.rules);
		return USBIP_EXIT_USAGE;
	}
	d->config_file = a.config_file;
	apply_dead_peer(&a.rules);
	/* --metrics wins over the file's [agent] metrics. */
	snprintf(a.metrics, sizeof(a.metrics), "%s", a.rules.metrics);
	if (!d->metrics_address && a.metrics[0])
		d->metrics_address = a.metrics;
	if (check) {
		printf("usbip agent: %s is valid (%s; TLS files read, nothing started)\n",
		       a.config_file,
		       TAILQ_EMPTY(&a.rules.list) ? "no rules" : "every rule checked");
		agent_rules_free(&a.rules);
		return USBIP_EXIT_OK;
	}
	if (TAILQ_EMPTY(&a.rules.list))
		log_warn("%s has no [export] or [attach] rule: nothing to do until a reload adds "
			 "one",
			 a.config_file);
	if (d->daemonize && !d->pid_file)
		d->pid_file = DEFAULT_PID_FILE;
	if (agent_rules_register_tls(&a.rules, &with_tls) != 0) {
		agent_rules_free(&a.rules);
		return USBIP_EXIT_USAGE;
	}
	return exit_status(daemon_run(d));
}
