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
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/attach_follower.h"
#include "agent/dialer.h"
#include "agent/export_agent.h"
#include "daemon/conf.h"
#include "daemon/daemon.h"
#include "util/log.h"
#include "usbip.h"

#define DEFAULT_CONFIG	   SYSCONFDIR "/usbip/usbip.conf"
#define DEFAULT_PID_FILE   RUNSTATEDIR "/usbip-agent.pid"
#define ATTEMPT_TIMEOUT_MS 5000
#define MAX_STRINGS	   64

struct rule {
	TAILQ_ENTRY(rule) entry;
	char kind[8]; /* "export" or "attach" */
	char name[128];
	struct usbip_selector selector;
	const char *remotes[AGENT_MAX_REMOTES];
	unsigned nremotes;
	const char *port;
	bool gadget, use_tls;
	unsigned max_attempts; /* 0: no limit */
	struct usbip_tls_options tls_options;
	char *strings[MAX_STRINGS]; /* the values the pointers above point into */
	unsigned nstrings;
	char settings[2048]; /* every key = value, in order: equal settings, same rule */
	int line;	     /* of its section's header, for messages */
	/* While it runs: */
	struct usbip_tls *tls;
	struct export_agent *exporter;
	struct attach_follower *follower;
};

TAILQ_HEAD(rules, rule);

/*
 * The rules' exchanges with their remotes are made by the unprivileged
 * network process (agent/dialer.c), which knows the TLS contexts that
 * existed when it was forked.
 */
static struct dialer dialer;

struct agent {
	const char *config_file;
	struct rules rules;
	struct usbip_daemon *d;
	struct ev_loop *loop;
	char reload_error[512];
};

/*
 * The dead-peer timeout: --dead-peer-timeout wins over the file's [agent]
 * section, which wins over the default. 0: not given.
 */
static int command_line_dead_peer_s, file_dead_peer_s;

