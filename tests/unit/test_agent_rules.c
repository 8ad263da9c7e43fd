// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's rules (agent/agent_rules.c): usbip.conf's [export NAME],
 * [attach NAME] and [agent] sections as people write them, a bad rule
 * said in one FILE:LINE line on stderr (and kept for `usbip status`), and
 * what a reload makes of a before and an after file: which rules were
 * added, removed, changed, and which go on untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_rules.h"

static char dir[64], path[128], errors_path[128];

static void write_file(const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/*
 * Reads text as usbip.conf into rules, with stderr caught in stderr_text;
 * returns the number of errors, and the first in first.
 */
static unsigned read_rules(const char *text, struct agent_rules *rules, char *first,
			   size_t first_len, char *stderr_text, size_t stderr_len)
{
	int saved = dup(2), fd = open(errors_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	unsigned errors;
	ssize_t n;

	write_file(text);
	agent_rules_init(rules, NULL);
	first[0] = '\0';
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	errors = agent_rules_read(rules, path, first, first_len);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, stderr_text, stderr_len - 1, 0);
	close(fd);
	assert_true(n >= 0);
	stderr_text[n] = '\0';
	return errors;
}

/* A file that must read without a word: the rules in it. */
static void read_good(const char *text, struct agent_rules *rules)
{
	char first[512], said[2048];

	assert_int_equal(read_rules(text, rules, first, sizeof(first), said, sizeof(said)), 0);
	assert_string_equal(said, "");
	assert_string_equal(first, "");
}

static unsigned count(const struct agent_rule_list *list)
{
	const struct agent_rule *r;
	unsigned n = 0;

	TAILQ_FOREACH(r, list, entry)
		n++;
	return n;
}

/* The names of list, in order: "a b c". */
static void names(const struct agent_rule_list *list, char *out, size_t len)
{
	const struct agent_rule *r;
	size_t used = 0;

	out[0] = '\0';
	TAILQ_FOREACH(r, list, entry)
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "", r->name);
}

/* The example of usbip.conf(5) and the README, without the TLS files, and two more. */
static const char example[] = "# the node's rules\n"
			      "[usbipa]\n"
			      "allow-host = 198.51.100.0/24\n"
			      "\n"
			      "[export badge-reader]\n"
			      "hardware-id = 072f:2200\n"
			      "remote = app.example.net\n"
			      "remote = backup.example.net\n"
			      "\n"
			      "[attach disk]\n"
			      "remote = 192.0.2.7\n"
			      "tcp-port = 3250\n"
			      "busid = 1-1.*\n"
			      "hardware-id = 46f4:0001:VMTEST0001\n"
			      "max-attempts = 20\n"
			      "\n"
			      "[export gadget]\n"
			      "remote = [2001:db8::1]:3241\n"
			      "device = yes\n"
			      "busid = usbip-vudc.0\n"
			      "\n"
			      "[agent]\n"
			      "dead-peer-timeout = 30\n";

static void test_rules_as_written(void **state)
{
	struct agent_rules rules;
	struct agent_rule *badge, *disk, *gadget;

	(void)state;
	read_good(example, &rules);
	assert_int_equal(count(&rules.list), 3);
	assert_int_equal(rules.dead_peer_s, 30);

	badge = TAILQ_FIRST(&rules.list);
	assert_string_equal(badge->kind, "export");
	assert_string_equal(badge->name, "badge-reader");
	assert_int_equal(badge->line, 5);
	assert_int_equal(badge->nremotes, 2);
	assert_string_equal(badge->remotes[0], "app.example.net");
	assert_string_equal(badge->remotes[1], "backup.example.net");
	assert_string_equal(badge->port, "3240");
	assert_false(badge->gadget);
	assert_false(badge->use_tls);
	assert_null(badge->tls);
	assert_int_equal(badge->max_attempts, 0);
	assert_true(selector_matches(&badge->selector, "3-2", 0x072f, 0x2200, ""));
	assert_false(selector_matches(&badge->selector, "3-2", 0x072f, 0x2201, ""));
	assert_int_equal(badge->change, AGENT_RULES_ADDED);

	disk = TAILQ_NEXT(badge, entry);
	assert_string_equal(disk->kind, "attach");
	assert_string_equal(disk->name, "disk");
	assert_int_equal(disk->line, 10);
	assert_int_equal(disk->nremotes, 1);
	assert_string_equal(disk->remotes[0], "192.0.2.7");
	assert_string_equal(disk->port, "3250");
	assert_int_equal(disk->max_attempts, 20);
	/* Both selectors: a device must match all of them. */
	assert_true(selector_matches(&disk->selector, "1-1.3", 0x46f4, 1, "VMTEST0001"));
	assert_false(selector_matches(&disk->selector, "1-2", 0x46f4, 1, "VMTEST0001"));
	assert_false(selector_matches(&disk->selector, "1-1.3", 0x46f4, 1, "VMTEST0002"));

	gadget = TAILQ_NEXT(disk, entry);
	assert_string_equal(gadget->name, "gadget");
	assert_true(gadget->gadget);
	assert_string_equal(gadget->remotes[0], "[2001:db8::1]:3241");
	assert_null(TAILQ_NEXT(gadget, entry));
	agent_rules_free(&rules);
	assert_true(TAILQ_EMPTY(&rules.list));
}

