// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/metrics_proc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/privsep.h"
#include "net/relay_stats.h"
#include "util/log.h"
#include "util/sandbox.h"

/* The one thing the answering process asks: the text, no body. */
#define METRICS_PROC_TEXT PRIVSEP_TYPE_DAEMON
/* How long a scrape waits for the main process. */
#define METRICS_PROC_ASK_MS 2000

struct metrics_proc {
	struct metrics_server *server; /* in the child only, once split */
	struct privsep *chan;
	pid_t pid;
	unsigned port;
	metrics_fn fn; /* in the main process */
	void *arg;
	struct privsep_op op;
	struct privsep_table table;
	bool said_cut;
};

/* In the main process: the text, cut at a line when it is too long. */
static ssize_t serve_text(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	struct metrics_proc *p = arg;
	struct metrics_text m;
	char *text = NULL;
	size_t len = 0;
	const char *end;

	(void)request;
	(void)fd;
	(void)reply_fd;
	m.out = open_memstream(&text, &len);
	if (!m.out)
		return 0;
	p->fn(&m, p->arg);
	fclose(m.out);
	if (len > PRIVSEP_MAX_MESSAGE) {
		end = memrchr(text, '\n', PRIVSEP_MAX_MESSAGE);
		len = end ? (size_t)(end - text) + 1 : 0;
		if (!p->said_cut)
			log_warn("metrics: the text is cut at %zu bytes", len);
		p->said_cut = true;
	}
	memcpy(reply, text, len);
	free(text);
	return (ssize_t)len;
}

/* In the answering process: the scrape's text, asked of the main process. */
static void ask_text(struct metrics_text *m, void *arg)
{
	struct metrics_proc *p = arg;
	char *buf = malloc(PRIVSEP_MAX_MESSAGE);
	ssize_t n;

	if (!buf)
		return;
	n = privsep_call(p->chan, METRICS_PROC_TEXT, NULL, 0, -1, buf, PRIVSEP_MAX_MESSAGE, NULL);
	if (n > 0)
		fwrite(buf, 1, (size_t)n, m->out);
	free(buf);
}

static void on_child_lost(void *arg)
{
	(void)arg;
	log_warn("the metrics process ended: /metrics no longer answers");
}

static bool keep_listener(int fd, void *arg)
{
	return metrics_has_fd(arg, fd);
}

static void on_main_lost(void *arg)
{
	ev_loop_stop(arg);
}

/*
 * The answering process, forked from a running daemon: it lets go of all
 * it inherited but its channel and its sockets, enters a sandbox that
 * reaches no file, and answers until the main process lets it go.
 */
static void run_child(struct metrics_proc *p)
{
	static const struct privsep_table nothing = { NULL, 0, NULL };
	struct ev_loop *loop;
	int rules;

	privsep_close_inherited_but(p->chan, keep_listener, p->server);
	relay_stats_close(); /* the relays' counters are the main process's to read */
	log_reopen();
	rules = sandbox_prepare(NULL, 0, NULL, 0);
	if (rules == -1 || sandbox_enter(rules) != 0)
		_exit(1);
	privsep_set_timeout(p->chan, METRICS_PROC_ASK_MS);
	loop = ev_loop_new();
	if (!loop || metrics_watch(p->server, loop) != 0 ||
	    privsep_serve(p->chan, loop, &nothing, on_main_lost, loop) != 0)
		_exit(1);
	ev_loop_run(loop);
	_exit(0);
}

static struct metrics_proc *fail(struct metrics_proc *p)
{
	metrics_close(p->server);
	privsep_free(p->chan);
	free(p);
	return NULL;
}

struct metrics_proc *metrics_proc_start(const char *name, const char *address, const char *user,
					struct ev_loop *loop, metrics_fn fn, void *arg)
{
	struct metrics_proc *p = calloc(1, sizeof(*p));

	if (!p) {
		log_err("out of memory");
		return NULL;
	}
	p->fn = fn;
	p->arg = arg;
	p->server = metrics_open(address, ask_text, p);
	if (!p->server)
		return fail(p);
	p->port = metrics_port(p->server);
	p->pid = privsep_split(name, user, false, &p->chan);
	if (p->pid < 0)
		return fail(p);
	if (p->pid == 0)
		run_child(p);
	/* This process reads from no scraper. */
	metrics_close(p->server);
	p->server = NULL;
	p->op = (struct privsep_op){ METRICS_PROC_TEXT,	  "metrics", 0, false,
				     PRIVSEP_MAX_MESSAGE, serve_text };
	p->table = (struct privsep_table){ &p->op, 1, p };
	if (privsep_serve(p->chan, loop, &p->table, on_child_lost, NULL) != 0) {
		metrics_proc_stop(p);
		return NULL;
	}
	return p;
}

unsigned metrics_proc_port(const struct metrics_proc *p)
{
	return p->port;
}

pid_t metrics_proc_pid(const struct metrics_proc *p)
{
	return p->pid;
}

void metrics_proc_reaped(struct metrics_proc *p)
{
	p->pid = 0;
}

void metrics_proc_stop(struct metrics_proc *p)
{
	if (!p)
		return;
	privsep_release(p->chan, p->pid, 2000); /* it ends when let go */
	free(p);
}
