// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/daemon.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/mdns.h"
#include "daemon/metrics_proc.h"
#include "daemon/process.h"
#include "daemon/status.h"
#include "net/relay_stats.h"
#include "net/sock.h"
#include "net/tcp_wrappers.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/suggest.h"

/* A --listen address: TCP, ws://, wss://, unix:, vsock:. */
static int add_listen_address(struct daemon_listen *l, const char *arg, const char *default_port,
			      char *err, size_t err_len)
{
	struct net_address *a = &l->addrs[l->naddrs];

	if (l->naddrs == DAEMON_MAX_LISTEN) {
		snprintf(err, err_len, "at most %d --listen", DAEMON_MAX_LISTEN);
		return -1;
	}
	if (address_parse_listener(arg, default_port, a, err, err_len) != 0)
		return -1;
	l->naddrs++;
	return 0;
}

/* An octal mode that gives nothing beyond rwx for the three (no setuid, no sticky). */
static int parse_mode(const char *arg, mode_t *mode, char *err, size_t err_len)
{
	char *end;
	unsigned long m = strtoul(arg, &end, 8);

	if (!arg[0] || *end || m > 0777 || arg[0] == '-') {
		snprintf(err, err_len, "--listen-mode wants an octal mode such as 0660, not '%s'",
			 arg);
		return -1;
	}
	*mode = (mode_t)m;
	return 0;
}

static int parse_group(const char *arg, gid_t *gid, char *err, size_t err_len)
{
	const struct group *gr = arg[0] ? getgrnam(arg) : NULL;
	char *end;
	unsigned long id;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	id = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || id >= (gid_t)-1) {
		snprintf(err, err_len, "--listen-group: no group '%s'", arg);
		return -1;
	}
	*gid = (gid_t)id;
	return 0;
}

int daemon_listen_option(struct daemon_listen *l, int opt, const char *arg,
			 const char *default_port, char *err, size_t err_len)
{
	int rc;

	switch (opt) {
	case DAEMON_OPT_LISTEN:
		rc = add_listen_address(l, arg, default_port, err, err_len);
		break;
	case DAEMON_OPT_LISTEN_MODE:
		rc = parse_mode(arg, &l->unix_opts.mode, err, err_len);
		break;
	case DAEMON_OPT_LISTEN_GROUP:
		rc = parse_group(arg, &l->unix_opts.group, err, err_len);
		l->unix_opts.set_group = rc == 0;
		break;
	case DAEMON_OPT_ALLOW_UID:
		rc = policy_add_uid(&l->creds, arg, err, err_len);
		break;
	case DAEMON_OPT_ALLOW_GID:
		rc = policy_add_gid(&l->creds, arg, err, err_len);
		break;
	default:
		return 0;
	}
	return rc == 0 ? 1 : -1;
}

int daemon_set_option(struct usbip_daemon *d, int opt, const char *arg, char *err, size_t err_len)
{
	int rc = daemon_listen_option(&d->listen, opt, arg, USBIP_DEFAULT_PORT, err, err_len);

	if (rc != 0)
		return rc;
	switch (opt) {
	case '4':
		d->family = USBIP_FAMILY_IPV4;
		return 1;
	case '6':
		d->family = USBIP_FAMILY_IPV6;
		return 1;
	case 'a':
		d->address = arg;
		return 1;
	case 't':
		if (!tcp_port_ok(arg)) {
			snprintf(err, err_len, "--tcp-port wants a port from 0 to 65535, not '%s'",
				 arg);
			return -1;
		}
		d->port = arg;
		return 1;
	case 'D':
		d->daemonize = true;
		return 1;
	case 'P':
		d->pid_file = arg ? arg : d->default_pid_file;
		return 1;
	case 'd':
		log_set_debug(true);
		return 1;
	case DAEMON_OPT_USER:
		if (!arg[0]) {
			snprintf(err, err_len, "--user wants a user name");
			return -1;
		}
		d->run_as = arg;
		return 1;
	case DAEMON_OPT_DEAD_PEER: {
		int seconds = tcp_parse_dead_peer(arg, err, err_len);

		if (seconds < 0)
			return -1;
		tcp_set_dead_peer((unsigned)seconds);
		return 1;
	}
	case DAEMON_OPT_METRICS: {
		char why[320];

		if (metrics_address_ok(arg, why, sizeof(why)) != 0) {
			snprintf(err, err_len, "--metrics %s: %s", arg, why);
			return -1;
		}
		d->metrics_address = arg;
		return 1;
	}
	case DAEMON_OPT_ANNOUNCE:
		if (!mdns_available()) {
			snprintf(err, err_len,
				 "--announce: this build has no mDNS (configure --with-avahi)");
			return -1;
		}
		d->announce = true;
		return 1;
	case DAEMON_OPT_CONFIG:
	case DAEMON_OPT_CHECK:
		return 1; /* taken before the command line (conf_scan_args) */
	case WS_OPT_WS:
	case WS_OPT_WSS:
		d->ws = true;
		d->wss = d->wss || opt == WS_OPT_WSS;
		return 1;
	}
	rc = ws_parse_option(opt, arg, &d->ws_options, &d->wss_options, err, err_len);
	if (rc != 0)
		return rc;
	return tls_parse_option(opt, arg, &d->use_tls, &d->tls_options, err, err_len);
}

struct config_ctx {
	struct usbip_daemon *d;
	int (*own_option)(int opt, const char *arg, void *ctx, char *err, size_t err_len);
	void *own_ctx;
};