/* The keys of [export NAME] and [attach NAME]: connect's and attach's options. */
static const struct option rule_keys[] = {
	{ "remote", required_argument, NULL, 'r' },
	{ "busid", required_argument, NULL, 'b' },
	{ "hardware-id", required_argument, NULL, 'i' },
	{ "device", no_argument, NULL, 'd' },
	{ "tcp-port", required_argument, NULL, 't' },
	{ "dead-peer-timeout", required_argument, NULL, 'X' },
	{ "max-attempts", required_argument, NULL, 'M' },
	USBIP_TLS_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static void rule_free(struct rule *r)
{
	unsigned i;

	export_agent_stop(r->exporter);
	attach_follower_stop(r->follower);
	dialer_drop_tls(&dialer, r->tls);
	usbip_tls_free(r->tls);
	for (i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r);
}

static void rules_free(struct rules *rules)
{
	struct rule *r;

	while ((r = TAILQ_FIRST(rules)) != NULL) {
		TAILQ_REMOVE(rules, r, entry);
		rule_free(r);
	}
}

static struct rule *rule_find(struct rules *rules, const char *kind, const char *name)
{
	struct rule *r;

	TAILQ_FOREACH(r, rules, entry)
		if (strcmp(r->kind, kind) == 0 && strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static const char *rule_keep(struct rule *r, const char *value)
{
	if (!value)
		return NULL;
	if (r->nstrings == MAX_STRINGS)
		return NULL;
	r->strings[r->nstrings] = strdup(value);
	return r->strings[r->nstrings++];
}

static int parse_max_attempts(const char *v, unsigned *out, char *err, size_t err_len)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < 1 || n > 1000000) {
		snprintf(err, err_len, "'%s' is not a count from 1 to 1000000", v);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* A key of [agent]: what applies to every rule. */
static int agent_key_set(int opt, const char *value, char *err, size_t err_len)
{
	if (opt != 'X') {
		snprintf(err, err_len, "[agent] takes only dead-peer-timeout");
		return -1;
	}
	file_dead_peer_s = usbip_tcp_parse_dead_peer(value, err, err_len);
	return file_dead_peer_s < 0 ? -1 : 0;
}

/* What rule_set reads into, and where the reader is. */
struct rule_reading {
	struct rules *rules;
	const struct conf_reader *reader;
};

/* One key of a rule section: the same parsers as connect's and attach's options. */
static int rule_set(void *ctx, const char *kind, const char *name, int opt, const char *value,
		    char *err, size_t err_len)
{
	struct rule_reading *reading = ctx;
	struct rules *rules = reading->rules;
	struct rule *r;
	const char *v;
	size_t used;

	if (strcmp(kind, "agent") == 0)
		return agent_key_set(opt, value, err, err_len);
	if (opt == 'X') {
		snprintf(err, err_len, "goes in [agent]: it applies to every rule");
		return -1;
	}
	r = rule_find(rules, kind, name);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			snprintf(err, err_len, "out of memory");
			return -1;
		}
		snprintf(r->kind, sizeof(r->kind), "%s", kind);
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->line = reading->reader->section_line;
		r->port = USBIP_DEFAULT_PORT;
		TAILQ_INSERT_TAIL(rules, r, entry);
	}
	v = rule_keep(r, value);
	if (value && !v) {
		snprintf(err, err_len, "too many keys in one rule");
		return -1;
	}
	used = strlen(r->settings);
	snprintf(r->settings + used, sizeof(r->settings) - used, "%d=%s;", opt, v ? v : "");
	switch (opt) {
	case 'r':
		if (r->nremotes == AGENT_MAX_REMOTES) {
			snprintf(err, err_len, "at most %d remotes", AGENT_MAX_REMOTES);
			return -1;
		}
		r->remotes[r->nremotes++] = v;
		return 0;
	case 'b':
		return selector_add_busid(&r->selector, v, err, err_len);
	case 'i':
		return selector_add_hwid(&r->selector, v, err, err_len);
	case 'd':
		r->gadget = true;
		return 0;
	case 'M':
		return parse_max_attempts(v, &r->max_attempts, err, err_len);
	case 't':
		if (!usbip_tcp_port_ok(v)) {
			snprintf(err, err_len, "'%s' is not a port from 1 to 65535", v);
			return -1;
		}
		r->port = v;
		return 0;
	}
	if (opt == USBIP_OPT_ALLOW_SUBJECT) {
		snprintf(err, err_len,
			 "a server's key (usbipd, usbipa): a rule dials out, and checks its "
			 "server with ca or pin");
		return -1;
	}
	return usbip_tls_parse_option(opt, v, &r->use_tls, &r->tls_options, err, err_len) < 0 ? -1
											      : 0;
}

/*
 * What is wrong with a rule as a whole, once every key is in; "" if
 * nothing. The same for --check, a start and a reload: the TLS context is
 * made here (its files read), and kept for the start.
 */
static void rule_check(struct rule *r, char *why, size_t len)
{
	const struct usbip_tls_options *o = &r->tls_options;
	bool export = strcmp(r->kind, "export") == 0;

	why[0] = '\0';
	if (!r->nremotes)
		snprintf(why, len, "needs a remote");
	else if (!export && r->nremotes > 1)
		snprintf(why, len, "attaches from one remote only");
	else if (selector_empty(&r->selector))
		snprintf(why, len, "needs a busid or a hardware-id");
	else if (!export && r->gadget)
		snprintf(why, len, "device applies to [export] rules");
	else if (export && !r->gadget && selector_check_usb_busids(&r->selector, why, len) != 0)
		return;
	else if (!r->use_tls && (o->cert_file || o->key_file || o->ca_file || o->pin))
		snprintf(why, len, "cert, key, ca and pin go with tls = yes");
	else if (r->use_tls)
		r->tls = usbip_tls_new(o, false, why, len);
}

/* Whole-rule checks; one line per problem. */
static unsigned rules_check(const char *file, struct rules *rules, char *first, size_t len)
{
	struct rule *r;
	unsigned errors = 0;
	char why[256], err[300];

	TAILQ_FOREACH(r, rules, entry) {
		rule_check(r, why, sizeof(why));
		if (!why[0])
			continue;
		snprintf(err, sizeof(err), "%s:%d: [%s %s] %s", file, r->line, r->kind, r->name,
			 why);
		fprintf(stderr, "%s\n", err);
		if (!errors && first)
			snprintf(first, len, "%s", err);
		errors++;
	}
	return errors;
}

/* Reads the rules of file into rules; the number of errors, each said on stderr. */
static unsigned rules_read(const char *file, struct rules *rules, char *first, size_t len)
{
	struct conf_reader reader = { .file = file,
				      .kinds = { "export", "attach", "agent" },
				      .opts = rule_keys,
				      .set = rule_set };
	struct rule_reading reading;
	unsigned errors;

	TAILQ_INIT(rules);
	file_dead_peer_s = 0;
	reading = (struct rule_reading){ rules, &reader };
	reader.ctx = &reading;
	errors = conf_read(&reader, false);
	conf_release();
	if (errors && first)
		snprintf(first, len, "%s", reader.first_error);
	if (!errors)
		errors = rules_check(file, rules, first, len);
	return errors;
}

/* The connections made from now on: the command line's timeout, the file's, or the default. */
static void apply_dead_peer(void)
{
	usbip_tcp_set_dead_peer(command_line_dead_peer_s ? (unsigned)command_line_dead_peer_s
				: file_dead_peer_s	 ? (unsigned)file_dead_peer_s
							 : USBIP_DEAD_PEER_DEFAULT_S);
}

static void rule_start(struct agent *a, struct rule *r)
{
	if (strcmp(r->kind, "export") == 0) {
		struct export_agent_config c = { .selector = r->selector,
						 .nremotes = r->nremotes,
						 .port = r->port,
						 .tls = r->tls,
						 .gadgets = r->gadget,
						 .attempt_timeout_ms = ATTEMPT_TIMEOUT_MS,
						 .max_attempts = r->max_attempts,
						 .dialer = &dialer.exporter };

		memcpy(c.remotes, r->remotes, sizeof(c.remotes));
		r->exporter = export_agent_start(a->loop, &c);
	} else {
		struct attach_follower_config c = {
			.from = { .host = r->remotes[0],
				  .port = r->port,
				  .tls = r->tls,
				  .timeout_ms = ATTEMPT_TIMEOUT_MS,
				  .dialer = &dialer.importer },
			.selector = r->selector,
			.max_attempts = r->max_attempts,
		};

		r->follower = attach_follower_start(a->loop, &c);
	}
	log_info("rule [%s %s]: %s", r->kind, r->name,
		 r->exporter || r->follower ? "started" : "could not start");
}

/* Makes the rules' TLS contexts known to the next network process; -1 if too many. */
static int rules_register_tls(struct rules *rules, bool *any)
{
	struct rule *r;

	*any = false;
	TAILQ_FOREACH(r, rules, entry) {
		if (!r->tls)
			continue;
		if (dialer_add_tls(&dialer, r->tls) < 0)
			return -1;
		*any = true;
	}
	return 0;
}

static enum usbip_result agent_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct agent *a = arg;
	struct rule *r;

	a->d = d;
	a->loop = loop;
	TAILQ_FOREACH(r, &a->rules, entry)
		rule_start(a, r);
	return USBIP_OK;
}

