// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip serve-mtp: a directory served as a USB MTP device made in user
 * space, over USB/IP: listening like usbipd (so `usbip attach` imports it)
 * or, with --remote, exported to a usbipa.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "mtp/mtp_device.h"
#include "net/tcp.h"
#include "source/device_export.h"
#include "source/device_server.h"
#include "source/vdev_source.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/sandbox.h"
#include "usbip.h"

#define EXPORT_TIMEOUT_MS 10000

struct serve_args {
	const char *dir, *remote, *address, *busid, *name, *serial, *user;
	struct mtp_storage_options dirs[MTP_MAX_STORAGES]; /* dir is the first */
	size_t num_dirs;
	enum usbip_family family;
	bool read_only;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip [-t PORT] serve-mtp --dir PATH[:NAME[:ro]]... [--read-only]\n"
		"             [--name NAME] [--serial SERIAL] [--busid BUSID] [-4|-6]\n"
		"             [--address ADDR] [--remote HOST]\n\n"
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
		"  -u, --user USER      started as root: run as USER once listening (default\n"
		"                       %s, or nobody where there is no such user); it must\n"
		"                       be able to read (and write) the folders\n\n"
		"Listening (the default) on TCP port %s, or the global --tcp-port: any\n"
		"`usbip attach -r THISHOST -b BUSID` imports the device. Runs in the\n"
		"foreground until SIGINT or SIGTERM.\n\n"
		"Exit status: 0 stopped by a signal (or the export ended), 1 failure, 2 bad\n"
		"arguments, 4 HOST unreachable, 5 HOST refused.\n",
		MTP_MAX_STORAGES, PRIVDROP_USER, USBIP_DEFAULT_PORT);
}