/* No rule at all: nothing to run, no error (the agent warns and waits for a reload). */
static void test_no_rules(void **state)
{
	struct agent_rules rules;

	(void)state;
	read_good("[usbipd]\ntcp-port = 3240\n", &rules);
	assert_true(TAILQ_EMPTY(&rules.list));
	assert_int_equal(rules.dead_peer_s, 0);
	agent_rules_free(&rules);
}

struct bad_rule {
	const char *text;
	int line;	  /* the line the error names */
	const char *says; /* in that line */
};

static const struct bad_rule bad_rules[] = {
	{ "[export a]\nbusid = 1-1\n", 1, "[export a] needs a remote" },
	{ "[attach a]\nremote = x\nremote = y\nbusid = 1-1\n", 1,
	  "[attach a] attaches from one remote only" },
	{ "[export ok]\nremote = x\nbusid = 1-1\n\n[export a]\nremote = x\n", 5,
	  "[export a] needs a busid or a hardware-id" },
	{ "[attach a]\nremote = x\nbusid = 1-1\ndevice = yes\n", 1,
	  "[attach a] device applies to [export] rules" },
	{ "[export a]\nremote = x\nbusid = zzzz\n", 1, "[export a] busid 'zzzz'" },
	{ "[attach a]\nremote = x\nbusid = 1-1\nca = /etc/usbip/ca.pem\n", 1,
	  "[attach a] cert, key, ca and pin go with tls = yes" },
	{ "[attach a]\nremote = x\nbusid = 1-1\ntls = yes\nca = /nonexistent-ca.pem\n", 1,
	  "[attach a] CA /nonexistent-ca.pem" },
	{ "[export a]\nremote = x\nbusid = 1-1\ndead-peer-timeout = 30\n", 4,
	  "[export a] dead-peer-timeout: goes in [agent]" },
	{ "[agent]\nremote = x\n", 2, "[agent] takes only dead-peer-timeout" },
	{ "[agent]\ndead-peer-timeout = 2\n", 2,
	  "[agent] dead-peer-timeout: --dead-peer-timeout wants seconds from 5 to 3600, not '2'" },
	{ "[attach a]\nremote = x\nbusid = 1-1\nmax-attempts = 0\n", 4,
	  "'0' is not a count from 1 to 1000000" },
	{ "[attach a]\nremote = x\ntcp-port = 70000\nbusid = 1-1\n", 3,
	  "'70000' is not a port from 1 to 65535" },
	{ "[export a]\nremote = x\nbusid = 1-1\nallow-subject = CN=x\n", 4,
	  "[export a] allow-subject: a server's key" },
	{ "[export a]\nremote = a\nremote = b\nremote = c\nremote = d\nremote = e\n"
	  "remote = f\nremote = g\nremote = h\nremote = i\nbusid = 1-1\n",
	  10, "[export a] remote: at most 8 remotes" },
	{ "[attach a]\nremote = x\nhardware-id = 46f4\n", 3,
	  "[attach a] hardware-id: '46f4' is not VID:PID[:SERIAL]" },
	{ "[attach a]\nremote = x\nbusid = 1-1\nbusyid = 1-2\n", 4,
	  "[attach a] busyid: unknown key (did you mean 'busid'?)" },
	{ "[attach a]\nremote = x\nbusid = 1-1\n[attach a]\nbusid = 1-2\n", 4,
	  "section [attach a] appears twice" },
	{ "[export a]\nremote = srv:\nbusid = 1-1\n", 2,
	  "[export a] remote: 'srv:': srv: wants a DNS name" },
	{ "[export a]\nremote = srv:pool:3240\nbusid = 1-1\n", 2, "srv: wants a DNS name" },
};

