/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one daemon runner. usbipd, usbipa, serve-mtp and `connect --persist`
 * each describe what they serve (a request handler to listen with, and/or
 * hooks that start and stop their own work on the event loop); the runner
 * does the rest the same way for all: the shared options, TLS, listening,
 * detaching with -D, the pid file, readiness, signals, and the teardown.
 */
#ifndef USBIP_DAEMON_DAEMON_H
#define USBIP_DAEMON_DAEMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon/ev.h"
#include "daemon/metrics.h"
#include "daemon/op_server.h"
#include "match/policy.h"
#include "daemon/privsep.h"
#include "net/listen.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/json.h"
#include "util/privdrop.h"
#include "util/sandbox.h"
#include "util/result.h"

struct usbip_daemon;

/* At most this many --listen addresses. */
#define DAEMON_MAX_LISTEN 8

/*
 * --listen and what goes with it. Without --listen, the daemon listens on
 * TCP as -a/-t say; with it, on the --listen addresses only, plus -a/-t's
 * TCP address when either is given too. --listen-mode and --listen-group
 * apply to every unix: listener; --allow-uid/--allow-gid to every Unix
 * peer (TCP peers meet TCP wrappers instead, vsock peers neither).
 */
struct daemon_listen {
	struct net_address addrs[DAEMON_MAX_LISTEN];
	unsigned naddrs;
	struct net_listen_opts unix_opts;
	struct policy_creds creds;
};

/* Which way a daemon's two processes talk, if it is split (usbip_daemon.privsep). */
enum daemon_privsep {
	DAEMON_PRIVSEP_NONE, /* one process */
	/*
	 * usbipd, usbipa: the network child serves requests inside an empty
	 * root and asks the privileged parent, which answers privsep_table.
	 */
	DAEMON_PRIVSEP_PARENT_SERVES,
	/*
	 * connect --persist, usbip agent (the daemon dials out): the parent's
	 * hooks ask the network child, which answers privsep_table as run_as
	 * (not in an empty root: it resolves names).
	 */
	DAEMON_PRIVSEP_NETWORK_SERVES,
};

struct daemon_hooks {
	/*
	 * Called once the sockets listen and the daemon is in the background,
	 * before requests are served and before it says it is ready: sets up
	 * the daemon's own work on loop (and may fill in server.arg). Anything
	 * but USBIP_OK ends the run with that result.
	 */
	enum usbip_result (*start)(struct usbip_daemon *d, struct ev_loop *loop, void *arg);
	/* SIGHUP. */
	void (*reload)(struct usbip_daemon *d, void *arg);
	/* SIGUSR1: stop retrying what is not connected (agents, followers). */
	void (*give_up)(struct usbip_daemon *d, void *arg);
	/*
	 * After SIGTERM or SIGINT (once start succeeded), after the request
	 * server and the status socket are gone and before the loop is freed:
	 * undo what start did, and release everything it put on the loop (a
	 * start that fails releases its own part before it returns).
	 */
	void (*stop)(struct usbip_daemon *d, void *arg);
	/*
	 * What is wrong with the daemon's own options as a whole, once every
	 * one is in: 0, or -1 with one line in err (or said already, err left
	 * empty). Run by --check and before a start alike (daemon_parse_args
	 * and daemon_run), once the shared options agree, so that --check
	 * refuses what a start would.
	 */
	int (*check)(struct usbip_daemon *d, void *arg, char *err, size_t err_len);
	/* `usbip status`: the daemon's own fields of its status object. */
	void (*status)(struct usbip_daemon *d, struct json_writer *w, void *arg);
	/*
	 * A scrape of /metrics (--metrics): the daemon's own families, named
	 * metrics_prefix_..., after the runner's _up, _build_info and
	 * _start_time_seconds. In the main process, on its loop.
	 */
	void (*metrics)(struct usbip_daemon *d, struct metrics_text *m, void *arg);
	void *arg;
};