struct serve_state {
	const struct serve_args *args;
	struct mtp_device *mdev;
	struct device_source *src;
	struct usbip_daemon *d;
	struct device_export_target to;
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

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "read-only", no_argument, NULL, 'R' },
		{ "name", required_argument, NULL, 'n' },
		{ "serial", required_argument, NULL, 's' },
		{ "busid", required_argument, NULL, 'b' },
		{ "address", required_argument, NULL, 'a' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "remote", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[PATH_MAX + 128];
	int c;

	while ((c = getopt_long(argc, argv, "d:Rn:s:b:a:46r:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			a->user = optarg;
			break;
		case 'd':
			if (a->num_dirs == MTP_MAX_STORAGES)
				return usbip_usage_error("serve-mtp", "at most %d --dir",
							 MTP_MAX_STORAGES);
			if (mtp_device_parse_dir(optarg, &a->dirs[a->num_dirs], err, sizeof(err)))
				return usbip_usage_error("serve-mtp", "%s", err);
			a->dir = a->dirs[0].dir;
			a->num_dirs++;
			break;
		case 's':
			a->serial = optarg;
			break;
		case 'R':
			a->read_only = true;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'b':
			a->busid = optarg;
			break;
		case 'a':
			a->address = optarg;
			break;
		case '4':
			a->family = USBIP_FAMILY_IPV4;
			break;
		case '6':
			a->family = USBIP_FAMILY_IPV6;
			break;
		case 'r':
			a->remote = optarg;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("serve-mtp", argv, opts);
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
	if (!usbip_busid_ok(a->busid))
		return usbip_usage_error("serve-mtp",
					 "--busid wants 1 to 31 printable characters, no spaces");
	if (a->name && strlen(a->name) > MTP_NAME_ARG_MAX)
		return usbip_usage_error("serve-mtp", "--name is longer than %d bytes",
					 MTP_NAME_ARG_MAX);
	if (a->remote && (a->address || a->family != USBIP_FAMILY_ANY))
		return usbip_usage_error("serve-mtp", "--remote does not listen: drop -a/-4/-6");
	return -1;
}

/* On the daemon's loop: the virtual device, then listening or exporting. */
static enum usbip_result on_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct serve_state *st = arg;
	const struct serve_args *a = st->args;
	struct vdev_source_options sopts = {
		.busid = a->busid, .path = st->path, .busnum = 1, .devnum = 2
	};
	enum usbip_result rc;
	uint32_t status;

	st->d = d;
	snprintf(st->path, sizeof(st->path), "/sys/devices/serve-mtp/%s", a->busid);
	st->src = vdev_source_new(loop, mtp_device_vdev(st->mdev), &sopts);
	st->change_watch = (struct ev_watch){
		.fd = mtp_device_watch_fd(st->mdev), .events = POLLIN, .cb = on_changes, .data = st
	};
	if (!st->src || (st->change_watch.fd >= 0 && ev_watch_add(loop, &st->change_watch) != 0)) {
		log_err("cannot set up the event loop");
		return USBIP_E_FAILED;
	}
	d->server.arg = st->src;
	if (!a->remote) {
		printf("serving %s as an MTP device: busid %s on port %u\n", a->dir, a->busid,
		       d->listen_port);
		fflush(stdout);
		return USBIP_OK;
	}
	rc = device_export(st->src, a->busid, &st->to, &status, NULL);
	if (rc != USBIP_OK)
		return rc;
	vdev_source_on_detach(st->src, on_export_ended, st);
	printf("serving %s as an MTP device, exported to %s as %s\n", a->dir, a->remote, a->busid);
	fflush(stdout);
	return USBIP_OK;
}

/* Stopped while exported: ask usbipa to detach the device first. */
static void on_stop(struct usbip_daemon *d, void *arg)
{
	struct serve_state *st = arg;
	uint32_t status;

	if (!st->args->remote || !vdev_source_attached(st->src))
		return;
	if (device_export_withdraw(st->src, st->args->busid, &st->to, &status) != USBIP_OK)
		log_warn("could not withdraw %s from %s", st->args->busid, st->args->remote);
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
			.port = usbip_opts.tcp_port,
			.tls = usbip_opts.tls,
			.timeout_ms = EXPORT_TIMEOUT_MS },
	};
	struct usbip_daemon d = {
		.name = "usbip serve-mtp",
		.listens = !a->remote,
		.family = a->family,
		.address = a->address,
		.port = usbip_opts.tcp_port,
		/* With --tls, listening takes the server side's certificate (--cert/--key). */
		.use_tls = usbip_opts.tls != NULL,
		.tls_options = usbip_opts.tls_options,
		.server = { .name = "usbip serve-mtp",
			    .requests = device_server_requests,
			    .handle = device_server_handle },
		.hooks = { .start = on_start, .stop = on_stop, .arg = &st },
		/* serve-mtp needs no root at all: as root, it gives it up before it reads. */
		.run_as = a->user ? a->user : privdrop_default_user(),
	};
	/* Its folders (the runner adds what TCP wrappers or the --remote's name take). */
	struct sandbox_path reach[MTP_MAX_STORAGES];
	enum usbip_result rc;
	struct stat sb;
	size_t i;

	for (i = 0; i < a->num_dirs; i++)
		reach[i] = (struct sandbox_path){ a->dirs[i].dir,
						  !a->read_only && !a->dirs[i].read_only };
	d.sandbox = reach;
	d.nsandbox = a->num_dirs;
	if (stat(a->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir,
			errno && !S_ISDIR(sb.st_mode) ? strerror(errno) : "not a directory");
		return USBIP_EXIT_FAILURE;
	}
	st.mdev = mtp_device_new(&mopts);
	if (!st.mdev) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir, strerror(errno));
		return USBIP_EXIT_FAILURE;
	}
	rc = daemon_run(&d);
	device_source_free(st.src);
	mtp_device_free(st.mdev);
	return usbip_exit_status(rc);
}

int usbip_serve_mtp(int argc, char **argv)
{
	struct serve_args a = { .busid = "1-1" };
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	return serve(&a);
}