/* A pool named by DNS SRV records is a remote like any. */
static void test_srv_remote(void **state)
{
	struct agent_rules rules;

	(void)state;
	read_good("[export pool]\nremote = srv:pool.example.net\nremote = backup.example.net\n"
		  "hardware-id = 072f:2200\n",
		  &rules);
	assert_int_equal(TAILQ_FIRST(&rules.list)->nremotes, 2);
	assert_string_equal(TAILQ_FIRST(&rules.list)->remotes[0], "srv:pool.example.net");
	agent_rules_free(&rules);
}

/* What a bad rule said: exactly one line, FILE:LINE: ..., the same as the first error. */
static bool said_one_line(const struct bad_rule *b, const char *said, const char *first)
{
	char prefix[200];
	const char *nl = strchr(said, '\n');

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, b->line);
	return nl && !strchr(nl + 1, '\n') && strncmp(said, prefix, strlen(prefix)) == 0 &&
	       strstr(said, b->says) && strlen(first) == (size_t)(nl - said) &&
	       strncmp(said, first, (size_t)(nl - said)) == 0;
}

static void test_bad_rules_one_line_each(void **state)
{
	struct agent_rules rules;
	char first[512], said[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		unsigned errors = read_rules(bad_rules[i].text, &rules, first, sizeof(first), said,
					     sizeof(said));

		if (errors != 1 || !said_one_line(&bad_rules[i], said, first))
			fail_msg("rule %zu: %u errors, said '%s', first '%s'; wanted line %d with "
				 "'%s'",
				 i, errors, said, first, bad_rules[i].line, bad_rules[i].says);
		agent_rules_free(&rules);
	}
}

/* Every rule's mistakes are said, one line each, not only the first one's. */
static void test_every_bad_rule_said(void **state)
{
	struct agent_rules rules;
	char first[512], said[2048];
	const char *second;

	(void)state;
	assert_int_equal(read_rules("[export a]\nbusid = 1-1\n\n[attach b]\nremote = x\n", &rules,
				    first, sizeof(first), said, sizeof(said)),
			 2);
	second = strchr(said, '\n');
	assert_non_null(second);
	assert_ptr_equal(strchr(second + 1, '\n'), said + strlen(said) - 1); /* two lines */
	assert_non_null(strstr(first, ":1: [export a] needs a remote"));
	assert_non_null(strstr(second, ":4: [attach b] needs a busid or a hardware-id\n"));
	agent_rules_free(&rules);
}

/* A reload from before to after; the running set is before's, merged. */
struct reload {
	struct agent_rules running, fresh, retired;
	struct agent_rules_diff diff;
};

static void reload(struct reload *r, const char *before, const char *after)
{
	read_good(before, &r->running);
	read_good(after, &r->fresh);
	agent_rules_init(&r->retired, NULL);
	agent_rules_merge(&r->running, &r->fresh, &r->retired, &r->diff);
	assert_true(TAILQ_EMPTY(&r->fresh.list));
}

static void reload_free(struct reload *r)
{
	agent_rules_free(&r->running);
	agent_rules_free(&r->retired);
}

/* What a merge found: added, changed, unchanged, removed. */
static void expect_diff(const struct agent_rules_diff *diff, unsigned added, unsigned changed,
			unsigned unchanged, unsigned removed)
{
	assert_int_equal(diff->added, added);
	assert_int_equal(diff->changed, changed);
	assert_int_equal(diff->unchanged, unchanged);
	assert_int_equal(diff->removed, removed);
}

