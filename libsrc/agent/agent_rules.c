// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/agent_rules.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "net/address.h"
#include "net/tcp.h"
#include "util/log.h"

/* The keys of [export NAME] and [attach NAME]: connect's and attach's options. */
static const struct option rule_keys[] = {
	{ "remote", required_argument, NULL, 'r' },
	{ "busid", required_argument, NULL, 'b' },
	{ "hardware-id", required_argument, NULL, 'i' },
	{ "device", no_argument, NULL, 'd' },
	{ "tcp-port", required_argument, NULL, 't' },
	{ "dead-peer-timeout", required_argument, NULL, 'X' },
	{ "max-attempts", required_argument, NULL, 'M' },
	{ "metrics", required_argument, NULL, 'm' },
	USBIP_TLS_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

void agent_rules_init(struct agent_rules *rules, struct dialer *dialer)
{
	TAILQ_INIT(&rules->list);
	rules->dead_peer_s = 0;
	rules->metrics[0] = '\0';
	rules->dialer = dialer;
}

static void rule_free(struct agent_rules *rules, struct agent_rule *r)
{
	unsigned i;

	persist_job_stop(&r->job);
	if (rules->dialer)
		dialer_drop_tls(rules->dialer, r->tls);
	tls_free(r->tls);
	for (i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r);
}

void agent_rules_free(struct agent_rules *rules)
{
	struct agent_rule *r;

	while ((r = TAILQ_FIRST(&rules->list)) != NULL) {
		TAILQ_REMOVE(&rules->list, r, entry);
		rule_free(rules, r);
	}
}

struct agent_rule *agent_rules_find(const struct agent_rules *rules, const char *kind,
				    const char *name)
{
	struct agent_rule *r;

	TAILQ_FOREACH(r, &rules->list, entry)
		if (strcmp(r->kind, kind) == 0 && strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static const char *rule_keep(struct agent_rule *r, const char *value)
{
	if (!value)
		return NULL;
	if (r->nstrings == AGENT_RULES_MAX_STRINGS)
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
static int agent_key_set(struct agent_rules *rules, int opt, const char *value, char *err,
			 size_t err_len)
{
	if (opt == 'm') {
		if (metrics_address_ok(value, err, err_len) != 0)
			return -1;
		snprintf(rules->metrics, sizeof(rules->metrics), "%s", value);
		return 0;
	}
	if (opt != 'X') {
		snprintf(err, err_len, "[agent] takes only dead-peer-timeout and metrics");
		return -1;
	}
	rules->dead_peer_s = tcp_parse_dead_peer(value, err, err_len);
	return rules->dead_peer_s < 0 ? -1 : 0;
}

/* What rule_set reads into, and where the reader is. */
struct rule_reading {
	struct agent_rules *rules;
	const struct conf_reader *reader;
};

/* The rule of kind and name, made at its first key. */
static struct agent_rule *rule_get(struct rule_reading *reading, const char *kind, const char *name,
				   char *err, size_t err_len)
{
	struct agent_rule *r = agent_rules_find(reading->rules, kind, name);

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->line = reading->reader->section_line;
	r->port = USBIP_DEFAULT_PORT;
	TAILQ_INSERT_TAIL(&reading->rules->list, r, entry);
	return r;
}

/* A key that is not a TLS one; 1 if opt is not such a key. */
static int rule_key_set(struct agent_rule *r, int opt, const char *v, char *err, size_t err_len)
{
	struct net_address addr;

	switch (opt) {
	case 'r':
		if (r->nremotes == AGENT_MAX_REMOTES) {
			snprintf(err, err_len, "at most %d remotes", AGENT_MAX_REMOTES);
			return -1;
		}
		/* What a start would refuse (a bad srv:, a scheme not carried yet) is said now. */
		if (address_parse(v, USBIP_DEFAULT_PORT, &addr, err, err_len) != 0 ||
		    address_dialable(&addr, err, err_len) != 0)
			return -1;
		r->remotes[r->nremotes++] = v;
		return 0;
	case 'b':
	case 'i':
		return selector_add_option(&r->selector, opt, v, err, err_len);
	case 'd':
		r->gadget = true;
		return 0;
	case 'M':
		return parse_max_attempts(v, &r->max_attempts, err, err_len);
	case 't':
		if (!tcp_port_ok(v)) {
			snprintf(err, err_len, "'%s' is not a port from 1 to 65535", v);
			return -1;
		}
		r->port = v;
		return 0;
	}
	return 1;
}

/* One key of a rule section: the same parsers as connect's and attach's options. */
static int rule_set(void *ctx, const char *kind, const char *name, int opt, const char *value,
		    char *err, size_t err_len)
{
	struct rule_reading *reading = ctx;
	struct agent_rule *r;
	const char *v;
	size_t used;
	int rc;

	if (strcmp(kind, "agent") == 0)
		return agent_key_set(reading->rules, opt, value, err, err_len);
	if (opt == 'X' || opt == 'm') {
		snprintf(err, err_len, "goes in [agent]: it applies to every rule");
		return -1;
	}
	r = rule_get(reading, kind, name, err, err_len);
	if (!r)
		return -1;
	v = rule_keep(r, value);
	if (value && !v) {
		snprintf(err, err_len, "too many keys in one rule");
		return -1;
	}
	used = strlen(r->settings);
	snprintf(r->settings + used, sizeof(r->settings) - used, "%d=%s;", opt, v ? v : "");
	rc = rule_key_set(r, opt, v, err, err_len);
	if (rc <= 0)
		return rc;
	if (opt == USBIP_OPT_ALLOW_SUBJECT) {
		snprintf(err, err_len,
			 "a server's key (usbipd, usbipa): a rule dials out, and checks its "
			 "server with ca or pin");
		return -1;
	}
	return tls_parse_option(opt, v, &r->use_tls, &r->tls_options, err, err_len) < 0 ? -1 : 0;
}

/*
 * What is wrong with a rule as a whole, once every key is in; "" if
 * nothing. The same for --check, a start and a reload: the TLS context is
 * made here (its files read), and kept for the start.
 */
static void rule_check(struct agent_rule *r, char *why, size_t len)
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
		r->tls = tls_new(o, false, why, len);
}

/* Whole-rule checks; one line per problem. */
static unsigned rules_check(const char *file, struct agent_rules *rules, char *first, size_t len)
{
	struct agent_rule *r;
	unsigned errors = 0;
	char why[256], err[300];

	TAILQ_FOREACH(r, &rules->list, entry) {
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

unsigned agent_rules_read(struct agent_rules *rules, const char *file, char *first, size_t len)
{
	struct conf_reader reader = { .file = file,
				      .kinds = { "export", "attach", "agent" },
				      .opts = rule_keys,
				      .set = rule_set };
	struct rule_reading reading = { rules, &reader };
	unsigned errors;

	reader.ctx = &reading;
	errors = conf_read(&reader, false);
	conf_release();
	if (errors && first)
		snprintf(first, len, "%s", reader.first_error);
	if (!errors)
		errors = rules_check(file, rules, first, len);
	return errors;
}

int agent_rules_register_tls(struct agent_rules *rules, bool *any)
{
	struct agent_rule *r;

	*any = false;
	TAILQ_FOREACH(r, &rules->list, entry) {
		if (!r->tls)
			continue;
		if (dialer_add_tls(rules->dialer, r->tls) < 0)
			return -1;
		*any = true;
	}
	return 0;
}

void agent_rules_merge(struct agent_rules *running, struct agent_rules *fresh,
		       struct agent_rules *retired, struct agent_rules_diff *diff)
{
	struct agent_rule *r, *next, *old;

	*diff = (struct agent_rules_diff){ 0 };
	for (r = TAILQ_FIRST(&fresh->list); r; r = next) {
		next = TAILQ_NEXT(r, entry);
		old = agent_rules_find(running, r->kind, r->name);
		if (old && strcmp(old->settings, r->settings) == 0) {
			/*
			 * The running rule itself takes the fresh one's place: what
			 * it runs points into its own strings and TLS context.
			 */
			TAILQ_REMOVE(&running->list, old, entry);
			TAILQ_INSERT_BEFORE(r, old, entry);
			TAILQ_REMOVE(&fresh->list, r, entry);
			rule_free(fresh, r);
			old->change = AGENT_RULES_UNCHANGED;
			diff->unchanged++;
		} else if (old) {
			r->change = AGENT_RULES_CHANGED;
			diff->changed++;
		} else {
			r->change = AGENT_RULES_ADDED;
			diff->added++;
		}
	}
	while ((old = TAILQ_FIRST(&running->list)) != NULL) {
		TAILQ_REMOVE(&running->list, old, entry);
		/* Left here with a namesake in fresh: the old version of a changed rule. */
		if (agent_rules_find(fresh, old->kind, old->name)) {
			old->change = AGENT_RULES_CHANGED;
		} else {
			old->change = AGENT_RULES_REMOVED;
			diff->removed++;
		}
		TAILQ_INSERT_TAIL(&retired->list, old, entry);
	}
	TAILQ_CONCAT(&running->list, &fresh->list, entry);
}

/* The job a rule runs, from its keys. */
static void rule_job(struct agent_rule *r)
{
	struct persist_job *job = &r->job;

	if (strcmp(r->kind, "export") == 0) {
		job->kind = PERSIST_EXPORT;
		job->export = (struct export_agent_config){ .selector = r->selector,
							    .nremotes = r->nremotes,
							    .port = r->port,
							    .tls = r->tls,
							    .gadgets = r->gadget,
							    .max_attempts = r->max_attempts };
		memcpy(job->export.remotes, r->remotes, sizeof(job->export.remotes));
	} else {
		job->kind = PERSIST_ATTACH;
		job->attach = (struct attach_follower_config){
			.from = { .host = r->remotes[0], .port = r->port, .tls = r->tls },
			.selector = r->selector,
			.max_attempts = r->max_attempts,
		};
	}
}

unsigned agent_rules_start(struct agent_rules *rules, struct ev_loop *loop)
{
	struct agent_rule *r;
	unsigned started = 0;
	bool ok;

	TAILQ_FOREACH(r, &rules->list, entry) {
		if (r->change == AGENT_RULES_UNCHANGED)
			continue;
		rule_job(r);
		ok = persist_job_start(&r->job, loop, rules->dialer);
		log_info("rule [%s %s]: %s", r->kind, r->name, ok ? "started" : "could not start");
		started++;
	}
	return started;
}

unsigned agent_rules_give_up(struct agent_rules *rules)
{
	struct agent_rule *r;
	unsigned n = 0;

	TAILQ_FOREACH(r, &rules->list, entry)
		n += persist_job_give_up(&r->job);
	return n;
}

void agent_rules_count(const struct agent_rules *rules, struct agent_counts *c, unsigned *nexport,
		       unsigned *nattach)
{
	const struct agent_rule *r;

	*nexport = *nattach = 0;
	TAILQ_FOREACH(r, &rules->list, entry) {
		persist_job_count(&r->job, c);
		if (strcmp(r->kind, "export") == 0)
			(*nexport)++;
		else
			(*nattach)++;
	}
}

void agent_rules_status(const struct agent_rules *rules, struct json_writer *w)
{
	const struct agent_rule *r;

	json_array_begin(w, "rules");
	TAILQ_FOREACH(r, &rules->list, entry) {
		json_object_begin(w, NULL);
		json_string(w, "rule", r->kind);
		json_string(w, "name", r->name);
		json_bool(w, "tls", r->use_tls);
		persist_job_status(&r->job, w);
		json_object_end(w);
	}
	json_array_end(w);
}
