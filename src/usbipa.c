// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa: the application-side daemon of connect mode. Device-side nodes
 * dial in with 'usbip connect' (OP_REQ_EXPORT); usbipa checks its policy,
 * replies, and only then hands the connection to a free vhci-hcd port, so
 * that vhci's first URB cannot overtake the reply. OP_REQ_UNEXPORT detaches.
 *
 * This file is the network process: it reads the requests, checks the
 * policy and replies, as the unprivileged user; what needs root is asked
 * of the privileged process (usbipa_vhci.c, requests in usbipa.h).
 */
#include "config.h"

#include "usbipa.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mdns.h"
#include "exit_status.h"
#include "kernel/vhci.h"
#include "net/tls.h"
#include "util/log.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipa.pid"

struct usbipa {
	struct usbip_policy policy;
	bool nothing_allowed; /* no allow-list, no --allow-subject, no --allow-any */
	struct privsep *priv; /* to the privileged process */
	/* --max-imports, --drain: the privileged process's rules (daemon/capacity.h). */
	struct capacity capacity;
};

/* usbipa's option codes past the daemon's (daemon.h). */
enum { USBIPA_OPT_MAX_IMPORTS = 0x1200, USBIPA_OPT_DRAIN };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipa [options]\n\n"
		"Accepts devices exported with 'usbip connect' and attaches them to vhci-hcd.\n\n"
		"      --allow-device VID:PID[:SERIAL]  accept only these devices (repeatable)\n"
		"      --allow-host ADDR[/PREFIX]       accept only these peers "
		"(repeatable)\n"
		"      --allow-any                      accept any device from any host\n"
		"  (none of these, nor --allow-subject: every export is refused; a device\n"
		"  with a keyboard interface needs an --allow-device rule naming "
		"it)\n"
		"      --max-imports N                  take at most N devices; a full usbipa\n"
		"                                       answers status 2 (no free port), and the\n"
		"                                       node goes on to its next host at once\n"
		"      --drain                          start draining (SIGUSR1 starts and ends\n"
		"                                       it): refuse new exports, move the devices\n"
		"                                       to their nodes' other hosts one by "
		"one\n" USBIP_DAEMON_OPTIONS_HELP USBIP_DAEMON_METRICS_HELP
			USBIP_DAEMON_ANNOUNCE_HELP "  -h, --help            show this help\n"
		"  -v, --version         show the version\n\n"
		"The default pid file is %s.\n",
		DEFAULT_PID_FILE);
}

/* How a peer's bytes come: TLS's datapath, else the socket's kind (--listen unix:, vsock:). */
static const char *transport_of(struct usbip_conn *conn)
{
	const char *datapath = tls_datapath(conn);

	if (datapath)
		return strcmp(datapath, "ktls") == 0 ? "tls, ktls" : "tls, relay";
	switch (conn->peer_addr.ss_family) {
	case AF_UNIX:
		return "unix";
	case AF_VSOCK:
		return "vsock";
	}
	return "tcp";
}

/* Who asks, for the privileged process. */
static void describe_peer(struct usbip_conn *conn, struct usbipa_peer *peer)
{
	const char *colon = strrchr(conn->peer, ':');

	memset(peer, 0, sizeof(*peer));
	snprintf(peer->name, sizeof(peer->name), "%s", conn->peer);
	snprintf(peer->host, sizeof(peer->host), "%s", conn->peer_host);
	snprintf(peer->service, sizeof(peer->service), "%s", colon ? colon + 1 : "0");
	tls_peer_subject(conn, peer->subject, sizeof(peer->subject));
	snprintf(peer->transport, sizeof(peer->transport), "%s", transport_of(conn));
}

/* An export status from the privileged process; refused if it cannot say. */
static uint32_t ask_status(struct usbipa *d, uint16_t type, const void *req, size_t len)
{
	struct usbipa_status_reply rep = { 0 };

	if (privsep_call(d->priv, type, req, len, -1, &rep, sizeof(rep), NULL) !=
	    (ssize_t)sizeof(rep))
		return USBIP_EXPORT_ST_NOT_ACCEPTED;
	return rep.status;
}

