// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/export_agent.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "agent/backoff.h"
#include "kernel/host.h"
#include "kernel/usb_monitor.h"
#include "source/device_export.h"
#include "source/host_source.h"
#include "source/vudc_source.h"
#include "util/log.h"

enum agent_state {
	AGENT_EXPORTING, /* trying the remotes, with jittered pauses */
	AGENT_EXPORTED,	 /* the kernel has the connection; watched for its end */
	AGENT_GAVE_UP,	 /* --max-attempts reached, or told to stop (SIGUSR1) */
};

struct agent_device {
	TAILQ_ENTRY(agent_device) entry;
	struct export_agent *agent;
	char busid[USBIP_BUSID_SIZE];
	char what[200];		  /* "2-1 (46f4:0001 serial X)", for the log */
	uint16_t vendor, product; /* its identity, for status */
	char serial[128];	  /* as usbip_local_device's */
	enum agent_state state;
	unsigned remote; /* where it is exported (AGENT_EXPORTED) */
	struct backoff backoff;
	long long since;	/* when it entered its state (wall clock), for status */
	char reason[160];	/* why the last attempt failed */
	struct ev_watch timer;	/* the next attempt (fd -1) */
	struct ev_watch hangup; /* the socket the kernel got: hangs up when it drops it */
	bool timer_on, hangup_on;
	bool reclaimed;	    /* took it back from a connection nobody held, once */
	bool exported_once; /* by this agent: a later "in use" is our own dropping */
};

TAILQ_HEAD(agent_devices, agent_device);

struct export_agent {
	struct ev_loop *loop;
	struct export_agent_config config;
	struct device_source *src;
	struct usb_monitor *monitor;
	struct ev_watch monitor_watch;
	struct agent_devices devices;
	bool said_waiting;
	unsigned long long reconnects; /* exports made again after a drop, for /metrics */
};

static struct device_export_target target(const struct export_agent *a, unsigned remote)
{
	return (struct device_export_target){ .host = a->config.remotes[remote],
					      .port = a->config.port,
					      .tls = a->config.tls,
					      .timeout_ms = a->config.attempt_timeout_ms,
					      .dialer = a->config.dialer };
}

static void timer_set(struct agent_device *d, long long delay_ms)
{
	d->timer.deadline_ms = ev_now_ms() + (delay_ms > 0 ? delay_ms : 1);
	if (!d->timer_on && ev_watch_add(d->agent->loop, &d->timer) == 0)
		d->timer_on = true;
}

static void timer_clear(struct agent_device *d)
{
	if (d->timer_on)
		ev_watch_remove(d->agent->loop, &d->timer);
	d->timer_on = false;
}

static void hangup_clear(struct agent_device *d)
{
	if (d->hangup_on) {
		ev_watch_remove(d->agent->loop, &d->hangup);
		close(d->hangup.fd);
	}
	d->hangup_on = false;
	d->hangup.fd = -1;
}

static void give_up(struct agent_device *d, const char *why)
{
	timer_clear(d);
	d->state = AGENT_GAVE_UP;
	d->since = (long long)time(NULL);
	/* A borrowed source (serve-mtp's virtual device) cannot be replugged. */
	log_warn("%s: not trying again (%s); %s", d->what, why,
		 d->agent->config.source ? "stopping" : "replug it or restart to try again");
	if (d->agent->config.gave_up)
		d->agent->config.gave_up(d->agent->config.gave_up_arg, d->busid);
}

/* A failed pass: the next one after a jittered pause, unless the attempts are used up. */
static void retry_later(struct agent_device *d)
{
	unsigned max = d->agent->config.max_attempts;
	long long pause;

	if (max && d->backoff.failures + 1 >= max) {
		char why[64];

		snprintf(why, sizeof(why), "%u attempts failed", max);
		give_up(d, why);
		return;
	}
	pause = backoff_pause_ms(&d->backoff, backoff_random());
	log_info("%s: retrying in %lld.%lld s", d->what, pause / 1000, pause % 1000 / 100);
	timer_set(d, pause);
}

