// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip: Git-style dispatch to one subcommand per file. */
#include "config.h"

#include "usbip.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/host.h"
#include "kernel/vudc.h"
#include "net/address.h"
#include "net/dial.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "source/host_source.h"
#include "util/json.h"
#include "util/log.h"
#include "util/suggest.h"

struct usbip_options usbip_opts = { .tcp_port = USBIP_DEFAULT_PORT };

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "list", usbip_list, "List exportable (local) or exported (remote) devices" },
	{ "bind", usbip_bind, "Make a local device exportable (bind it to usbip-host)" },
	{ "unbind", usbip_unbind, "Give a bound device back to its own driver" },
	{ "attach", usbip_attach, "Import a remote device onto the local vhci-hcd" },
	{ "detach", usbip_detach, "Detach an imported device" },
	{ "port", usbip_port, "Show imported devices and where they come from" },
	{ "connect", usbip_connect, "Export a local device to a remote usbipa" },
	{ "disconnect", usbip_disconnect, "Withdraw a device exported with connect" },
	{ "serve-mtp", usbip_serve_mtp, "Serve a directory as a virtual MTP device" },
	{ "agent", usbip_agent, "Run the [export] and [attach] rules of usbip.conf" },
	{ "status", usbip_status, "What the daemons and the agent here are doing" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: usbip [--debug] [--log] [--tcp-port PORT] <command> [<args>]\n\n"
		     "Commands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-11s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "  %-11s %s\n", "version", "Show the version");
	fprintf(out, "  %-11s %s\n\n", "help",
		"Show this help, or a command's with 'help COMMAND'");
	fprintf(out,
		"Global options (before the command):\n"
		"  -d, --debug           print debugging messages\n"
		"  -l, --log             log to syslog instead of stderr\n"
		"  -t, --tcp-port PORT   remote port (default %s)\n" USBIP_TLS_OPTIONS_HELP
			USBIP_PROXY_OPTIONS_HELP WS_OPTIONS_HELP "\n"
		"'usbip COMMAND --help' shows a command's own options.\n",
		USBIP_DEFAULT_PORT);
}

int usbip_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "usbip %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'usbip %s --help')\n", command);
	return USBIP_EXIT_USAGE;
}

void usbip_json_result(const char *result, const struct usbip_usb_device *u, const char *serial,
		       const char *host, int port)
{
	struct json_writer w;

	json_init(&w, stdout);
	json_object_begin(&w, NULL);
	json_string(&w, "result", result);
	json_string(&w, "busid", u->busid);
	json_hex(&w, "vendor", u->id_vendor, 4);
	json_hex(&w, "product", u->id_product, 4);
	json_string(&w, "serial", serial);
	if (host)
		json_string(&w, "host", host);
	if (port >= 0)
		json_uint(&w, "port", (unsigned)port);
	json_object_end(&w);
	json_finish(&w);
}

int usbip_report_local(const char *busid, bool json, const char *verb, const char *result)
{
	struct usbip_local_device dev;

	if (!json) {
		printf("%s device on busid %s: complete\n", verb, busid);
		return 0;
	}
	if (host_get(busid, &dev) != 0)
		return -1;
	usbip_json_result(result, &dev.info.udev, dev.serial, NULL, -1);
	return 0;
}

int usbip_check_remote(const char *command, const char *host)
{
	struct net_address addr;
	char err[NET_ADDRESS_HOST_MAX + 80];

	if (address_parse(host, USBIP_DEFAULT_PORT, &addr, err, sizeof(err)) != 0 ||
	    address_dialable(&addr, err, sizeof(err)) != 0)
		return usbip_usage_error(command, "%s", err);
	return -1;
}

int usbip_check_local_busids(const char *command, const struct usbip_selector *sel)
{
	unsigned i;

	for (i = 0; i < sel->nbusids; i++)
		if (!strpbrk(sel->busids[i], "*?[") && !host_busid_valid(sel->busids[i]))
			return usbip_usage_error(command, "'%s' is not a busid (like 1-2 or 1-2.3)",
						 sel->busids[i]);
	return -1;
}

