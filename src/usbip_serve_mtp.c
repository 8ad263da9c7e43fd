// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip serve-mtp: a directory served as a USB MTP device made in user
 * space, over USB/IP: listening like usbipd (so `usbip attach` imports it)
 * or, with --remote, exported to a usbipa.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/export_agent.h"
#include "agent/persist.h"
#include "daemon/conf.h"
#include "daemon/daemon.h"
#include "mtp/mtp_device.h"
#include "net/address.h"
#include "net/tcp.h"
#include "source/device_export.h"
#include "source/device_server.h"
#include "source/vdev_source.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/sandbox.h"
#include "usbip.h"

#define EXPORT_TIMEOUT_MS 10000

/*
 * Its own port when it listens, so that it can run next to usbipd (3240)
 * and usbipa; exporting with --remote, it dials usbipa's port.
 */
#define SERVE_MTP_DEFAULT_PORT "3242"
#define DEFAULT_CONFIG	       SYSCONFDIR "/usbip/usbip.conf"

struct serve_args {
	const char *dir, *remote, *address, *busid, *name, *serial, *user;
	const char *port;				   /* tcp-port of its section, or NULL */
	const char *config, *section;			   /* --config FILE, --section NAME */
	struct mtp_storage_options dirs[MTP_MAX_STORAGES]; /* dir is the first */
	char *dir_args[MTP_MAX_STORAGES];		   /* the --dir texts they point into */
	size_t num_dirs;
	enum usbip_family family;
	bool read_only;
	bool persist;		     /* --persist: export again whenever the export ends */
	bool dead_peer_set;	     /* --dead-peer-timeout given */
	unsigned max_attempts;	     /* --max-attempts (0: no limit) */
	struct daemon_listen listen; /* --listen and the rest of DAEMON_LISTEN_LONG_OPTIONS */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip [-t PORT] serve-mtp --dir PATH[:NAME[:ro]]... [--read-only]\n"
		"             [--name NAME] [--serial SERIAL] [--busid BUSID] [-4|-6]\n"
		"             [--address ADDR] [--remote HOST [--persist]] [--user USER]\n"
		"             [--listen ADDRESS]... [--allow-uid UID]... [--allow-gid GID]...\n"
		"       usbip serve-mtp --section NAME [--config FILE] [options]\n\n"
		"Serves folders as a USB MTP device (like a phone's storage) over USB/IP. No\n"
		"USB hardware and no kernel module are needed on this side.\n\n"
		"  -d, --dir PATH[:NAME[:ro]]\n"
		"                       a folder to serve, one MTP storage (up to %d; nothing\n"
		"                       outside them is touched), named NAME (default: the\n"
		"                       folder's name), read-only with :ro (PATH::ro unnamed)\n"
		"  -R, --read-only      refuse every change, in every storage\n"
		"  -n, --name NAME      the device's product and friendly name (default\n"
		"                       serve-mtp)\n"
		"  -s, --serial SERIAL  its serial (default: derived from the folders' paths,\n"
		"                       the same on every start)\n"
		"  -b, --busid BUSID    the busid to offer (default 1-1)\n"
		"  -a, --address ADDR   listen on this address only (default: all)\n"
		"  -4, -6               listen on IPv4 / IPv6 only\n"
		"  -r, --remote HOST    export to the usbipa on HOST instead of listening\n"
		"                       (HOST may be srv:NAME: DNS's usbipa targets in order)\n"
		"      --persist        with --remote: export again whenever the export ends\n"
		"                       (usbipa gone, drained, or the connection lost),\n"
		"                       with jittered pauses, until SIGTERM\n"
		"      --dead-peer-timeout SECONDS  with --remote: a usbipa that stops\n"
		"                       answering is dropped after that long (5 to 3600,\n"
		"                       default 15)\n"
		"      --max-attempts N with --persist: exit (status 4) after N failed\n"
		"                       attempts in a row (default: no limit)\n"
		"      --listen ADDRESS listen there instead (repeatable): HOST:PORT, :PORT,\n"
		"                       unix:PATH, vsock:PORT; -a/-t add theirs if given\n"
		"      --listen-mode MODE, --listen-group GROUP  a unix: file's (default 0660,\n"
		"                       the user's group)\n"
		"      --allow-uid UID|USER, --allow-gid GID|GROUP  only these peers over\n"
		"                       unix: (repeatable; default: whom the file lets in)\n"
		"  -u, --user USER      started as root: run as USER once listening (default\n"
		"                       %s, or nobody where there is no such user); it must\n"
		"                       be able to read (and write) the folders: checked\n"
		"                       as USER before it says ready\n"
		"      --section NAME   take the options of [serve-mtp NAME] in usbip.conf\n"
		"                       (the command line wins); the unit\n"
		"                       usbip-serve-mtp@NAME.service runs this\n"
		"      --config FILE    that file (default %s)\n\n"
		"Listening (the default) on TCP port %s (not usbipd's 3240), or --tcp-port:\n"
		"`usbip attach -r THISHOST:PORT -b BUSID` imports the device; its first\n"
		"line says so. Runs in the foreground until SIGINT or SIGTERM.\n\n"
		"Exit status: 0 stopped by a signal (or the export ended, without --persist),\n"
		"1 failure, 2 bad arguments, 4 HOST unreachable (with --persist: every\n"
		"attempt of --max-attempts failed), 5 HOST refused.\n",
		MTP_MAX_STORAGES, PRIVDROP_USER, DEFAULT_CONFIG, SERVE_MTP_DEFAULT_PORT);
}