static void handle_export(struct usbipa *d, struct op_session *session,
			  const struct op_request *req)
{
	struct usbip_conn *conn = op_server_session_conn(session);
	struct usbipa_accept_request accept;
	struct usbipa_attach_request attach;
	struct usbipa_port_reply port = { -1 };
	struct usbip_error err;
	char esc[LOG_ESCAPED_SIZE(USBIP_SERIAL_SIZE)];
	uint32_t status;
	int fd;

	memset(&accept, 0, sizeof(accept));
	if (usbip_proto_decode_device(req->body, req->body_len, &accept.udev, &err) != 0) {
		log_warn("%s: bad export request: %s", conn->peer, err.msg);
		op_server_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
					NULL);
		return;
	}
	if (!policy_allows_device(&d->policy, &accept.udev)) {
		log_warn("%s: refused device %s %04x:%04x%s%s: not in the allowed devices",
			 conn->peer, accept.udev.busid, accept.udev.id_vendor,
			 accept.udev.id_product, accept.udev.serial[0] ? " serial " : "",
			 log_escape(esc, sizeof(esc), accept.udev.serial));
		op_server_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
					NULL);
		return;
	}
	if (accept.udev.speed == USBIP_SPEED_UNKNOWN ||
	    accept.udev.speed > USBIP_SPEED_SUPER_PLUS) {
		log_warn("%s: refused %s: unknown speed", conn->peer, accept.udev.busid);
		op_server_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
					NULL);
		return;
	}
	describe_peer(conn, &accept.peer);
	status = ask_status(d, USBIPA_ACCEPT, &accept, sizeof(accept));
	op_server_session_reply(session, USBIP_OP_REP_EXPORT, status, NULL);
	if (status != USBIP_EXPORT_ST_OK)
		return;
	/* Replied first, then attached: see the comment at the top. */
	conn = op_server_session_take_conn(session);
	if (!conn)
		return;
	/* The same peer: its data path was settled by the handshake. */
	attach.udev = accept.udev;
	attach.peer = accept.peer;
	fd = usbip_conn_kernel_fd(conn);
	if (fd >= 0)
		privsep_call(d->priv, USBIPA_ATTACH, &attach, sizeof(attach), fd, &port,
			     sizeof(port), NULL);
	if (port.port < 0)
		log_err("%s: %s was accepted but not attached", conn->peer, attach.udev.busid);
	conn_close(conn);
}

