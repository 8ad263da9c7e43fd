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
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/policy.h"
#include "exit_status.h"
#include "kernel/host.h"
#include "kernel/sysfs.h"
#include "kernel/usb_monitor.h"
#include "kernel/vhci.h"
#include "net/tls.h"
#include "util/log.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipa.pid"

struct usbipa {
	struct usbip_policy policy;
	/* Ports this process attached: detached again when it stops. */
	bool *ours;
	long long *since;     /* when each was attached (wall clock) */
	char (*subject)[256]; /* the exporter's certificate subject, "" for none */
	const char **transport;
	unsigned nports;
	bool nothing_allowed; /* no allow-list, no --allow-subject, no --allow-any */
	struct usb_monitor *monitor;
	struct ev_watch monitor_watch;
	/*
	 * The gate: while an export it accepted enumerates, new vhci devices
	 * arrive unauthorized (usbip_vhci_gate), so that no driver has it
	 * before its interfaces are looked at. Open again once every such
	 * port was looked at, or after GATE_MAX_MS whatever happened.
	 */
	bool *pending; /* ports whose device has not been looked at yet */
	bool gate_closed;
	long long gate_deadline;
	struct ev_watch gate_timer;
};

#define GATE_MAX_MS 15000
/*
 * How often pending ports are looked at besides the udev events: those do
 * not reach a usbipa in a network namespace of its own (uevents are per
 * namespace), and the look must not depend on them.
 */
#define GATE_POLL_MS 200

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
		"it)\n" USBIP_DAEMON_OPTIONS_HELP "  -h, --help            show this help\n"
		"  -v, --version         show the version\n\n"
		"The default pid file is %s.\n",
		DEFAULT_PID_FILE);
}

static bool peer_port(struct usbip_conn *conn, char *buf, size_t len)
{
	const char *colon = strrchr(conn->peer, ':');

	snprintf(buf, len, "%s", colon ? colon + 1 : "0");
	return colon != NULL;
}

static bool any_pending(const struct usbipa *d)
{
	unsigned i;

	for (i = 0; i < d->nports; i++)
		if (d->pending[i])
			return true;
	return false;
}

static void gate_close(struct usbipa *d)
{
	if (!d->gate_closed && usbip_vhci_gate(true) == 0)
		d->gate_closed = true;
	if (!d->gate_closed)
		log_warn("cannot hold new vhci devices for a look: keyboards are not checked");
	d->gate_deadline = ev_now_ms() + GATE_MAX_MS;
	d->gate_timer.deadline_ms = ev_now_ms() + GATE_POLL_MS;
}

/*
 * Every device on vhci that is still unauthorized and not one of ours
 * waiting for a look: one a usbipa that died left behind, or one that
 * arrived while the gate was closed and whose event went by.
 */
static void sweep(struct usbipa *d)
{
	struct usbip_vhci vhci;
	char path[128], value[8];
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++) {
		const char *b = vhci.ports[i].local_busid;

		if (vhci.ports[i].status == USBIP_VDEV_NULL || !b[0] || strcmp(b, "0-0") == 0 ||
		    (i < d->nports && d->pending[i]))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/authorized", b);
		if (sysfs_read_attr(path, value, sizeof(value)) == 0 && value[0] == '0')
			usbip_vhci_authorize(b);
	}
	usbip_vhci_close(&vhci);
}

static void gate_open(struct usbipa *d)
{
	if (d->gate_closed && usbip_vhci_gate(false) == 0)
		d->gate_closed = false;
	d->gate_timer.deadline_ms = 0;
	sweep(d);
}

/*
 * A node exports a device that is still attached here from that node: its
 * old connection died without this side noticing yet (a node that
 * rebooted, a network that dropped it). The new connection takes over.
 */
static void replace_stale_import(struct usbipa *d, const struct usbip_vhci *vhci,
				 const struct usbip_conn *conn, const struct usbip_usb_device *udev)
{
	struct usbip_vhci_record rec;
	unsigned i;

	for (i = 0; i < vhci->nports; i++) {
		if (vhci->ports[i].status == USBIP_VDEV_NULL ||
		    usbip_vhci_record_read(i, &rec) != 0 ||
		    strcmp(rec.host, conn->peer_host) != 0 || strcmp(rec.busid, udev->busid) != 0)
			continue;
		log_info("%s: %s is still attached from there on port %u: replacing that stale "
			 "import",
			 conn->peer, udev->busid, i);
		if (usbip_vhci_detach(i) == 0 && i < d->nports)
			d->ours[i] = false;
	}
}