struct serve_state {
	const struct serve_args *args;
	struct mtp_device *mdev;
	struct device_source *src;
	struct usbip_daemon *d;
	struct device_export_target to;
	struct export_agent *agent; /* --persist: exports it again whenever it ends */
	bool gave_up;		    /* --max-attempts used up */
	struct ev_watch change_watch;
	char path[USBIP_PATH_SIZE];
};

static void on_changes(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct serve_state *st = w->data;

	mtp_device_process_changes(st->mdev);
}

static void on_export_ended(void *arg)
{
	struct serve_state *st = arg;

	log_info("the usbipa side detached the device");
	daemon_stop(st->d, USBIP_OK);
}

/* Its options, on the command line and as keys of [serve-mtp NAME]. */
#define SERVE_MTP_OPTIONS                                                                          \
	{ "dir", required_argument, NULL, 'd' }, { "read-only", no_argument, NULL, 'R' },          \
		{ "name", required_argument, NULL, 'n' },                                          \
		{ "serial", required_argument, NULL, 's' },                                        \
		{ "busid", required_argument, NULL, 'b' },                                         \
		{ "address", required_argument, NULL, 'a' }, { "ipv4", no_argument, NULL, '4' },   \
		{ "ipv6", no_argument, NULL, '6' }, { "remote", required_argument, NULL, 'r' },    \
		{ "user", required_argument, NULL, 'u' }, { "persist", no_argument, NULL, 'p' },   \
		{ "dead-peer-timeout", required_argument, NULL, 'X' },                             \
		{ "max-attempts", required_argument, NULL, 'M' }, DAEMON_LISTEN_LONG_OPTIONS