int usbip_dead_peer_option(const char *command, const char *arg)
{
	char err[160];
	int seconds = tcp_parse_dead_peer(arg, err, sizeof(err));

	if (seconds < 0)
		return usbip_usage_error(command, "%s", err);
	tcp_set_dead_peer((unsigned)seconds);
	return -1;
}

int usbip_persist_option(const char *command, int c, const char *arg, struct usbip_persist_args *p)
{
	switch (c) {
	case 'p':
		p->persist = true;
		return -1;
	case 'D':
		p->daemonize = true;
		return -1;
	case 'P':
		p->pid_file = arg;
		return -1;
	case 'u':
		p->user = arg;
		return -1;
	case 'j':
		p->json = true;
		return -1;
	case 'X':
		return usbip_dead_peer_option(command, arg);
	case 'M':
		return usbip_max_attempts_option(command, arg, &p->max_attempts);
	default:
		return USBIP_OPTION_NOT_MINE;
	}
}

int usbip_persist_check(const char *command, const struct usbip_persist_args *p)
{
	if ((p->daemonize || p->pid_file || p->user || p->max_attempts) && !p->persist)
		return usbip_usage_error(command,
					 "-D, --pid, --user and --max-attempts go with --persist");
	if (p->persist && p->json)
		return usbip_usage_error(command, "--json does not go with --persist");
	return -1;
}

