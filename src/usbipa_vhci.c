// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa's privileged process: everything it does with vhci-hcd, asked by
 * its network process (usbipa.c) through the requests of usbipa.h, and the
 * keyboard gate, which watches what arrives on the ports it attached.
 */
#include "config.h"

#include "usbipa.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel/host.h"
#include "kernel/keyboard_gate.h"
#include "kernel/usb_monitor.h"
#include "kernel/vhci.h"
#include "kernel/vhci_imports.h"
#include "util/log.h"

struct usbipa_vhci {
	const struct usbip_policy *policy; /* for the keyboard rule */
	/* What this process attached: detached again when it stops. */
	struct vhci_imports *imports;
	unsigned nports;
	struct usb_monitor *monitor;
	struct ev_watch monitor_watch;
	/*
	 * The keyboard gate (kernel/keyboard_gate.h), looked through on udev
	 * events and every GATE_POLL_MS; open again after GATE_MAX_MS
	 * whatever happened.
	 */
	struct keyboard_gate *gate;
	long long gate_deadline;
	struct ev_watch gate_timer;
	struct ev_loop *loop;
	/*
	 * For /metrics: the exports refused here for want of vhci-hcd (those
	 * refused for room are counted by capacity, by reason); the last
	 * attach or detach.
	 */
	unsigned long long refused_other, attach_failed;
	long long last_change; /* the wall clock, 0 for none yet */
	/* --max-imports and draining (daemon/capacity.h); the drain's steps on drain_timer. */
	struct capacity *capacity;
	struct ev_watch drain_timer;
	bool said_drained;
};

/* How often a drain looks whether the next device may go. */
#define DRAIN_POLL_MS 250

#define GATE_MAX_MS 15000
/*
 * How often pending ports are looked at besides the udev events: those do
 * not reach a usbipa in a network namespace of its own (uevents are per
 * namespace), and the look must not depend on them.
 */
#define GATE_POLL_MS 200

static bool attached_here(void *arg, unsigned port)
{
	const struct usbipa_vhci *v = arg;

	return vhci_imports_get(v->imports, port) != NULL;
}

static bool keyboard_named(void *arg, uint16_t vendor, uint16_t product, const char *serial)
{
	const struct usbipa_vhci *v = arg;

	return policy_names_device(v->policy, vendor, product, serial);
}

static void refuse_keyboard(void *arg, unsigned port)
{
	struct usbipa_vhci *v = arg;

	vhci_imports_detach(v->imports, port);
}

struct usbipa_vhci *usbipa_vhci_new(const struct usbip_policy *policy, struct capacity *capacity)
{
	struct usbipa_vhci *v = calloc(1, sizeof(*v));
	struct usbip_vhci vhci;
	struct keyboard_gate_hooks hooks = { attached_here, keyboard_named, refuse_keyboard, v };

	if (!v)
		return NULL;
	v->policy = policy;
	v->capacity = capacity;
	/* Not fatal: the module may be loaded later; until then exports are refused. */
	if (vhci_open(&vhci) == 0) {
		v->nports = vhci.nports;
		vhci_close(&vhci);
	} else {
		log_warn("refusing exports until vhci-hcd is loaded");
		v->nports = USBIP_VHCI_MAX_PORTS;
	}
	v->imports = vhci_imports_new(v->nports);
	v->gate = keyboard_gate_new(v->nports, &hooks);
	if (!v->imports || !v->gate) {
		usbipa_vhci_free(v);
		return NULL;
	}
	return v;
}

void usbipa_vhci_free(struct usbipa_vhci *v)
{
	if (!v)
		return;
	vhci_imports_free(v->imports);
	keyboard_gate_free(v->gate);
	free(v);
}

/* Holds new vhci devices for a look while an attach enumerates, GATE_MAX_MS at most. */
static void gate_close(struct usbipa_vhci *v)
{
	keyboard_gate_close(v->gate);
	v->gate_deadline = ev_now_ms() + GATE_MAX_MS;
	v->gate_timer.deadline_ms = ev_now_ms() + GATE_POLL_MS;
}

/* What a sound network process sends: every string ends in its field. */
static bool peer_ok(const struct usbipa_peer *p)
{
	return PRIVSEP_STRING_OK(p->name) && PRIVSEP_STRING_OK(p->host) &&
	       PRIVSEP_STRING_OK(p->service) && PRIVSEP_STRING_OK(p->subject) &&
	       PRIVSEP_STRING_OK(p->transport);
}