/* The keys of [serve-mtp NAME]: its options, and the port it listens on. */
static const struct option serve_keys[] = {
	SERVE_MTP_OPTIONS,
	{ "tcp-port", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

/* --persist and its knobs (as connect --persist's): 1 taken, 0 not one, -1 with why in err. */
static int persist_option(struct serve_args *a, int c, const char *arg, char *err, size_t len)
{
	int seconds;

	switch (c) {
	case 'p':
		a->persist = true;
		return 1;
	case 'X':
		seconds = tcp_parse_dead_peer(arg, err, len);
		if (seconds < 0)
			return -1;
		tcp_set_dead_peer((unsigned)seconds);
		a->dead_peer_set = true;
		return 1;
	case 'M':
		return usbip_parse_max_attempts(arg, &a->max_attempts, err, len) == 0 ? 1 : -1;
	}
	return 0;
}

/* One option, from the command line or the file: 0, or -1 with why in err. */
static int serve_option(struct serve_args *a, int c, const char *arg, char *err, size_t len)
{
	struct net_address addr;

	switch (c) {
	case 'd':
		if (a->num_dirs == MTP_MAX_STORAGES) {
			snprintf(err, len, "at most %d --dir", MTP_MAX_STORAGES);
			return -1;
		}
		/* Split in place: a copy, as the value may be the file's. */
		free(a->dir_args[a->num_dirs]);
		a->dir_args[a->num_dirs] = strdup(arg);
		if (!a->dir_args[a->num_dirs] ||
		    mtp_device_parse_dir(a->dir_args[a->num_dirs], &a->dirs[a->num_dirs], err, len))
			return -1;
		a->dir = a->dirs[0].dir;
		a->num_dirs++;
		return 0;
	case 't':
		if (!tcp_port_ok(arg)) {
			snprintf(err, len, "tcp-port wants a port from 0 to 65535, not '%s'", arg);
			return -1;
		}
		a->port = arg;
		return 0;
	case 'R':
		a->read_only = true;
		return 0;
	case '4':
	case '6':
		a->family = c == '4' ? USBIP_FAMILY_IPV4 : USBIP_FAMILY_IPV6;
		return 0;
	case 'u':
		a->user = arg;
		return 0;
	case 's':
		a->serial = arg;
		return 0;
	case 'n':
		a->name = arg;
		return 0;
	case 'b':
		a->busid = arg;
		return 0;
	case 'a':
		a->address = arg;
		return 0;
	case 'r':
		a->remote = arg;
		if (address_parse(arg, USBIP_DEFAULT_PORT, &addr, err, len) != 0)
			return -1;
		return address_dialable(&addr, err, len);
	}
	switch (persist_option(a, c, arg, err, len)) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	switch (daemon_listen_option(&a->listen, c, arg, SERVE_MTP_DEFAULT_PORT, err, len)) {
	case 1:
		return 0;
	case 0:
		snprintf(err, len, "unknown option");
	}
	return -1;
}

static int section_key(void *ctx, const char *kind, const char *name, int opt, const char *value,
		       char *err, size_t err_len)
{
	struct serve_args *a = ctx;

	/* Only the section asked for: the others are checked, not applied. */
	if (strcmp(name, a->section) != 0)
		return 0;
	return serve_option(a, opt, value, err, err_len);
}

/* [serve-mtp NAME] of the file, before the command line that overrides it. */
static int read_section(struct serve_args *a, int argc, char **argv)
{
	struct conf_reader reader = {
		.kinds = { "serve-mtp" }, .opts = serve_keys, .set = section_key, .ctx = a
	};
	bool check;
	int i;

	for (i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--section") == 0)
			a->section = argv[i + 1];
	a->config = NULL;
	conf_scan_args(argc, argv, &a->config, &check);
	if (!a->section)
		return a->config
			       ? usbip_usage_error("serve-mtp", "--config goes with --section NAME")
			       : -1;
	reader.file = a->config ? a->config : DEFAULT_CONFIG;
	if (conf_read(&reader, false) != 0)
		return USBIP_EXIT_USAGE;
	if (a->num_dirs == 0)
		return usbip_usage_error("serve-mtp", "%s has no [serve-mtp %s] with a dir",
					 reader.file, a->section);
	return -1;
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		SERVE_MTP_OPTIONS,
		{ "section", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[PATH_MAX + 128];
	int c, rc = read_section(a, argc, argv);
	/* The command line's folders replace the file's. */
	bool dirs_from_file = a->num_dirs > 0;

	if (rc >= 0)
		return rc;
	while ((c = getopt_long(argc, argv, "d:Rn:s:b:a:46r:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		case 'S':
		case 'C':
			break; /* read_section took them */
		case '?':
			return usbip_bad_option("serve-mtp", argv, opts);
		default:
			if (c == 'd' && dirs_from_file) {
				a->num_dirs = 0;
				dirs_from_file = false;
			}
			if (serve_option(a, c, optarg, err, sizeof(err)) != 0)
				return usbip_usage_error("serve-mtp", "%s", err);
		}
	}
	if (optind < argc)
		return usbip_usage_error("serve-mtp", "unexpected argument '%s'", argv[optind]);
	switch (mtp_device_check_dirs(a->dirs, a->num_dirs, err, sizeof(err))) {
	case -1:
		return usbip_usage_error("serve-mtp", "%s", err);
	case -2:
		fprintf(stderr, "usbip serve-mtp: %s\n", err);
		return USBIP_EXIT_FAILURE;
	}
	if (a->serial && !mtp_device_serial_ok(a->serial))
		return usbip_usage_error("serve-mtp", "--serial '%s': 1 to %d of A-Z a-z 0-9 - _ .",
					 a->serial, MTP_SERIAL_MAX);
	/* The decoders' rule: a busid every peer accepts in the device record. */
	if (!usbip_proto_busid_ok(a->busid))
		return usbip_usage_error("serve-mtp",
					 "--busid wants 1 to 31 printable characters, no spaces");
	if (a->name && strlen(a->name) > MTP_NAME_ARG_MAX)
		return usbip_usage_error("serve-mtp", "--name is longer than %d bytes",
					 MTP_NAME_ARG_MAX);
	if (a->remote && (a->address || a->family != USBIP_FAMILY_ANY || a->listen.naddrs))
		return usbip_usage_error("serve-mtp",
					 "--remote does not listen: drop -a/-4/-6/--listen");
	if ((a->persist || a->dead_peer_set) && !a->remote)
		return usbip_usage_error("serve-mtp",
					 "--persist and --dead-peer-timeout go with --remote");
	if (a->max_attempts && !a->persist)
		return usbip_usage_error("serve-mtp", "--max-attempts goes with --persist");
	return -1;
}

/*
 * What on_start put on the daemon's loop, released while the loop is still
 * there: the importer's session (its connection closes, and an upload in
 * progress is abandoned) and the watch of the folders.
 */
static void release(struct serve_state *st)
{
	if (st->change_watch.cb && st->change_watch.fd >= 0)
		ev_watch_remove(st->d->loop, &st->change_watch);
	st->change_watch.cb = NULL;
	device_source_free(st->src);
	st->src = NULL;
}

/* Listening: --tcp-port, else its section's, else its own default. */
static const char *listen_port(const struct serve_args *a)
{
	if (usbip_opts.tcp_port_set)
		return usbip_opts.tcp_port;
	return a->port ? a->port : SERVE_MTP_DEFAULT_PORT;
}

/* Exporting: the usbipa's port, --tcp-port or the section's or 3240. */
static const char *remote_port(const struct serve_args *a)
{
	if (usbip_opts.tcp_port_set || !a->port)
		return usbip_opts.tcp_port;
	return a->port;
}

/* The first thing a user needs: how to import it (the host as others may name it). */
static void say_how_to_attach(const struct serve_args *a, unsigned port)
{
	struct net_address at = { .scheme = NET_ADDRESS_TCP, .port = port };
	char text[NET_ADDRESS_TEXT_MAX];

	/* --listen: the first address as given (a vsock:PORT wants this machine's CID). */
	if (a->listen.naddrs) {
		address_format(&a->listen.addrs[0], text, sizeof(text));
		log_info("attach it with: usbip attach -r %s -b %s", text, a->busid);
		return;
	}
	if (a->address && strcmp(a->address, "0.0.0.0") != 0 && strcmp(a->address, "::") != 0)
		snprintf(at.host, sizeof(at.host), "%s", a->address);
	else if (gethostname(at.host, sizeof(at.host) - 1) != 0)
		strcpy(at.host, "THISHOST");
	address_format(&at, text, sizeof(text));
	log_info("attach it with: usbip attach -r %s -b %s", text, a->busid);
}

/*
 * Whether the user it runs as may read (and write, where it will) each
 * folder, through fds opened before (as serve-mtp opens them as root, before
 * it gives root up): what lies above a folder does not matter, the folder's
 * own mode does.
 */
static int dirs_reachable(const struct serve_args *a, const int *fds, const char *user)
{
	size_t i;
	bool write;

	for (i = 0; i < a->num_dirs; i++) {
		write = !a->read_only && !a->dirs[i].read_only;
		if (faccessat(fds[i], ".", R_OK | X_OK, 0) != 0) {
			fprintf(stderr, "usbip serve-mtp: %s: %s cannot read it (%s)\n",
				a->dirs[i].dir, user, strerror(errno));
			return -1;
		}
		if (write && faccessat(fds[i], ".", W_OK, 0) != 0) {
			fprintf(stderr,
				"usbip serve-mtp: %s: %s cannot write it (%s); or serve it "
				"read-only (PATH::ro)\n",
				a->dirs[i].dir, user, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* In a child: becomes pw (its uid and gid, no other groups, as privdrop_to does) and checks. */
static int check_in_child(const struct serve_args *a, const int *fds, const struct passwd *pw)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(1);
		_exit(dirs_reachable(a, fds, pw->pw_name) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * Checked as the user it will run as, before it says ready, so that a
 * folder that user cannot reach stops the start instead of failing at the
 * first request.
 */
static int check_dirs_as(const struct serve_args *a, const char *user)
{
	int fds[MTP_MAX_STORAGES], rc = 0;
	struct passwd *pw = NULL;
	size_t i, n;

	for (i = 0; i < MTP_MAX_STORAGES; i++)
		fds[i] = -1;
	if (geteuid() == 0 && !(pw = getpwnam(user))) {
		fprintf(stderr, "usbip serve-mtp: no user '%s' to run as (see --user)\n", user);
		return -1;
	}
	for (n = 0; n < a->num_dirs && rc == 0; n++) {
		fds[n] = open(a->dirs[n].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[n] < 0) {
			fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dirs[n].dir,
				strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0)
		rc = pw ? check_in_child(a, fds, pw) : dirs_reachable(a, fds, "this user");
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

/* hooks.check: the folders, as the user it will run as (it says what is wrong itself). */
static int on_check(struct usbip_daemon *d, void *arg, char *err, size_t err_len)
{
	const struct serve_state *st = arg;

	(void)err;
	(void)err_len;
	return check_dirs_as(st->args, d->run_as);
}

/* --persist: the export agent's end of an export (it exports again). */
static void on_persist_dropped(void *arg)
{
	struct serve_state *st = arg;

	if (st->agent)
		export_agent_dropped(st->agent, st->args->busid);
}

/* --persist --max-attempts: every attempt in a row failed; nothing left to do. */
static void on_gave_up(void *arg, const char *busid)
{
	struct serve_state *st = arg;

	st->gave_up = true;
	daemon_stop(st->d, USBIP_E_UNREACHABLE);
}

/*
 * --remote: exported once (the end of the export ends the run), or with
 * --persist by an export agent, connect --persist's, that exports it
 * again whenever the export ends.
 */
static enum usbip_result start_export(struct serve_state *st, struct ev_loop *loop)
{
	const struct serve_args *a = st->args;
	struct export_agent_config config = { .remotes = { a->remote },
					      .nremotes = 1,
					      .port = st->to.port,
					      .tls = st->to.tls,
					      .attempt_timeout_ms = PERSIST_ATTEMPT_TIMEOUT_MS,
					      .max_attempts = a->max_attempts,
					      .source = st->src,
					      .gave_up = on_gave_up,
					      .gave_up_arg = st };
	enum usbip_result rc = USBIP_OK;
	uint32_t status;

	if (a->persist) {
		vdev_source_on_detach(st->src, on_persist_dropped, st);
		st->agent = export_agent_start(loop, &config);
		/* Given up already (--max-attempts 1): before the loop, daemon_stop would be lost.
		 */
		rc = !st->agent ? USBIP_E_FAILED : st->gave_up ? USBIP_E_UNREACHABLE : USBIP_OK;
		if (rc != USBIP_OK) {
			export_agent_stop(st->agent);
			st->agent = NULL;
		}
	} else {
		rc = device_export(st->src, a->busid, &st->to, &status, NULL);
		vdev_source_on_detach(st->src, on_export_ended, st);
	}
	if (rc != USBIP_OK) {
		release(st);
		return rc;
	}
	printf("serving %s as an MTP device, %s %s as %s\n", a->dir,
	       a->persist ? "exporting to" : "exported to", a->remote, a->busid);
	fflush(stdout);
	return USBIP_OK;
}

/* On the daemon's loop: the virtual device, then listening or exporting. */
static enum usbip_result on_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct serve_state *st = arg;
	const struct serve_args *a = st->args;
	struct vdev_source_options sopts = {
		.busid = a->busid, .path = st->path, .busnum = 1, .devnum = 2
	};

	st->d = d;
	snprintf(st->path, sizeof(st->path), "/sys/devices/serve-mtp/%s", a->busid);
	st->src = vdev_source_new(loop, mtp_device_vdev(st->mdev), &sopts);
	st->change_watch = (struct ev_watch){
		.fd = mtp_device_watch_fd(st->mdev), .events = POLLIN, .cb = on_changes, .data = st
	};
	if (!st->src || (st->change_watch.fd >= 0 && ev_watch_add(loop, &st->change_watch) != 0)) {
		log_err("cannot set up the event loop");
		release(st);
		return USBIP_E_FAILED;
	}
	d->server.arg = st->src;
	if (!a->remote) {
		say_how_to_attach(a, d->listen_port);
		if (a->listen.naddrs)
			printf("serving %s as an MTP device: busid %s on %s\n", a->dir, a->busid,
			       d->listening);
		else
			printf("serving %s as an MTP device: busid %s on port %u\n", a->dir,
			       a->busid, d->listen_port);
		fflush(stdout);
		return USBIP_OK;
	}
	return start_export(st, loop);
}

/* usbip status: the folders, where it listens or exports to, and the device (its peer). */
static void on_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	const struct serve_state *st = arg;
	const struct serve_args *a = st->args;
	size_t i;

	json_array_begin(w, "dirs");
	for (i = 0; i < a->num_dirs; i++) {
		json_object_begin(w, NULL);
		json_string(w, "dir", a->dirs[i].dir);
		json_bool(w, "read_only", a->read_only || a->dirs[i].read_only);
		json_object_end(w);
	}
	json_array_end(w);
	if (a->section)
		json_string(w, "section", a->section);
	if (a->remote)
		json_string(w, "exported_to", a->remote);
	/* --persist: whether it is exported now, or retrying and why. */
	if (st->agent) {
		json_object_begin(w, "export");
		export_agent_status(st->agent, w);
		json_object_end(w);
	}
	/* The device row: its busid, and the peer that imported it. */
	if (st->src)
		device_source_status(st->src, w);
}

/*
 * Its status socket's name: serve-mtp-PORT listening (the runner adds the
 * port), serve-mtp-BUSID exporting, so that several instances do not
 * clash; only characters safe in a file name.
 */
static void status_name(const struct serve_args *a, char *name, size_t size)
{
	size_t i, n;

	n = (size_t)snprintf(name, size, a->remote ? "serve-mtp-%s" : "serve-mtp", a->busid);
	for (i = strlen("serve-mtp"); i < n && i < size; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			name[i] = '_';
}

/* Stopped: while exported, ask usbipa to detach the device first; then release it. */
static void on_stop(struct usbip_daemon *d, void *arg)
{
	struct serve_state *st = arg;
	uint32_t status;

	if (st->agent) {
		/* It withdraws the export; the session's end is not one to retry. */
		vdev_source_on_detach(st->src, NULL, NULL);
		export_agent_stop(st->agent);
		st->agent = NULL;
	} else if (st->args->remote && vdev_source_attached(st->src) &&
		   device_export_withdraw(st->src, st->args->busid, &st->to, &status) != USBIP_OK)
		log_warn("could not withdraw %s from %s", st->args->busid, st->args->remote);
	release(st);
}

static int serve(const struct serve_args *a)
{
	struct mtp_device_options mopts = { .storages = a->dirs,
					    .num_storages = a->num_dirs,
					    .read_only = a->read_only,
					    .name = a->name,
					    .serial = a->serial };
	struct serve_state st = {
		.args = a,
		.to = { .host = a->remote,
			.port = remote_port(a),
			.tls = usbip_opts.tls,
			.timeout_ms = EXPORT_TIMEOUT_MS },
	};
	char sname[64];
	struct usbip_daemon d = {
		.name = "usbip serve-mtp",
		.status_name = sname,
		.status_by_port = true,
		.status_daemon = "serve-mtp",
		.listens = !a->remote,
		.family = a->family,
		.address = a->address,
		/* With --listen, TCP on -t's port only if it is given. */
		.port = a->listen.naddrs && !a->address && !usbip_opts.tcp_port_set && !a->port
				? NULL
				: listen_port(a),
		.listen = a->listen,
		/* With --tls, listening takes the server side's certificate (--cert/--key). */
		.use_tls = usbip_opts.tls != NULL,
		.tls_options = usbip_opts.tls_options,
		.server = { .name = "usbip serve-mtp",
			    .requests = device_server_requests,
			    .handle = device_server_handle },
		.hooks = { .check = on_check,
			   .start = on_start,
			   .stop = on_stop,
			   .status = on_status,
			   .arg = &st },
		/* serve-mtp needs no root at all: as root, it gives it up before it reads. */
		.run_as = a->user ? a->user : privdrop_default_user(),
	};
	/* Its folders (the runner adds what TCP wrappers or the --remote's name take). */
	struct sandbox_path reach[MTP_MAX_STORAGES];
	enum usbip_result rc;
	struct stat sb;
	bool found;
	size_t i;

	for (i = 0; i < a->num_dirs; i++)
		reach[i] = (struct sandbox_path){ a->dirs[i].dir,
						  !a->read_only && !a->dirs[i].read_only };
	status_name(a, sname, sizeof(sname));
	d.sandbox = reach;
	d.nsandbox = a->num_dirs;
	found = stat(a->dir, &sb) == 0;
	if (!found || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir,
			!found ? strerror(errno) : "not a directory");
		return USBIP_EXIT_FAILURE;
	}
	st.mdev = mtp_device_new(&mopts);
	if (!st.mdev) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir, strerror(errno));
		return USBIP_EXIT_FAILURE;
	}
	rc = daemon_run(&d); /* on_stop released the source while the loop was there */
	mtp_device_free(st.mdev);
	return exit_status(rc);
}

int usbip_serve_mtp(int argc, char **argv)
{
	struct serve_args a = { .busid = "1-1" };
	int rc = parse_args(argc, argv, &a);
	size_t i;

	if (rc < 0) {
		signal(SIGPIPE, SIG_IGN);
		rc = serve(&a);
	}
	for (i = 0; i < MTP_MAX_STORAGES; i++)
		free(a.dir_args[i]);
	conf_release();
	return rc;
}