int usbip_parse_max_attempts(const char *arg, unsigned *out, char *err, size_t len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < 1 || v > 1000000) {
		snprintf(err, len, "--max-attempts wants a count from 1 to 1000000, not '%s'", arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int usbip_max_attempts_option(const char *command, const char *arg, unsigned *out)
{
	char err[200];

	if (usbip_parse_max_attempts(arg, out, err, sizeof(err)) != 0)
		return usbip_usage_error(command, "%s", err);
	return -1;
}

int usbip_selector_option(const char *command, int opt, const char *arg, struct usbip_selector *sel)
{
	char err[200];

	if (selector_add_option(sel, opt, arg, err, sizeof(err)) != 0)
		return usbip_usage_error(command, "%s", err);
	return -1;
}

int usbip_parse_device_args(int argc, char **argv, const char *command, const char *help,
			    unsigned flags, struct usbip_device_args *out)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "hardware-id", required_argument, NULL, 'i' },
		{ "device", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool remote = flags & USBIP_ARGS_REMOTE, gadget = flags & USBIP_ARGS_GADGET;
	int c;

	memset(out, 0, sizeof(*out));
	while ((c = getopt_long(argc, argv, remote ? "r:b:i:dh" : "b:i:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!remote)
				return usbip_usage_error(command, "-r does not apply");
			if (usbip_check_remote(command, optarg) >= 0)
				return USBIP_EXIT_USAGE;
			out->host = optarg;
			break;
		case 'b':
		case 'i':
			if (usbip_selector_option(command, c, optarg, &out->selector) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'd':
			if (!gadget)
				return usbip_usage_error(command, "-d/--device does not apply");
			out->gadget = true;
			break;
		case 'j':
			if (remote)
				return usbip_usage_error(command, "--json does not apply");
			out->json = true;
			break;
		case 'h':
			printf("usage: usbip %s %s%s(-b BUSID | -i VID:PID[:SERIAL])...\n\n%s"
			       "\n  -b, --busid BUSID   a device by its port; a pattern such as "
			       "'1-1.*'\n"
			       "                      means every device behind that hub\n"
			       "  -i, --hardware-id VID:PID[:SERIAL]  a device by what it is\n"
			       "  (several -b/-i: a device must match all of them)\n"
			       "%s",
			       command, remote ? "-r HOST " : "", gadget ? "[-d] " : "", help,
			       remote ? ""
				      : "      --json          each result as a JSON object\n");
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option(command, argv, opts);
		}
	}
	if (remote && !out->host)
		return usbip_usage_error(command, "which host? give -r HOST");
	if (selector_empty(&out->selector))
		return usbip_usage_error(command,
					 "which device? give -b BUSID or -i VID:PID[:SERIAL]");
	if (optind < argc)
		return usbip_usage_error(command, "unexpected argument '%s'", argv[optind]);
	return out->gadget ? -1 : usbip_check_local_busids(command, &out->selector);
}

int usbip_each_local(const struct usbip_selector *sel, bool bound_only,
		     int (*act)(const char *busid, bool one_of_many))
{
	struct usbip_local_device *devs;
	struct device_source *src;
	size_t n, i;
	int rc;

	/* A busid named alone goes straight to act, which says best why it cannot. */
	if (selector_is_one_busid(sel))
		return act(sel->busids[0], false) == 0 ? USBIP_EXIT_OK : USBIP_EXIT_FAILURE;
	src = host_source_new();
	if (!src)
		return USBIP_EXIT_FAILURE;
	rc = device_source_select(
		src, sel, bound_only ? DEVICE_SOURCE_LISTED : DEVICE_SOURCE_CANDIDATES, &devs, &n);
	device_source_free(src);
	if (rc != 0)
		return USBIP_EXIT_FAILURE;
	rc = USBIP_EXIT_OK;
	for (i = 0; i < n; i++)
		if (act(devs[i].info.udev.busid, true) != 0)
			rc = USBIP_EXIT_FAILURE;
	free(devs);
	return rc;
}

int usbip_bad_option(const char *command, char **argv, const struct option *opts)
{
	char what[200];

	suggest_option_error(argv, opts, what, sizeof(what));
	return usbip_usage_error(command, "%s", what);
}

int usbip_parse_json_only(int argc, char **argv, const char *command, const char *help, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*json = false;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			printf("usage: usbip %s [--json]\n\n%s", command, help);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option(command, argv, opts);
		}
	}
	if (optind < argc)
		return usbip_usage_error(command, "unexpected argument '%s'", argv[optind]);
	return -1;
}

/* "usbip: 'lst' is not a command; did you mean 'list'?" */
static int unknown_command(const char *name)
{
	const char *words[sizeof(subcommands) / sizeof(subcommands[0])];
	const char *close;
	size_t i;

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		words[i] = subcommands[i].name;
	close = suggest_word(name, strlen(name), words, i);
	if (close)
		fprintf(stderr,
			"usbip: '%s' is not a command; did you mean '%s'? (see 'usbip --help')\n",
			name, close);
	else
		fprintf(stderr, "usbip: '%s' is not a command (see 'usbip --help')\n", name);
	return USBIP_EXIT_USAGE;
}

static int set_tcp_port(const char *port)
{
	if (!tcp_port_ok(port)) {
		fprintf(stderr, "usbip: --tcp-port wants a port from 0 to 65535, not '%s'\n", port);
		return USBIP_EXIT_USAGE;
	}
	usbip_opts.tcp_port = port;
	usbip_opts.tcp_port_set = true;
	return -1;
}

/*
 * --tcp-port after the command as well as before it (`usbip list -r H
 * --tcp-port 3241`): taken out of the command's arguments, up to a "--".
 * Returns -1, or the exit status after a usage error.
 */
static int take_tcp_port(int *argc, char **argv)
{
	static const char opt[] = "--tcp-port";
	int i, k = 1, rc;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], opt) == 0) {
			if (i + 1 == *argc)
				return usbip_usage_error(argv[0], "'%s' wants a value", opt);
			rc = set_tcp_port(argv[++i]);
		} else if (strncmp(argv[i], opt, sizeof(opt) - 1) == 0 &&
			   argv[i][sizeof(opt) - 1] == '=') {
			rc = set_tcp_port(argv[i] + sizeof(opt));
		} else {
			argv[k++] = argv[i];
			continue;
		}
		if (rc >= 0)
			return rc;
	}
	while (i < *argc)
		argv[k++] = argv[i++];
	argv[k] = NULL;
	*argc = k;
	return -1;
}

static int run_subcommand(const char *name, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(name, subcommands[i].name) == 0)
			return subcommands[i].run(argc, argv);
	return unknown_command(name);
}

/*
 * The outer TLS of wss:// (what a reverse proxy may end): the --wss-*
 * options, else plain (the certificate options when --tls is off, so
 * that those are the same for either), else the system's CAs.
 */
