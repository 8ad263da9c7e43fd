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
#include "kernel/sysfs.h"
#include "kernel/usb_monitor.h"
#include "kernel/vhci.h"
#include "util/log.h"

struct usbipa_vhci {
	const struct usbip_policy *policy; /* for the keyboard rule */
	/* Ports this process attached: detached again when it stops. */
	bool *ours;
	long long *since;		 /* when each was attached (wall clock) */
	char (*subject)[256];		 /* the exporter's certificate subject, "" for none */
	char (*transport)[16];		 /* as usbipa_peer.transport */
	struct usbip_usb_device *device; /* what each was attached as: its identity */
	unsigned nports;
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
	struct ev_loop *loop;
};

#define GATE_MAX_MS 15000
/*
 * How often pending ports are looked at besides the udev events: those do
 * not reach a usbipa in a network namespace of its own (uevents are per
 * namespace), and the look must not depend on them.
 */
#define GATE_POLL_MS 200

struct usbipa_vhci *usbipa_vhci_new(const struct usbip_policy *policy)
{
	struct usbipa_vhci *v = calloc(1, sizeof(*v));
	struct usbip_vhci vhci;

	if (!v)
		return NULL;
	v->policy = policy;
	/* Not fatal: the module may be loaded later; until then exports are refused. */
	if (usbip_vhci_open(&vhci) == 0) {
		v->nports = vhci.nports;
		usbip_vhci_close(&vhci);
	} else {
		log_warn("refusing exports until vhci-hcd is loaded");
		v->nports = USBIP_VHCI_MAX_PORTS;
	}
	v->ours = calloc(v->nports, sizeof(*v->ours));
	v->since = calloc(v->nports, sizeof(*v->since));
	v->transport = calloc(v->nports, sizeof(*v->transport));
	v->pending = calloc(v->nports, sizeof(*v->pending));
	v->subject = calloc(v->nports, sizeof(*v->subject));
	v->device = calloc(v->nports, sizeof(*v->device));
	if (!v->ours || !v->since || !v->transport || !v->pending || !v->subject || !v->device) {
		usbipa_vhci_free(v);
		return NULL;
	}
	return v;
}

void usbipa_vhci_free(struct usbipa_vhci *v)
{
	if (!v)
		return;
	free(v->ours);
	free(v->since);
	free(v->transport);
	free(v->pending);
	free(v->subject);
	free(v->device);
	free(v);
}

static bool any_pending(const struct usbipa_vhci *v)
{
	unsigned i;

	for (i = 0; i < v->nports; i++)
		if (v->pending[i])
			return true;
	return false;
}

static void gate_close(struct usbipa_vhci *v)
{
	if (!v->gate_closed && usbip_vhci_gate(true) == 0)
		v->gate_closed = true;
	if (!v->gate_closed)
		log_warn("cannot hold new vhci devices for a look: keyboards are not checked");
	v->gate_deadline = ev_now_ms() + GATE_MAX_MS;
	v->gate_timer.deadline_ms = ev_now_ms() + GATE_POLL_MS;
}

/*
 * Every device on vhci that is still unauthorized and not one of ours
 * waiting for a look: one a usbipa that died left behind, or one that
 * arrived while the gate was closed and whose event went by.
 */
static void sweep(struct usbipa_vhci *v)
{
	struct usbip_vhci vhci;
	char path[128], value[8];
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++) {
		const char *b = vhci.ports[i].local_busid;

		if (vhci.ports[i].status == USBIP_VDEV_NULL || !b[0] || strcmp(b, "0-0") == 0 ||
		    (i < v->nports && v->pending[i]))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/authorized", b);
		if (sysfs_read_attr(path, value, sizeof(value)) == 0 && value[0] == '0')
			usbip_vhci_authorize(b);
	}
	usbip_vhci_close(&vhci);
}

static void gate_open(struct usbipa_vhci *v)
{
	if (v->gate_closed && usbip_vhci_gate(false) == 0)
		v->gate_closed = false;
	v->gate_timer.deadline_ms = 0;
	sweep(v);
}

