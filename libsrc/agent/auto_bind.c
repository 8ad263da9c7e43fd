// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/auto_bind.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "kernel/host.h"
#include "kernel/usb_monitor.h"
#include "util/log.h"

struct bound_device {
	TAILQ_ENTRY(bound_device) entry;
	char busid[USBIP_BUSID_SIZE];
};

TAILQ_HEAD(bound_devices, bound_device);

struct auto_bind {
	struct ev_loop *loop;
	struct usbip_selector selectors[AUTO_BIND_MAX];
	unsigned count;
	struct usb_monitor *monitor;
	struct ev_watch watch;
	struct bound_devices bound; /* what it bound, to give back */
};

int auto_bind_parse(const char *spec, struct usbip_selector *sel, char *err, size_t err_len)
{
	struct usbip_hwid id;
	char ignored[8];

	memset(sel, 0, sizeof(*sel));
	/* An identity has a colon right after four hex digits; busids never do. */
	if (selector_parse_hwid(spec, &id, ignored, sizeof(ignored)) == 0 ||
	    (strchr(spec, ':') && strchr(spec, ':') - spec <= 4))
		return selector_add_hwid(sel, spec, err, err_len);
	if (selector_add_busid(sel, spec, err, err_len) != 0)
		return -1;
	return selector_check_usb_busids(sel, err, err_len);
}

static struct bound_device *find(struct auto_bind *ab, const char *busid)
{
	struct bound_device *b;

	TAILQ_FOREACH(b, &ab->bound, entry)
		if (strcmp(b->busid, busid) == 0)
			return b;
	return NULL;
}

static void consider(struct auto_bind *ab, const struct usbip_local_device *dev)
{
	const struct usbip_usb_device *u = &dev->info.udev;
	struct bound_device *b;
	unsigned i;

	if (dev->hub || dev->imported || strcmp(dev->driver, "usbip-host") == 0)
		return;
	for (i = 0; i < ab->count; i++)
		if (selector_matches(&ab->selectors[i], u->busid, u->id_vendor, u->id_product,
				     dev->serial))
			break;
	if (i == ab->count)
		return;
	if (host_bind(u->busid, true) != 0) {
		log_warn("auto-bind: could not bind %s (%04x:%04x)", u->busid, u->id_vendor,
			 u->id_product);
		return;
	}
	log_info("auto-bind: bound %s (%04x:%04x%s%s) to usbip-host", u->busid, u->id_vendor,
		 u->id_product, dev->serial[0] ? " serial " : "", dev->serial);
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	snprintf(b->busid, sizeof(b->busid), "%s", u->busid);
	TAILQ_INSERT_TAIL(&ab->bound, b, entry);
}

static void on_usb_event(void *arg, enum usb_monitor_event event, const char *busid)
{
	struct auto_bind *ab = arg;
	struct usbip_local_device dev;
	struct bound_device *b;

	if (event == USB_MONITOR_ADDED) {
		if (host_get(busid, &dev) == 0)
			consider(ab, &dev);
		return;
	}
	b = find(ab, busid);
	if (!b)
		return;
	/* The port's next device must get its own driver unless it is selected too. */
	host_forget(busid);
	log_info("auto-bind: %s was unplugged", busid);
	TAILQ_REMOVE(&ab->bound, b, entry);
	free(b);
}

static void on_monitor(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	usb_monitor_dispatch(w->data);
}

struct auto_bind *auto_bind_start(struct ev_loop *loop, const struct usbip_selector *selectors,
				  unsigned count)
{
	struct auto_bind *ab = calloc(1, sizeof(*ab));
	struct usbip_local_device *devs = NULL;
	size_t n = 0, i;

	if (!ab)
		return NULL;
	ab->loop = loop;
	ab->count = count < AUTO_BIND_MAX ? count : AUTO_BIND_MAX;
	memcpy(ab->selectors, selectors, ab->count * sizeof(*selectors));
	TAILQ_INIT(&ab->bound);
	ab->monitor = usb_monitor_new(on_usb_event, ab);
	if (!ab->monitor)
		goto fail;
	ab->watch = (struct ev_watch){ .fd = usb_monitor_fd(ab->monitor),
				       .events = POLLIN,
				       .cb = on_monitor,
				       .data = ab->monitor };
	if (ev_watch_add(loop, &ab->watch) != 0)
		goto fail;
	if (host_list(&devs, &n, false) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		consider(ab, &devs[i]);
	free(devs);
	return ab;
fail:
	auto_bind_stop(ab);
	return NULL;
}

void auto_bind_stop(struct auto_bind *ab)
{
	struct bound_device *b;

	if (!ab)
		return;
	while ((b = TAILQ_FIRST(&ab->bound)) != NULL) {
		if (host_unbind(b->busid) == 0)
			log_info("auto-bind: gave %s back to its own driver", b->busid);
		TAILQ_REMOVE(&ab->bound, b, entry);
		free(b);
	}
	if (ab->monitor) {
		ev_watch_remove(ab->loop, &ab->watch);
		usb_monitor_free(ab->monitor);
	}
	free(ab);
}
