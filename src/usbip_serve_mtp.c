// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip serve-mtp: a directory served as a USB MTP device made in user
 * space, over USB/IP: listening like usbipd (so `usbip attach` imports it)
 * or, with --remote, exported to a usbipa.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/ev.h"
#include "daemon/process.h"
#include "mtp/mtp_device.h"
#include "net/tcp.h"
#include "source/vdev_server.h"
#include "util/log.h"
#include "usbip.h"

#define EXPORT_TIMEOUT_MS 10000

struct serve_args {
	const char *dir, *remote, *address, *busid, *name;
	enum usbip_family family;
	bool read_only;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip [-t PORT] serve-mtp --dir DIR [--read-only] [--name NAME]\n"
		"             [--busid BUSID] [-4|-6] [--address ADDR] [--remote HOST]\n\n"
		"Serves DIR as a USB MTP device (like a phone's storage) over USB/IP. No USB\n"
		"hardware and no kernel module are needed on this side.\n\n"
		"  -d, --dir DIR        the directory to serve (nothing outside it is touched)\n"
		"  -R, --read-only      refuse every change\n"
		"  -n, --name NAME      the device's friendly name (default serve-mtp)\n"
		"  -b, --busid BUSID    the busid to offer (default 1-1)\n"
		"  -a, --address ADDR   listen on this address only (default: all)\n"
		"  -4, -6               listen on IPv4 / IPv6 only\n"
		"  -r, --remote HOST    export to the usbipa on HOST instead of listening\n\n"
		"Listening (the default) on TCP port %s, or the global --tcp-port: any\n"
		"`usbip attach -r THISHOST -b BUSID` imports the device. Runs in the\n"
		"foreground until SIGINT or SIGTERM.\n\n"
		"Exit status: 0 stopped by a signal (or the export ended), 1 failure, 2 bad\n"
		"arguments, 4 HOST unreachable, 5 HOST refused.\n",
		USBIP_DEFAULT_PORT);
}

struct serve_state {
	struct ev_loop *loop;
	struct mtp_device *mdev;
	struct vdev_server *server;
	int stop_signal;
};

static void on_signal(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct serve_state *st = w->data;
	int sig = process_signalfd_read(w->fd);

	(void)revents;
	if (sig == SIGTERM || sig == SIGINT) {
		log_info("signal %d: stopping", sig);
		st->stop_signal = sig;
		ev_loop_stop(loop);
	}
}

static void on_changes(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct serve_state *st = w->data;

	(void)loop;
	(void)revents;
	mtp_device_process_changes(st->mdev);
}

static void on_export_ended(void *arg)
{
	struct serve_state *st = arg;

	log_info("the usbipa side detached the device");
	ev_loop_stop(st->loop);
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "read-only", no_argument, NULL, 'R' },
		{ "name", required_argument, NULL, 'n' },
		{ "busid", required_argument, NULL, 'b' },
		{ "address", required_argument, NULL, 'a' },
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "remote", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:Rn:b:a:46r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->dir = optarg;
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
			return usbip_bad_option("serve-mtp", argv);
		}
	}
	if (optind < argc)
		return usbip_usage_error("serve-mtp", "unexpected argument '%s'", argv[optind]);
	if (!a->dir)
		return usbip_usage_error("serve-mtp", "which directory? give --dir DIR");
	if (strlen(a->busid) >= USBIP_BUSID_SIZE || !*a->busid)
		return usbip_usage_error("serve-mtp", "--busid '%s' is not a busid", a->busid);
	if (a->name && strlen(a->name) > 100)
		return usbip_usage_error("serve-mtp", "--name is longer than 100 bytes");
	if (a->remote && (a->address || a->family != USBIP_FAMILY_ANY))
		return usbip_usage_error("serve-mtp", "--remote does not listen: drop -a/-4/-6");
	return -1;
}