/* What a sound network process sends: every string ends in its field. */
static bool peer_ok(const struct usbipa_peer *p)
{
	return PRIVSEP_STRING_OK(p->name) && PRIVSEP_STRING_OK(p->host) &&
	       PRIVSEP_STRING_OK(p->service) && PRIVSEP_STRING_OK(p->subject) &&
	       PRIVSEP_STRING_OK(p->transport);
}

static bool device_ok(const struct usbip_usb_device *u)
{
	return PRIVSEP_STRING_OK(u->path) && PRIVSEP_STRING_OK(u->serial) &&
	       PRIVSEP_STRING_OK(u->busid) && usbip_busid_ok(u->busid) &&
	       u->speed != USBIP_SPEED_UNKNOWN && u->speed <= USBIP_SPEED_SUPER_PLUS;
}

/*
 * Whether the import on port i (attached from rec) is the device udev that
 * peer exports now. Exported with a client certificate: the same
 * certificate's, from any address. Without: from the same address, or the
 * same device (busid, ids and a serial) from a new address or port (a NAT
 * rebinding, a node that moved).
 */
static bool same_import(const struct usbipa_vhci *v, unsigned i,
			const struct usbip_vhci_record *rec, const struct usbipa_peer *peer,
			const struct usbip_usb_device *udev)
{
	const struct usbip_usb_device *was = i < v->nports && v->ours[i] ? &v->device[i] : NULL;

	if (strcmp(rec->busid, udev->busid) != 0)
		return false;
	if (i < v->nports && v->subject[i][0])
		return strcmp(v->subject[i], peer->subject) == 0;
	if (strcmp(rec->host, peer->host) == 0)
		return true;
	return was && udev->serial[0] && strcmp(was->serial, udev->serial) == 0 &&
	       was->id_vendor == udev->id_vendor && was->id_product == udev->id_product;
}

/*
 * A node exports a device that is still attached here: its old connection
 * died without this side noticing yet (a node that rebooted, a network
 * that dropped it, a new address). The new connection takes over, so that
 * one import of it remains.
 */
static void replace_stale_import(struct usbipa_vhci *v, const struct usbip_vhci *vhci,
				 const struct usbipa_peer *peer,
				 const struct usbip_usb_device *udev)
{
	struct usbip_vhci_record rec;
	unsigned i;

	for (i = 0; i < vhci->nports; i++) {
		if (vhci->ports[i].status == USBIP_VDEV_NULL ||
		    usbip_vhci_record_read(i, &rec) != 0 || !same_import(v, i, &rec, peer, udev))
			continue;
		log_info("%s: %s is still attached on port %u (from %s:%s): replacing that stale "
			 "import",
			 peer->name, udev->busid, i, rec.host, rec.service);
		if (usbip_vhci_detach(i) == 0 && i < v->nports)
			v->ours[i] = false;
	}
}