/* A key of the daemon's section: the same code as its command-line option. */
static int config_set(void *ctx, const char *kind, const char *name, int opt, const char *value,
		      char *err, size_t err_len)
{
	struct config_ctx *c = ctx;
	int rc = c->own_option ? c->own_option(opt, value, c->own_ctx, err, err_len) : 0;

	if (rc == 0)
		rc = daemon_set_option(c->d, opt, value, err, err_len);
	return rc < 0 ? -1 : 0;
}

/* Whether a listener speaks wss:// (--wss, or a --listen wss://). */
static bool daemon_uses_wss(const struct usbip_daemon *d)
{
	unsigned i;

	for (i = 0; i < d->listen.naddrs; i++)
		if (d->listen.addrs[i].scheme == NET_ADDRESS_WSS)
			return true;
	return d->wss;
}

/* --ws, --wss: what -a/-t's sockets speak, and the outer TLS's context. */
static int daemon_ws_setup(struct usbip_daemon *d, char *err, size_t err_len)
{
	struct usbip_tls_options outer = d->wss_options.given ? d->wss_options.tls : d->tls_options;

	d->ws_tcp = (struct net_address){ .scheme = d->wss ? NET_ADDRESS_WSS : NET_ADDRESS_WS,
					  .path = NET_ADDRESS_WS_PATH };
	if (!daemon_uses_wss(d))
		return 0;
	/* Only the server's certificate: client certificates are the inner --tls's. */
	outer.ca_file = NULL;
	outer.nsubjects = 0;
	outer.datapath = USBIP_TLS_RELAY;
	d->wss_tls = tls_new(&outer, true, err, err_len);
	return d->wss_tls ? 0 : -1;
}

static void daemon_ws_free(struct usbip_daemon *d)
{
	tls_free(d->wss_tls);
	d->wss_tls = NULL;
}

/* --listen and its companions: on a daemon that listens, with a unix: address to apply to. */
static bool listen_options_ok(const struct usbip_daemon *d)
{
	const struct daemon_listen *l = &d->listen;
	bool unix_socket = false;
	unsigned i;

	for (i = 0; i < l->naddrs; i++)
		unix_socket |= l->addrs[i].scheme == NET_ADDRESS_UNIX;
	if (l->naddrs && !d->listens) {
		fprintf(stderr, "%s: --listen is for a daemon that listens\n", d->name);
		return false;
	}
	if (!unix_socket &&
	    (l->unix_opts.mode || l->unix_opts.set_group || l->creds.nuids || l->creds.ngids)) {
		fprintf(stderr,
			"%s: --listen-mode, --listen-group, --allow-uid and --allow-gid go with "
			"a --listen unix:PATH\n",
			d->name);
		return false;
	}
	return true;
}

/* The shared options that contradict each other, in one line each. */
static bool options_ok(const struct usbip_daemon *d)
{
	const struct usbip_tls_options *o = &d->tls_options;
	bool ok = true;

	/* With --wss alone, --cert and --key are the outer TLS's. */
	if (!d->use_tls && (((o->cert_file || o->key_file) && !daemon_uses_wss(d)) || o->ca_file ||
			    o->nsubjects)) {
		fprintf(stderr,
			"%s: --cert, --key, --ca and --allow-subject go with --tls (or --wss)\n",
			d->name);
		ok = false;
	}
	/* A daemon that dials out (serve-mtp --remote) is a client: --pin is its. */
	if (o->pin && d->listens) {
		fprintf(stderr,
			"%s: --pin is a client's option (a server shows its certificate; it "
			"checks clients with --ca)\n",
			d->name);
		ok = false;
	}
	if (o->nsubjects && !d->listens) {
		fprintf(stderr,
			"%s: --allow-subject is a server's option (a client checks its server "
			"with --ca or --pin)\n",
			d->name);
		ok = false;
	}
	return ok && listen_options_ok(d);
}

/*
 * Everything a start refuses before it listens, found without starting:
 * the shared options that contradict each other, the daemon's own
 * (hooks.check), the address to listen on (resolved, and one of this
 * machine's), the user to run as, and the TLS files, read by making
 * the server's TLS context (kept for the start). One line each on stderr.
 */
