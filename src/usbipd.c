// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipd: the device-side daemon of classic mode. Answers OP_REQ_DEVLIST
 * with the devices bound to usbip-host (or, with --device, the gadgets
 * bound to usbip-vudc) and OP_REQ_IMPORT by replying and handing the
 * connection to the device (libsrc/source/device_server.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "agent/auto_bind.h"
#include "daemon/daemon.h"
#include "daemon/mdns.h"
#include "exit_status.h"
#include "kernel/host.h"
#include "kernel/vudc.h"
#include "source/device_server.h"
#include "source/host_source.h"
#include "source/priv_source.h"
#include "source/vudc_source.h"
#include "util/log.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipd.pid"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipd [options]\n\n"
		"Serves the devices bound to usbip-host (see 'usbip bind') to 'usbip "
		"attach'.\n\n"
		"      --auto-bind SELECTOR  bind the devices it matches (VID:PID[:SERIAL]\n"
		"                        or a busid pattern) to usbip-host as they are plugged\n"
		"                        in, and give them back on stop (repeatable)\n"
		"  -e, --device          serve the gadgets bound to usbip-vudc instead\n"
		"                        (vUDC mode: this machine is the USB "
		"device)\n" USBIP_DAEMON_OPTIONS_HELP USBIP_DAEMON_METRICS_HELP
			USBIP_DAEMON_ANNOUNCE_HELP "  -h, --help            show this help\n"
		"  -v, --version         show the version\n\n"
		"The default pid file is %s.\n",
		DEFAULT_PID_FILE);
}

struct usbipd {
	bool vudc;
	struct usbip_selector auto_bind[AUTO_BIND_MAX];
	unsigned nauto_bind;
	struct auto_bind *binder;
};

static int own_option(int opt, const char *arg, void *ctx, char *err, size_t err_len)
{
	struct usbipd *u = ctx;
	char why[160];

	switch (opt) {
	case 'e':
		u->vudc = true;
		return 1;
	case 'B':
		if (u->nauto_bind == AUTO_BIND_MAX) {
			snprintf(err, err_len, "at most %d --auto-bind", AUTO_BIND_MAX);
			return -1;
		}
		if (auto_bind_parse(arg, &u->auto_bind[u->nauto_bind], why, sizeof(why)) != 0) {
			snprintf(err, err_len, "--auto-bind: %s", why);
			return -1;
		}
		u->nauto_bind++;
		return 1;
	}
	return 0;
}

/* The options as a whole (--check and the start). */
static int own_check(struct usbip_daemon *d, void *arg, char *err, size_t err_len)
{
	const struct usbipd *u = arg;

	if (u->vudc && u->nauto_bind) {
		snprintf(err, err_len, "--auto-bind binds to usbip-host; gadgets need no binding");
		return -1;
	}
	return 0;
}

static enum usbip_result on_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct usbipd *u = arg;

	if (!u->nauto_bind)
		return USBIP_OK;
	u->binder = auto_bind_start(loop, u->auto_bind, u->nauto_bind);
	return u->binder ? USBIP_OK : USBIP_E_FAILED;
}

static void on_stop(struct usbip_daemon *d, void *arg)
{
	struct usbipd *u = arg;

	auto_bind_stop(u->binder);
	u->binder = NULL;
}

/*
 * The network process serves requests with a source that asks the
 * privileged process, which has the real one (privsep_table's arg).
 */
static enum usbip_result on_network_start(struct usbip_daemon *d)
{
	const struct device_source *real = d->privsep_table->arg;

	d->server.arg = priv_source_new(d->priv, real->kind);
	return d->server.arg ? USBIP_OK : USBIP_E_FAILED;
}

/* usbip status: what is offered, what is exported and to whom. */
static void on_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	device_source_status(d->server.arg, w);
}

/* /metrics: the devices by state (usbipd(8), METRICS). */
static void on_metrics(struct usbip_daemon *d, struct metrics_text *m, void *arg)
{
	device_source_metrics(d->server.arg, m, "usbipd");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", no_argument, NULL, 'e' },
		{ "auto-bind", required_argument, NULL, 'B' },
		USBIP_DAEMON_LONG_OPTIONS,
		USBIP_DAEMON_METRICS_OPTION,
		USBIP_DAEMON_ANNOUNCE_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_daemon d = {
		.name = "usbipd",
		.default_pid_file = DEFAULT_PID_FILE,
		.short_options = "e",
		.status_name = "usbipd",
		.announce_type = MDNS_TYPE_USBIPD,
		.listens = true,
		.server = { .name = "usbipd",
			    .requests = device_server_requests,
			    .handle = device_server_handle },
	};
	static struct usbipd u;
	struct privsep_table privsep = { priv_source_ops, priv_source_nops, NULL };
	struct device_source *src;
	enum usbip_result rc;
	int exit_code;

	log_init("usbipd", false);
	d.hooks = (struct daemon_hooks){ .start = on_start,
					 .stop = on_stop,
					 .check = own_check,
					 .status = on_status,
					 .metrics = on_metrics,
					 .arg = &u };
	exit_code = exit_status_for_args(
		daemon_parse_args(&d, argc, argv, opts, usage, own_option, &u));
	if (exit_code >= 0)
		return exit_code;
	/* Not fatal: the module may be loaded later, and until then the list is empty. */
	if (u.vudc ? !vudc_driver_loaded() : !host_driver_loaded())
		log_warn("serving an empty device list until %s is loaded",
			 u.vudc ? "usbip-vudc" : "usbip-host");
	src = u.vudc ? vudc_source_new() : host_source_new();
	if (!src) {
		log_err("out of memory");
		return USBIP_EXIT_FAILURE;
	}
	d.server.arg = src; /* for the status hook; the network process asks for it */
	privsep.arg = src;
	d.privsep = DAEMON_PRIVSEP_PARENT_SERVES;
	d.privsep_table = &privsep;
	d.network_start = on_network_start;
	rc = daemon_run(&d);
	if (d.in_network)
		device_source_free(d.server.arg);
	device_source_free(src);
	return exit_status(rc);
}