static void handle_unexport(struct usbipa *d, struct op_session *session,
			    const struct op_request *req)
{
	struct usbip_conn *conn = op_server_session_conn(session);
	struct usbipa_unexport_request unexport;
	struct usbip_usb_device udev;
	struct usbip_error err;

	if (usbip_proto_decode_device(req->body, req->body_len, &udev, &err) != 0) {
		log_warn("%s: bad unexport request: %s", conn->peer, err.msg);
		op_server_session_reply(session, USBIP_OP_REP_UNEXPORT,
					USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	memset(&unexport, 0, sizeof(unexport));
	snprintf(unexport.busid, sizeof(unexport.busid), "%s", udev.busid);
	describe_peer(conn, &unexport.peer);
	op_server_session_reply(session, USBIP_OP_REP_UNEXPORT,
				ask_status(d, USBIPA_UNEXPORT, &unexport, sizeof(unexport)), NULL);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	struct usbipa *d = arg;
	struct usbip_conn *conn = op_server_session_conn(session);
	uint16_t reply =
		req->hdr.code == USBIP_OP_REQ_EXPORT ? USBIP_OP_REP_EXPORT : USBIP_OP_REP_UNEXPORT;

	if (d->nothing_allowed) {
		log_warn("%s: refused: nothing is allowed (start usbipa with --allow-device, "
			 "--allow-host, --allow-subject or --allow-any)",
			 conn->peer);
		op_server_session_reply(session, reply, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (!policy_allows_peer(&d->policy, (struct sockaddr *)&conn->peer_addr)) {
		log_warn("%s: refused: not an allowed host", conn->peer);
		op_server_session_reply(session, reply, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (req->hdr.code == USBIP_OP_REQ_EXPORT)
		handle_export(d, session, req);
	else
		handle_unexport(d, session, req);
}

static enum usbip_result on_network_start(struct usbip_daemon *daemon)
{
	struct usbipa *d = daemon->server.arg;

	d->priv = daemon->priv;
	return USBIP_OK;
}

/* --max-imports N: 1 to what vhci-hcd could ever have. */
static int capacity_option(int opt, const char *arg, struct usbipa *state, char *err,
			   size_t err_len)
{
	char *end;
	unsigned long n;

	if (opt == USBIPA_OPT_DRAIN) {
		state->capacity.draining = true;
		return 1;
	}
	n = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || n < 1 || n > USBIP_VHCI_MAX_PORTS) {
		snprintf(err, err_len, "--max-imports wants a number from 1 to %d, not '%s'",
			 USBIP_VHCI_MAX_PORTS, arg);
		return -1;
	}
	state->capacity.max_imports = (unsigned)n;
	return 1;
}

/* usbipa's own options: the allow-lists, the capacity. */
static int policy_option(int opt, const char *arg, void *ctx, char *err, size_t err_len)
{
	struct usbipa *state = ctx;
	char why[160];

	if (opt == USBIPA_OPT_MAX_IMPORTS || opt == USBIPA_OPT_DRAIN)
		return capacity_option(opt, arg, state, err, err_len);
	if (opt == 'A' && policy_add_device(&state->policy, arg, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "--allow-device: %s", why);
		return -1;
	}
	if (opt == 'H' && policy_add_network(&state->policy, arg, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "--allow-host: %s", why);
		return -1;
	}
	if (opt == 'Y')
		state->policy.allow_any = true;
	return opt == 'A' || opt == 'H' || opt == 'Y';
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-device", required_argument, NULL, 'A' },
		{ "allow-host", required_argument, NULL, 'H' },
		{ "allow-any", no_argument, NULL, 'Y' },
		{ "max-imports", required_argument, NULL, USBIPA_OPT_MAX_IMPORTS },
		{ "drain", no_argument, NULL, USBIPA_OPT_DRAIN },
		USBIP_DAEMON_LONG_OPTIONS,
		USBIP_DAEMON_METRICS_OPTION,
		USBIP_DAEMON_ANNOUNCE_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t served[] = { USBIP_OP_REQ_EXPORT, USBIP_OP_REQ_UNEXPORT, 0 };
	static struct usbipa state;
	struct privsep_table privsep = { usbipa_vhci_ops, usbipa_vhci_nops, NULL };
	struct usbip_daemon d = {
		.name = "usbipa",
		.default_pid_file = DEFAULT_PID_FILE,
		.listens = true,
		.server = { .name = "usbipa",
			    .requests = served,
			    .handle = handle_request,
			    .arg = &state },
		.status_name = "usbipa",
		.announce_type = MDNS_TYPE_USBIPA,
		.privsep = DAEMON_PRIVSEP_PARENT_SERVES,
		.privsep_table = &privsep,
		.network_start = on_network_start,
	};
	struct usbipa_vhci *vhci;
	enum usbip_result rc;
	int exit_code;

	log_init("usbipa", false);
	exit_code = exit_status_for_args(
		daemon_parse_args(&d, argc, argv, opts, usage, policy_option, &state));
	if (exit_code >= 0)
		return exit_code;
	vhci = usbipa_vhci_new(&state.policy, &state.capacity);
	if (!vhci) {
		log_err("out of memory");
		return USBIP_EXIT_FAILURE;
	}
	privsep.arg = vhci;
	d.hooks = (struct daemon_hooks){ .start = usbipa_vhci_start,
					 .stop = usbipa_vhci_stop,
					 .status = usbipa_vhci_status,
					 .metrics = usbipa_vhci_metrics,
					 .give_up = usbipa_vhci_toggle_drain,
					 .arg = vhci };
	/* Nothing allowed is nothing accepted: a node must not push a keyboard in unasked. */
	state.nothing_allowed = !state.policy.nnetworks && !state.policy.ndevices &&
				!d.tls_options.nsubjects && !state.policy.allow_any &&
				!d.listen.creds.nuids && !d.listen.creds.ngids;
	if (state.nothing_allowed)
		log_warn("no --allow-device, --allow-host, --allow-subject, --allow-uid, "
			 "--allow-gid "
			 "or --allow-any: every export is refused");
	else if (state.policy.allow_any && !state.policy.nnetworks && !state.policy.ndevices)
		log_warn("--allow-any: accepting any device from any host (keyboards only by an "
			 "--allow-device rule)");
	rc = daemon_run(&d);
	policy_free(&state.policy);
	usbipa_vhci_free(vhci);
	return exit_status(rc);
}