static bool validate(struct usbip_daemon *d)
{
	char err[256];
	bool ok = options_ok(d);

	err[0] = '\0';
	/* Usage before environment: the daemon's own checks once the options agree. */
	if (ok && d->hooks.check && d->hooks.check(d, d->hooks.arg, err, sizeof(err)) != 0) {
		if (err[0])
			fprintf(stderr, "%s: %s\n", d->name, err);
		ok = false;
	}
	if (d->listens && d->address &&
	    tcp_address_ok(d->address, d->family, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: --address %s: %s\n", d->name, d->address, err);
		ok = false;
	}
	if (d->run_as && geteuid() == 0 && !getpwnam(d->run_as)) {
		fprintf(stderr, "%s: --user: no user '%s' to run as\n", d->name, d->run_as);
		ok = false;
	}
	if (ok && d->listens && d->use_tls) {
		d->tls = tls_new(&d->tls_options, true, err, sizeof(err));
		if (!d->tls) {
			fprintf(stderr, "%s: %s\n", d->name, err);
			ok = false;
		}
		d->server.tls = d->tls;
	}
	if (ok && d->listens && daemon_ws_setup(d, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		ok = false;
	}
	return ok;
}

/* --check: what a start would refuse is said, and nothing starts. */
static enum daemon_args check_only(struct usbip_daemon *d)
{
	bool ok = validate(d);

	tls_free(d->tls);
	d->tls = NULL;
	d->server.tls = NULL;
	daemon_ws_free(d);
	if (!ok)
		return DAEMON_ARGS_BAD;
	printf("%s: %s%s valid (%snothing started)\n", d->name,
	       d->config_file ? d->config_file : "no --config file read: the command line",
	       d->config_file ? " and the command line are" : " is",
	       d->use_tls ? "TLS files read, " : "");
	return DAEMON_ARGS_DONE;
}

enum daemon_args daemon_parse_args(struct usbip_daemon *d, int argc, char **argv,
				   const struct option *opts, void (*usage)(FILE *out),
				   int (*own_option)(int opt, const char *arg, void *ctx, char *err,
						     size_t err_len),
				   void *ctx)
{
	struct config_ctx cc = { d, own_option, ctx };
	struct conf_reader reader = {
		.kinds = { d->name }, .opts = opts, .set = config_set, .ctx = &cc
	};
	char shortopts[64], err[256];
	bool check;
	int c, rc;

	/* The file first, so that the command line overrides it. */
	conf_scan_args(argc, argv, &d->config_file, &check);
	if (d->config_file) {
		reader.file = d->config_file;
		if (conf_read(&reader, false) != 0)
			return DAEMON_ARGS_BAD;
	}
	snprintf(shortopts, sizeof(shortopts), "%s%shv", USBIP_DAEMON_SHORT_OPTIONS,
		 d->short_options ? d->short_options : "");
	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return DAEMON_ARGS_DONE;
		case 'v':
			printf("%s (%s) %s\n", d->name, PACKAGE_NAME, PACKAGE_VERSION);
			return DAEMON_ARGS_DONE;
		default:
			/* Accept "-P FILE" as well as "-PFILE" and "--pid=FILE". */
			if (c == 'P' && !optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			err[0] = '\0';
			rc = own_option ? own_option(c, optarg, ctx, err, sizeof(err)) : 0;
			if (rc == 0)
				rc = daemon_set_option(d, c, optarg, err, sizeof(err));
			if (rc < 0) {
				fprintf(stderr, "%s: %s\n", d->name, err);
				return DAEMON_ARGS_BAD;
			}
			if (rc == 0) {
				suggest_option_error(argv, opts, err, sizeof(err));
				fprintf(stderr, "%s: %s (see '%s --help')\n", d->name, err,
					d->name);
				return DAEMON_ARGS_BAD;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", d->name, argv[optind]);
		return DAEMON_ARGS_BAD;
	}
	/* Said before the daemon's own start-up lines; validate says it again for others. */
	if (!listen_options_ok(d))
		return DAEMON_ARGS_BAD;
	return check ? check_only(d) : DAEMON_ARGS_RUN;
}

void daemon_ready(struct usbip_daemon *d)
{
	log_info("%s %s ready%s%s%s", d->name, PACKAGE_VERSION, d->listening[0] ? " on " : "",
		 d->listening, d->tls ? " (TLS)" : "");
	process_ready();
}

void daemon_stop(struct usbip_daemon *d, enum usbip_result result)
{
	d->result = result;
	if (d->loop)
		ev_loop_stop(d->loop);
}

static void on_signal(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct usbip_daemon *d = w->data;
	int sig = process_signalfd_read(w->fd);

	if (sig == SIGCHLD) {
		pid_t pid;
		int status;

		/* Relay processes that ended, or the network process. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			/* Their stop must not wait for a pid that may be another's by then. */
			if (pid == d->metrics_pid)
				d->metrics_pid = 0; /* said by the channel's end */
			if (pid == d->announce_pid)
				d->announce_pid = 0; /* said by the process */
			if (pid != d->network_pid)
				continue;
			d->network_pid = 0;
			log_err("the network process ended (%s %d): stopping",
				WIFSIGNALED(status) ? "signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			daemon_stop(d, USBIP_E_FAILED);
		}
	} else if (d->in_network) {
		/*
		 * Signals are the parent's to handle. systemd sends SIGTERM to
		 * both; this one ends when the parent lets go of the channel, so
		 * that an agent can still withdraw its exports through it.
		 */
		log_debug("signal %d: left to the privileged process", sig);
	} else if (sig == SIGHUP) {
		if (!d->hooks.reload) {
			log_info("SIGHUP: nothing to read again");
			return;
		}
		sd_notify(0, "RELOADING=1");
		d->hooks.reload(d, d->hooks.arg);
		sd_notify(0, "READY=1");
	} else if (sig == SIGUSR1) {
		if (d->hooks.give_up)
			d->hooks.give_up(d, d->hooks.arg);
		else
			log_info("SIGUSR1: nothing is retried here");
	} else if (sig == SIGTERM || sig == SIGINT) {
		log_info("signal %d: shutting down", sig);
		sd_notify(0, "STOPPING=1");
		daemon_stop(d, USBIP_OK);
	}
}

/* The fields every daemon's status has, then its own. */
static void write_status(struct json_writer *w, void *arg)
{
	struct usbip_daemon *d = arg;

	json_uint(w, "schema", STATUS_SCHEMA);
	json_string(w, "daemon", d->status_daemon ? d->status_daemon : d->name);
	json_uint(w, "pid", (unsigned long long)getpid());
	json_uint(w, "started", (unsigned long long)d->started_at);
	if (d->config_file)
		json_string(w, "config", d->config_file);
	if (d->listens) {
		json_uint(w, "port", d->listen_port);
		json_string(w, "listening", d->listening);
		json_bool(w, "tls", d->use_tls);
	}
	if (d->metrics_port)
		json_uint(w, "metrics_port", d->metrics_port);
	if (d->hooks.status)
		d->hooks.status(d, w, d->hooks.arg);
}

/*
 * Its status socket, named NAME-PORT when several may listen (serve-mtp);
 * NAME, or NAME-PORT when another instance answers on NAME (a second usbipa
 * on another port); in a folder of user's, who removes it at the stop,
 * when it will be user.
 */
static struct status_socket *open_status(struct usbip_daemon *d, const struct passwd *user)
{
	char by_port[128];

	if (!d->status_name)
		return NULL;
	snprintf(by_port, sizeof(by_port), "%s-%u", d->status_name, d->listen_port);
	if (d->status_by_port && d->listens)
		return status_open(by_port, NULL, user, write_status, d);
	return status_open(d->status_name, d->listens ? by_port : NULL, user, write_status, d);
}

/*
 * The rules an unsplit daemon with a sandbox enters: its paths, its status
 * socket's folder (to remove the socket at its stop), and what TCP
 * wrappers read when it listens, or what resolving names takes when it
 * dials. SANDBOX_NONE without a sandbox, -1 (logged).
 */
static int enclose(const struct usbip_daemon *d, const struct status_socket *status)
{
	const struct sandbox_path *more =
		d->listens ? usbip_tcp_wrappers_paths : sandbox_resolver_paths;
	size_t nmore = d->listens ? usbip_tcp_wrappers_npaths : sandbox_resolver_npaths;
	struct sandbox_path *all;
	int rules;

	if (!d->sandbox)
		return SANDBOX_NONE;
	all = calloc(nmore + 1, sizeof(*all));
	if (!all) {
		log_err("out of memory");
		return -1;
	}
	memcpy(all, more, nmore * sizeof(*all));
	if (status_folder(status))
		all[nmore++] = (struct sandbox_path){ status_folder(status), true };
	rules = sandbox_prepare(d->sandbox, d->nsandbox, all, nmore);
	free(all);
	return rules;
}

/*
 * The runner. daemon_run goes through the phases below in their order, each
 * one a function that sets up one thing; the first that fails ends the run,
 * and the teardown (one place, tear_down) undoes the phases that were set
 * up, in reverse, whether the run failed or ended. A separated daemon forks
 * in the privileges phase: from there its two processes go through the
 * phases marked for their side, and each undoes only its own.
 */

/* The phases in the order they are set up; a bit each in runner.done. */
enum phase_id {
	PHASE_CHECK,	     /* the options as a whole, the TLS context */
	PHASE_RELAYS,	     /* --metrics: the relays' shared counters (net/relay_stats.h) */
	PHASE_LISTEN,	     /* the listening sockets */
	PHASE_DETACH,	     /* -D: into the background */
	PHASE_PID_FILE,	     /* -P */
	PHASE_STATUS_OPEN,   /* an unsplit daemon's status socket, made while it is root */
	PHASE_PRIVILEGES,    /* split in two processes, or become the user */
	PHASE_LOOP,	     /* the event loop and the signals on it */
	PHASE_START,	     /* the daemon's own work (hooks.start/stop) */
	PHASE_NETWORK_START, /* the network process's side of that (network_start) */
	PHASE_CHANNEL,	     /* the privsep channel served on the loop */
	PHASE_METRICS,	     /* --metrics: the process that answers it (daemon/metrics_proc.h) */
	PHASE_ANNOUNCE,	     /* --announce: the process that announces (daemon/mdns.h) */
	PHASE_STATUS,	     /* the status socket answering on the loop */
	PHASE_SERVER,	     /* the request server, which takes the listening sockets */
	PHASE_SERVE,	     /* readiness, then the event loop until the end */
	PHASE_COUNT
};

/* Which process goes through a phase. */
enum side {
	SIDE_MAIN = 1,	  /* the daemon (the privileged parent of a separated one) */
	SIDE_NETWORK = 2, /* a separated daemon's network process */
};

/*
 * One listening socket. A list, so that the listen phase opens every kind
 * of listener alike: the TCP sockets of -a/-t and those of each --listen.
 */
struct daemon_listener {
	STAILQ_ENTRY(daemon_listener) next; /* first: pmccabe misreads a struct ending in one */
	int fd;				    /* -1 once the request server took it */
	/* A unix: listener's address, its file removed at the end; else NULL. */
	const struct net_address *unix_file;
	const struct net_address *ws; /* a ws:// or wss:// listener's address; else NULL */
};

STAILQ_HEAD(daemon_listeners, daemon_listener);

/* What one run holds besides the daemon's own fields. */
struct runner {
	struct usbip_daemon *d;
	enum side side;
	unsigned done; /* 1 << phase_id for each phase set up */
	struct daemon_listeners listeners;
	struct status_socket *status;
	struct metrics_proc *metrics;
	struct mdns_announcer *announcer;
	struct op_server *server;
	struct ev_watch sig_watch;
};

struct phase {
	const char *name;
	unsigned sides;
	/* USBIP_OK, or how the run ends (having released what it made itself). */
	enum usbip_result (*set_up)(struct runner *r);
	void (*undo)(struct runner *r); /* NULL: nothing to undo */
};

/* What a process that only asks serves: nothing, so any message breaks the rules. */
static const struct privsep_table nothing = { NULL, 0, NULL };

static void on_network_lost(void *arg)
{
	daemon_stop(arg, USBIP_E_FAILED);
}

static void free_tls(struct runner *r)
{
	tls_free(r->d->tls);
	r->d->tls = NULL;
	r->d->server.tls = NULL;
	daemon_ws_free(r->d);
}

static enum usbip_result check_options(struct runner *r)
{
	if (validate(r->d))
		return USBIP_OK;
	free_tls(r);
	return USBIP_E_CONFIG;
}

/*
 * Before anything forks (the background, the network process and the
 * relays it forks, the agent's): the page every relay counts in, read by
 * this process at each scrape. None without --metrics.
 */
static enum usbip_result open_relay_counters(struct runner *r)
{
	if (!r->d->metrics_address)
		return USBIP_OK;
	return relay_stats_open() == 0 ? USBIP_OK : USBIP_E_FAILED;
}

static void close_relay_counters(struct runner *r)
{
	(void)r;
	relay_stats_close();
}

/* The sockets the request server did not take are closed (a split parent's, all). */
static void close_listener_fds(struct runner *r)
{
	struct daemon_listener *l;

	STAILQ_FOREACH(l, &r->listeners, next) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}

/*
 * The end of the listen phase: the sockets closed, and the files of unix:
 * listeners removed by the process that made them (the network process's
 * are the parent's). One that gave root up may not remove a file in a
 * folder only root writes: said, and the next start replaces it.
 */
static void close_listeners(struct runner *r)
{
	struct daemon_listener *l;
	char name[NET_ADDRESS_TEXT_MAX];

	close_listener_fds(r);
	while ((l = STAILQ_FIRST(&r->listeners)) != NULL) {
		STAILQ_REMOVE_HEAD(&r->listeners, next);
		if (l->unix_file && r->side == SIDE_MAIN && listen_remove(l->unix_file) != 0 &&
		    errno != ENOENT) {
			address_format(l->unix_file, name, sizeof(name));
			log_warn("cannot remove %s: %m (the next start replaces it)", name);
		}
		free(l);
	}
	r->d->listening[0] = '\0';
}

/* fd becomes a listener of the run's; closed if it cannot (-1, logged). */
static int add_listener(struct runner *r, int fd, const struct net_address *unix_file,
			const struct net_address *ws)
{
	struct daemon_listener *l = calloc(1, sizeof(*l));

	if (!l) {
		log_err("out of memory");
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->unix_file = unix_file;
	l->ws = ws;
	STAILQ_INSERT_TAIL(&r->listeners, l, next);
	return 0;
}

/*
 * Where fd listens, added to d->listening (as ws://... for a WebSocket
 * listener ws); the first TCP port is d->listen_port.
 */
static void note_listening(struct usbip_daemon *d, int fd, const struct net_address *ws)
{
	struct net_address a;
	char name[NET_ADDRESS_TEXT_MAX];
	size_t used = strlen(d->listening);

	if (sock_local_address(fd, &a) != 0)
		return;
	if (a.scheme == NET_ADDRESS_TCP && !d->listen_port)
		d->listen_port = (uint16_t)a.port;
	if (ws && a.scheme == NET_ADDRESS_TCP) {
		a.scheme = ws->scheme;
		memcpy(a.path, ws->path, sizeof(a.path));
	}
	address_format(&a, name, sizeof(name));
	snprintf(d->listening + used, sizeof(d->listening) - used, "%s%s", used ? ", " : "", name);
}

/* What a listener on a (NULL: -a/-t's) speaks: a ws:// or wss:// address, or NULL for USB/IP. */
static const struct net_address *listener_ws(const struct usbip_daemon *d,
					     const struct net_address *a)
{
	if (!a)
		return d->ws ? &d->ws_tcp : NULL;
	return a->scheme == NET_ADDRESS_WS || a->scheme == NET_ADDRESS_WSS ? a : NULL;
}

/* The sockets of one address (a --listen's, or -a/-t's when a is NULL) join the list. */
static int listen_on(struct runner *r, const struct net_address *a)
{
	struct usbip_daemon *d = r->d;
	struct net_listen_opts opts = d->listen.unix_opts;
	int fds[USBIP_MAX_LISTEN], nfds, i, failed = 0;

	opts.family = d->family;
	nfds = a ? listen_open(a, &opts, fds, USBIP_MAX_LISTEN)
		 : tcp_listen(d->address, d->port ? d->port : USBIP_DEFAULT_PORT, d->family, fds,
			      USBIP_MAX_LISTEN);
	if (nfds <= 0)
		return -1;
	for (i = 0; i < nfds; i++) {
		note_listening(d, fds[i], listener_ws(d, a));
		/* Its file is the first socket's to remove (a unix: address has one). */
		failed |= add_listener(r, fds[i],
				       a && a->scheme == NET_ADDRESS_UNIX && i == 0 ? a : NULL,
				       listener_ws(d, a));
	}
	return failed ? -1 : 0;
}

/*
 * Every listener, made while the daemon is still root (a file in /run, a
 * port below 1024): -a/-t's TCP sockets unless only --listen is given,
 * then each --listen address. One that fails undoes the others.
 */
static enum usbip_result open_listeners(struct runner *r)
{
	struct usbip_daemon *d = r->d;
	bool tcp = !d->listen.naddrs || d->address || d->port;
	unsigned i;

	if (!d->listens)
		return USBIP_OK;
	d->listening[0] = '\0';
	d->listen_port = 0;
	if (tcp && listen_on(r, NULL) != 0) {
		close_listeners(r);
		return USBIP_E_FAILED;
	}
	for (i = 0; i < d->listen.naddrs; i++) {
		if (listen_on(r, &d->listen.addrs[i]) != 0) {
			close_listeners(r);
			return USBIP_E_FAILED;
		}
	}
	return USBIP_OK;
}

static enum usbip_result detach(struct runner *r)
{
	if (!r->d->daemonize)
		return USBIP_OK;
	log_init(r->d->name, true);
	return process_daemonize() == 0 ? USBIP_OK : USBIP_E_FAILED;
}

/* A file that stays another instance's is not ours to remove: that phase failed. */
static enum usbip_result write_pid_file(struct runner *r)
{
	if (!r->d->pid_file)
		return USBIP_OK;
	return process_pidfile_write(r->d->pid_file) == 0 ? USBIP_OK : USBIP_E_FAILED;
}

static void remove_pid_file(struct runner *r)
{
	if (r->d->pid_file)
		process_pidfile_remove(r->d->pid_file);
}

/*
 * A daemon that stays one process gives root up in the next phase: its
 * status socket is made now, while it still can (it answers once the
 * daemon started), in a folder the user can remove it from at the stop.
 * A split one's stays with the parent, made once it started.
 */
static enum usbip_result open_status_early(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	if (d->privsep == DAEMON_PRIVSEP_NONE)
		r->status =
			open_status(d, d->run_as && geteuid() == 0 ? getpwnam(d->run_as) : NULL);
	return USBIP_OK;
}

static void close_status(struct runner *r)
{
	status_close(r->status);
	r->status = NULL;
}

/*
 * Unsplit, the daemon checks its peers against hosts.allow itself when it
 * listens, and resolves the names it dials when it does not.
 */
static enum usbip_result drop_privileges(struct runner *r)
{
	struct usbip_daemon *d = r->d;
	int rules = enclose(d, r->status);

	if (rules == -1 || (d->run_as && geteuid() == 0 && privdrop_to(d->run_as) != 0) ||
	    sandbox_enter(rules) != 0) {
		sandbox_discard(rules);
		return USBIP_E_FAILED;
	}
	return USBIP_OK;
}

/*
 * In the network process, just forked: the phases from here on are its
 * own, the pid file and the status socket stay the parent's, systemd is
 * the parent's to speak to, and it enters rules (split's).
 */
static enum usbip_result become_network(struct runner *r, int rules)
{
	r->d->in_network = true;
	r->side = SIDE_NETWORK;
	r->done &= ~(1u << PHASE_PID_FILE | 1u << PHASE_STATUS_OPEN);
	unsetenv("NOTIFY_SOCKET");
	if (sandbox_enter(rules) == 0)
		return USBIP_OK;
	privsep_free(r->d->priv);
	r->d->priv = NULL;
	return USBIP_E_FAILED;
}

/*
 * Forks the network process (privsep_split) with the file-system rules it
 * enters once it is the user: in an empty root, it needs no file; an
 * agent's resolves names. The rules are made here, while root can open
 * what they name.
 */
static pid_t split(struct usbip_daemon *d, int *rules)
{
	const char *user = d->run_as ? d->run_as : privdrop_default_user();
	pid_t pid;

	*rules = d->privsep == DAEMON_PRIVSEP_NETWORK_SERVES
			 ? sandbox_prepare(sandbox_resolver_paths, sandbox_resolver_npaths,
					   d->sandbox, d->nsandbox)
			 : sandbox_prepare(NULL, 0, d->sandbox, d->nsandbox);
	if (*rules == -1)
		return -1;
	pid = privsep_split(d->name, user, d->privsep == DAEMON_PRIVSEP_PARENT_SERVES, &d->priv);
	if (pid != 0)
		sandbox_discard(*rules); /* the child's to enter */
	return pid;
}

/*
 * Ends the network process: it ends when the channel is closed (it takes
 * no signal, see on_signal), which also wakes it if it waits for an
 * answer; one that does not end in a few seconds is killed.
 */
static void stop_network(struct usbip_daemon *d)
{
	int waited;

	privsep_free(d->priv);
	d->priv = NULL;
	if (d->network_pid <= 0)
		return;
	for (waited = 0; waited < 5000; waited += 20) {
		if (waitpid(d->network_pid, NULL, WNOHANG) == d->network_pid)
			break;
		poll(NULL, 0, 20);
	}
	if (waited >= 5000) {
		log_warn("the network process did not stop: killing it");
		kill(d->network_pid, SIGKILL);
		waitpid(d->network_pid, NULL, 0);
	}
	d->network_pid = 0;
}

/*
 * Everything that needs root before serving is done (the sockets listen,
 * the pid file is written): from here on nothing a peer sends meets root.
 * Either the network part goes to a child of its own, or the whole daemon
 * becomes the user.
 */
static enum usbip_result separate_or_drop(struct runner *r)
{
	struct usbip_daemon *d = r->d;
	int rules;
	pid_t pid;

	if (d->privsep == DAEMON_PRIVSEP_NONE)
		return drop_privileges(r);
	pid = split(d, &rules);
	if (pid < 0)
		return USBIP_E_FAILED;
	if (pid == 0)
		return become_network(r, rules);
	d->network_pid = pid;
	/* The parent reads from no peer: no listening socket, no TLS context (it keeps the files).
	 */
	close_listener_fds(r);
	free_tls(r);
	return USBIP_OK;
}

static void stop_network_phase(struct runner *r)
{
	stop_network(r->d);
}

/* The loop, with the signals on it. */
static enum usbip_result make_loop(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	d->loop = ev_loop_new();
	r->sig_watch = (struct ev_watch){
		.fd = process_signalfd(), .events = POLLIN, .cb = on_signal, .data = d
	};
	if (!d->loop || r->sig_watch.fd < 0 || ev_watch_add(d->loop, &r->sig_watch) != 0) {
		log_err("cannot set up the event loop");
		return USBIP_E_FAILED;
	}
	d->result = USBIP_OK;
	return USBIP_OK;
}

/* Last of all: nothing is left on the loop by then. */
static void free_loop(struct runner *r)
{
	if (r->sig_watch.fd >= 0)
		close(r->sig_watch.fd);
	r->sig_watch.fd = -1;
	ev_loop_free(r->d->loop);
	r->d->loop = NULL;
}

/*
 * The daemon's own work first (it may make what the server hands requests
 * to); connections wait in the listening sockets' backlog.
 */
static enum usbip_result start_own_work(struct runner *r)
{
	struct usbip_daemon *d = r->d;
	enum usbip_result rc = d->hooks.start ? d->hooks.start(d, d->loop, d->hooks.arg) : USBIP_OK;

	if (rc == USBIP_OK)
		d->started_at = (long long)time(NULL);
	return rc;
}

/* While the loop is there: the stop hook releases what its start put on it. */
static void stop_own_work(struct runner *r)
{
	if (r->d->hooks.stop)
		r->d->hooks.stop(r->d, r->d->hooks.arg);
}

/* The network process asks the parent over d->priv instead of doing the work. */
static enum usbip_result start_network_work(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	d->server.admit = privsep_admit;
	d->server.admit_arg = d->priv;
	return d->network_start ? d->network_start(d) : USBIP_OK;
}

/* Whether this process answers the table (the other asks). */
static bool serves_table(const struct runner *r)
{
	return r->d->privsep == (r->side == SIDE_MAIN ? DAEMON_PRIVSEP_PARENT_SERVES
						      : DAEMON_PRIVSEP_NETWORK_SERVES);
}

/*
 * The channel on the loop: the side that serves answers the table; the
 * other serves nothing, but learns so of the end of the other process.
 */
static enum usbip_result serve_channel(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	if (!d->priv)
		return USBIP_OK;
	if (privsep_serve(d->priv, d->loop, serves_table(r) ? d->privsep_table : &nothing,
			  on_network_lost, d) != 0)
		return USBIP_E_FAILED;
	return USBIP_OK;
}

/*
 * A parent that serves its network process stops it here, before the stop
 * hook undoes the work it serves. The other way round (an agent), the
 * parent still asks its network process in the stop hook (to withdraw its
 * exports): the channel stays until the privileges phase is undone.
 */
static void unserve_channel(struct runner *r)
{
	if (r->side == SIDE_MAIN && r->d->privsep == DAEMON_PRIVSEP_PARENT_SERVES)
		stop_network(r->d);
	else
		privsep_unserve(r->d->priv);
}

/* A scrape: what every daemon has, then its own families. */
static void write_metrics(struct metrics_text *m, void *arg)
{
	struct usbip_daemon *d = arg;
	const char *prefix = d->metrics_prefix ? d->metrics_prefix : d->name;
	char name[96];

	snprintf(name, sizeof(name), "%s_up", prefix);
	metrics_family(m, name, "gauge", "1 while the daemon runs");
	metrics_sample(m, name, 1, METRICS_END);
	snprintf(name, sizeof(name), "%s_build_info", prefix);
	metrics_family(m, name, "gauge", "the version, as a label");
	metrics_sample(m, name, 1, "version", PACKAGE_VERSION, METRICS_END);
	snprintf(name, sizeof(name), "%s_start_time_seconds", prefix);
	metrics_family(m, name, "gauge", "when the daemon started, in seconds since the epoch");
	metrics_sample(m, name, (double)d->started_at, METRICS_END);
	metrics_relays(m, prefix);
	if (d->hooks.metrics)
		d->hooks.metrics(d, m, d->hooks.arg);
}

/*
 * --metrics: answered by a process of its own as the user (the data is
 * here, in the main process, which a split daemon keeps as root).
 */
static enum usbip_result start_metrics(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	if (!d->metrics_address)
		return USBIP_OK;
	r->metrics = metrics_proc_start(d->name, d->metrics_address,
					d->run_as ? d->run_as : privdrop_default_user(), d->loop,
					write_metrics, d);
	if (!r->metrics)
		return USBIP_E_FAILED;
	d->metrics_port = (uint16_t)metrics_proc_port(r->metrics);
	d->metrics_pid = metrics_proc_pid(r->metrics);
	log_info("metrics on %s (port %u)", d->metrics_address, d->metrics_port);
	return USBIP_OK;
}

static void stop_metrics(struct runner *r)
{
	if (r->metrics && !r->d->metrics_pid)
		metrics_proc_reaped(r->metrics);
	metrics_proc_stop(r->metrics);
	r->metrics = NULL;
	r->d->metrics_pid = 0;
	r->d->metrics_port = 0;
}

/*
 * --announce: DNS-SD from a process of its own, as the user; one that
 * cannot start is said and the daemon runs on (as without avahi-daemon).
 */
static enum usbip_result start_announcing(struct runner *r)
{
	struct usbip_daemon *d = r->d;
	char tls[16];
	const char *txt[] = { "version=" PACKAGE_VERSION, tls, "transports=tcp", NULL };

	if (!d->announce || !d->announce_type || !d->listens)
		return USBIP_OK;
	snprintf(tls, sizeof(tls), "tls=%s", d->use_tls ? "yes" : "no");
	r->announcer = mdns_announce_start(d->name, d->run_as ? d->run_as : privdrop_default_user(),
					   d->announce_type, d->listen_port, txt);
	if (!r->announcer)
		log_warn("mdns: not announcing %s", d->announce_type);
	else
		d->announce_pid = mdns_announce_pid(r->announcer);
	return USBIP_OK;
}

static void stop_announcing(struct runner *r)
{
	if (r->announcer && !r->d->announce_pid)
		mdns_announce_reaped(r->announcer);
	r->d->announce_pid = 0;
	mdns_announce_stop(r->announcer);
	r->announcer = NULL;
}

/* A split daemon's parent makes its status socket now; either answers from here on. */
static enum usbip_result watch_status(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	if (d->privsep != DAEMON_PRIVSEP_NONE)
		r->status = open_status(d, NULL);
	if (r->status && status_watch(r->status, d->loop) != 0)
		close_status(r);
	return USBIP_OK;
}

/* The server takes the listening sockets; each is its own once it took it. */
static int hand_listeners(struct runner *r)
{
	struct daemon_listener *l;

	STAILQ_FOREACH(l, &r->listeners, next) {
		struct ws_options ws = r->d->ws_options;

		ws.path = l->ws ? l->ws->path : NULL;
		if (op_server_listen_ws(r->server, l->fd, l->ws ? &ws : NULL,
					l->ws && l->ws->scheme == NET_ADDRESS_WSS ? r->d->wss_tls
										  : NULL) != 0)
			return -1;
		l->fd = -1;
	}
	return 0;
}

static void free_server(struct runner *r)
{
	op_server_free(r->server);
	r->server = NULL;
}

/* Requests are served by whoever reads from peers: the network process, if any. */
static enum usbip_result make_server(struct runner *r)
{
	struct usbip_daemon *d = r->d;

	if (!d->listens || (r->side == SIDE_MAIN && d->privsep != DAEMON_PRIVSEP_NONE))
		return USBIP_OK;
	d->server.creds = &d->listen.creds;
	r->server = op_server_new(d->loop, &d->server);
	if (r->server && hand_listeners(r) == 0)
		return USBIP_OK;
	free_server(r);
	return USBIP_E_FAILED;
}

static enum usbip_result serve(struct runner *r)
{
	if (r->side == SIDE_MAIN && !r->d->ready_later)
		daemon_ready(r->d);
	return ev_loop_run(r->d->loop) == 0 ? r->d->result : USBIP_E_FAILED;
}

#define BOTH (SIDE_MAIN | SIDE_NETWORK)

static const struct phase phases[PHASE_COUNT] = {
	[PHASE_CHECK] = { "check", SIDE_MAIN, check_options, free_tls },
	[PHASE_RELAYS] = { "relay counters", SIDE_MAIN, open_relay_counters, close_relay_counters },
	[PHASE_LISTEN] = { "listen", SIDE_MAIN, open_listeners, close_listeners },
	[PHASE_DETACH] = { "detach", SIDE_MAIN, detach, NULL },
	[PHASE_PID_FILE] = { "pid file", SIDE_MAIN, write_pid_file, remove_pid_file },
	[PHASE_STATUS_OPEN] = { "status socket", SIDE_MAIN, open_status_early, close_status },
	[PHASE_PRIVILEGES] = { "privileges", SIDE_MAIN, separate_or_drop, stop_network_phase },
	[PHASE_LOOP] = { "loop", BOTH, make_loop, free_loop },
	[PHASE_START] = { "start", SIDE_MAIN, start_own_work, stop_own_work },
	[PHASE_NETWORK_START] = { "network start", SIDE_NETWORK, start_network_work, NULL },
	[PHASE_CHANNEL] = { "channel", BOTH, serve_channel, unserve_channel },
	[PHASE_METRICS] = { "metrics", SIDE_MAIN, start_metrics, stop_metrics },
	[PHASE_ANNOUNCE] = { "announce", SIDE_MAIN, start_announcing, stop_announcing },
	[PHASE_STATUS] = { "status", SIDE_MAIN, watch_status, close_status },
	[PHASE_SERVER] = { "server", BOTH, make_server, free_server },
	[PHASE_SERVE] = { "serve", BOTH, serve, NULL },
};

/* The one teardown: what was set up is undone, the last first. */
static void tear_down(struct runner *r)
{
	int i;

	for (i = PHASE_COUNT - 1; i >= 0; i--) {
		if (!(r->done & 1u << i))
			continue;
		if (phases[i].undo)
			phases[i].undo(r);
		r->done &= ~(1u << i);
		log_debug("%s: phase %s undone", r->d->name, phases[i].name);
	}
}

/* The phases of r's side from first on, until one fails or the loop ends; then the teardown. */
static enum usbip_result run_phases(struct runner *r, enum phase_id first)
{
	enum usbip_result rc = USBIP_OK;
	int i;

	for (i = first; i < PHASE_COUNT && rc == USBIP_OK; i++) {
		if (!(phases[i].sides & r->side))
			continue;
		rc = phases[i].set_up(r);
		if (rc == USBIP_OK)
			r->done |= 1u << i;
		log_debug("%s: phase %s %s", r->d->name, phases[i].name,
			  rc == USBIP_OK ? "done" : "failed");
	}
	tear_down(r);
	return rc;
}

static void runner_init(struct runner *r, struct usbip_daemon *d, enum side side)
{
	*r = (struct runner){ .d = d, .side = side, .sig_watch = { .fd = -1 } };
	STAILQ_INIT(&r->listeners);
}

enum usbip_result daemon_renew_network(struct usbip_daemon *d)
{
	struct runner r;
	pid_t pid;
	int rules;

	if (d->privsep != DAEMON_PRIVSEP_NETWORK_SERVES || d->in_network)
		return USBIP_E_FAILED;
	stop_network(d);
	pid = split(d, &rules);
	if (pid < 0) {
		daemon_stop(d, USBIP_E_FAILED);
		return USBIP_E_FAILED;
	}
	if (pid == 0) {
		/* Forked from a running daemon: none of its descriptors are this one's. */
		privsep_close_inherited(d->priv, rules);
		log_reopen();
		runner_init(&r, d, SIDE_NETWORK);
		r.done = 1u << PHASE_PRIVILEGES; /* the channel is its to close */
		if (become_network(&r, rules) != USBIP_OK)
			_exit(1);
		_exit(run_phases(&r, PHASE_LOOP) == USBIP_OK ? 0 : 1);
	}
	d->network_pid = pid;
	log_info("a new network process (%d) took over", (int)pid);
	return USBIP_OK;
}

enum usbip_result daemon_run(struct usbip_daemon *d)
{
	struct runner r;

	runner_init(&r, d, SIDE_MAIN);
	return run_phases(&r, PHASE_CHECK);
}
