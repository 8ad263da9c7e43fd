// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip connect: the device side dials out and exports devices to a remote
 * usbipa. Without --persist it exports what the selector matches now,
 * waiting (bounded) for a server that is not up yet; with --persist it is
 * the export agent (libsrc/agent/export_agent.c), which follows devices as
 * they are plugged. Both run on the daemon runner's event loop, so a signal
 * ends the waiting at once.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/backoff.h"
#include "agent/persist.h"
#include "daemon/daemon.h"
#include "kernel/vudc.h"
#include "source/device_export.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"
#include "usbip.h"

#define ATTEMPT_TIMEOUT_MS 5000
#define DEFAULT_WAIT_S	   30

struct connect_args {
	const char *remotes[AGENT_MAX_REMOTES];
	unsigned nremotes;
	struct usbip_selector selector;
	struct usbip_persist_args p;
	long wait_s; /* --timeout: how long to keep trying */
	bool gadget;
};

/* One device's export without --persist. */
struct connect_once {
	const struct connect_args *args;
	const struct usbip_local_device *dev;
	const char *busid;
	struct device_source *src;
	struct usbip_daemon *d;
	struct ev_watch timer;
	struct backoff backoff;
	long long deadline_ms;
	bool exported;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip connect -r HOST [-r HOST]... (-b BUSID | -i VID:PID[:SERIAL])... "
		"[-d]\n"
		"                     [--timeout SECONDS] [--persist [-D] [--pid FILE]]\n\n"
		"Binds the selected devices to usbip-host if needed and exports each to the\n"
		"usbipa on HOST, which attaches it there. For nodes that cannot be reached\n"
		"from outside: the connection goes from here to HOST.\n\n"
		"  -r, --remote HOST       the application side (usbipa); several: the first\n"
		"                          that answers gets the devices, the next when it is "
		"gone\n"
		"  -b, --busid BUSID       a device by its port; a pattern such as '1-1.*' means\n"
		"                          every device behind that hub\n"
		"  -i, --hardware-id VID:PID[:SERIAL]  a device by what it is\n"
		"                          (several -b/-i: a device must match all of them)\n"
		"  -d, --device            gadgets bound to usbip-vudc (see 'usbip list -d'):\n"
		"                          exported as they are, with no bind\n"
		"      --timeout SECONDS   keep trying that long while HOST is unreachable,\n"
		"                          with jittered pauses of up to 5 s (default %d;\n"
		"                          0: one try)\n"
		"      --persist           stay, as an agent: export every matching device,\n"
		"                          those plugged in later too, again when a connection\n"
		"                          drops; SIGTERM withdraws them and gives them back,\n"
		"                          SIGUSR1 stops retrying those not exported now\n"
		"      --max-attempts N    with --persist: a device that failed N times in a\n"
		"                          row is given up until it is plugged again\n"
		"  -D, --daemon            with --persist: run in the background, log to syslog\n"
		"  -P, --pid FILE          with --persist: write a pid file\n"
		"      --user USER         with --persist, started as root: talk to HOST as USER\n"
		"                          (default usbip, or nobody where there is none); only\n"
		"                          binding and handing the socket to usbip-host stay "
		"root\n"
		"      --json              each result as a JSON object (busid, vendor,\n"
		"                          product, serial, host)\n" USBIP_DEAD_PEER_OPTION_HELP
		"\n"
		"Exit status: 0 exported (or, with --persist, ended cleanly), 1 failed,\n"
		"2 bad arguments, 4 HOST unreachable until the timeout, 5 HOST refused.\n",
		DEFAULT_WAIT_S);
}

static void once_finish(struct connect_once *c, enum usbip_result result)
{
	daemon_stop(c->d, result);
}

/* One pass over the remotes; then the run ends, or the next pass is scheduled. */
static void once_try(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct connect_once *c = w->data;
	enum usbip_result r = USBIP_E_FAILED;
	long long pause;
	unsigned i;

	w->deadline_ms = 0;
	if (device_source_prepare(c->src, c->busid) != 0) {
		once_finish(c, USBIP_E_FAILED);
		return;
	}
	for (i = 0; i < c->args->nremotes; i++) {
		struct device_export_target to = { .host = c->args->remotes[i],
						   .port = usbip_opts.tcp_port,
						   .tls = usbip_opts.tls,
						   .timeout_ms = ATTEMPT_TIMEOUT_MS };
		uint32_t status;

		r = device_export(c->src, c->busid, &to, &status, NULL);
		if (r == USBIP_OK) {
			c->exported = true;
			if (c->args->p.json)
				usbip_json_result("exported", &c->dev->info.udev, c->dev->serial,
						  to.host, -1);
			else
				printf("exported %s to %s\n", c->busid, to.host);
			once_finish(c, USBIP_OK);
			return;
		}
		/* A server that answered "no" means it; a local failure is not the network's. */
		if (r != USBIP_E_UNREACHABLE) {
			once_finish(c, r);
			return;
		}
	}
	pause = backoff_pause_ms(&c->backoff, backoff_random());
	if (ev_now_ms() + pause > c->deadline_ms) {
		once_finish(c, r);
		return;
	}
	log_info("trying again in %lld.%lld s", pause / 1000, pause % 1000 / 100);
	w->deadline_ms = ev_now_ms() + pause;
}

