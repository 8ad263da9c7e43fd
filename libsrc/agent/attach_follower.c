// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/attach_follower.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	int port; /* attached there, or -1 */
	int backoff_s;
	long long hangup_at; /* when the connection ended, while deciding why */
	long long since;     /* when it entered its state (wall clock), for status */
	char reason[160];
	bool said_waiting;
};

static void schedule(struct attach_follower *f, long long delay_ms)
{
	f->timer.deadline_ms = ev_now_ms() + (delay_ms > 0 ? delay_ms : 1);
}

static void backoff(struct attach_follower *f)
{
	schedule(f, f->backoff_s * 1000LL);
	f->backoff_s =
		f->backoff_s * 2 > AGENT_MAX_BACKOFF_S ? AGENT_MAX_BACKOFF_S : f->backoff_s * 2;
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
		usbip_devlist_free(&found);
		backoff(f);
		return;
	}
	snprintf(f->busid, sizeof(f->busid), "%s", found.entries[0].udev.busid);
	usbip_devlist_free(&found);
	r = vhci_import(from, f->busid, &f->port, &fd, &status);
	if (r != USBIP_OK) {
		log_info("%s on %s: not attached (%s); trying again in %d s", f->busid, from->host,
			 r == USBIP_E_REFUSED ? usbip_op_status_str(status) : "failed",
			 f->backoff_s);
		f->port = -1;
		backoff(f);
		return;
	}
	log_info("attached %s from %s to port %d", f->busid, from->host, f->port);
	f->since = (long long)time(NULL);
	f->reason[0] = '\0';
	f->said_waiting = false;
	f->backoff_s = 1;
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

	if (usbip_vhci_record_read((unsigned)f->port, &rec) != 0) {
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
	usbip_vhci_record_remove((unsigned)f->port);
	f->port = -1;
	f->hangup_at = 0;
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
	f->backoff_s = 1;
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
	json_string(w, "state", f->port >= 0 ? "attached" : "waiting for its device");
	if (f->port >= 0) {
		json_string(w, "busid", f->busid);
		json_uint(w, "port", (unsigned)f->port);
	} else if (f->reason[0]) {
		json_string(w, "reason", f->reason);
	}
	json_uint(w, "since", (unsigned long long)f->since);
}

void attach_follower_stop(struct attach_follower *f)
{
	if (!f)
		return;
	if (f->hangup.fd >= 0) {
		ev_watch_remove(f->loop, &f->hangup);
		close(f->hangup.fd);
	}
	if (f->port >= 0 && usbip_vhci_detach((unsigned)f->port) == 0)
		log_info("detached %s from port %d", f->busid, f->port);
	ev_watch_remove(f->loop, &f->timer);
	free(f);
}