/* The library's view of a peer the network process names. */
static struct vhci_import_origin origin_of(const struct usbipa_peer *p)
{
	return (struct vhci_import_origin){ p->name, p->host, p->service, p->subject,
					    p->transport };
}

/* The imports of this process that vhci-hcd still holds (a dead node's port is free again). */
static unsigned live_imports(const struct usbipa_vhci *v, const struct usbip_vhci *vhci, int *first)
{
	unsigned i, n = 0;

	*first = -1;
	for (i = 0; i < vhci->nports; i++) {
		if (!vhci_imports_get(v->imports, i) || vhci->ports[i].status == USBIP_VDEV_NULL)
			continue;
		if (*first < 0)
			*first = (int)i;
		n++;
	}
	return n;
}

static ssize_t serve_accept(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct usbipa_accept_request *req = request;
	struct usbipa_status_reply *rep = reply;
	struct usbipa_vhci *v = arg;
	struct vhci_import_origin origin = origin_of(&req->peer);
	enum capacity_verdict verdict;
	struct usbip_vhci vhci;
	unsigned imports;
	int free_port, first;

	if (!privsep_usb_device_ok(&req->udev) || !peer_ok(&req->peer))
		return -1;
	rep->status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	vhci_imports_replace_stale(v->imports, &origin, &req->udev);
	if (vhci_open(&vhci) != 0)
		return sizeof(*rep);
	free_port = vhci_free_port(&vhci, req->udev.speed);
	imports = live_imports(v, &vhci, &first);
	vhci_close(&vhci);
	verdict = capacity_check(v->capacity, imports, free_port >= 0, req->udev.busid,
				 req->peer.host, ev_now_ms());
	if (verdict != CAPACITY_ROOM) {
		/* Status 2: the node goes on to its next host at once. */
		log_warn("%s: refused %s (%s): %s", req->peer.name, req->udev.busid,
			 usbip_proto_speed_str(req->udev.speed), capacity_verdict_str(verdict));
		rep->status = USBIP_EXPORT_ST_NO_PORT;
		return sizeof(*rep);
	}
	rep->status = USBIP_EXPORT_ST_OK;
	return sizeof(*rep);
}

static ssize_t serve_attach(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct usbipa_attach_request *req = request;
	const struct usbip_usb_device *udev = &req->udev;
	struct usbipa_port_reply *rep = reply;
	struct usbipa_vhci *v = arg;
	struct vhci_import_origin origin = origin_of(&req->peer);
	char esc[LOG_ESCAPED_SIZE(USBIP_SERIAL_SIZE)];
	int port;

	if (!privsep_usb_device_ok(udev) || !peer_ok(&req->peer)) {
		close(fd);
		return -1;
	}
	gate_close(v);
	port = vhci_imports_attach(v->imports, udev, fd, &origin);
	close(fd); /* vhci-hcd holds its own reference */
	if (port >= 0)
		keyboard_gate_wait_for(v->gate, (unsigned)port);
	if (!keyboard_gate_waiting(v->gate))
		keyboard_gate_open(v->gate);
	rep->port = port;
	if (port < 0) {
		/* The device side sees the connection close and may try again. */
		log_err("%s: could not attach %s after accepting it", req->peer.name, udev->busid);
		return sizeof(*rep);
	}
	log_info("%s: attached %s (%04x:%04x%s%s) to port %d", req->peer.name, udev->busid,
		 udev->id_vendor, udev->id_product, udev->serial[0] ? ", serial " : "",
		 log_escape(esc, sizeof(esc), udev->serial), port);
	return sizeof(*rep);
}

