// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/daemon.h"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/process.h"
#include "daemon/status.h"
#include "net/tcp_wrappers.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/suggest.h"

int daemon_set_option(struct usbip_daemon *d, int opt, const char *arg, char *err, size_t err_len)
{
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
		if (!usbip_tcp_port_ok(arg)) {
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
		usbip_log_set_debug(true);
		return 1;
	case DAEMON_OPT_USER:
		if (!arg[0]) {
			snprintf(err, err_len, "--user wants a user name");
			return -1;
		}
		d->run_as = arg;
		return 1;
	case DAEMON_OPT_DEAD_PEER: {
		int seconds = usbip_tcp_parse_dead_peer(arg, err, err_len);

		if (seconds < 0)
			return -1;
		usbip_tcp_set_dead_peer((unsigned)seconds);
		return 1;
	}
	case DAEMON_OPT_CONFIG:
	case DAEMON_OPT_CHECK:
		return 1; /* taken before the command line (conf_scan_args) */
	}
	return usbip_tls_parse_option(opt, arg, &d->use_tls, &d->tls_options, err, err_len);
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

/* The shared options that contradict each other, in one line each. */
static bool options_ok(const struct usbip_daemon *d)
{
	const struct usbip_tls_options *o = &d->tls_options;
	bool ok = true;

	if (!d->use_tls && (o->cert_file || o->key_file || o->ca_file || o->nsubjects)) {
		fprintf(stderr, "%s: --cert, --key, --ca and --allow-subject go with --tls\n",
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
	return ok;
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
	    usbip_tcp_address_ok(d->address, d->family, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: --address %s: %s\n", d->name, d->address, err);
		ok = false;
	}
	if (d->run_as && geteuid() == 0 && !getpwnam(d->run_as)) {
		fprintf(stderr, "%s: --user: no user '%s' to run as\n", d->name, d->run_as);
		ok = false;
	}
	if (ok && d->listens && d->use_tls) {
		d->tls = usbip_tls_new(&d->tls_options, true, err, sizeof(err));
		if (!d->tls) {
			fprintf(stderr, "%s: %s\n", d->name, err);
			ok = false;
		}
		d->server.tls = d->tls;
	}
	return ok;
}

/* --check: what a start would refuse is said, and nothing starts. */
static enum daemon_args check_only(struct usbip_daemon *d)
{
	bool ok = validate(d);

	usbip_tls_free(d->tls);
	d->tls = NULL;
	d->server.tls = NULL;
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
	return check ? check_only(d) : DAEMON_ARGS_RUN;
}

void daemon_ready(struct usbip_daemon *d)
{
	log_info("%s %s ready%s", d->name, PACKAGE_VERSION, d->tls ? " (TLS)" : "");
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
		json_bool(w, "tls", d->use_tls);
	}
	if (d->hooks.status)
		d->hooks.status(d, w, d->hooks.arg);
}

/*
 * Its status socket, named NAME-PORT when several may listen (serve-mtp);
 * in a folder of user's, who removes it at the stop, when it will be user.
 */
static struct status_socket *open_status(struct usbip_daemon *d, const struct passwd *user)
{
	char name[128];

	if (!d->status_name)
		return NULL;
	if (d->status_by_port && d->listens)
		snprintf(name, sizeof(name), "%s-%u", d->status_name, d->listen_port);
	else
		snprintf(name, sizeof(name), "%s", d->status_name);
	return status_open(name, user, write_status, d);
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

/* The loop, with the signals on it; -1 (logged). */
static int make_loop(struct usbip_daemon *d, struct ev_watch *sig_watch)
{
	d->loop = ev_loop_new();
	*sig_watch = (struct ev_watch){
		.fd = process_signalfd(), .events = POLLIN, .cb = on_signal, .data = d
	};
	if (!d->loop || sig_watch->fd < 0 || ev_watch_add(d->loop, sig_watch) != 0) {
		log_err("cannot set up the event loop");
		return -1;
	}
	return 0;
}

/* The server takes the listening sockets; each is its own once it took it (-1 here). */
static int listen_on(struct op_server *server, int *fds, int nfds)
{
	int i;

	for (i = 0; i < nfds; i++) {
		if (op_server_listen(server, fds[i]) != 0)
			return -1;
		fds[i] = -1;
	}
	return 0;
}

/* Before the loop goes: the server, the sockets it did not take, the signals. */
static void close_serving(struct op_server *server, int *fds, int nfds, struct ev_watch *sig_watch)
{
	int i;

	op_server_free(server);
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (sig_watch->fd >= 0)
		close(sig_watch->fd);
}

/* What a process that only asks serves: nothing, so any message breaks the rules. */
static const struct privsep_table nothing = { NULL, 0, NULL };

static void on_network_lost(void *arg)
{
	daemon_stop(arg, USBIP_E_FAILED);
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

	*rules = d->network_serves
			 ? sandbox_prepare(sandbox_resolver_paths, sandbox_resolver_npaths,
					   d->sandbox, d->nsandbox)
			 : sandbox_prepare(NULL, 0, d->sandbox, d->nsandbox);
	if (*rules == -1)
		return -1;
	pid = privsep_split(d->name, user, !d->network_serves, &d->priv);
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
 * The network process of a separated daemon: serves requests as the
 * unprivileged user on the sockets the parent opened, asking the parent
 * (d->priv) for what needs root, until the parent closes the channel.
 * It enters rules (split's) first.
 */
static enum usbip_result run_network(struct usbip_daemon *d, int *fds, int nfds, int rules)
{
	struct ev_watch sig_watch;
	struct op_server *server = NULL;
	enum usbip_result rc = USBIP_E_FAILED;

	d->in_network = true;
	unsetenv("NOTIFY_SOCKET"); /* the parent speaks to systemd */
	if (sandbox_enter(rules) != 0)
		return USBIP_E_FAILED;
	if (make_loop(d, &sig_watch) != 0)
		goto out;
	d->server.admit = privsep_admit;
	d->server.admit_arg = d->priv;
	if (d->network_start && (rc = d->network_start(d)) != USBIP_OK)
		goto out;
	rc = USBIP_E_FAILED;
	/* With no table to serve, any message (or the end) of the parent's ends it. */
	if (privsep_serve(d->priv, d->loop, d->network_serves ? d->network_serves : &nothing,
			  on_network_lost, d) != 0)
		goto out;
	if (d->listens && !(server = op_server_new(d->loop, &d->server)))
		goto out;
	if (listen_on(server, fds, nfds) != 0)
		goto out;
	d->result = USBIP_OK;
	rc = ev_loop_run(d->loop) == 0 ? d->result : USBIP_E_FAILED;
out:
	close_serving(server, fds, nfds, &sig_watch);
	privsep_free(d->priv); /* its watch is on the loop */
	d->priv = NULL;
	ev_loop_free(d->loop);
	d->loop = NULL;
	usbip_tls_free(d->tls);
	d->tls = NULL;
	return rc;
}

enum usbip_result daemon_renew_network(struct usbip_daemon *d)
{
	pid_t pid;
	int rules;

	if (!d->network_serves || d->in_network)
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
		usbip_log_reopen();
		_exit(run_network(d, NULL, 0, rules) == USBIP_OK ? 0 : 1);
	}
	d->network_pid = pid;
	log_info("a new network process (%d) took over", (int)pid);
	return USBIP_OK;
}

enum usbip_result daemon_run(struct usbip_daemon *d)
{
	struct ev_watch sig_watch = { .fd = -1 };
	struct status_socket *status = NULL;
	struct op_server *server = NULL;
	int fds[USBIP_MAX_LISTEN], nfds = 0, i;
	enum usbip_result rc = USBIP_E_FAILED;
	bool pid_written = false, started = false;

	if (!validate(d)) {
		usbip_tls_free(d->tls);
		d->tls = NULL;
		return USBIP_E_CONFIG;
	}
	if (d->listens) {
		nfds = usbip_tcp_listen(d->address, d->port ? d->port : USBIP_DEFAULT_PORT,
					d->family, fds, USBIP_MAX_LISTEN);
		if (nfds < 0) {
			nfds = 0;
			goto out;
		}
		d->listen_port = usbip_tcp_local_port(fds[0]);
	}
	if (d->daemonize) {
		usbip_log_init(d->name, true);
		if (process_daemonize() != 0)
			goto out;
	}
	if (d->pid_file) {
		if (process_pidfile_write(d->pid_file) != 0)
			goto out; /* another instance's file: not ours to remove */
		pid_written = true;
	}
	/*
	 * A daemon that stays one process gives root up and enters its
	 * sandbox below: its status socket is made now, while it still can
	 * (it answers once the daemon started). A split one's stays with the
	 * parent, made once it started.
	 */
	if (!d->privsep && !d->network_serves)
		status = open_status(d, d->run_as && geteuid() == 0 ? getpwnam(d->run_as) : NULL);
	/*
	 * Everything that needs root before serving is done (the sockets
	 * listen, the pid file is written): from here on nothing a peer sends
	 * meets root. Either the network part goes to a child of its own, or
	 * the whole daemon becomes the user.
	 */
	if (d->privsep || d->network_serves) {
		int rules;
		pid_t pid = split(d, &rules);

		if (pid < 0)
			goto out;
		if (pid == 0)
			return run_network(d, fds, nfds, rules);
		d->network_pid = pid;
		/* The parent reads from no peer: no listening socket, no TLS context. */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		nfds = 0;
		usbip_tls_free(d->tls);
		d->tls = NULL;
	} else {
		/*
		 * Unsplit, it checks its peers against hosts.allow itself when
		 * it listens, and resolves the names it dials when it does not.
		 */
		int rules = enclose(d, status);

		if (rules == -1 || (d->run_as && geteuid() == 0 && privdrop_to(d->run_as) != 0) ||
		    sandbox_enter(rules) != 0) {
			sandbox_discard(rules);
			goto out;
		}
	}
	if (make_loop(d, &sig_watch) != 0)
		goto out;
	/*
	 * The daemon's own work first (it may make what the server hands
	 * requests to); connections wait in the listening sockets' backlog.
	 */
	d->result = USBIP_OK;
	/* An agent's parent serves nothing, but learns so of its child's end. */
	if (d->priv && privsep_serve(d->priv, d->loop, d->privsep ? d->privsep : &nothing,
				     on_network_lost, d) != 0)
		goto out;
	if (d->hooks.start) {
		rc = d->hooks.start(d, d->loop, d->hooks.arg);
		if (rc != USBIP_OK)
			goto out;
	}
	started = true; /* from here on the stop hook undoes what the daemon did */
	d->started_at = (long long)time(NULL);
	if (d->privsep || d->network_serves)
		status = open_status(d, NULL);
	if (status && status_watch(status, d->loop) != 0) {
		status_close(status);
		status = NULL;
	}
	rc = USBIP_E_FAILED;
	if (d->listens && !d->priv) {
		server = op_server_new(d->loop, &d->server);
		if (!server)
			goto out;
		if (listen_on(server, fds, nfds) != 0)
			goto out;
	}
	if (!d->ready_later)
		daemon_ready(d);
	rc = ev_loop_run(d->loop) == 0 ? d->result : USBIP_E_FAILED;
out:
	/*
	 * The teardown undoes the set-up in reverse: the request server and
	 * the status socket (answering last; an unsplit daemon made it before
	 * it gave root up, in a folder it can still remove it from), then
	 * the daemon's own work (the stop hook releases what its start put
	 * on the loop, e.g. serve-mtp's importer), and the loop only when
	 * nothing is left on it.
	 */
	op_server_free(server);
	server = NULL;
	status_close(status);
	/*
	 * A daemon whose parent serves the network process stops that first,
	 * so that it asks for nothing while the stop hook undoes the work; an
	 * agent needs its network process to withdraw its exports, so it goes
	 * after the hook.
	 */
	if (!d->network_serves)
		stop_network(d);
	if (started && d->hooks.stop)
		d->hooks.stop(d, d->hooks.arg);
	stop_network(d);
	close_serving(server, fds, nfds, &sig_watch);
	ev_loop_free(d->loop);
	d->loop = NULL;
	if (pid_written)
		process_pidfile_remove(d->pid_file);
	usbip_tls_free(d->tls);
	d->tls = NULL;
	return rc;
}
