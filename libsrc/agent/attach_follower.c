// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/attach_follower.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/backoff.h"
#include "kernel/vhci.h"
#include "util/log.h"

/* How long a hang-up waits for `usbip detach` to finish removing the port's record. */
#define DETACH_GRACE_MS 1000

struct attach_follower {
	struct ev_loop *loop;
	struct attach_follower_config config;
	struct ev_watch timer;	/* the next look at the remote's list (fd -1) */
	struct ev_watch hangup; /* the socket vhci-hcd got */
	char busid[USBIP_BUSID_SIZE];
	struct usbip_usb_device device; /* what the remote offered as busid, for status */
	int port;			/* attached there, or -1 */
	unsigned long long attaches;	/* made, for /metrics (the first is no reconnect) */
	struct backoff backoff;
	long long hangup_at; /* when the connection ended, while deciding why */
	long long since;     /* when it entered its state (wall clock), for status */
	char reason[160];
	bool said_waiting;
	bool gave_up;  /* --max-attempts reached, or told to stop (SIGUSR1) */
	bool stopping; /* told to stop while attached: no attempt once it is lost */
};

static void schedule(struct attach_follower *f, long long delay_ms)
{
	f->timer.deadline_ms = ev_now_ms() + (delay_ms > 0 ? delay_ms : 1);
}

static void give_up(struct attach_follower *f, const char *why)
{
	f->timer.deadline_ms = 0;
	f->gave_up = true;
	f->since = (long long)time(NULL);
	log_warn("following %s ends: %s", f->config.from.host, why);
	if (f->config.gave_up)
		f->config.gave_up(f->config.arg);
}

/*
 * A failed attempt: the next after a jittered pause. A device the remote
 * says is busy (its last connection not yet seen dead there) is waited
 * for without counting against --max-attempts.
 */
static void backoff(struct attach_follower *f, bool busy)
{
	unsigned max = f->config.max_attempts;
	long long pause;

	if (!busy && max && f->backoff.failures + 1 >= max) {
		char why[64];

		snprintf(why, sizeof(why), "%u attempts failed", max);
		give_up(f, why);
		return;
	}
	pause = backoff_pause_ms(&f->backoff, backoff_random());
	if (busy && f->backoff.failures)
		f->backoff.failures--;
	schedule(f, pause);
}

static void attach_now(struct attach_follower *f)
{
	const struct vhci_import_target *from = &f->config.from;
	struct usbip_devlist found;
	enum usbip_result r;
	uint32_t status;
	char sel[256];
	int fd;

	r = vhci_import_find(from, &f->config.selector, &found);
	if (r != USBIP_OK || found.count != 1) {
		selector_describe(&f->config.selector, sel, sizeof(sel));
		if (f->port >= 0 || !f->since)
			f->since = (long long)time(NULL);
		snprintf(f->reason, sizeof(f->reason), "%s",
			 r != USBIP_OK	    ? "the remote is unreachable"
			 : found.count == 0 ? "not offered by the remote"
					    : "several devices match");
		if (r == USBIP_OK && found.count > 1)
			log_warn("%u devices on %s match %s; attaching none", found.count,
				 from->host, sel);
		else if (!f->said_waiting)
			log_info("waiting for a device matching %s on %s", sel, from->host);
		f->said_waiting = true;
		usbip_proto_devlist_free(&found);
		backoff(f, false);
		return;
	}
	snprintf(f->busid, sizeof(f->busid), "%s", found.entries[0].udev.busid);
	f->device = found.entries[0].udev;
	usbip_proto_devlist_free(&found);
	r = vhci_import(from, f->busid, &f->port, &fd, &status);
	if (r != USBIP_OK) {
		log_info("%s on %s: not attached (%s); trying again", f->busid, from->host,
			 r == USBIP_E_REFUSED ? usbip_proto_op_status_str(status) : "failed");
		f->port = -1;
		backoff(f, r == USBIP_E_REFUSED && status == USBIP_ST_DEV_BUSY);
		return;
	}
	log_info("attached %s from %s to port %d", f->busid, from->host, f->port);
	f->attaches++;
	f->since = (long long)time(NULL);
	f->reason[0] = '\0';
	f->said_waiting = false;
	backoff_reset(&f->backoff);
	f->timer.deadline_ms = 0;
	f->hangup.fd = fd;
	if (fd >= 0 && ev_watch_add(f->loop, &f->hangup) != 0) {
		close(fd);
		f->hangup.fd = -1;
	}
}