static ssize_t serve_unexport(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct usbipa_unexport_request *req = request;
	struct usbipa_status_reply *rep = reply;
	struct usbipa_vhci *v = arg;
	struct vhci_import_origin origin = origin_of(&req->peer);
	int found;

	if (!PRIVSEP_STRING_OK(req->busid) || !usbip_proto_busid_ok(req->busid) ||
	    !peer_ok(&req->peer))
		return -1;
	rep->status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	/* Only the host that exported a device may withdraw it. */
	found = vhci_imports_find(&origin, req->busid);
	if (found < 0) {
		log_warn("%s: unexport of %s: not attached from this host", req->peer.name,
			 req->busid);
		rep->status = USBIP_EXPORT_ST_NODEV;
		return sizeof(*rep);
	}
	if (!vhci_imports_may_withdraw(v->imports, (unsigned)found, req->peer.subject)) {
		char by[LOG_ESCAPED_SIZE(256)], asker[LOG_ESCAPED_SIZE(256)];

		log_warn("%s: unexport of %s refused: exported by %s, asked by %s", req->peer.name,
			 req->busid,
			 log_escape(by, sizeof(by),
				    vhci_imports_subject(v->imports, (unsigned)found)),
			 req->peer.subject[0] ? log_escape(asker, sizeof(asker), req->peer.subject)
					      : "no certificate");
		return sizeof(*rep);
	}
	if (vhci_imports_detach(v->imports, (unsigned)found) != 0)
		return sizeof(*rep);
	log_info("%s: detached %s from port %d", req->peer.name, req->busid, found);
	rep->status = USBIP_EXPORT_ST_OK;
	return sizeof(*rep);
}

/* The handlers above, counted for /metrics around them. */
static ssize_t count_accept(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	struct usbipa_vhci *v = arg;
	ssize_t n = serve_accept(arg, request, fd, reply, reply_fd);
	const struct usbipa_status_reply *rep = reply;

	/* A refusal for room (status 2) is counted by capacity_check, by its reason. */
	if (n == (ssize_t)sizeof(*rep) && rep->status != USBIP_EXPORT_ST_OK &&
	    rep->status != USBIP_EXPORT_ST_NO_PORT)
		v->refused_other++;
	return n;
}

static ssize_t count_attach(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	struct usbipa_vhci *v = arg;
	ssize_t n = serve_attach(arg, request, fd, reply, reply_fd);
	const struct usbipa_port_reply *rep = reply;

	if (n == (ssize_t)sizeof(*rep) && rep->port < 0)
		v->attach_failed++;
	else if (n == (ssize_t)sizeof(*rep))
		v->last_change = (long long)time(NULL);
	return n;
}

static ssize_t count_unexport(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	struct usbipa_vhci *v = arg;
	ssize_t n = serve_unexport(arg, request, fd, reply, reply_fd);
	const struct usbipa_status_reply *rep = reply;

	if (n == (ssize_t)sizeof(*rep) && rep->status == USBIP_EXPORT_ST_OK)
		v->last_change = (long long)time(NULL);
	return n;
}

const struct privsep_op usbipa_vhci_ops[] = {
	{ USBIPA_ACCEPT, "an export's check", sizeof(struct usbipa_accept_request), false,
	  sizeof(struct usbipa_status_reply), count_accept },
	{ USBIPA_ATTACH, "an attach", sizeof(struct usbipa_attach_request), true,
	  sizeof(struct usbipa_port_reply), count_attach },
	{ USBIPA_UNEXPORT, "an unexport", sizeof(struct usbipa_unexport_request), false,
	  sizeof(struct usbipa_status_reply), count_unexport },
};
const size_t usbipa_vhci_nops = sizeof(usbipa_vhci_ops) / sizeof(usbipa_vhci_ops[0]);

static void on_gate_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct usbipa_vhci *v = w->data;

	w->deadline_ms = 0;
	keyboard_gate_look_at_waiting(v->gate);
	if (!keyboard_gate_waiting(v->gate))
		return;
	if (ev_now_ms() < v->gate_deadline) {
		w->deadline_ms = ev_now_ms() + GATE_POLL_MS;
		return;
	}
	/* A device that never enumerated: nothing to look at, nothing to hold. */
	keyboard_gate_give_up(v->gate);
}

/* live_imports, vhci-hcd opened here (0 without it). */
static unsigned imports_now(const struct usbipa_vhci *v, int *first)
{
	struct usbip_vhci vhci;
	unsigned n;

	*first = -1;
	if (vhci_open(&vhci) != 0)
		return 0;
	n = live_imports(v, &vhci, first);
	vhci_close(&vhci);
	return n;
}