struct usbip_daemon {
	const char *name;	      /* for logs and messages */
	const char *default_pid_file; /* for a bare -P */
	const char *status_name;      /* its status socket's name, or NULL for none */
	bool status_by_port;	      /* listening: named status_name-PORT (several run) */
	const char *status_daemon;    /* "daemon" in its status (default: name) */
	const char *short_options;    /* the daemon's own, for getopt (may be NULL) */
	bool listens;		      /* serve requests with .server */
	bool ready_later;	      /* start() calls daemon_ready() itself */
	enum usbip_family family;     /* -4, -6 */
	const char *address, *port;   /* -a, -t */
	struct daemon_listen listen;  /* --listen, --listen-mode/-group, --allow-uid/-gid */
	const char *pid_file;	      /* -P */
	const char *config_file;      /* --config */
	const char *metrics_address;  /* --metrics (for daemons that offer it) */
	const char *metrics_prefix;   /* its metric names' first word (default: name) */
	const char *announce_type;    /* its DNS-SD service type, for --announce (daemon/mdns.h) */
	bool announce;		      /* --announce */
	const char *run_as;	      /* started as root: who reads from peers (--user) */
	bool daemonize, use_tls;      /* -D, --tls */
	struct usbip_tls_options tls_options;
	/* --ws, --wss: WebSocket on the TCP listeners (net/ws.h), its options */
	bool ws, wss;
	struct ws_options ws_options;
	struct ws_tls_options wss_options;
	struct usbip_tls *wss_tls;	/* wss:// listeners: the outer TLS's server context */
	struct net_address ws_tcp;	/* what --ws or --wss make of -a/-t's sockets */
	struct op_server_config server; /* the caller fills name, requests, handle, arg */
	struct daemon_hooks hooks;
	/*
	 * Privilege separation (daemon/privsep.h): which way, and the table of
	 * what the serving process answers. With either, the runner splits the
	 * daemon once it listens: the network part runs in a child as run_as
	 * (default: the system user), and the hooks, the status socket and the
	 * signals stay in the parent. Without, a daemon with run_as just
	 * becomes that user.
	 */
	enum daemon_privsep privsep;
	const struct privsep_table *privsep_table;
	/*
	 * What the process that reads from peers may reach of the file
	 * system (util/sandbox.h), where the kernel has Landlock: serve-mtp
	 * its folders. usbipd's and usbipa's network process reaches nothing
	 * (its root is empty anyway), an agent's what resolving names takes,
	 * plus these. An unsplit daemon with these reaches also, when it
	 * listens, what TCP wrappers read, and when it does not (it dials),
	 * what resolving names takes.
	 */
	const struct sandbox_path *sandbox;
	size_t nsandbox;
	/*
	 * In the network process, before it serves: sets server.arg to what
	 * asks the parent over d->priv instead of doing the work itself.
	 */
	enum usbip_result (*network_start)(struct usbip_daemon *d);
	/* Set by the runner while it runs. */
	struct privsep *priv; /* split: the channel, in both processes */
	pid_t network_pid;    /* in the parent: the network process */
	bool in_network;      /* this is the network process */
	struct ev_loop *loop;
	struct usbip_tls *tls; /* the server context when listening with --tls */
	uint16_t listen_port;  /* the first TCP port it listens on (the kernel's pick for port 0) */
	/* Where it listens, in the address syntax, ", " between: the ready line, status. */
	char listening[1024];
	uint16_t metrics_port; /* the port /metrics is served on (also the kernel's pick) */
	pid_t metrics_pid;  /* the process that serves it (daemon/metrics_proc.h), 0 once reaped */
	pid_t announce_pid; /* the process that announces (daemon/mdns.h), 0 once reaped */
	long long started_at; /* the wall clock, for status */
	enum usbip_result result;
};

#define USBIP_DAEMON_SHORT_OPTIONS "46a:t:DP::d"
#define USBIP_DAEMON_LONG_OPTIONS                                                                  \
	{ "ipv4", no_argument, NULL, '4' }, { "ipv6", no_argument, NULL, '6' },                    \
		{ "address", required_argument, NULL, 'a' },                                       \
		{ "tcp-port", required_argument, NULL, 't' },                                      \
		{ "daemon", no_argument, NULL, 'D' }, { "pid", optional_argument, NULL, 'P' },     \
		{ "debug", no_argument, NULL, 'd' },                                               \
		{ "config", required_argument, NULL, DAEMON_OPT_CONFIG },                          \
		{ "check", no_argument, NULL, DAEMON_OPT_CHECK },                                  \
		{ "user", required_argument, NULL, DAEMON_OPT_USER },                              \
		{ "dead-peer-timeout", required_argument, NULL, DAEMON_OPT_DEAD_PEER },            \
		{ "ws", no_argument, NULL, WS_OPT_WS }, { "wss", no_argument, NULL, WS_OPT_WSS },  \
		WS_LONG_OPTIONS, DAEMON_LISTEN_LONG_OPTIONS, USBIP_TLS_LONG_OPTIONS
