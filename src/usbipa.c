// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa: the application-side daemon of connect mode. Device-side nodes
 * dial in with 'usbip connect' (OP_REQ_EXPORT); usbipa checks its policy,
 * replies, and only then hands the connection to a free vhci-hcd port, so
 * that vhci's first URB cannot overtake the reply. OP_REQ_UNEXPORT detaches.
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
#include "log.h"
#include "op_server.h"
#include "policy.h"
#include "transport_tcp.h"
#include "vhci_driver.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipa.pid"

struct usbipa {
	struct usbip_policy policy;
	/* Ports this process attached: detached again when it stops. */
	bool *ours;
	unsigned nports;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipa [options]\n\n"
		"Accepts devices exported with 'usbip connect' and attaches them to vhci-hcd.\n\n"
		"  --allow-device VID:PID[:SERIAL]  accept only these devices (repeatable)\n"
		"  --allow-host ADDR[/PREFIX]       accept only these peers (repeatable)\n"
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

static bool peer_port(struct usbip_conn *conn, char *buf, size_t len)
{
	const char *colon = strrchr(conn->peer, ':');

	snprintf(buf, len, "%s", colon ? colon + 1 : "0");
	return colon != NULL;
}

static void handle_export(struct usbipa *d, struct op_session *session,
			  const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_vhci_record rec;
	struct usbip_usb_device udev;
	struct usbip_wire_error err;
	struct usbip_vhci vhci;
	int port, free_port;

	if (usbip_decode_device(req->body, req->body_len, &udev, &err) != 0) {
		log_warn("%s: bad export request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	if (!policy_allows_device(&d->policy, &udev)) {
		log_warn("%s: refused device %s %04x:%04x%s%s: not in the allowed devices",
			 conn->peer, udev.busid, udev.id_vendor, udev.id_product,
			 udev.serial[0] ? " serial " : "", udev.serial);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_DENIED, NULL);
		return;
	}
	if (udev.speed == USBIP_SPEED_UNKNOWN) {
		log_warn("%s: refused %s: unknown speed", conn->peer, udev.busid);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	if (usbip_vhci_open(&vhci) != 0) {
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	free_port = usbip_vhci_free_port(&vhci, udev.speed);
	usbip_vhci_close(&vhci);
	if (free_port < 0) {
		log_warn("%s: refused %s: no free vhci port for its speed (%s)", conn->peer,
			 udev.busid, usbip_speed_str(udev.speed));
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_NO_PORT, NULL);
		return;
	}
	/* Reply first, then attach: see the comment at the top. */
	op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_ST_OK, NULL);
	conn = op_session_take_conn(session);
	if (!conn)
		return;
	port = usbip_vhci_attach(&udev, usbip_conn_kernel_fd(conn));
	if (port < 0) {
		/* The device side sees the connection close and may try again. */
		log_err("%s: could not attach %s after accepting it", conn->peer, udev.busid);
		usbip_conn_close(conn);
		return;
	}
	snprintf(rec.host, sizeof(rec.host), "%s", conn->peer_host);
	peer_port(conn, rec.service, sizeof(rec.service));
	snprintf(rec.busid, sizeof(rec.busid), "%s", udev.busid);
	usbip_vhci_record_write((unsigned)port, &rec);
	if ((unsigned)port < d->nports)
		d->ours[port] = true;
	log_info("%s: attached %s (%04x:%04x%s%s) to port %d", conn->peer, udev.busid,
		 udev.id_vendor, udev.id_product, udev.serial[0] ? ", serial " : "", udev.serial,
		 port);
	usbip_conn_close(conn);
}

static void handle_unexport(struct usbipa *d, struct op_session *session,
			    const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_usb_device udev;
	struct usbip_wire_error err;
	struct usbip_vhci vhci;
	unsigned i;
	int found = -1;

	if (usbip_decode_device(req->body, req->body_len, &udev, &err) != 0) {
		log_warn("%s: bad unexport request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	if (usbip_vhci_open(&vhci) != 0) {
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	/* Only the host that exported a device may withdraw it. */
	for (i = 0; i < vhci.nports && found < 0; i++) {
		struct usbip_vhci_record rec;

		if (vhci.ports[i].status != USBIP_VDEV_NULL &&
		    usbip_vhci_record_read(i, &rec) == 0 &&
		    strcmp(rec.host, conn->peer_host) == 0 && strcmp(rec.busid, udev.busid) == 0)
			found = (int)i;
	}
	usbip_vhci_close(&vhci);
	if (found < 0) {
		log_warn("%s: unexport of %s: not attached from this host", conn->peer, udev.busid);
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_ST_NODEV, NULL);
		return;
	}
	if (usbip_vhci_detach((unsigned)found) != 0) {
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	if ((unsigned)found < d->nports)
		d->ours[found] = false;
	log_info("%s: detached %s from port %d", conn->peer, udev.busid, found);
	op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_ST_OK, NULL);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	struct usbipa *d = arg;
	struct usbip_conn *conn = op_session_conn(session);
	uint16_t reply =
		req->hdr.code == USBIP_OP_REQ_EXPORT ? USBIP_OP_REP_EXPORT : USBIP_OP_REP_UNEXPORT;

	if (!policy_allows_peer(&d->policy, (struct sockaddr *)&conn->peer_addr)) {
		log_warn("%s: refused: not an allowed host", conn->peer);
		op_session_reply(session, reply, USBIP_ST_DENIED, NULL);
		return;
	}
	if (req->hdr.code == USBIP_OP_REQ_EXPORT)
		handle_export(d, session, req);
	else
		handle_unexport(d, session, req);
}

/* On the way out, the devices we attached are detached, so their nodes notice. */
static void detach_ours(struct usbipa *d)
{
	struct usbip_vhci vhci;
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < d->nports; i++) {
		if (d->ours[i] && vhci.ports[i].status != USBIP_VDEV_NULL) {
			log_info("detaching port %u", i);
			usbip_vhci_detach(i);
		}
	}
	usbip_vhci_close(&vhci);
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
		{ "allow-device", required_argument, NULL, 'A' },
		{ "allow-host", required_argument, NULL, 'H' },
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
	static const uint16_t served[] = { USBIP_OP_REQ_EXPORT, USBIP_OP_REQ_UNEXPORT, 0 };
	enum usbip_family family = USBIP_FAMILY_ANY;
	const char *port = USBIP_DEFAULT_PORT, *address = NULL, *pid_file = NULL;
	struct usbipa d;
	struct op_server_config config = {
		.name = "usbipa", .requests = served, .handle = handle_request, .arg = &d
	};
	bool daemonize = false;
	struct ev_watch sig_watch;
	struct op_server *server = NULL;
	struct ev_loop *loop = NULL;
	struct usbip_vhci vhci;
	int fds[USBIP_MAX_LISTEN], nfds, i, c, rc = 1;
	char err[160];

	memset(&d, 0, sizeof(d));
	usbip_log_init("usbipa", false);
	while ((c = getopt_long(argc, argv, "46a:t:DP::dhv", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			if (policy_add_device(&d.policy, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "usbipa: --allow-device: %s\n", err);
				return 2;
			}
			break;
		case 'H':
			if (policy_add_network(&d.policy, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "usbipa: --allow-host: %s\n", err);
				return 2;
			}
			break;
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
			printf("usbipa (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usbipa: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* Not fatal: the module may be loaded later; until then exports are refused. */
	if (usbip_vhci_open(&vhci) == 0) {
		d.nports = vhci.nports;
		usbip_vhci_close(&vhci);
	} else {
		log_warn("refusing exports until vhci-hcd is loaded");
		d.nports = USBIP_VHCI_MAX_PORTS;
	}
	d.ours = calloc(d.nports, sizeof(*d.ours));
	if (!d.ours)
		return 1;
	if (!d.policy.nnetworks)
		log_warn("no --allow-host: accepting exports from any host");
	if (!d.policy.ndevices)
		log_warn("no --allow-device: accepting any device");
	nfds = usbip_tcp_listen(address, port, family, fds, USBIP_MAX_LISTEN);
	if (nfds < 0)
		goto out;
	if (daemonize) {
		usbip_log_init("usbipa", true);
		if (usbip_daemonize() != 0)
			goto out;
	}
	if (pid_file && usbip_pidfile_write(pid_file) != 0)
		goto out;

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
	log_info("usbipa %s ready", PACKAGE_VERSION);
	usbip_daemon_ready();
	rc = ev_loop_run(loop) == 0 ? 0 : 1;
	detach_ours(&d);
out:
	op_server_free(server);
	ev_loop_free(loop);
	usbip_pidfile_remove(pid_file);
	policy_free(&d.policy);
	free(d.ours);
	return rc;
}