/* One step of a drain: the lowest import goes, once the one before has moved. */
static void on_drain_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct usbipa_vhci *v = w->data;
	struct usbip_vhci_record rec;
	unsigned left;
	int port;

	w->deadline_ms = 0;
	if (!v->capacity->draining)
		return;
	left = imports_now(v, &port);
	if (left == 0) {
		if (!v->said_drained)
			log_info("drained: no imports left");
		v->said_drained = true;
		return;
	}
	w->deadline_ms = ev_now_ms() + DRAIN_POLL_MS;
	if (!capacity_drain_due(v->capacity, left, ev_now_ms()) ||
	    vhci_record_read((unsigned)port, &rec) != 0)
		return;
	if (vhci_imports_detach(v->imports, (unsigned)port) != 0)
		return;
	log_info("draining: detached %s of %s from port %d (%u left)", rec.busid, rec.host, port,
		 left - 1);
	capacity_drain_moving(v->capacity, rec.busid, rec.host, ev_now_ms());
}

void usbipa_vhci_toggle_drain(struct usbip_daemon *d, void *arg)
{
	struct usbipa_vhci *v = arg;

	capacity_set_draining(v->capacity, !v->capacity->draining);
	v->said_drained = false;
	v->drain_timer.deadline_ms = v->capacity->draining ? ev_now_ms() + 1 : 0;
}

static void on_usb_event(void *arg, enum usb_monitor_event event, const char *busid)
{
	struct usbipa_vhci *v = arg;

	if (event == USB_MONITOR_ADDED)
		keyboard_gate_device_added(v->gate, busid);
}

static void on_monitor(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	usb_monitor_dispatch(w->data);
}

enum usbip_result usbipa_vhci_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	struct usbipa_vhci *v = arg;

	v->monitor = usb_monitor_new(on_usb_event, v);
	if (!v->monitor)
		return USBIP_E_FAILED;
	v->monitor_watch = (struct ev_watch){ .fd = usb_monitor_fd(v->monitor),
					      .events = POLLIN,
					      .cb = on_monitor,
					      .data = v->monitor };
	v->gate_timer = (struct ev_watch){ .fd = -1, .cb = on_gate_timer, .data = v };
	/* --drain: a host restarted to be emptied starts its drain at once. */
	if (v->capacity->draining)
		log_info("draining from the start (--drain): refusing new exports");
	v->drain_timer =
		(struct ev_watch){ .fd = -1,
				   .cb = on_drain_timer,
				   .data = v,
				   .deadline_ms = v->capacity->draining ? ev_now_ms() + 1 : 0 };
	if (ev_watch_add(loop, &v->monitor_watch) != 0 || ev_watch_add(loop, &v->gate_timer) != 0 ||
	    ev_watch_add(loop, &v->drain_timer) != 0)
		return USBIP_E_FAILED;
	v->loop = loop;
	/* A usbipa that died with the gate closed: open it, let its leftovers in. */
	keyboard_gate_open(v->gate);
	return USBIP_OK;
}

void usbipa_vhci_stop(struct usbip_daemon *d, void *arg)
{
	struct usbipa_vhci *v = arg;

	/* On the way out, the devices we attached are detached, so their nodes notice. */
	vhci_imports_detach_all(v->imports);
	v->gate_timer.deadline_ms = 0;
	keyboard_gate_open(v->gate);
	if (v->monitor) {
		ev_watch_remove(v->loop, &v->monitor_watch);
		ev_watch_remove(v->loop, &v->gate_timer);
		ev_watch_remove(v->loop, &v->drain_timer);
		usb_monitor_free(v->monitor);
		v->monitor = NULL;
	}
}

/*
 * The serial the exporter sent, or else the one the device has here (an
 * exporter need not send it: serve-mtp does not).
 */
static void attached_serial(struct json_writer *w, const struct vhci_import *import,
			    const char *local_busid)
{
	struct usbip_local_device dev;

	if (import->device.serial[0])
		json_string(w, "serial", import->device.serial);
	else if (host_peek(local_busid, &dev) == 0 && dev.serial[0])
		json_string(w, "serial", dev.serial);
}