static int serve(const struct serve_args *a)
{
	struct mtp_device_options mopts = { .dir = a->dir,
					    .read_only = a->read_only,
					    .name = a->name };
	char path[USBIP_PATH_SIZE];
	struct vdev_server_options sopts = {
		.busid = a->busid, .path = path, .busnum = 1, .devnum = 2
	};
	struct serve_state st = { 0 };
	struct usbip_tls *listen_tls = NULL;
	char err[256];
	struct ev_watch sig_watch, change_watch;
	int fds[USBIP_MAX_LISTEN], nfds = 0, rc = USBIP_EXIT_FAILURE, i;
	struct stat sb;

	if (stat(a->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir,
			errno && !S_ISDIR(sb.st_mode) ? strerror(errno) : "not a directory");
		return USBIP_EXIT_FAILURE;
	}
	/* With --tls, listening takes the server side's certificate (--cert/--key). */
	if (usbip_opts.tls && !a->remote) {
		listen_tls = usbip_tls_new(&usbip_opts.tls_options, true, err, sizeof(err));
		if (!listen_tls) {
			fprintf(stderr, "usbip serve-mtp: %s\n", err);
			return USBIP_EXIT_FAILURE;
		}
	}
	sopts.listen_tls = listen_tls;
	sopts.dial_tls = usbip_opts.tls;
	snprintf(path, sizeof(path), "/sys/devices/serve-mtp/%s", a->busid);
	st.mdev = mtp_device_new(&mopts);
	if (!st.mdev) {
		fprintf(stderr, "usbip serve-mtp: %s: %s\n", a->dir, strerror(errno));
		usbip_tls_free(listen_tls);
		return USBIP_EXIT_FAILURE;
	}
	st.loop = ev_loop_new();
	st.server = st.loop ? vdev_server_new(st.loop, mtp_device_vdev(st.mdev), &sopts) : NULL;
	sig_watch = (struct ev_watch){
		.fd = process_signalfd(), .events = POLLIN, .cb = on_signal, .data = &st
	};
	change_watch = (struct ev_watch){
		.fd = mtp_device_watch_fd(st.mdev), .events = POLLIN, .cb = on_changes, .data = &st
	};
	if (!st.server || sig_watch.fd < 0 || ev_watch_add(st.loop, &sig_watch) != 0 ||
	    (change_watch.fd >= 0 && ev_watch_add(st.loop, &change_watch) != 0)) {
		log_err("cannot set up the event loop");
		goto out;
	}
	if (a->remote) {
		uint32_t status;

		rc = vdev_server_export(st.server, a->remote, usbip_opts.tcp_port,
					EXPORT_TIMEOUT_MS, &status);
		if (rc != 0)
			goto out;
		vdev_server_on_detach(st.server, on_export_ended, &st);
		printf("serving %s as an MTP device, exported to %s as %s\n", a->dir, a->remote,
		       a->busid);
	} else {
		nfds = usbip_tcp_listen(a->address, usbip_opts.tcp_port, a->family, fds,
					USBIP_MAX_LISTEN);
		if (nfds < 0)
			goto out;
		if (vdev_server_listen(st.server, fds, nfds) != 0) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			goto out;
		}
		printf("serving %s as an MTP device: busid %s on port %s\n", a->dir, a->busid,
		       usbip_opts.tcp_port);
	}
	fflush(stdout);
	rc = ev_loop_run(st.loop) == 0 ? USBIP_EXIT_OK : USBIP_EXIT_FAILURE;
	if (a->remote && st.stop_signal && vdev_server_attached(st.server)) {
		uint32_t status;

		/* Stopped while attached there: ask usbipa to detach it first. */
		if (vdev_server_unexport(st.server, a->remote, usbip_opts.tcp_port,
					 EXPORT_TIMEOUT_MS, &status) != 0)
			log_warn("could not withdraw %s from %s", a->busid, a->remote);
	}
out:
	vdev_server_free(st.server);
	ev_loop_free(st.loop);
	mtp_device_free(st.mdev);
	usbip_tls_free(listen_tls);
	if (sig_watch.fd >= 0)
		close(sig_watch.fd);
	return rc;
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
