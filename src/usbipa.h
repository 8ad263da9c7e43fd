/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipa in two processes (daemon/privsep.h). The network process
 * (usbipa.c) reads the export requests, checks the policy and replies; the
 * privileged one (usbipa_vhci.c) does what needs root with vhci-hcd:
 * finding a port, attaching the connection's socket, looking at what
 * arrives (the keyboard gate), detaching. These are the requests between
 * them.
 */
#ifndef USBIPA_H
#define USBIPA_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/capacity.h"
#include "daemon/daemon.h"
#include "match/policy.h"
#include "daemon/privsep.h"
#include "wire/usbip_proto.h"

enum {
	/* May this device be attached? Replaces a stale import of it first. */
	USBIPA_ACCEPT = PRIVSEP_TYPE_DAEMON,
	/* Attach it, with the connection's socket (the reply went out). */
	USBIPA_ATTACH,
	/* The exporter withdraws it. */
	USBIPA_UNEXPORT,
};

/* Who asks, as the network process knows it. */
struct usbipa_peer {
	char name[80];	    /* "host:port", for logs */
	char host[64];	    /* the numeric address */
	char service[16];   /* the port */
	char subject[256];  /* the client certificate's subject, "" for none */
	char transport[16]; /* "tcp", "tls, ktls" or "tls, relay" */
};

struct usbipa_accept_request {
	struct usbip_usb_device udev;
	struct usbipa_peer peer;
};

struct usbipa_attach_request {
	struct usbip_usb_device udev;
	struct usbipa_peer peer;
};

struct usbipa_unexport_request {
	char busid[USBIP_BUSID_SIZE];
	struct usbipa_peer peer;
};

/* The answer to ACCEPT and UNEXPORT: an export status (usbip_proto.h). */
struct usbipa_status_reply {
	uint32_t status;
};

/* The answer to ATTACH: the vhci port, or -1. */
struct usbipa_port_reply {
	int32_t port;
};

/* The privileged process's state: what it attached, and the gate. */
struct usbipa_vhci;

/* capacity: --max-imports and draining, kept by the caller for as long. */
struct usbipa_vhci *usbipa_vhci_new(const struct usbip_policy *policy, struct capacity *capacity);
void usbipa_vhci_free(struct usbipa_vhci *v);

/* The requests it serves, for a privsep_table with v as arg. */
extern const struct privsep_op usbipa_vhci_ops[];
extern const size_t usbipa_vhci_nops;

/* The daemon hooks of the privileged process (arg: the usbipa_vhci). */
enum usbip_result usbipa_vhci_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg);
void usbipa_vhci_stop(struct usbip_daemon *d, void *arg);
void usbipa_vhci_status(struct usbip_daemon *d, struct json_writer *w, void *arg);
void usbipa_vhci_metrics(struct usbip_daemon *d, struct metrics_text *m, void *arg);
/* SIGUSR1: starts draining, or (again) ends it. */
void usbipa_vhci_toggle_drain(struct usbip_daemon *d, void *arg);

#endif