static struct usbip_tls *wss_context(const struct ws_tls_options *wss,
				     const struct usbip_tls_options *plain, char *err,
				     size_t err_len)
{
	static const struct usbip_tls_options system_cas;
	const struct usbip_tls_options *o = wss->given ? &wss->tls : plain ? plain : &system_cas;
	struct usbip_tls_options outer = *o;

	/* Never handed to the kernel: the relay holds it, so TLS 1.3 is fine. */
	outer.datapath = USBIP_TLS_RELAY;
	return tls_new(&outer, false, err, err_len);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "debug", no_argument, NULL, 'd' },
		{ "log", no_argument, NULL, 'l' },
		{ "tcp-port", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		USBIP_TLS_LONG_OPTIONS,
		USBIP_PROXY_LONG_OPTIONS,
		WS_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_tls_options tls_options = { 0 };
	struct proxy_options proxy_options = { 0 };
	struct usbip_proxy *proxy;
	static struct ws_options ws_options;
	struct ws_tls_options wss_options = { 0 };
	struct usbip_tls *wss_tls;
	bool use_syslog = false, use_tls = false;
	char err[256];
	int c, rc;

	log_init("usbip", false);
	/* A peer that hangs up is an error to report, not a reason to die (OpenSSL writes with
	 * write(2)). */
	signal(SIGPIPE, SIG_IGN);
	/* '+' stops at the first non-option: the subcommand parses the rest. */
	opterr = 0; /* one line of our own instead of getopt's and the usage */
	while ((c = getopt_long(argc, argv, "+dlt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			log_set_debug(true);
			break;
		case 'l':
			use_syslog = true;
			break;
		case 't':
			if (set_tcp_port(optarg) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		case 'V':
			printf("usbip (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return USBIP_EXIT_OK;
		default:
			rc = proxy_parse_option(c, optarg, &proxy_options, err, sizeof(err));
			if (rc == 0)
				rc = ws_parse_option(c, optarg, &ws_options, &wss_options, err,
						     sizeof(err));
			if (rc == 0)
				rc = tls_parse_option(c, optarg, &use_tls, &tls_options, err,
						      sizeof(err));
			if (rc < 0) {
				fprintf(stderr, "usbip: %s\n", err);
				return USBIP_EXIT_USAGE;
			}
			if (rc == 0) {
				suggest_option_error(argv, opts, err, sizeof(err));
				fprintf(stderr, "usbip: %s (see 'usbip --help')\n", err);
				return USBIP_EXIT_USAGE;
			}
		}
	}
	/* Without --tls the certificate options are wss://'s (the outer TLS). */
	wss_tls = wss_context(&wss_options, use_tls ? NULL : &tls_options, err, sizeof(err));
	if (!wss_tls) {
		fprintf(stderr, "usbip: %s\n", err);
		return USBIP_EXIT_FAILURE;
	}
	dial_set_ws(&ws_options, wss_tls);
	if (use_tls) {
		usbip_opts.tls_options = tls_options;
		usbip_opts.tls = tls_new(&tls_options, false, err, sizeof(err));
		if (!usbip_opts.tls) {
			fprintf(stderr, "usbip: %s\n", err);
			return USBIP_EXIT_FAILURE;
		}
	}
	if (use_syslog)
		log_init("usbip", true);
	if (optind >= argc) {
		fprintf(stderr, "usbip: which command? (see 'usbip --help')\n");
		return USBIP_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the subcommand */

	if (strcmp(argv[0], "version") == 0) {
		printf("usbip (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return USBIP_EXIT_OK;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc > 1) {
			char *help_argv[] = { argv[1], "--help", NULL };

			return run_subcommand(argv[1], 2, help_argv);
		}
		usage(stdout);
		return USBIP_EXIT_OK;
	}
	if (proxy_setup(&proxy_options, &proxy, err, sizeof(err)) != 0) {
		fprintf(stderr, "usbip: %s\n", err);
		tls_free(usbip_opts.tls);
		return USBIP_EXIT_USAGE;
	}
	dial_set_proxy(proxy);
	rc = take_tcp_port(&argc, argv);
	if (rc < 0)
		rc = run_subcommand(argv[0], argc, argv);
	tls_free(usbip_opts.tls);
	tls_free(wss_tls);
	proxy_free(proxy);
	return rc;
}
