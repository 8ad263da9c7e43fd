// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip connect: the device side dials out and exports a device to a
 * remote usbipa. Waits for a server that is not up yet, and with --persist
 * stays to export again whenever the connection drops or the device is
 * plugged back in. Runs on the daemon runner's event loop either way, so a
 * signal ends the retries at once.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "source/device_export.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"
#include "usbip.h"

#define ATTEMPT_TIMEOUT_MS 5000
#define MAX_BACKOFF_S	   30
#define DEFAULT_WAIT_S	   30
#define WATCH_INTERVAL_MS  1000

struct connect_args {
	const char *host, *busid, *pid_file;
	long wait_s; /* --timeout: how long to keep trying; -1 forever */
	bool persist, daemonize, gadget;
};

enum connect_phase {
	PHASE_EXPORTING, /* trying to export, with growing pauses */
	PHASE_EXPORTED,	 /* watching the export */
	PHASE_UNPLUGGED, /* waiting for the device to come back */
};

struct connect_state {
	struct connect_args a;
	struct device_source *src;
	struct device_export_target to;
	struct usbip_daemon *d;
	struct ev_watch timer;
	enum connect_phase phase;
	int backoff_s;
	long long deadline_ms; /* one-shot: give up after this; 0 never */
	bool exported, ready, finished;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip connect -r HOST [-d] -b BUSID [--timeout SECONDS] [--persist [-D] "
		"[--pid FILE]]\n\n"
		"Binds the device to usbip-host if needed and exports it to the usbipa on\n"
		"HOST, which attaches it there. For nodes that cannot be reached from\n"
		"outside: the connection goes from here to HOST.\n\n"
		"  -r, --remote HOST     the application side (usbipa)\n"
		"  -b, --busid BUSID     the local device\n"
		"  -d, --device          BUSID is a gadget bound to usbip-vudc (see 'usbip list\n"
		"                        -d'): exported as it is, with no bind\n"
		"      --timeout SECONDS keep trying that long while HOST is unreachable,\n"
		"                        with growing pauses (default %d; 0: one try)\n"
		"      --persist         stay: export again when the connection drops or the\n"
		"                        device comes back; SIGTERM unexports and ends\n"
		"  -D, --daemon          with --persist: run in the background, log to syslog\n"
		"  -P, --pid FILE        with --persist: write a pid file\n\n"
		"Exit status: 0 exported (or, with --persist, ended cleanly), 1 failed,\n"
		"2 bad arguments, 4 HOST unreachable until the timeout, 5 HOST refused.\n",
		DEFAULT_WAIT_S);
}

static void schedule(struct connect_state *st, long long ms)
{
	st->timer.deadline_ms = ev_now_ms() + (ms > 0 ? ms : 1);
}

static void finish(struct connect_state *st, enum usbip_result result)
{
	st->finished = true;
	daemon_stop(st->d, result);
}

/* One export attempt; on failure, the next one is scheduled or the run ends. */
static void try_export(struct connect_state *st)
{
	enum usbip_result r;
	uint32_t status;

	if (device_source_prepare(st->src, st->a.busid) != 0) {
		finish(st, USBIP_E_FAILED);
		return;
	}
	r = device_export(st->src, st->a.busid, &st->to, &status);
	if (r == USBIP_OK) {
		st->exported = true;
		st->backoff_s = 1;
		if (!st->a.persist) {
			printf("exported %s to %s\n", st->a.busid, st->a.host);
			finish(st, USBIP_OK);
			return;
		}
		log_info("%s exported to %s", st->a.busid, st->a.host);
		if (!st->ready) {
			st->ready = true;
			daemon_ready(st->d);
		}
		st->phase = PHASE_EXPORTED;
		schedule(st, WATCH_INTERVAL_MS);
		return;
	}
	/* Without --persist only an unreachable server is worth waiting for. */
	if (!st->a.persist && r != USBIP_E_UNREACHABLE) {
		finish(st, r);
		return;
	}
	if (st->deadline_ms && ev_now_ms() + st->backoff_s * 1000LL > st->deadline_ms) {
		finish(st, r);
		return;
	}
	log_info("trying %s again in %d s", st->a.host, st->backoff_s);
	schedule(st, st->backoff_s * 1000LL);
	st->backoff_s = st->backoff_s * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : st->backoff_s * 2;
}

/*
 * While exported: the device's driver tells whether the kernel still has
 * the connection; a device that is gone was unplugged.
 */
static void watch_export(struct connect_state *st)
{
	struct usbip_local_device dev;

	if (device_source_get(st->src, st->a.busid, &dev) != 0) {
		log_warn("%s was unplugged; waiting for it to come back", st->a.busid);
		st->phase = PHASE_UNPLUGGED;
	} else if (dev.stub_status != USBIP_STUB_USED) {
		log_warn("the connection of %s to %s dropped; exporting again", st->a.busid,
			 st->a.host);
		st->phase = PHASE_EXPORTING;
		schedule(st, 0);
		return;
	}
	schedule(st, WATCH_INTERVAL_MS);
}