#define USBIP_DAEMON_OPTIONS_HELP                                                                  \
	"  -4, --ipv4            listen on IPv4 only\n"                                            \
	"  -6, --ipv6            listen on IPv6 only\n"                                            \
	"  -a, --address ADDR    listen on this address only (default: all)\n"                     \
	"  -t, --tcp-port PORT   listen on PORT (default " USBIP_DEFAULT_PORT                      \
	"; 0: one the kernel picks, logged)\n"                                                     \
	"  -D, --daemon          run in the background, logging to syslog\n"                       \
	"  -P, --pid[=FILE]      write a locked pid file\n"                                        \
	"  -d, --debug           print debugging messages\n"                                       \
	"      --config FILE     read the daemon's section of FILE (usbip.conf(5)) first;\n"       \
	"                        the command line overrides it\n"                                  \
	"      --check           check the configuration, say what is wrong, and exit\n"           \
	"      --user USER       started as root, read from peers as USER "                        \
	"(default: " PRIVDROP_USER ",\n"                                                           \
	"                        or nobody where there is no such user)\n"                         \
	"      --dead-peer-timeout SECONDS  a peer that stops answering is dropped\n"              \
	"                        after that long, busy or idle (5 to 3600, default "               \
	"15)\n"                                                                                    \
	"      --ws              WebSocket on the TCP port (path /usbip; behind a reverse\n"       \
	"                        proxy that ends TLS)\n"                                           \
	"      --wss             WebSocket over TLS with --cert/--key (or --wss-cert and\n"        \
	"                        --wss-key); --tls is then the TLS inside\n" WS_OPTIONS_HELP       \
		DAEMON_LISTEN_OPTIONS_HELP USBIP_TLS_OPTIONS_HELP

/* --listen and its companions: daemon_listen_option takes them. */
#define DAEMON_LISTEN_LONG_OPTIONS                                                                 \
	{ "listen", required_argument, NULL, DAEMON_OPT_LISTEN },                                  \
		{ "listen-mode", required_argument, NULL, DAEMON_OPT_LISTEN_MODE },                \
		{ "listen-group", required_argument, NULL, DAEMON_OPT_LISTEN_GROUP },              \
		{ "allow-uid", required_argument, NULL, DAEMON_OPT_ALLOW_UID },                    \
	{                                                                                          \
		"allow-gid", required_argument, NULL, DAEMON_OPT_ALLOW_GID                         \
	}
#define DAEMON_LISTEN_OPTIONS_HELP                                                                 \
	"      --listen ADDRESS  listen there (repeatable): HOST:PORT, :PORT, [V6]:PORT,\n"        \
	"                        ws://[HOST]:PORT[/PATH], wss://..., unix:PATH,\n"                 \
	"                        vsock:PORT; then -a/-t only if given too\n"                       \
	"      --listen-mode MODE    a unix: socket file's mode (default 0660)\n"                  \
	"      --listen-group GROUP  a unix: socket file's group (default: the daemon's)\n"        \
	"      --allow-uid UID|USER  only these users over unix: (repeatable)\n"                   \
	"      --allow-gid GID|GROUP and these groups (a peer's primary group)\n"

/* Option codes of --config, --check, --user and --dead-peer-timeout, past any character and the TLS
 * ones. */
enum {
	DAEMON_OPT_CONFIG = 0x1100,
	DAEMON_OPT_CHECK,
	DAEMON_OPT_USER,
	DAEMON_OPT_DEAD_PEER,
	DAEMON_OPT_LISTEN,
	DAEMON_OPT_LISTEN_MODE,
	DAEMON_OPT_LISTEN_GROUP,
	DAEMON_OPT_ALLOW_UID,
	DAEMON_OPT_ALLOW_GID,
	DAEMON_OPT_METRICS,
	DAEMON_OPT_ANNOUNCE
};

