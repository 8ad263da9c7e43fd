// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/keyboard_gate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/sysfs.h"
#include "kernel/vhci.h"
#include "util/log.h"
#include "wire/usb_descriptors.h"

struct keyboard_gate {
	struct keyboard_gate_hooks hooks;
	unsigned nports;
	bool *waiting; /* ports whose device has not been looked at yet */
	bool closed;
};

/* What the look needs of a device on vhci. */
struct gate_device {
	uint16_t vendor, product;
	char serial[USBIP_SERIAL_SIZE];
	bool keyboard;
};

struct keyboard_gate *keyboard_gate_new(unsigned nports, const struct keyboard_gate_hooks *hooks)
{
	struct keyboard_gate *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->waiting = calloc(nports ? nports : 1, sizeof(*g->waiting));
	if (!g->waiting) {
		free(g);
		return NULL;
	}
	g->hooks = *hooks;
	g->nports = nports;
	g->closed = true;
	return g;
}

void keyboard_gate_free(struct keyboard_gate *g)
{
	if (!g)
		return;
	free(g->waiting);
	free(g);
}

bool keyboard_gate_boot_keyboard(const struct usbip_usb_interface *interfaces, unsigned count)
{
	unsigned i;

	for (i = 0; i < count && i < USBIP_MAX_INTERFACES; i++)
		if (interfaces[i].interface_class == 3 && interfaces[i].interface_subclass == 1 &&
		    interfaces[i].interface_protocol == 1)
			return true;
	return false;
}

/* A port of vhci that holds a device, by its local busid ("0-0": none). */
static bool holds_device(const struct usbip_vhci_port *p)
{
	return p->status != USBIP_VDEV_NULL && p->local_busid[0] &&
	       strcmp(p->local_busid, "0-0") != 0;
}

/* Whether busid's "authorized" reads 0. */
static bool unauthorized(const char *busid)
{
	char path[PATH_MAX], value[8];

	return sysfs_path(path, sizeof(path), "/bus/usb/devices/%s/authorized", busid) == 0 &&
	       sysfs_read_attr(path, value, sizeof(value)) == 0 && value[0] == '0';
}

void keyboard_gate_close(struct keyboard_gate *g)
{
	if (!g->closed && vhci_gate(true) == 0)
		g->closed = true;
	if (!g->closed)
		log_warn("cannot hold new vhci devices for a look: keyboards are not checked");
}

/* Authorizes what sits unauthorized on vhci and is not waited for. */
static void sweep(struct keyboard_gate *g)
{
	struct usbip_vhci vhci;
	unsigned i;

	if (vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++) {
		const char *busid = vhci.ports[i].local_busid;

		if (holds_device(&vhci.ports[i]) && !(i < g->nports && g->waiting[i]) &&
		    unauthorized(busid))
			vhci_authorize(busid);
	}
	vhci_close(&vhci);
}

void keyboard_gate_open(struct keyboard_gate *g)
{
	if (g->closed && vhci_gate(false) == 0)
		g->closed = false;
	sweep(g);
}

void keyboard_gate_wait_for(struct keyboard_gate *g, unsigned port)
{
	if (port < g->nports)
		g->waiting[port] = true;
}

bool keyboard_gate_waiting(const struct keyboard_gate *g)
{
	unsigned i;

	for (i = 0; i < g->nports; i++)
		if (g->waiting[i])
			return true;
	return false;
}

void keyboard_gate_give_up(struct keyboard_gate *g)
{
	memset(g->waiting, 0, g->nports * sizeof(*g->waiting));
	keyboard_gate_open(g);
}

/*
 * Reads what the look needs from sysfs: the raw descriptors (there once
 * the device has enumerated, whether it is configured or not) and the
 * serial. -1 while they are not there.
 */
static int read_device(const char *busid, struct gate_device *d)
{
	struct usbip_usb_interface interfaces[USBIP_MAX_INTERFACES];
	uint8_t desc[4096], configuration, count;
	char path[PATH_MAX];
	ssize_t n;

	if (sysfs_path(path, sizeof(path), "/bus/usb/devices/%s/descriptors", busid) != 0)
		return -1;
	n = sysfs_read_binary(path, desc, sizeof(desc));
	if (n < USB_DT_DEVICE_SIZE)
		return -1;
	d->vendor = (uint16_t)(desc[8] | desc[9] << 8);
	d->product = (uint16_t)(desc[10] | desc[11] << 8);
	d->keyboard = usb_descriptors_interfaces(desc, (size_t)n, &configuration, &count,
						 interfaces) == 0 &&
		      keyboard_gate_boot_keyboard(interfaces, count);
	if (sysfs_path(path, sizeof(path), "/bus/usb/devices/%s/serial", busid) != 0 ||
	    sysfs_read_attr(path, d->serial, sizeof(d->serial)) != 0)
		d->serial[0] = '\0';
	return 0;
}

void keyboard_gate_look(struct keyboard_gate *g, unsigned port, const char *busid)
{
	const struct keyboard_gate_hooks *h = &g->hooks;
	struct gate_device dev;

	/* Still enumerating: its descriptors come with it; look again later. */
	if (read_device(busid, &dev) != 0)
		return;
	if (port < g->nports)
		g->waiting[port] = false;
	if (dev.keyboard && h->attached_here(h->arg, port) &&
	    !h->keyboard_named(h->arg, dev.vendor, dev.product, dev.serial)) {
		log_warn("refused %s on port %u (%04x:%04x): a keyboard needs an --allow-device "
			 "rule naming it; detaching it",
			 busid, port, dev.vendor, dev.product);
		h->refuse(h->arg, port);
	} else {
		vhci_authorize(busid);
	}
	if (!keyboard_gate_waiting(g))
		keyboard_gate_open(g);
}

void keyboard_gate_look_at_waiting(struct keyboard_gate *g)
{
	struct usbip_vhci vhci;
	char busid[USBIP_BUSID_SIZE];
	unsigned i;

	if (vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < g->nports; i++) {
		if (!g->waiting[i] || !vhci.ports[i].local_busid[0] ||
		    strcmp(vhci.ports[i].local_busid, "0-0") == 0)
			continue;
		/* The look may open the gate, which reads vhci again: a copy of the busid. */
		memcpy(busid, vhci.ports[i].local_busid, sizeof(busid));
		keyboard_gate_look(g, i, busid);
	}
	vhci_close(&vhci);
}

void keyboard_gate_device_added(struct keyboard_gate *g, const char *busid)
{
	struct usbip_vhci vhci;
	unsigned i;
	int port = -1;

	if (vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++)
		if (strcmp(vhci.ports[i].local_busid, busid) == 0)
			port = (int)i;
	vhci_close(&vhci);
	if (port >= 0)
		keyboard_gate_look(g, (unsigned)port, busid);
}
