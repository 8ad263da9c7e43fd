// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/ev.h"
#include "daemon/process.h"
#include "util/log.h"

int daemon_option(struct usbip_daemon *d, int opt, char *arg, int argc, char **argv)
{
	char err[200];
	int rc;

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
		d->port = arg;
		return 1;
	case 'D':
		d->daemonize = true;
		return 1;
	case 'P':
		/* Accept "-P FILE" as well as "-PFILE" and "--pid=FILE". */
		if (!arg && optind < argc && argv[optind][0] != '-')
			arg = argv[optind++];
		d->pid_file = arg ? arg : d->default_pid_file;
		return 1;
	case 'd':
		usbip_log_set_debug(true);
		return 1;
	}
	rc = usbip_tls_parse_option(opt, arg, &d->use_tls, &d->tls_options, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", d->name, err);
	return rc;
}

int daemon_parse_args(struct usbip_daemon *d, int argc, char **argv, const struct option *opts,
		      void (*usage)(FILE *out),
		      int (*own_option)(int opt, const char *arg, void *ctx), void *ctx)
{
	int c, rc;

	opterr = 0; /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, USBIP_DAEMON_SHORT_OPTIONS "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("%s (%s) %s\n", d->name, PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			rc = own_option ? own_option(c, optarg, ctx) : 0;
			if (rc == 0)
				rc = daemon_option(d, c, optarg, argc, argv);
			if (rc < 0)
				return 2;
			if (rc == 0) {
				fprintf(stderr,
					"%s: unknown option or missing value: '%s' (see --help)\n",
					d->name, optind > 0 ? argv[optind - 1] : "");
				return 2;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", d->name, argv[optind]);
		return 2;
	}
	return -1;
}

static void on_signal(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	int sig = process_signalfd_read(w->fd);

	if (sig == SIGCHLD) {
		/* Relay processes that ended. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	} else if (sig == SIGTERM || sig == SIGINT) {
		log_info("signal %d: shutting down", sig);
		ev_loop_stop(loop);
	}
}

int daemon_run(struct usbip_daemon *d, void (*before_exit)(void *arg), void *arg)
{
	struct ev_watch sig_watch;
	struct op_server *server = NULL;
	struct ev_loop *loop = NULL;
	struct usbip_tls *tls = NULL;
	int fds[USBIP_MAX_LISTEN], nfds, i, rc = 1;
	bool pid_written = false;
	char err[256];

	if (!d->use_tls &&
	    (d->tls_options.cert_file || d->tls_options.ca_file || d->tls_options.nsubjects)) {
		fprintf(stderr, "%s: --cert, --key, --ca and --allow-subject go with --tls\n",
			d->name);
		return 2;
	}
	if (d->use_tls) {
		tls = usbip_tls_new(&d->tls_options, true, err, sizeof(err));
		if (!tls) {
			fprintf(stderr, "%s: %s\n", d->name, err);
			return 1;
		}
		d->server.tls = tls;
	}
	nfds = usbip_tcp_listen(d->address, d->port ? d->port : USBIP_DEFAULT_PORT, d->family, fds,
				USBIP_MAX_LISTEN);
	if (nfds < 0)
		goto out;
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
	loop = ev_loop_new();
	server = loop ? op_server_new(loop, &d->server) : NULL;
	sig_watch =
		(struct ev_watch){ .fd = process_signalfd(), .events = POLLIN, .cb = on_signal };
	if (!server || sig_watch.fd < 0 || ev_watch_add(loop, &sig_watch) != 0) {
		log_err("cannot set up the event loop");
		goto out;
	}
	for (i = 0; i < nfds; i++)
		if (op_server_listen(server, fds[i]) != 0)
			goto out;
	log_info("%s %s ready%s", d->name, PACKAGE_VERSION, tls ? " (TLS)" : "");
	process_ready();
	rc = ev_loop_run(loop) == 0 ? 0 : 1;
	if (before_exit)
		before_exit(arg);
out:
	op_server_free(server);
	ev_loop_free(loop);
	if (pid_written)
		process_pidfile_remove(d->pid_file);
	usbip_tls_free(tls);
	return rc;
}
