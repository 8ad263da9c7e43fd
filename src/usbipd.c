// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipd: the device-side daemon. Answers OP_REQ_DEVLIST with the devices
 * bound to usbip-host and OP_REQ_IMPORT by handing the connection to the
 * device's stub, then replying.
 */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "event_loop.h"
#include "host_driver.h"
#include "log.h"
#include "op_server.h"
#include "transport_tcp.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipd.pid"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipd [options]\n\n"
		"Serves the devices bound to usbip-host (see 'usbip bind') to 'usbip attach'.\n\n"
		"  -4, --ipv4            listen on IPv4 only\n"
		"  -6, --ipv6            listen on IPv6 only\n"
		"  -a, --address ADDR    listen on this address only (default: all)\n"
		"  -t, --tcp-port PORT   listen on PORT (default %s)\n"
		"  -D, --daemon          run in the background, logging to syslog\n"
		"  -P, --pid[=FILE]      write a pid file (default %s)\n"
		"  -d, --debug           print debugging messages\n"
		"  -h, --help            show this help\n"
		"  -v, --version         show the version\n",
		USBIP_DEFAULT_PORT, DEFAULT_PID_FILE);
}

static void fill_devlist(struct usbip_devlist *list, struct usbip_local_device *devs, size_t n)
{
	size_t i;

	list->count = 0;
	list->entries = calloc(n ? n : 1, sizeof(*list->entries));
	if (!list->entries)
		return;
	/* Like the kernel's usbipd: a device in use is not offered. */
	for (i = 0; i < n && list->count < USBIP_MAX_DEVLIST; i++)
		if (devs[i].stub_status == USBIP_STUB_AVAILABLE)
			list->entries[list->count++] = devs[i].info;
}

static void handle_devlist(struct op_session *session)
{
	struct usbip_local_device *devs = NULL;
	struct usbip_devlist list = { 0, NULL };
	size_t n = 0;

	if (usbip_host_list(&devs, &n, true) == 0)
		fill_devlist(&list, devs, n);
	free(devs);
	if (!list.entries) {
		op_session_reply(session, USBIP_OP_REP_DEVLIST, USBIP_ST_ERROR, NULL);
		return;
	}
	log_info("%s: listed %u exportable devices", op_session_conn(session)->peer, list.count);
	op_session_reply_devlist(session, &list);
	usbip_devlist_free(&list);
}

static void handle_import(struct op_session *session, const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_local_device dev;
	struct usbip_wire_error err;
	char busid[USBIP_BUSID_SIZE];
	enum usbip_op_status status;

	if (usbip_decode_import_request(req->body, req->body_len, busid, &err) != 0) {
		log_warn("%s: bad import request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	/* The stub takes the socket first; the reply follows on it, as in the kernel tools. */
	status = usbip_host_export(busid, usbip_conn_kernel_fd(conn), &dev);
	if (status != USBIP_ST_OK) {
		log_warn("%s: import of %s refused: %s", conn->peer, busid,
			 usbip_op_status_str(status));
		op_session_reply(session, USBIP_OP_REP_IMPORT, status, NULL);
		return;
	}
	log_info("%s: imported %s (%04x:%04x)", conn->peer, busid, dev.info.udev.id_vendor,
		 dev.info.udev.id_product);
	op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_OK, &dev.info.udev);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	(void)arg;
	if (req->hdr.code == USBIP_OP_REQ_DEVLIST)
		handle_devlist(session);
	else
		handle_import(session, req);
}

static void on_signal(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	int sig = usbip_signalfd_read(w->fd);

	if (sig == SIGTERM || sig == SIGINT) {
		log_info("signal %d: shutting down", sig);
		ev_loop_stop(loop);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ipv4", no_argument, NULL, '4' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "address", required_argument, NULL, 'a' },
		{ "tcp-port", required_argument, NULL, 't' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pid", optional_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t served[] = { USBIP_OP_REQ_DEVLIST, USBIP_OP_REQ_IMPORT, 0 };
	enum usbip_family family = USBIP_FAMILY_ANY;
	const char *port = USBIP_DEFAULT_PORT, *address = NULL, *pid_file = NULL;
	bool daemonize = false;
	struct op_server_config config = { .name = "usbipd",
					   .requests = served,
					   .handle = handle_request };
	struct ev_watch sig_watch;
	struct op_server *server;
	struct ev_loop *loop;
	int fds[USBIP_MAX_LISTEN], nfds, i, c, rc = 1;

	usbip_log_init("usbipd", false);
	while ((c = getopt_long(argc, argv, "46a:t:DP::dhv", opts, NULL)) != -1) {
		switch (c) {
		case '4':
			family = USBIP_FAMILY_IPV4;
			break;
		case '6':
			family = USBIP_FAMILY_IPV6;
			break;
		case 'a':
			address = optarg;
			break;
		case 't':
			port = optarg;
			break;
		case 'D':
			daemonize = true;
			break;
		case 'P':
			/* Accept "-P FILE" as well as "-PFILE" and "--pid=FILE". */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			pid_file = optarg ? optarg : DEFAULT_PID_FILE;
			break;
		case 'd':
			usbip_log_set_debug(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("usbipd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usbipd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* Not fatal: the module may be loaded later, and until then the list is empty. */
	if (!usbip_host_driver_loaded())
		log_warn("serving an empty device list until usbip-host is loaded");
	nfds = usbip_tcp_listen(address, port, family, fds, USBIP_MAX_LISTEN);
	if (nfds < 0)
		return 1;
	if (daemonize) {
		usbip_log_init("usbipd", true);
		if (usbip_daemonize() != 0)
			return 1;
	}
	if (pid_file && usbip_pidfile_write(pid_file) != 0)
		return 1;

	loop = ev_loop_new();
	server = loop ? op_server_new(loop, &config) : NULL;
	sig_watch = (struct ev_watch){ .fd = usbip_signalfd(), .events = POLLIN, .cb = on_signal };
	if (!server || sig_watch.fd < 0 || ev_watch_add(loop, &sig_watch) != 0) {
		log_err("cannot set up the event loop");
		goto out;
	}
	for (i = 0; i < nfds; i++)
		if (op_server_listen(server, fds[i]) != 0)
			goto out;
	log_info("usbipd %s ready", PACKAGE_VERSION);
	usbip_daemon_ready();
	rc = ev_loop_run(loop) == 0 ? 0 : 1;
out:
	op_server_free(server);
	ev_loop_free(loop);
	usbip_pidfile_remove(pid_file);
	return rc;
}