static enum usbip_result once_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct connect_once *c = arg;

	c->d = d;
	c->timer = (struct ev_watch){
		.fd = -1, .deadline_ms = ev_now_ms(), .cb = once_try, .data = c
	};
	return ev_watch_add(loop, &c->timer) == 0 ? USBIP_OK : USBIP_E_FAILED;
}

static enum usbip_result export_once(const struct connect_args *a, struct device_source *src,
				     const struct usbip_local_device *dev)
{
	struct connect_once c = { .args = a,
				  .dev = dev,
				  .busid = dev->info.udev.busid,
				  .src = src,
				  .deadline_ms = ev_now_ms() + a->wait_s * 1000LL };
	struct usbip_daemon d = {
		.name = "usbip",
		.ready_later = true,
		.hooks = { .start = once_start, .arg = &c },
	};
	bool was_bound = a->gadget || strcmp(dev->driver, "usbip-host") == 0;
	enum usbip_result r = daemon_run(&d);

	/* Stopped by a signal before it was exported. */
	if (r == USBIP_OK && !c.exported)
		r = USBIP_E_FAILED;
	/* A device we bound for nothing goes back to its driver. */
	if (!c.exported && !was_bound)
		device_source_release(src, c.busid);
	return r;
}

static int connect_once(const struct connect_args *a)
{
	struct usbip_local_device *devs = NULL;
	struct device_source *src = a->gadget ? vudc_source_new() : host_source_new();
	enum usbip_result r = USBIP_E_FAILED, worst = USBIP_OK;
	size_t n = 0, i;

	if (!src)
		return USBIP_EXIT_FAILURE;
	/* One busid: bind says why it cannot (a hub, an imported device) itself. */
	if (selector_is_one_busid(&a->selector) && !a->gadget) {
		struct usbip_local_device dev;

		/* host_get says why not. */
		if (host_get(a->selector.busids[0], &dev) == 0)
			r = export_once(a, src, &dev);
		device_source_free(src);
		return exit_status(r);
	}
	if (device_source_select(src, &a->selector, DEVICE_SOURCE_CANDIDATES, &devs, &n) == 0) {
		for (i = 0; i < n; i++) {
			r = export_once(a, src, &devs[i]);
			if (r != USBIP_OK)
				worst = r;
		}
		r = worst;
	}
	free(devs);
	device_source_free(src);
	return exit_status(r);
}

/*
 * The agent stays root (udev, binding, usbip_sockfd); the exchanges with
 * usbipa are made by the unprivileged network process.
 */
static int connect_persist(const struct connect_args *a)
{
	static struct persist p;

	persist_init(&p, a->p.daemonize, a->p.pid_file, a->p.user);
	p.job.kind = PERSIST_EXPORT;
	p.job.export = (struct export_agent_config){ .selector = a->selector,
						     .nremotes = a->nremotes,
						     .port = usbip_opts.tcp_port,
						     .gadgets = a->gadget,
						     .max_attempts = a->p.max_attempts };
	memcpy(p.job.export.remotes, a->remotes, sizeof(p.job.export.remotes));
	if (!a->gadget && !host_driver_loaded())
		return USBIP_EXIT_FAILURE;
	return exit_status(persist_run_one(&p, usbip_opts.tls));
}

static int parse_args(int argc, char **argv, struct connect_args *a)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "hardware-id", required_argument, NULL, 'i' },
		{ "device", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		USBIP_PERSIST_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "r:b:i:dDP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (a->nremotes == AGENT_MAX_REMOTES)
				return usbip_usage_error("connect", "at most %d -r HOST",
							 AGENT_MAX_REMOTES);
			if (usbip_check_remote("connect", optarg) >= 0)
				return USBIP_EXIT_USAGE;
			a->remotes[a->nremotes++] = optarg;
			break;
		case 'b':
		case 'i':
			if (usbip_selector_option("connect", c, optarg, &a->selector) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'd':
			a->gadget = true;
			break;
		case 'T':
			a->wait_s = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->wait_s < 0 || a->wait_s > 1000000)
				return usbip_usage_error(
					"connect", "--timeout wants seconds, not '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			rc = usbip_persist_option("connect", c, optarg, &a->p);
			if (rc == USBIP_OPTION_NOT_MINE)
				return usbip_bad_option("connect", argv, opts);
			if (rc >= 0)
				return rc;
		}
	}
	if (!a->nremotes || selector_empty(&a->selector))
		return usbip_usage_error("connect",
					 "give -r HOST and a device (-b BUSID or -i VID:PID)");
	if (optind < argc)
		return usbip_usage_error("connect", "unexpected argument '%s'", argv[optind]);
	rc = usbip_persist_check("connect", &a->p);
	if (rc >= 0)
		return rc;
	return a->gadget ? -1 : usbip_check_local_busids("connect", &a->selector);
}

int usbip_connect(int argc, char **argv)
{
	struct connect_args a = { .wait_s = DEFAULT_WAIT_S };
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	return a.p.persist ? connect_persist(&a) : connect_once(&a);
}