/* --metrics, in the options of the daemons that offer it (daemon_set_option takes it). */
#define USBIP_DAEMON_METRICS_OPTION                                                                \
	{                                                                                          \
		"metrics", required_argument, NULL, DAEMON_OPT_METRICS                             \
	}
/* --announce, likewise, for the daemons with an announce_type. */
#define USBIP_DAEMON_ANNOUNCE_OPTION                                                               \
	{                                                                                          \
		"announce", no_argument, NULL, DAEMON_OPT_ANNOUNCE                                 \
	}
#define USBIP_DAEMON_ANNOUNCE_HELP                                                                 \
	"      --announce        announce the service on the LAN with mDNS/DNS-SD\n"               \
	"                        (through avahi-daemon, where built with Avahi)\n"
#define USBIP_DAEMON_METRICS_HELP                                                                  \
	"      --metrics ADDRESS serve Prometheus metrics on http://ADDRESS/metrics\n"             \
	"                        (HOST:PORT, [V6]:PORT, or :PORT for every address;\n"             \
	"                        port 0: one the kernel picks, logged)\n"

/* What daemon_parse_args found. */
enum daemon_args {
	DAEMON_ARGS_RUN,  /* go on */
	DAEMON_ARGS_DONE, /* --help or --version printed: exit 0 */
	DAEMON_ARGS_BAD,  /* a usage error, said in one line: exit 2 */
};

/*
 * Parses a daemon's command line, after its section of the --config file
 * if one is given (the file's keys are the long options, handled by the
 * same code). opts holds the shared options (above), the daemon's own, and
 * "help"/"version" ('h', 'v'). own_option takes the daemon's own ones: it
 * returns 1 when it took one, 0 when it is not its, -1 with a message in
 * err when the value is wrong. --check parses, reports and returns DONE.
 */
enum daemon_args daemon_parse_args(struct usbip_daemon *d, int argc, char **argv,
				   const struct option *opts, void (*usage)(FILE *out),
				   int (*own_option)(int opt, const char *arg, void *ctx, char *err,
						     size_t err_len),
				   void *ctx);

/*
 * Takes one of the shared options. Returns 1 if it was one, 0 if not, -1
 * with a message in err if its value is wrong.
 */
int daemon_set_option(struct usbip_daemon *d, int opt, const char *arg, char *err, size_t err_len);

/*
 * Takes one of DAEMON_LISTEN_LONG_OPTIONS into l (a TCP --listen without a
 * port gets default_port): 1 if it was one, 0 if not, -1 with one line in
 * err if its value is wrong (a bad address, one this build does not serve
 * yet, too many). For a daemon with its own parser (serve-mtp).
 */
int daemon_listen_option(struct daemon_listen *l, int opt, const char *arg,
			 const char *default_port, char *err, size_t err_len);

/*
 * Runs the daemon until SIGTERM or SIGINT (or daemon_stop), in phases:
 * the options checked (and the TLS context made), listening, -D, the pid
 * file, privileges separated or dropped, the event loop, the start hook,
 * the status socket, the request server, readiness and the loop. The
 * first phase that fails ends the run; then, as at the end, the phases
 * set up are undone in reverse (the stop hook while the loop is there,
 * the loop last but for the pid file and the sockets). Returns how it
 * ended: USBIP_E_CONFIG for what --check refuses, or the failing phase's
 * (a hook's) result, or daemon_stop's.
 */
enum usbip_result daemon_run(struct usbip_daemon *d);

/*
 * With DAEMON_PRIVSEP_NETWORK_SERVES: replaces the network process with a new one, which
 * has what the parent made since (TLS contexts of a reload). Only between
 * requests (from a hook). On failure the daemon stops.
 */
enum usbip_result daemon_renew_network(struct usbip_daemon *d);

/* For a start hook with ready_later: the daemon is serving now. */
void daemon_ready(struct usbip_daemon *d);

/* Ends daemon_run's loop with result (as SIGTERM does, with the stop hook). */
void daemon_stop(struct usbip_daemon *d, enum usbip_result result);

#endif