/*
 * SIGHUP: the new file whole, or nothing of it. A rule whose settings did
 * not change keeps what it runs (and its TLS context) across the reload.
 */
static void agent_reload(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;
	struct rules fresh;
	struct rule *r, *next, *old;
	unsigned kept = 0, started = 0, stopped = 0;
	char first[512];
	bool with_tls;

	first[0] = '\0';
	if (rules_read(a->config_file, &fresh, first, sizeof(first)) != 0 ||
	    rules_register_tls(&fresh, &with_tls) != 0) {
		if (!first[0])
			snprintf(first, sizeof(first), "more than %d rules with TLS",
				 DIALER_MAX_TLS - 1);
		snprintf(a->reload_error, sizeof(a->reload_error), "%s", first);
		log_err("reload of %s refused, the running rules go on: %s", a->config_file, first);
		rules_free(&fresh);
		return;
	}
	a->reload_error[0] = '\0';
	apply_dead_peer();
	/* The new rules' TLS contexts are the network process's only once it is forked again. */
	if (with_tls && daemon_renew_network(d) != USBIP_OK) {
		rules_free(&fresh);
		return;
	}
	for (r = TAILQ_FIRST(&fresh); r; r = next) {
		next = TAILQ_NEXT(r, entry);
		old = rule_find(&a->rules, r->kind, r->name);
		if (old && strcmp(old->settings, r->settings) == 0) {
			/*
			 * The running rule itself takes the fresh one's place: what
			 * it runs points into its own strings and TLS context.
			 */
			TAILQ_REMOVE(&a->rules, old, entry);
			TAILQ_INSERT_BEFORE(r, old, entry);
			TAILQ_REMOVE(&fresh, r, entry);
			rule_free(r);
			kept++;
		} else {
			rule_start(a, r);
			started++;
		}
	}
	while ((old = TAILQ_FIRST(&a->rules)) != NULL) {
		TAILQ_REMOVE(&a->rules, old, entry);
		if (old->exporter || old->follower) {
			log_info("rule [%s %s]: stopped", old->kind, old->name);
			stopped++;
		}
		rule_free(old);
	}
	TAILQ_CONCAT(&a->rules, &fresh, entry);
	log_info("reloaded %s: %u rules unchanged, %u started, %u stopped", a->config_file, kept,
		 started, stopped);
}