static ssize_t serve_accept(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct usbipa_accept_request *req = request;
	struct usbipa_status_reply *rep = reply;
	struct usbipa_vhci *v = arg;
	struct usbip_vhci vhci;
	int free_port;

	if (!device_ok(&req->udev) || !peer_ok(&req->peer))
		return -1;
	rep->status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	if (usbip_vhci_open(&vhci) != 0)
		return sizeof(*rep);
	replace_stale_import(v, &vhci, &req->peer, &req->udev);
	usbip_vhci_close(&vhci);
	if (usbip_vhci_open(&vhci) != 0)
		return sizeof(*rep);
	free_port = usbip_vhci_free_port(&vhci, req->udev.speed);
	usbip_vhci_close(&vhci);
	if (free_port < 0) {
		log_warn("%s: refused %s: no free vhci port for its speed (%s)", req->peer.name,
			 req->udev.busid, usbip_speed_str(req->udev.speed));
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
	struct usbip_vhci_record rec;
	char esc[LOG_ESCAPED_SIZE(USBIP_SERIAL_SIZE)];
	int port;

	if (!device_ok(udev) || !peer_ok(&req->peer)) {
		close(fd);
		return -1;
	}
	gate_close(v);
	port = usbip_vhci_attach(udev, fd);
	close(fd); /* vhci-hcd holds its own reference */
	if (port >= 0 && (unsigned)port < v->nports)
		v->pending[port] = true;
	else if (!any_pending(v))
		gate_open(v);
	rep->port = port;
	if (port < 0) {
		/* The device side sees the connection close and may try again. */
		log_err("%s: could not attach %s after accepting it", req->peer.name, udev->busid);
		return sizeof(*rep);
	}
	snprintf(rec.host, sizeof(rec.host), "%s", req->peer.host);
	snprintf(rec.service, sizeof(rec.service), "%s", req->peer.service);
	snprintf(rec.busid, sizeof(rec.busid), "%s", udev->busid);
	usbip_vhci_record_write((unsigned)port, &rec);
	if ((unsigned)port < v->nports) {
		v->ours[port] = true;
		v->since[port] = (long long)time(NULL);
		snprintf(v->transport[port], sizeof(v->transport[port]), "%s", req->peer.transport);
		snprintf(v->subject[port], sizeof(v->subject[port]), "%s", req->peer.subject);
		v->device[port] = *udev;
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
	struct usbip_vhci vhci;
	unsigned i;
	int found = -1;

	if (!PRIVSEP_STRING_OK(req->busid) || !usbip_busid_ok(req->busid) || !peer_ok(&req->peer))
		return -1;
	rep->status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	if (usbip_vhci_open(&vhci) != 0)
		return sizeof(*rep);
	/* Only the host that exported a device may withdraw it. */
	for (i = 0; i < vhci.nports && found < 0; i++) {
		struct usbip_vhci_record rec;

		if (vhci.ports[i].status != USBIP_VDEV_NULL &&
		    usbip_vhci_record_read(i, &rec) == 0 && strcmp(rec.host, req->peer.host) == 0 &&
		    strcmp(rec.busid, req->busid) == 0)
			found = (int)i;
	}
	usbip_vhci_close(&vhci);
	if (found < 0) {
		log_warn("%s: unexport of %s: not attached from this host", req->peer.name,
			 req->busid);
		rep->status = USBIP_EXPORT_ST_NODEV;
		return sizeof(*rep);
	}
	/*
	 * Exported with a client certificate: only the same certificate may
	 * withdraw it, not anyone who shares the node's address (NAT).
	 */
	if ((unsigned)found < v->nports && v->subject[found][0] &&
	    strcmp(req->peer.subject, v->subject[found]) != 0) {
		char by[LOG_ESCAPED_SIZE(256)], asker[LOG_ESCAPED_SIZE(256)];

		log_warn("%s: unexport of %s refused: exported by %s, asked by %s", req->peer.name,
			 req->busid, log_escape(by, sizeof(by), v->subject[found]),
			 req->peer.subject[0] ? log_escape(asker, sizeof(asker), req->peer.subject)
					      : "no certificate");
		return sizeof(*rep);
	}
	if (usbip_vhci_detach((unsigned)found) != 0)
		return sizeof(*rep);
	if ((unsigned)found < v->nports)
		v->ours[found] = false;
	log_info("%s: detached %s from port %d", req->peer.name, req->busid, found);
	rep->status = USBIP_EXPORT_ST_OK;
	return sizeof(*rep);
}

const struct privsep_op usbipa_vhci_ops[] = {
	{ USBIPA_ACCEPT, "an export's check", sizeof(struct usbipa_accept_request), false,
	  sizeof(struct usbipa_status_reply), serve_accept },
	{ USBIPA_ATTACH, "an attach", sizeof(struct usbipa_attach_request), true,
	  sizeof(struct usbipa_port_reply), serve_attach },
	{ USBIPA_UNEXPORT, "an unexport", sizeof(struct usbipa_unexport_request), false,
	  sizeof(struct usbipa_status_reply), serve_unexport },
};
const size_t usbipa_vhci_nops = sizeof(usbipa_vhci_ops) / sizeof(usbipa_vhci_ops[0]);

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

/*
 * The look at the device on a vhci port. One we attached that has a boot
 * keyboard interface could type commands here, so it needs an
 * --allow-device rule of its own, even with --allow-any: detached before
 * any driver has it. Everything else is authorized.
 */
static void inspect(struct usbipa_vhci *v, unsigned port, const char *busid)
{
	struct usbip_local_device dev;
	bool ours = port < v->nports && v->ours[port];
	char path[128];

	/* Still enumerating: its descriptors come with it; look again later. */
	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/descriptors", busid);
	if (access(path, R_OK) != 0 || usbip_host_get(busid, &dev) != 0)
		return;
	if (port < v->nports)
		v->pending[port] = false;
	if (ours && boot_keyboard(&dev) &&
	    !policy_names_device(v->policy, dev.info.udev.id_vendor, dev.info.udev.id_product,
				 dev.serial)) {
		log_warn("refused %s on port %u (%04x:%04x): a keyboard needs an --allow-device "
			 "rule naming it; detaching it",
			 busid, port, dev.info.udev.id_vendor, dev.info.udev.id_product);
		if (usbip_vhci_detach(port) == 0)
			v->ours[port] = false;
	} else {
		usbip_vhci_authorize(busid);
	}
	if (!any_pending(v))
		gate_open(v);
}

/* The ports still waiting for a look whose device is there now. */
static void look_at_pending(struct usbipa_vhci *v)
{
	struct usbip_vhci vhci;
	char busid[USBIP_BUSID_SIZE];
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < v->nports; i++) {
		if (!v->pending[i] || !vhci.ports[i].local_busid[0] ||
		    strcmp(vhci.ports[i].local_busid, "0-0") == 0)
			continue;
		snprintf(busid, sizeof(busid), "%s", vhci.ports[i].local_busid);
		inspect(v, i, busid);
	}
	usbip_vhci_close(&vhci);
}

static void on_gate_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct usbipa_vhci *v = w->data;

	w->deadline_ms = 0;
	look_at_pending(v);
	if (!any_pending(v))
		return;
	if (ev_now_ms() < v->gate_deadline) {
		w->deadline_ms = ev_now_ms() + GATE_POLL_MS;
		return;
	}
	/* A device that never enumerated: nothing to look at, nothing to hold. */
	memset(v->pending, 0, v->nports * sizeof(*v->pending));
	gate_open(v);
}

