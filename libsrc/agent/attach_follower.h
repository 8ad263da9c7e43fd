/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The application side following a remote device (`usbip attach
 * --persist`): classic mode has no push, so it asks the remote's device
 * list with jittered pauses (agent/backoff.h) until a device
 * matches, attaches it, and attaches it again whenever vhci-hcd loses the
 * connection (device, network or usbipd gone and back). It ends when its
 * port is detached with `usbip detach` (the port's record is removed
 * first), or when stopped, which detaches the port.
 */
#ifndef USBIP_AGENT_ATTACH_FOLLOWER_H
#define USBIP_AGENT_ATTACH_FOLLOWER_H

#include "agent/export_agent.h"
#include "agent/vhci_import.h"
#include "daemon/ev.h"
#include "util/json.h"

struct attach_follower_config {
	struct vhci_import_target from;
	struct usbip_selector selector;
	unsigned max_attempts;	    /* failed attempts in a row before it gives up (0: no limit) */
	void (*ended)(void *arg);   /* its port was detached by hand */
	void (*gave_up)(void *arg); /* it stopped trying (max_attempts, give_up), or NULL */
	void *arg;
};

struct attach_follower;

/* NULL on allocation failure. The first attempt runs at once. */
struct attach_follower *attach_follower_start(struct ev_loop *loop,
					      const struct attach_follower_config *config);
/* Writes "remote", "state" (attached or waiting), "busid"/"port" or "reason", "since". */
void attach_follower_status(const struct attach_follower *f, struct json_writer *w);
/* Adds what f holds to c (export_agent.h). */
void attach_follower_count(const struct attach_follower *f, struct agent_counts *c);
/*
 * Stops retrying: a follower waiting for its device gives up now (true);
 * an attached one stays attached and gives up when the connection is lost.
 */
bool attach_follower_give_up(struct attach_follower *f);
/* Detaches its port, if attached, and frees it. */
void attach_follower_stop(struct attach_follower *f);

#endif