static enum agent_rules_change change_of(struct agent_rules *rules, const char *name)
{
	struct agent_rule *r = agent_rules_find(rules, "export", name);

	if (!r)
		r = agent_rules_find(rules, "attach", name);
	assert_non_null(r);
	return r->change;
}

static const char before[] = "[export badge-reader]\n"
			     "hardware-id = 072f:2200\n"
			     "remote = app.example.net\n"
			     "remote = backup.example.net\n"
			     "\n"
			     "[attach disk]\n"
			     "remote = 192.0.2.7\n"
			     "hardware-id = 46f4:0001\n"
			     "\n"
			     "[attach tablet]\n"
			     "remote = 192.0.2.7\n"
			     "hardware-id = 0627:0001\n";

/* One of each: badge-reader kept, disk changed, tablet removed, camera added. */
static void test_reload_diff(void **state)
{
	static const char after[] = "[export camera]\n"
				    "remote = app.example.net\n"
				    "busid = 1-1.*\n"
				    "\n"
				    "[export badge-reader]\n"
				    "hardware-id = 072f:2200\n"
				    "remote = app.example.net\n"
				    "remote = backup.example.net\n"
				    "\n"
				    "[attach disk]\n"
				    "remote = 192.0.2.7\n"
				    "hardware-id = 46f4:0001\n"
				    "max-attempts = 5\n";
	struct reload r;
	struct agent_rule *old_badge, *old_disk;
	char list[256];

	(void)state;
	read_good(before, &r.running);
	old_badge = agent_rules_find(&r.running, "export", "badge-reader");
	old_disk = agent_rules_find(&r.running, "attach", "disk");
	read_good(after, &r.fresh);
	agent_rules_init(&r.retired, NULL);
	agent_rules_merge(&r.running, &r.fresh, &r.retired, &r.diff);

	expect_diff(&r.diff, 1, 1, 1, 1);
	/* The new file's order; the kept rule is the running one itself. */
	names(&r.running.list, list, sizeof(list));
	assert_string_equal(list, "camera badge-reader disk");
	assert_ptr_equal(agent_rules_find(&r.running, "export", "badge-reader"), old_badge);
	assert_ptr_not_equal(agent_rules_find(&r.running, "attach", "disk"), old_disk);
	assert_int_equal(agent_rules_find(&r.running, "attach", "disk")->max_attempts, 5);
	assert_int_equal(change_of(&r.running, "camera"), AGENT_RULES_ADDED);
	assert_int_equal(change_of(&r.running, "badge-reader"), AGENT_RULES_UNCHANGED);
	assert_int_equal(change_of(&r.running, "disk"), AGENT_RULES_CHANGED);
	/* What stops: the old disk and the tablet, in the old order. */
	names(&r.retired.list, list, sizeof(list));
	assert_string_equal(list, "disk tablet");
	assert_ptr_equal(TAILQ_FIRST(&r.retired.list), old_disk);
	assert_int_equal(change_of(&r.retired, "disk"), AGENT_RULES_CHANGED);
	assert_int_equal(change_of(&r.retired, "tablet"), AGENT_RULES_REMOVED);
	reload_free(&r);
}

/* Comments, blank lines, spacing and other sections do not change a rule. */
static void test_reload_same_rules_written_otherwise(void **state)
{
	static const char after[] = "# reordered sections, comments\n"
				    "[usbipa]\n"
				    "allow-device = 072f:2200\n"
				    "[attach tablet]\n"
				    "remote=192.0.2.7\n"
				    "hardware-id   =   0627:0001\n"
				    "[attach disk]\n"
				    "; the disk\n"
				    "remote = 192.0.2.7\n"
				    "hardware-id = 46f4:0001\n"
				    "[export badge-reader]\n"
				    "hardware-id = 072f:2200\n"
				    "remote = app.example.net\n"
				    "remote = backup.example.net\n"
				    "[agent]\n"
				    "dead-peer-timeout = 60\n";
	struct reload r;
	char list[256];

	(void)state;
	reload(&r, before, after);
	expect_diff(&r.diff, 0, 0, 3, 0);
	assert_true(TAILQ_EMPTY(&r.retired.list));
	names(&r.running.list, list, sizeof(list));
	assert_string_equal(list, "tablet disk badge-reader");
	/* A reload that changed no rule starts none (the loop is not even looked at). */
	assert_int_equal(agent_rules_start(&r.running, NULL), 0);
	reload_free(&r);
}