/* usbip status: every rule and what it is doing; a refused reload and why. */
static void agent_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	struct agent *a = arg;
	struct rule *r;

	if (a->reload_error[0])
		json_string(w, "reload_refused", a->reload_error);
	json_array_begin(w, "rules");
	TAILQ_FOREACH(r, &a->rules, entry) {
		json_object_begin(w, NULL);
		json_string(w, "rule", r->kind);
		json_string(w, "name", r->name);
		json_bool(w, "tls", r->use_tls);
		if (r->exporter)
			export_agent_status(r->exporter, w);
		else if (r->follower)
			attach_follower_status(r->follower, w);
		else
			json_string(w, "state", "not running");
		json_object_end(w);
	}
	json_array_end(w);
}

/* SIGUSR1: every rule stops retrying what is not connected now. */
static void agent_give_up(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;
	struct rule *r;
	unsigned n = 0;

	TAILQ_FOREACH(r, &a->rules, entry) {
		if (r->exporter)
			n += export_agent_give_up(r->exporter);
		else if (r->follower)
			n += attach_follower_give_up(r->follower);
	}
	log_info("SIGUSR1: %u devices stop retrying", n);
}

static void agent_stop(struct usbip_daemon *d, void *arg)
{
	struct agent *a = arg;

	rules_free(&a->rules);
}

static void usage(void)
{
	printf("usage: usbip agent [--config FILE] [--check] [-D] [--pid FILE]\n\n"
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
	       "15)\n\n"
	       "Exit status: 0 stopped by a signal (or --check found nothing), 1 failed,\n"
	       "2 bad arguments or configuration.\n",
	       DEFAULT_CONFIG, DEFAULT_PID_FILE);
}

int usbip_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pid", required_argument, NULL, 'P' },
		{ "user", required_argument, NULL, 'u' },
		{ "dead-peer-timeout", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct agent a = { .config_file = DEFAULT_CONFIG };
	struct usbip_daemon d = {
		.name = "usbip agent",
		.default_pid_file = DEFAULT_PID_FILE,
		.status_name = "agent",
		.privsep = DAEMON_PRIVSEP_NETWORK_SERVES,
		.privsep_table = &dialer.serves,
		.hooks = { .start = agent_start,
			   .reload = agent_reload,
			   .give_up = agent_give_up,
			   .stop = agent_stop,
			   .status = agent_status,
			   .arg = &a },
	};
	unsigned errors;
	bool check = false, with_tls;
	int c;

	while ((c = getopt_long(argc, argv, "DP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.config_file = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'D':
			d.daemonize = true;
			break;
		case 'P':
			d.pid_file = optarg;
			break;
		case 'u':
			d.run_as = optarg;
			break;
		case 'X':
			if (usbip_dead_peer_option("agent", optarg) >= 0)
				return USBIP_EXIT_USAGE;
			command_line_dead_peer_s = (int)usbip_tcp_dead_peer();
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
	errors = rules_read(a.config_file, &a.rules, NULL, 0);
	if (errors) {
		/* Each said in its FILE:LINE line already: nothing more (one line per mistake). */
		rules_free(&a.rules);
		return USBIP_EXIT_USAGE;
	}
	d.config_file = a.config_file;
	apply_dead_peer();
	if (check) {
		printf("usbip agent: %s is valid (%s; TLS files read, nothing started)\n",
		       a.config_file, TAILQ_EMPTY(&a.rules) ? "no rules" : "every rule checked");
		rules_free(&a.rules);
		return USBIP_EXIT_OK;
	}
	if (TAILQ_EMPTY(&a.rules))
		log_warn("%s has no [export] or [attach] rule: nothing to do until a reload adds "
			 "one",
			 a.config_file);
	if (d.daemonize && !d.pid_file)
		d.pid_file = DEFAULT_PID_FILE;
	dialer_init(&dialer, &d.priv);
	if (rules_register_tls(&a.rules, &with_tls) != 0) {
		rules_free(&a.rules);
		return USBIP_EXIT_USAGE;
	}
	return usbip_exit_status(daemon_run(&d));
}
