/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What usbipd and usbipa share around their request handlers: the common
 * options (addresses, port, -D, pid file, debug, TLS) and the run: listen,
 * detach, serve until SIGTERM, reap relay processes, clean up.
 */
#ifndef USBIP_DAEMON_MAIN_H
#define USBIP_DAEMON_MAIN_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon/op_server.h"
#include "net/tcp.h"
#include "net/tls.h"

struct usbip_daemon {
	const char *name;
	const char *default_pid_file;
	enum usbip_family family;
	const char *address, *port, *pid_file;
	bool daemonize, use_tls;
	struct usbip_tls_options tls_options;
	struct op_server_config server; /* the caller fills name, requests, handle, arg */
};

#define USBIP_DAEMON_SHORT_OPTIONS "46a:t:DP::d"
#define USBIP_DAEMON_LONG_OPTIONS                                                                  \
	{ "ipv4", no_argument, NULL, '4' }, { "ipv6", no_argument, NULL, '6' },                    \
		{ "address", required_argument, NULL, 'a' },                                       \
		{ "tcp-port", required_argument, NULL, 't' },                                      \
		{ "daemon", no_argument, NULL, 'D' }, { "pid", optional_argument, NULL, 'P' },     \
		{ "debug", no_argument, NULL, 'd' }, USBIP_TLS_LONG_OPTIONS
#define USBIP_DAEMON_OPTIONS_HELP                                                                  \
	"  -4, --ipv4            listen on IPv4 only\n"                                            \
	"  -6, --ipv6            listen on IPv6 only\n"                                            \
	"  -a, --address ADDR    listen on this address only (default: all)\n"                     \
	"  -t, --tcp-port PORT   listen on PORT (default " USBIP_DEFAULT_PORT ")\n"                \
	"  -D, --daemon          run in the background, logging to syslog\n"                       \
	"  -P, --pid[=FILE]      write a locked pid file\n"                                        \
	"  -d, --debug           print debugging messages\n" USBIP_TLS_OPTIONS_HELP

/*
 * Parses a daemon's command line: opts holds the shared options (above),
 * the daemon's own, and "help"/"version" ('h', 'v'). own_option takes the
 * daemon's own ones: it returns 1 when it took one, 0 when it is not its,
 * -1 after printing why the value is wrong. Returns -1 to go on, or the
 * exit code to return (help or version printed, or a usage error).
 */
int daemon_parse_args(struct usbip_daemon *d, int argc, char **argv, const struct option *opts,
		      void (*usage)(FILE *out),
		      int (*own_option)(int opt, const char *arg, void *ctx), void *ctx);

/*
 * Takes one of the shared options. Returns 1 if it was one, 0 if not, -1
 * after printing why it is wrong. Needs argc/argv for "-P FILE".
 */
int daemon_option(struct usbip_daemon *d, int opt, char *arg, int argc, char **argv);

/*
 * Listens, goes to the background with -D, writes the pid file and serves
 * until SIGTERM or SIGINT; then calls before_exit(arg) if given. Returns
 * the process exit code.
 */
int daemon_run(struct usbip_daemon *d, void (*before_exit)(void *arg), void *arg);

#endif