/*
 * What makes a rule another one: a value, the order of repeated keys (the
 * remotes are tried in order), its name, or its kind.
 */
static void test_reload_what_counts_as_changed(void **state)
{
	static const char after[] = "[export badge-reader]\n"
				    "hardware-id = 072f:2200\n"
				    "remote = backup.example.net\n"
				    "remote = app.example.net\n"
				    "\n"
				    "[attach disk]\n"
				    "remote = 192.0.2.8\n"
				    "hardware-id = 46f4:0001\n"
				    "\n"
				    "[export tablet]\n"
				    "remote = 192.0.2.7\n"
				    "hardware-id = 0627:0001\n"
				    "\n"
				    "[attach pen]\n"
				    "remote = 192.0.2.7\n"
				    "hardware-id = 0627:0001\n";
	struct reload r;
	char list[256];

	(void)state;
	reload(&r, before, after);
	/* Added [export tablet] and pen, changed badge-reader and disk, removed [attach tablet]. */
	expect_diff(&r.diff, 2, 2, 0, 1);
	assert_int_equal(change_of(&r.running, "badge-reader"), AGENT_RULES_CHANGED);
	assert_int_equal(agent_rules_find(&r.running, "export", "tablet")->change,
			 AGENT_RULES_ADDED);
	assert_int_equal(change_of(&r.running, "pen"), AGENT_RULES_ADDED);
	names(&r.retired.list, list, sizeof(list));
	assert_string_equal(list, "badge-reader disk tablet");
	assert_int_equal(agent_rules_find(&r.retired, "attach", "tablet")->change,
			 AGENT_RULES_REMOVED);
	reload_free(&r);
}

/* From nothing every rule is added; to nothing every rule is removed. */
static void test_reload_from_and_to_nothing(void **state)
{
	struct reload r;

	(void)state;
	reload(&r, "", before);
	expect_diff(&r.diff, 3, 0, 0, 0);
	assert_int_equal(count(&r.running.list), 3);
	reload_free(&r);

	reload(&r, before, "# all rules gone\n");
	expect_diff(&r.diff, 0, 0, 0, 3);
	assert_true(TAILQ_EMPTY(&r.running.list));
	assert_int_equal(count(&r.retired.list), 3);
	reload_free(&r);
}

/* A second reload after the first: what the first started is now what runs. */
static void test_reload_twice(void **state)
{
	static const char after[] = "[attach disk]\n"
				    "remote = 192.0.2.7\n"
				    "hardware-id = 46f4:0001\n"
				    "max-attempts = 5\n";
	struct reload r;
	struct agent_rules again, retired;
	struct agent_rules_diff diff;
	struct agent_rule *disk;

	(void)state;
	reload(&r, before, after);
	disk = agent_rules_find(&r.running, "attach", "disk");
	assert_int_equal(disk->change, AGENT_RULES_CHANGED);
	read_good(after, &again);
	agent_rules_init(&retired, NULL);
	agent_rules_merge(&r.running, &again, &retired, &diff);
	expect_diff(&diff, 0, 0, 1, 0);
	assert_ptr_equal(agent_rules_find(&r.running, "attach", "disk"), disk);
	assert_int_equal(disk->change, AGENT_RULES_UNCHANGED);
	assert_true(TAILQ_EMPTY(&retired.list));
	reload_free(&r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_agent_rules.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/usbip.conf", dir);
	snprintf(errors_path, sizeof(errors_path), "%s/stderr", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unlink(errors_path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_as_written),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_bad_rules_one_line_each),
		cmocka_unit_test(test_srv_remote),
		cmocka_unit_test(test_every_bad_rule_said),
		cmocka_unit_test(test_reload_diff),
		cmocka_unit_test(test_reload_same_rules_written_otherwise),
		cmocka_unit_test(test_reload_what_counts_as_changed),
		cmocka_unit_test(test_reload_from_and_to_nothing),
		cmocka_unit_test(test_reload_twice),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