/* usbip status: what this usbipa attached, from where, since when, over what. */
void usbipa_vhci_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	struct usbipa_vhci *v = arg;
	const struct vhci_import *import;
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;
	int first;

	json_string(w, "draining", v->capacity->draining ? "yes" : "no");
	if (v->capacity->max_imports)
		json_uint(w, "max_imports", v->capacity->max_imports);
	/* No vhci-hcd: nothing imported. */
	json_uint(w, "imports", imports_now(v, &first));
	json_array_begin(w, "attached");
	if (vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports; i++) {
			import = vhci_imports_get(v->imports, i);
			if (!import || vhci.ports[i].status == USBIP_VDEV_NULL ||
			    vhci_record_read(i, &rec) != 0)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "busid", rec.busid);
			json_hex(w, "vendor", import->device.id_vendor, 4);
			json_hex(w, "product", import->device.id_product, 4);
			attached_serial(w, import, vhci.ports[i].local_busid);
			json_string(w, "from", rec.host);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			json_uint(w, "since", (unsigned long long)import->since);
			json_string(w, "transport",
				    import->transport[0] ? import->transport : "tcp");
			json_object_end(w);
		}
		vhci_close(&vhci);
	}
	json_array_end(w);
}

/* The vhci-hcd ports by root hub: attached here, in use otherwise, free. */
struct port_counts {
	unsigned attached, free[2]; /* free: [0] USB 2 hub, [1] USB 3 hub */
	bool read;
};

static struct port_counts count_ports(const struct usbipa_vhci *v)
{
	struct port_counts c = { 0 };
	struct usbip_vhci vhci;
	unsigned i;

	if (vhci_open(&vhci) != 0)
		return c;
	c.read = true;
	for (i = 0; i < vhci.nports; i++) {
		if (vhci.ports[i].status == USBIP_VDEV_NULL)
			c.free[vhci.ports[i].superspeed]++;
		else if (vhci_imports_get(v->imports, i))
			c.attached++;
	}
	vhci_close(&vhci);
	return c;
}

static void counter(struct metrics_text *m, const char *name, const char *help,
		    unsigned long long value)
{
	metrics_family(m, name, "counter", help);
	metrics_sample(m, name, (double)value, METRICS_END);
}

/* usbipa_refusals_total by reason: the capacity's three (status 2), then vhci-hcd missing. */
static void refusals(struct metrics_text *m, const struct usbipa_vhci *v)
{
	static const struct {
		enum capacity_verdict verdict;
		const char *reason;
	} room[] = { { CAPACITY_MAX_IMPORTS, "max_imports" },
		     { CAPACITY_DRAINING, "draining" },
		     { CAPACITY_NO_VHCI_PORT, "no_port" } };
	size_t i;

	metrics_family(m, "usbipa_refusals_total", "counter",
		       "exports refused by the privileged process, by reason");
	for (i = 0; i < sizeof(room) / sizeof(room[0]); i++)
		metrics_sample(m, "usbipa_refusals_total",
			       (double)v->capacity->refused[room[i].verdict], "reason",
			       room[i].reason, METRICS_END);
	metrics_sample(m, "usbipa_refusals_total", (double)v->refused_other, "reason",
		       "not_accepted", METRICS_END);
}

/* /metrics: see usbipa(8), METRICS. */
void usbipa_vhci_metrics(struct usbip_daemon *d, struct metrics_text *m, void *arg)
{
	const struct usbipa_vhci *v = arg;
	struct port_counts c = count_ports(v);

	(void)d;
	metrics_family(m, "usbipa_imports", "gauge",
		       "devices attached to vhci-hcd by this usbipa, by state");
	metrics_sample(m, "usbipa_imports", c.attached, "state", "attached", METRICS_END);
	metrics_family(m, "usbipa_vhci_ports_free", "gauge",
		       "free vhci-hcd ports, by the speed of their root hub");
	if (c.read) {
		metrics_sample(m, "usbipa_vhci_ports_free", c.free[0], "speed", "high",
			       METRICS_END);
		metrics_sample(m, "usbipa_vhci_ports_free", c.free[1], "speed", "super",
			       METRICS_END);
	}
	refusals(m, v);
	counter(m, "usbipa_attach_failures_total", "exports accepted that vhci-hcd did not take",
		v->attach_failed);
	metrics_family(m, "usbipa_last_change_timestamp_seconds", "gauge",
		       "when a device was last attached or withdrawn (0: not yet)");
	metrics_sample(m, "usbipa_last_change_timestamp_seconds", (double)v->last_change,
		       METRICS_END);
}
