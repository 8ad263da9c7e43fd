/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The imports one process (usbipa) made on vhci-hcd for the nodes that
 * export to it, per port: the device, the exporter's certificate, the
 * transport, since when. And the rules about them: which import a new
 * export of the same device replaces (a node that came back over a new
 * connection), who may withdraw one. The record each port keeps of its
 * peer (usbip_vhci_record_*) is written and read here.
 */
#ifndef USBIP_KERNEL_VHCI_IMPORTS_H
#define USBIP_KERNEL_VHCI_IMPORTS_H

#include <stdbool.h>

#include "kernel/vhci.h"
#include "wire/usbip_proto.h"

/* Who exports a device, as its connection shows it. */
struct vhci_import_origin {
	const char *name;      /* "host:port", for logs */
	const char *host;      /* the numeric address */
	const char *service;   /* the port */
	const char *subject;   /* the client certificate's subject, "" for none */
	const char *transport; /* "tcp", "tls, ktls", ... */
};

/* One import of this process. */
struct vhci_import {
	struct usbip_usb_device device; /* what it was attached as: its identity */
	char subject[256];
	char transport[16];
	long long since; /* the wall clock */
};

struct vhci_imports;

struct vhci_imports *vhci_imports_new(unsigned nports);
void vhci_imports_free(struct vhci_imports *im);

/* What this process attached on port, or NULL. */
const struct vhci_import *vhci_imports_get(const struct vhci_imports *im, unsigned port);

/*
 * The certificate subject port's last import of this process was made
 * with, "" for none; kept after it is detached, for what comes on that port
 * next with the same busid.
 */
const char *vhci_imports_subject(const struct vhci_imports *im, unsigned port);

/* Notes that port holds udev from origin since now (vhci_imports_attach does). */
void vhci_imports_note(struct vhci_imports *im, unsigned port, const struct usbip_usb_device *udev,
		       const struct vhci_import_origin *origin);

/*
 * Attaches sockfd as udev (vhci_attach), records the port's peer and
 * notes it. Returns the port, or a negative value after logging why.
 */
int vhci_imports_attach(struct vhci_imports *im, const struct usbip_usb_device *udev, int sockfd,
			const struct vhci_import_origin *origin);

/*
 * Whether the import on port (attached from rec) is the device udev that
 * origin exports now. Exported with a client certificate: the same
 * certificate's, from any address. Without: from the same address, or the
 * same device (busid, ids and a serial) from a new address or port (a NAT
 * rebinding, a node that moved).
 */
bool vhci_imports_same(const struct vhci_imports *im, unsigned port,
		       const struct usbip_vhci_record *rec, const struct vhci_import_origin *origin,
		       const struct usbip_usb_device *udev);

/*
 * A node exports a device that is still attached here: its old connection
 * died without this side noticing yet (a node that rebooted, a network
 * that dropped it, a new address). Every such import is detached, so that
 * the new connection's remains the one.
 */
void vhci_imports_replace_stale(struct vhci_imports *im, const struct vhci_import_origin *origin,
				const struct usbip_usb_device *udev);

/* The port origin's host attached busid on (its record says so), or -1. */
int vhci_imports_find(const struct vhci_import_origin *origin, const char *busid);

/*
 * Whether subject ("" for none) may withdraw the import on port: exported
 * with a client certificate, only the same certificate may, not anyone who
 * shares the node's address (NAT).
 */
bool vhci_imports_may_withdraw(const struct vhci_imports *im, unsigned port, const char *subject);

/* Detaches port (and forgets it); -1 (logged) when vhci-hcd cannot. */
int vhci_imports_detach(struct vhci_imports *im, unsigned port);
/* Detaches every import of this process still there, so that their nodes notice. */
void vhci_imports_detach_all(struct vhci_imports *im);

#endif
