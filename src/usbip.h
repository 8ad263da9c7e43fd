/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The usbip front end: global options and the subcommands' entry points. */
#ifndef USBIP_FRONTEND_H
#define USBIP_FRONTEND_H

#include <getopt.h>
#include <stdbool.h>

#include "match/selector.h"
#include "exit_status.h"
#include "kernel/host.h"
#include "net/tls.h"

struct usbip_options {
	const char *tcp_port;		      /* --tcp-port, default 3240 */
	bool tcp_port_set;		      /* given on the command line */
	struct usbip_tls *tls;		      /* --tls: the client context, or NULL */
	struct usbip_tls_options tls_options; /* for a subcommand that serves (serve-mtp) */
};

extern struct usbip_options usbip_opts;

int usbip_list(int argc, char **argv);
int usbip_bind(int argc, char **argv);
int usbip_unbind(int argc, char **argv);
int usbip_attach(int argc, char **argv);
int usbip_detach(int argc, char **argv);
int usbip_port(int argc, char **argv);
int usbip_connect(int argc, char **argv);
int usbip_disconnect(int argc, char **argv);
int usbip_serve_mtp(int argc, char **argv);
int usbip_agent(int argc, char **argv);
int usbip_status(int argc, char **argv);

/* What bind, unbind, attach, detach and disconnect take: [-r HOST] [-d] -b/-i... */
struct usbip_device_args {
	const char *host; /* -r, or NULL */
	struct usbip_selector selector;
	bool gadget; /* -d: a usbip-vudc gadget */
	bool json;   /* --json: each result as a JSON object */
};
#define USBIP_ARGS_REMOTE 1u /* -r HOST is needed */
#define USBIP_ARGS_GADGET 2u /* -d is allowed */

/*
 * Parses those. Returns -1 with out set to go on, or the exit code to
 * return (help printed, or a usage error said in one line).
 */
int usbip_parse_device_args(int argc, char **argv, const char *command, const char *help,
			    unsigned flags, struct usbip_device_args *out);

/*
 * HOST, HOST:PORT or [V6]:PORT (net/address.h), checked before the network
 * is asked. Returns -1 when it is one, or the exit code after a usage error.
 */
int usbip_check_remote(const char *command, const char *host);

/*
 * A local busid without pattern characters must look like one (1-2, 1-2.3):
 * said before the system is asked. Returns -1 when all do, or the exit code
 * after a usage error said in one line.
 */
int usbip_check_local_busids(const char *command, const struct usbip_selector *sel);

/*
 * --json of bind, unbind, attach and connect: one object per device and
 * line, {"result": what was done, "busid", "vendor", "product", "serial"
 * (the selector fields of usbip status), "host" and "port" when there is
 * one (NULL, -1: none)}. Schema in usbip(8), JSON OUTPUT.
 */
void usbip_json_result(const char *result, const struct usbip_usb_device *u, const char *serial,
		       const char *host, int port);

/*
 * After bind or unbind of busid: the kernel tools' line ("VERB device on
 * busid B: complete"), or with json the device's object with result.
 * Returns 0, or -1 (said) if the device is gone.
 */
int usbip_report_local(const char *busid, bool json, const char *verb, const char *result);

/*
 * Calls act for each local device the selector matches (device_source_select
 * of usbip-host: among those bound with bound_only, else among every
 * exportable one); a lone busid without wildcards is passed as it is,
 * with one_of_many false. Returns the exit status: 1 if any act failed.
 */
int usbip_each_local(const struct usbip_selector *sel, bool bound_only,
		     int (*act)(const char *busid, bool one_of_many));

/*
 * "usbip CMD: unknown option '--bsuid'; did you mean '--busid'?" for
 * getopt's '?' among opts; returns USBIP_EXIT_USAGE.
 */
int usbip_bad_option(const char *command, char **argv, const struct option *opts);

/*
 * The options of a command that takes nothing but --json (port, status):
 * sets *json and returns -1 to go on, or the exit code after printing
 * "usage: usbip CMD [--json]" and help, or after a usage error.
 */
int usbip_parse_json_only(int argc, char **argv, const char *command, const char *help, bool *json);

/*
 * --dead-peer-timeout SECONDS of connect, attach and agent (net/tcp.h):
 * sets it for this process's connections and returns -1, or says what is
 * wrong in one line and returns USBIP_EXIT_USAGE.
 */
int usbip_dead_peer_option(const char *command, const char *arg);
#define USBIP_DEAD_PEER_OPTION_HELP                                                                \
	"      --dead-peer-timeout SECONDS  a remote that stops answering is dropped\n"            \
	"                          after that long, busy or idle (5 to 3600, default 15)\n"

/*
 * --max-attempts N (1 to 1000000) into *out: -1, or says what is wrong in
 * one line and returns USBIP_EXIT_USAGE.
 */
int usbip_max_attempts_option(const char *command, const char *arg, unsigned *out);
/* The same, for a caller that reports: 0, or -1 with why in err. */
int usbip_parse_max_attempts(const char *arg, unsigned *out, char *err, size_t len);

/* What attach and connect take for --persist, and their --json. */
struct usbip_persist_args {
	const char *pid_file;
	const char *user;      /* --persist as root: who talks to the peer */
	unsigned max_attempts; /* --max-attempts (0: no limit) */
	bool persist, daemonize, json;
};

#define USBIP_PERSIST_LONG_OPTIONS                                                                 \
	{ "persist", no_argument, NULL, 'p' }, { "daemon", no_argument, NULL, 'D' },               \
		{ "pid", required_argument, NULL, 'P' }, { "user", required_argument, NULL, 'u' }, \
		{ "json", no_argument, NULL, 'j' },                                                \
		{ "dead-peer-timeout", required_argument, NULL, 'X' },                             \
	{                                                                                          \
		"max-attempts", required_argument, NULL, 'M'                                       \
	}

/* usbip_persist_option's answer for an option that is not one of those. */
#define USBIP_OPTION_NOT_MINE (-2)

/*
 * One of USBIP_PERSIST_LONG_OPTIONS (c, its argument arg) into p: -1 to go
 * on, USBIP_OPTION_NOT_MINE for another option, or the exit code after one
 * line saying what is wrong.
 */
int usbip_persist_option(const char *command, int c, const char *arg, struct usbip_persist_args *p);

/* The options that go only with --persist, and --json only without: -1, or the exit code. */
int usbip_persist_check(const char *command, const struct usbip_persist_args *p);

/*
 * -b/--busid and -i/--hardware-id of every command (opt 'b' or 'i') into
 * sel: -1, or says what is wrong in one line and returns USBIP_EXIT_USAGE.
 */
int usbip_selector_option(const char *command, int opt, const char *arg,
			  struct usbip_selector *sel);

/* Prints "usbip CMD: unexpected argument" style errors; returns USBIP_EXIT_USAGE. */
int usbip_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