static void handle_export(struct usbipa *d, struct op_session *session,
			  const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_vhci_record rec;
	struct usbip_usb_device udev;
	struct usbip_wire_error err;
	struct usbip_vhci vhci;
	char esc[LOG_ESCAPED_SIZE(USBIP_SERIAL_SIZE)];
	const char *transport;
	int port, free_port;

	if (usbip_decode_device(req->body, req->body_len, &udev, &err) != 0) {
		log_warn("%s: bad export request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (!policy_allows_device(&d->policy, &udev)) {
		log_warn("%s: refused device %s %04x:%04x%s%s: not in the allowed devices",
			 conn->peer, udev.busid, udev.id_vendor, udev.id_product,
			 udev.serial[0] ? " serial " : "", udev.serial);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (udev.speed == USBIP_SPEED_UNKNOWN) {
		log_warn("%s: refused %s: unknown speed", conn->peer, udev.busid);
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (usbip_vhci_open(&vhci) != 0) {
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	replace_stale_import(d, &vhci, conn, &udev);
	usbip_vhci_close(&vhci);
	if (usbip_vhci_open(&vhci) != 0) {
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	free_port = usbip_vhci_free_port(&vhci, udev.speed);
	usbip_vhci_close(&vhci);
	if (free_port < 0) {
		log_warn("%s: refused %s: no free vhci port for its speed (%s)", conn->peer,
			 udev.busid, usbip_speed_str(udev.speed));
		op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_NO_PORT, NULL);
		return;
	}
	/* Reply first, then attach: see the comment at the top. */
	op_session_reply(session, USBIP_OP_REP_EXPORT, USBIP_EXPORT_ST_OK, NULL);
	transport = usbip_tls_datapath(conn)
			    ? (strcmp(usbip_tls_datapath(conn), "ktls") == 0 ? "tls, ktls"
									     : "tls, relay")
			    : "tcp";
	conn = op_session_take_conn(session);
	if (!conn)
		return;
	gate_close(d);
	port = usbip_vhci_attach(&udev, usbip_conn_kernel_fd(conn));
	if (port >= 0 && (unsigned)port < d->nports)
		d->pending[port] = true;
	else if (!any_pending(d))
		gate_open(d);
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
	if ((unsigned)port < d->nports) {
		d->ours[port] = true;
		d->since[port] = (long long)time(NULL);
		d->transport[port] = transport;
		usbip_tls_peer_subject(conn, d->subject[port], sizeof(d->subject[port]));
	}
	log_info("%s: attached %s (%04x:%04x%s%s) to port %d", conn->peer, udev.busid,
		 udev.id_vendor, udev.id_product, udev.serial[0] ? ", serial " : "",
		 log_escape(esc, sizeof(esc), udev.serial), port);
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
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
				 NULL);
		return;
	}
	if (usbip_vhci_open(&vhci) != 0) {
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
				 NULL);
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
	/*
	 * Exported with a client certificate: only the same certificate may
	 * withdraw it, not anyone who shares the node's address (NAT).
	 */
	if (found >= 0 && (unsigned)found < d->nports && d->subject[found][0]) {
		char subject[256], by[LOG_ESCAPED_SIZE(256)], asker[LOG_ESCAPED_SIZE(256)];

		usbip_tls_peer_subject(conn, subject, sizeof(subject));
		if (strcmp(subject, d->subject[found]) != 0) {
			log_warn("%s: unexport of %s refused: exported by %s, asked by %s",
				 conn->peer, udev.busid,
				 log_escape(by, sizeof(by), d->subject[found]),
				 subject[0] ? log_escape(asker, sizeof(asker), subject)
					    : "no certificate");
			usbip_vhci_close(&vhci);
			op_session_reply(session, USBIP_OP_REP_UNEXPORT,
					 USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
			return;
		}
	}
	usbip_vhci_close(&vhci);
	if (found < 0) {
		log_warn("%s: unexport of %s: not attached from this host", conn->peer, udev.busid);
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_EXPORT_ST_NODEV, NULL);
		return;
	}
	if (usbip_vhci_detach((unsigned)found) != 0) {
		op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_EXPORT_ST_NOT_ACCEPTED,
				 NULL);
		return;
	}
	if ((unsigned)found < d->nports)
		d->ours[found] = false;
	log_info("%s: detached %s from port %d", conn->peer, udev.busid, found);
	op_session_reply(session, USBIP_OP_REP_UNEXPORT, USBIP_EXPORT_ST_OK, NULL);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	struct usbipa *d = arg;
	struct usbip_conn *conn = op_session_conn(session);
	uint16_t reply =
		req->hdr.code == USBIP_OP_REQ_EXPORT ? USBIP_OP_REP_EXPORT : USBIP_OP_REP_UNEXPORT;

	if (d->nothing_allowed) {
		log_warn("%s: refused: nothing is allowed (start usbipa with --allow-device, "
			 "--allow-host, --allow-subject or --allow-any)",
			 conn->peer);
		op_session_reply(session, reply, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (!policy_allows_peer(&d->policy, (struct sockaddr *)&conn->peer_addr)) {
		log_warn("%s: refused: not an allowed host", conn->peer);
		op_session_reply(session, reply, USBIP_EXPORT_ST_NOT_ACCEPTED, NULL);
		return;
	}
	if (req->hdr.code == USBIP_OP_REQ_EXPORT)
		handle_export(d, session, req);
	else
		handle_unexport(d, session, req);
}

static bool boot_keyboard(const struct usbip_local_device *dev)
{
	unsigned i;

	for (i = 0; i < dev->info.udev.num_interfaces && i < USBIP_MAX_INTERFACES; i++) {
		const struct usbip_usb_interface *intf = &dev->info.interfaces[i];

		if (intf->interface_class == 3 && intf->interface_subclass == 1 &&
		    intf->interface_protocol == 1)
			return true;
	}
	return false;
}

static bool boot_keyboard(const struct usbip_local_device *dev);

/*
 * The look at the device on a vhci port. One we attached that has a boot
 * keyboard interface could type commands here, so it needs an
 * --allow-device rule of its own, even with --allow-any: detached before
 * any driver has it. Everything else is authorized.
 */
static void inspect(struct usbipa *d, unsigned port, const char *busid)
{
	struct usbip_local_device dev;
	bool ours = port < d->nports && d->ours[port];
	char path[128];

	/* Still enumerating: its descriptors come with it; look again later. */
	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/descriptors", busid);
	if (access(path, R_OK) != 0 || usbip_host_get(busid, &dev) != 0)
		return;
	if (port < d->nports)
		d->pending[port] = false;
	if (ours && boot_keyboard(&dev) &&
	    !policy_names_device(&d->policy, dev.info.udev.id_vendor, dev.info.udev.id_product,
				 dev.serial)) {
		log_warn("refused %s on port %u (%04x:%04x): a keyboard needs an --allow-device "
			 "rule naming it; detaching it",
			 busid, port, dev.info.udev.id_vendor, dev.info.udev.id_product);
		if (usbip_vhci_detach(port) == 0)
			d->ours[port] = false;
	} else {
		usbip_vhci_authorize(busid);
	}
	if (!any_pending(d))
		gate_open(d);
}

/* The ports still waiting for a look whose device is there now. */
static void look_at_pending(struct usbipa *d)
{
	struct usbip_vhci vhci;
	char busid[USBIP_BUSID_SIZE];
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < d->nports; i++) {
		if (!d->pending[i] || !vhci.ports[i].local_busid[0] ||
		    strcmp(vhci.ports[i].local_busid, "0-0") == 0)
			continue;
		snprintf(busid, sizeof(busid), "%s", vhci.ports[i].local_busid);
		inspect(d, i, busid);
	}
	usbip_vhci_close(&vhci);
}

static void on_gate_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct usbipa *d = w->data;

	w->deadline_ms = 0;
	look_at_pending(d);
	if (!any_pending(d))
		return;
	if (ev_now_ms() < d->gate_deadline) {
		w->deadline_ms = ev_now_ms() + GATE_POLL_MS;
		return;
	}
	/* A device that never enumerated: nothing to look at, nothing to hold. */
	memset(d->pending, 0, d->nports * sizeof(*d->pending));
	gate_open(d);
}

static void on_usb_event(void *arg, enum usb_monitor_event event, const char *busid)
{
	struct usbipa *d = arg;
	struct usbip_vhci vhci;
	unsigned i;
	int port = -1;

	if (event != USB_MONITOR_ADDED || usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++)
		if (strcmp(vhci.ports[i].local_busid, busid) == 0)
			port = (int)i;
	usbip_vhci_close(&vhci);
	if (port >= 0)
		inspect(d, (unsigned)port, busid);
}

static void on_monitor(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	usb_monitor_dispatch(w->data);
}

static enum usbip_result on_start(struct usbip_daemon *daemon, struct ev_loop *loop, void *arg)
{
	struct usbipa *d = arg;

	d->monitor = usb_monitor_new(on_usb_event, d);
	if (!d->monitor)
		return USBIP_E_FAILED;
	d->monitor_watch = (struct ev_watch){ .fd = usb_monitor_fd(d->monitor),
					      .events = POLLIN,
					      .cb = on_monitor,
					      .data = d->monitor };
	d->gate_timer = (struct ev_watch){ .fd = -1, .cb = on_gate_timer, .data = d };
	if (ev_watch_add(loop, &d->monitor_watch) != 0 || ev_watch_add(loop, &d->gate_timer) != 0)
		return USBIP_E_FAILED;
	/* A usbipa that died with the gate closed: open it, let its leftovers in. */
	d->gate_closed = true;
	gate_open(d);
	return USBIP_OK;
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

/* usbipa's own options: the allow-lists. */
static int policy_option(int opt, const char *arg, void *ctx, char *err, size_t err_len)
{
	struct usbipa *state = ctx;
	char why[160];

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

static void on_stop(struct usbip_daemon *daemon, void *arg)
{
	struct usbipa *d = arg;

	detach_ours(d);
	gate_open(d);
	if (d->monitor) {
		ev_watch_remove(daemon->loop, &d->monitor_watch);
		usb_monitor_free(d->monitor);
		d->monitor = NULL;
	}
}

/* usbip status: what this usbipa attached, from where, since when, over what. */
static void on_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	struct usbipa *state = arg;
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	json_array_begin(w, "attached");
	if (usbip_vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports && i < state->nports; i++) {
			if (!state->ours[i] || vhci.ports[i].status == USBIP_VDEV_NULL ||
			    usbip_vhci_record_read(i, &rec) != 0)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "busid", rec.busid);
			json_string(w, "from", rec.host);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			json_uint(w, "since", (unsigned long long)state->since[i]);
			json_string(w, "transport",
				    state->transport[i] ? state->transport[i] : "tcp");
			json_object_end(w);
		}
		usbip_vhci_close(&vhci);
	}
	json_array_end(w);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-device", required_argument, NULL, 'A' },
		{ "allow-host", required_argument, NULL, 'H' },
		{ "allow-any", no_argument, NULL, 'Y' },
		USBIP_DAEMON_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t served[] = { USBIP_OP_REQ_EXPORT, USBIP_OP_REQ_UNEXPORT, 0 };
	static struct usbipa state;
	struct usbip_daemon d = {
		.name = "usbipa",
		.default_pid_file = DEFAULT_PID_FILE,
		.listens = true,
		.server = { .name = "usbipa",
			    .requests = served,
			    .handle = handle_request,
			    .arg = &state },
		.status_name = "usbipa",
		.hooks = { .start = on_start, .stop = on_stop, .status = on_status, .arg = &state },
	};
	struct usbip_vhci vhci;
	enum usbip_result rc;
	int exit_code;

	usbip_log_init("usbipa", false);
	exit_code = usbip_exit_for_args(
		daemon_parse_args(&d, argc, argv, opts, usage, policy_option, &state));
	if (exit_code >= 0)
		return exit_code;
	/* Not fatal: the module may be loaded later; until then exports are refused. */
	if (usbip_vhci_open(&vhci) == 0) {
		state.nports = vhci.nports;
		usbip_vhci_close(&vhci);
	} else {
		log_warn("refusing exports until vhci-hcd is loaded");
		state.nports = USBIP_VHCI_MAX_PORTS;
	}
	state.ours = calloc(state.nports, sizeof(*state.ours));
	state.since = calloc(state.nports, sizeof(*state.since));
	state.transport = calloc(state.nports, sizeof(*state.transport));
	state.pending = calloc(state.nports, sizeof(*state.pending));
	state.subject = calloc(state.nports, sizeof(*state.subject));
	if (!state.ours || !state.since || !state.transport || !state.pending || !state.subject)
		return USBIP_EXIT_FAILURE;
	/* Nothing allowed is nothing accepted: a node must not push a keyboard in unasked. */
	state.nothing_allowed = !state.policy.nnetworks && !state.policy.ndevices &&
				!d.tls_options.nsubjects && !state.policy.allow_any;
	if (state.nothing_allowed)
		log_warn("no --allow-device, --allow-host, --allow-subject or --allow-any: every "
			 "export is refused");
	else if (state.policy.allow_any && !state.policy.nnetworks && !state.policy.ndevices)
		log_warn("--allow-any: accepting any device from any host (keyboards only by an "
			 "--allow-device rule)");
	rc = daemon_run(&d);
	policy_free(&state.policy);
	free(state.ours);
	free(state.since);
	free(state.transport);
	free(state.pending);
	free(state.subject);
	return usbip_exit_status(rc);
}