/* One pass over the remotes, first to last; the first that takes the device has it. */
static void try_export(struct agent_device *d)
{
	struct export_agent *a = d->agent;
	struct usbip_local_device dev;
	unsigned i;

	timer_clear(d);
	/*
	 * Exported, but by a connection this agent does not hold: an agent
	 * before it (killed, restarted) left it with the kernel. Take it back;
	 * usbipa replaces the stale import when it is exported again.
	 */
	if (!d->reclaimed && !d->exported_once && device_source_get(a->src, d->busid, &dev) == 0 &&
	    dev.stub_status == USBIP_STUB_USED) {
		log_info("%s is exported on a connection no agent holds now: taking it back",
			 d->what);
		d->reclaimed = device_source_reclaim(a->src, d->busid) == 0;
		d->state = AGENT_EXPORTING;
		timer_set(d, 500);
		return;
	}
	if (device_source_prepare(a->src, d->busid) != 0) {
		snprintf(d->reason, sizeof(d->reason), "cannot bind it to usbip-host");
		log_warn("%s: cannot make it exportable", d->what);
		goto again;
	}
	for (i = 0; i < a->config.nremotes; i++) {
		struct device_export_target to = target(a, i);
		uint32_t status;
		int fd = -1;
		enum usbip_result r = device_export(a->src, d->busid, &to, &status, &fd);

		if (r == USBIP_OK) {
			d->state = AGENT_EXPORTED;
			a->reconnects += d->exported_once;
			d->exported_once = true;
			d->remote = i;
			backoff_reset(&d->backoff);
			d->since = (long long)time(NULL);
			d->reason[0] = '\0';
			log_info("exported %s to %s", d->what, to.host);
			if (fd >= 0) {
				d->hangup.fd = fd;
				if (ev_watch_add(a->loop, &d->hangup) == 0)
					d->hangup_on = true;
				else
					close(fd);
			}
			return;
		}
		snprintf(d->reason, sizeof(d->reason), "%s: %s", to.host,
			 r == USBIP_E_UNREACHABLE ? "unreachable"
			 : r == USBIP_E_REFUSED	  ? usbip_proto_export_status_str(status)
						  : "failed");
		log_info("%s: not exported to %s%s", d->busid, d->reason,
			 i + 1 < a->config.nremotes ? "; trying the next remote" : "");
	}
again:
	if (d->state != AGENT_EXPORTING || !d->since)
		d->since = (long long)time(NULL);
	d->state = AGENT_EXPORTING;
	retry_later(d);
}

static void on_timer(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	try_export(w->data);
}

/* The export ended: again soon, but not in step with every other node the same remote dropped. */
static void export_ended(struct agent_device *d)
{
	hangup_clear(d);
	log_warn("the connection of %s to %s dropped; exporting again", d->what,
		 d->agent->config.remotes[d->remote]);
	d->state = AGENT_EXPORTING;
	backoff_reset(&d->backoff);
	d->since = (long long)time(NULL);
	timer_set(d, backoff_after_close_ms(backoff_random()));
}

/* The kernel dropped the connection (peer gone, usbipa restarted, network lost). */
static void on_hangup(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	export_ended(w->data);
}

static struct agent_device *find(struct export_agent *a, const char *busid)
{
	struct agent_device *d;

	TAILQ_FOREACH(d, &a->devices, entry)
		if (strcmp(d->busid, busid) == 0)
			return d;
	return NULL;
}

/* Takes up a device if the selector wants it; 0 if it was taken or is not wanted. */
static void consider(struct export_agent *a, const struct usbip_local_device *dev)
{
	const struct usbip_usb_device *u = &dev->info.udev;
	struct agent_device *d;

	if (dev->hub || dev->imported || find(a, u->busid) ||
	    !selector_matches(&a->config.selector, u->busid, u->id_vendor, u->id_product,
			      dev->serial))
		return;
	d = calloc(1, sizeof(*d));
	if (!d) {
		log_err("out of memory");
		return;
	}
	d->agent = a;
	snprintf(d->busid, sizeof(d->busid), "%s", u->busid);
	snprintf(d->what, sizeof(d->what), "%s (%04x:%04x%s%s)", u->busid, u->id_vendor,
		 u->id_product, dev->serial[0] ? " serial " : "", dev->serial);
	d->vendor = u->id_vendor;
	d->product = u->id_product;
	snprintf(d->serial, sizeof(d->serial), "%s", dev->serial);
	d->timer = (struct ev_watch){ .fd = -1, .cb = on_timer, .data = d };
	/*
	 * Not POLLIN: the peer's URBs make the socket readable before the
	 * kernel's thread takes them. Only the end of the connection counts.
	 */
	d->hangup = (struct ev_watch){ .fd = -1, .events = POLLRDHUP, .cb = on_hangup, .data = d };
	TAILQ_INSERT_TAIL(&a->devices, d, entry);
	a->said_waiting = false;
	try_export(d);
}

static void withdraw(struct agent_device *d, const char *why)
{
	struct export_agent *a = d->agent;
	struct device_export_target to = target(a, d->remote);
	uint32_t status;

	if (d->state != AGENT_EXPORTED)
		return;
	hangup_clear(d);
	if (device_export_withdraw(a->src, d->busid, &to, &status) == USBIP_OK)
		log_info("withdrew %s from %s%s", d->what, to.host, why);
	else
		log_warn("could not withdraw %s from %s%s", d->what, to.host, why);
	d->state = AGENT_EXPORTING;
}

static void forget(struct agent_device *d)
{
	timer_clear(d);
	hangup_clear(d);
	TAILQ_REMOVE(&d->agent->devices, d, entry);
	free(d);
}

static void say_waiting(struct export_agent *a)
{
	char sel[256];

	if (!TAILQ_EMPTY(&a->devices) || a->said_waiting)
		return;
	selector_describe(&a->config.selector, sel, sizeof(sel));
	log_info("waiting for a device matching %s", sel);
	a->said_waiting = true;
}