static void wait_for_device(struct connect_state *st)
{
	struct usbip_local_device dev;

	if (device_source_get(st->src, st->a.busid, &dev) == 0) {
		log_info("%s is back", st->a.busid);
		st->phase = PHASE_EXPORTING;
		schedule(st, 0);
		return;
	}
	schedule(st, WATCH_INTERVAL_MS);
}

static void on_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct connect_state *st = w->data;

	switch (st->phase) {
	case PHASE_EXPORTING:
		try_export(st);
		break;
	case PHASE_EXPORTED:
		watch_export(st);
		break;
	case PHASE_UNPLUGGED:
		wait_for_device(st);
		break;
	}
}

static enum usbip_result on_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct connect_state *st = arg;

	st->d = d;
	st->timer = (struct ev_watch){ .fd = -1, .cb = on_timer, .data = st };
	schedule(st, 0);
	return ev_watch_add(loop, &st->timer) == 0 ? USBIP_OK : USBIP_E_FAILED;
}

/*
 * A signal ended --persist: withdraw what is exported and give the device
 * back. (A one-shot connect leaves an export in place: that is its job.)
 */
static void on_stop(struct usbip_daemon *d, void *arg)
{
	struct connect_state *st = arg;
	uint32_t status;

	if (st->finished || !st->a.persist)
		return;
	if (st->exported) {
		log_info("withdrawing %s from %s", st->a.busid, st->a.host);
		if (device_export_withdraw(st->src, st->a.busid, &st->to, &status) != USBIP_OK)
			log_warn("could not withdraw %s from %s", st->a.busid, st->a.host);
	}
	device_source_release(st->src, st->a.busid);
}

static int parse_args(int argc, char **argv, struct connect_args *a)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "device", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "persist", no_argument, NULL, 'p' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "r:b:dDP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a->host = optarg;
			break;
		case 'b':
			a->busid = optarg;
			break;
		case 'd':
			a->gadget = true;
			break;
		case 'T':
			a->wait_s = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->wait_s < 0)
				return usbip_usage_error(
					"connect", "--timeout wants seconds, not '%s'", optarg);
			break;
		case 'p':
			a->persist = true;
			break;
		case 'D':
			a->daemonize = true;
			break;
		case 'P':
			a->pid_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("connect", argv);
		}
	}
	if (!a->host || !a->busid)
		return usbip_usage_error("connect", "give both -r HOST and -b BUSID");
	if (optind < argc)
		return usbip_usage_error("connect", "unexpected argument '%s'", argv[optind]);
	if ((a->daemonize || a->pid_file) && !a->persist)
		return usbip_usage_error("connect", "-D and --pid go with --persist");
	return -1;
}

int usbip_connect(int argc, char **argv)
{
	struct connect_state st = { .a = { .wait_s = DEFAULT_WAIT_S }, .backoff_s = 1 };
	struct usbip_daemon d = { .name = "usbip", .ready_later = true };
	struct usbip_local_device dev;
	enum usbip_result r;
	bool was_bound;
	int rc = parse_args(argc, argv, &st.a);

	if (rc >= 0)
		return rc;
	st.src = st.a.gadget ? vudc_source_new() : host_source_new();
	if (!st.src)
		return USBIP_EXIT_FAILURE;
	if (device_source_get(st.src, st.a.busid, &dev) != 0) {
		log_err("%s: no such %s", st.a.busid,
			st.a.gadget ? "gadget on usbip-vudc" : "device");
		device_source_free(st.src);
		return USBIP_EXIT_FAILURE;
	}
	was_bound = st.a.gadget || strcmp(dev.driver, "usbip-host") == 0;
	st.to = (struct device_export_target){ .host = st.a.host,
					       .port = usbip_opts.tcp_port,
					       .tls = usbip_opts.tls,
					       .timeout_ms = ATTEMPT_TIMEOUT_MS };
	if (!st.a.persist && st.a.wait_s >= 0)
		st.deadline_ms = ev_now_ms() + st.a.wait_s * 1000LL;
	d.daemonize = st.a.daemonize;
	d.pid_file = st.a.pid_file;
	d.hooks = (struct daemon_hooks){ .start = on_start, .stop = on_stop, .arg = &st };
	r = daemon_run(&d);
	/* Stopped by a signal before anything was exported. */
	if (r == USBIP_OK && !st.a.persist && !st.exported)
		r = USBIP_E_FAILED;
	/* A device we bound for nothing goes back to its driver. */
	if (!st.a.persist && !st.exported && !was_bound)
		device_source_release(st.src, st.a.busid);
	device_source_free(st.src);
	return usbip_exit_status(r);
}