/*
 * The connection ended. `usbip detach` removes the port's record before it
 * detaches, so a record still there (after a grace for other tools, which
 * remove it after) means the connection was lost, not given up.
 */
static void decide(struct attach_follower *f)
{
	struct usbip_vhci_record rec;

	if (vhci_record_read((unsigned)f->port, &rec) != 0) {
		log_info("port %d was detached: following %s on %s ends", f->port, f->busid,
			 f->config.from.host);
		f->port = -1;
		f->timer.deadline_ms = 0;
		if (f->config.ended)
			f->config.ended(f->config.arg);
		return;
	}
	if (ev_now_ms() - f->hangup_at < DETACH_GRACE_MS) {
		schedule(f, 100);
		return;
	}
	log_warn("%s from %s lost its connection (port %d); attaching it again", f->busid,
		 f->config.from.host, f->port);
	vhci_record_remove((unsigned)f->port);
	f->port = -1;
	f->hangup_at = 0;
	f->since = (long long)time(NULL);
	snprintf(f->reason, sizeof(f->reason), "its connection was lost");
	if (f->stopping) {
		give_up(f, "told to stop retrying");
		return;
	}
	attach_now(f);
}

static void on_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct attach_follower *f = w->data;

	w->deadline_ms = 0;
	if (f->hangup_at)
		decide(f);
	else
		attach_now(f);
}

static void on_hangup(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct attach_follower *f = w->data;

	ev_watch_remove(loop, w);
	close(w->fd);
	w->fd = -1;
	f->hangup_at = ev_now_ms();
	decide(f);
}

struct attach_follower *attach_follower_start(struct ev_loop *loop,
					      const struct attach_follower_config *config)
{
	struct attach_follower *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->loop = loop;
	f->config = *config;
	f->port = -1;
	f->timer = (struct ev_watch){ .fd = -1, .cb = on_timer, .data = f };
	/* Not POLLIN: URBs make the socket readable before vhci's thread takes them. */
	f->hangup = (struct ev_watch){ .fd = -1, .events = POLLRDHUP, .cb = on_hangup, .data = f };
	if (ev_watch_add(loop, &f->timer) != 0) {
		free(f);
		return NULL;
	}
	attach_now(f);
	return f;
}

void attach_follower_status(const struct attach_follower *f, struct json_writer *w)
{
	json_string(w, "remote", f->config.from.host);
	json_string(w, "state",
		    f->port >= 0 ? "attached"
		    : f->gave_up ? "given up"
				 : "waiting for its device");
	if (f->port >= 0) {
		json_string(w, "busid", f->busid);
		json_hex(w, "vendor", f->device.id_vendor, 4);
		json_hex(w, "product", f->device.id_product, 4);
		if (f->device.serial[0])
			json_string(w, "serial", f->device.serial);
		json_uint(w, "port", (unsigned)f->port);
	} else if (f->reason[0]) {
		json_string(w, "reason", f->reason);
	}
	json_uint(w, "since", (unsigned long long)f->since);
}

void attach_follower_count(const struct attach_follower *f, struct agent_counts *c)
{
	c->attached += f->port >= 0;
	c->attach_given_up += f->port < 0 && f->gave_up;
	c->waiting += f->port < 0 && !f->gave_up;
	c->reconnects += f->attaches > 1 ? f->attaches - 1 : 0;
	if (f->since > c->last_change)
		c->last_change = f->since;
}

bool attach_follower_give_up(struct attach_follower *f)
{
	if (f->gave_up)
		return false;
	if (f->port >= 0) {
		f->stopping = true;
		return false;
	}
	give_up(f, "told to stop retrying");
	return true;
}

void attach_follower_stop(struct attach_follower *f)
{
	if (!f)
		return;
	if (f->hangup.fd >= 0) {
		ev_watch_remove(f->loop, &f->hangup);
		close(f->hangup.fd);
	}
	if (f->port >= 0 && vhci_detach((unsigned)f->port) == 0)
		log_info("detached %s from port %d", f->busid, f->port);
	ev_watch_remove(f->loop, &f->timer);
	free(f);
}