static void on_usb_event(void *arg, enum usb_monitor_event event, const char *busid)
{
	struct export_agent *a = arg;
	struct usbip_local_device dev;
	struct agent_device *d;

	if (event == USB_MONITOR_ADDED) {
		if (device_source_get(a->src, busid, &dev) == 0)
			consider(a, &dev);
		return;
	}
	d = find(a, busid);
	if (!d)
		return;
	log_info("%s was unplugged", d->what);
	withdraw(d, " (unplugged)");
	/* The port's next device must get its own driver, not usbip-host. */
	host_forget(d->busid);
	forget(d);
	say_waiting(a);
}

static void on_monitor(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	usb_monitor_dispatch(w->data);
}

struct export_agent *export_agent_start(struct ev_loop *loop,
					const struct export_agent_config *config)
{
	struct export_agent *a = calloc(1, sizeof(*a));
	struct usbip_local_device *devs = NULL;
	size_t n = 0, i;

	if (!a)
		return NULL;
	a->loop = loop;
	a->config = *config;
	TAILQ_INIT(&a->devices);
	a->src = config->source	   ? config->source
		 : config->gadgets ? vudc_source_new()
				   : host_source_new();
	if (!a->src)
		goto fail;
	/* Gadgets are made by configfs, not plugged: listed once (a borrowed source too). */
	if (!config->gadgets && !config->source) {
		a->monitor = usb_monitor_new(on_usb_event, a);
		if (!a->monitor)
			goto fail;
		a->monitor_watch = (struct ev_watch){ .fd = usb_monitor_fd(a->monitor),
						      .events = POLLIN,
						      .cb = on_monitor,
						      .data = a->monitor };
		if (ev_watch_add(loop, &a->monitor_watch) != 0)
			goto fail;
	}
	/* What is plugged in now; the monitor already queues what comes next. */
	if (device_source_candidates(a->src, &devs, &n) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		consider(a, &devs[i]);
	free(devs);
	say_waiting(a);
	return a;
fail:
	log_err("the export agent cannot start");
	export_agent_stop(a);
	return NULL;
}

unsigned export_agent_exported(const struct export_agent *agent)
{
	const struct agent_device *d;
	unsigned n = 0;

	TAILQ_FOREACH(d, &agent->devices, entry)
		n += d->state == AGENT_EXPORTED;
	return n;
}

void export_agent_status(const struct export_agent *a, struct json_writer *w)
{
	const struct agent_device *d;

	json_array_begin(w, "devices");
	TAILQ_FOREACH(d, &a->devices, entry) {
		json_object_begin(w, NULL);
		json_string(w, "busid", d->busid);
		json_hex(w, "vendor", d->vendor, 4);
		json_hex(w, "product", d->product, 4);
		if (d->serial[0])
			json_string(w, "serial", d->serial);
		json_string(w, "device", d->what);
		json_string(w, "state",
			    d->state == AGENT_EXPORTED	? "exported"
			    : d->state == AGENT_GAVE_UP ? "given up"
							: "retrying");
		if (d->state == AGENT_EXPORTED)
			json_string(w, "remote", a->config.remotes[d->remote]);
		else if (d->reason[0])
			json_string(w, "reason", d->reason);
		json_uint(w, "since", (unsigned long long)d->since);
		json_object_end(w);
	}
	json_array_end(w);
	/* Nothing plugged that matches: it waits. */
	json_string(w, "state", TAILQ_EMPTY(&a->devices) ? "waiting for its device" : "active");
}

void export_agent_count(const struct export_agent *a, struct agent_counts *c)
{
	const struct agent_device *d;

	TAILQ_FOREACH(d, &a->devices, entry) {
		c->exported += d->state == AGENT_EXPORTED;
		c->export_given_up += d->state == AGENT_GAVE_UP;
		c->exporting += d->state != AGENT_EXPORTED && d->state != AGENT_GAVE_UP;
		if (d->since > c->last_change)
			c->last_change = d->since;
	}
	c->reconnects += a->reconnects;
}

unsigned export_agent_give_up(struct export_agent *a)
{
	struct agent_device *d;
	unsigned n = 0;

	TAILQ_FOREACH(d, &a->devices, entry) {
		if (d->state != AGENT_EXPORTING)
			continue;
		give_up(d, "told to stop");
		n++;
	}
	return n;
}

void export_agent_dropped(struct export_agent *a, const char *busid)
{
	struct agent_device *d = find(a, busid);

	if (d && d->state == AGENT_EXPORTED)
		export_ended(d);
}

void export_agent_stop(struct export_agent *a)
{
	struct agent_device *d;

	if (!a)
		return;
	while ((d = TAILQ_FIRST(&a->devices)) != NULL) {
		withdraw(d, "");
		if (!a->config.source && device_source_release(a->src, d->busid) == 0 &&
		    !a->config.gadgets)
			log_info("%s is back on its own driver", d->what);
		forget(d);
	}
	if (a->monitor) {
		ev_watch_remove(a->loop, &a->monitor_watch);
		usb_monitor_free(a->monitor);
	}
	if (!a->config.source)
		device_source_free(a->src);
	free(a);
}