static void on_usb_event(void *arg, enum usb_monitor_event event, const char *busid)
{
	struct usbipa_vhci *v = arg;
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
		inspect(v, (unsigned)port, busid);
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
	if (ev_watch_add(loop, &v->monitor_watch) != 0 || ev_watch_add(loop, &v->gate_timer) != 0)
		return USBIP_E_FAILED;
	v->loop = loop;
	/* A usbipa that died with the gate closed: open it, let its leftovers in. */
	v->gate_closed = true;
	gate_open(v);
	return USBIP_OK;
}

/* On the way out, the devices we attached are detached, so their nodes notice. */
static void detach_ours(struct usbipa_vhci *v)
{
	struct usbip_vhci vhci;
	unsigned i;

	if (usbip_vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < v->nports; i++) {
		if (v->ours[i] && vhci.ports[i].status != USBIP_VDEV_NULL) {
			log_info("detaching port %u", i);
			usbip_vhci_detach(i);
		}
	}
	usbip_vhci_close(&vhci);
}

void usbipa_vhci_stop(struct usbip_daemon *d, void *arg)
{
	struct usbipa_vhci *v = arg;

	detach_ours(v);
	gate_open(v);
	if (v->monitor) {
		ev_watch_remove(v->loop, &v->monitor_watch);
		ev_watch_remove(v->loop, &v->gate_timer);
		usb_monitor_free(v->monitor);
		v->monitor = NULL;
	}
}

/* usbip status: what this usbipa attached, from where, since when, over what. */
void usbipa_vhci_status(struct usbip_daemon *d, struct json_writer *w, void *arg)
{
	struct usbipa_vhci *v = arg;
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	json_array_begin(w, "attached");
	if (usbip_vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports && i < v->nports; i++) {
			if (!v->ours[i] || vhci.ports[i].status == USBIP_VDEV_NULL ||
			    usbip_vhci_record_read(i, &rec) != 0)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "busid", rec.busid);
			json_string(w, "from", rec.host);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			json_uint(w, "since", (unsigned long long)v->since[i]);
			json_string(w, "transport", v->transport[i][0] ? v->transport[i] : "tcp");
			json_object_end(w);
		}
		usbip_vhci_close(&vhci);
	}
	json_array_end(w);
}
