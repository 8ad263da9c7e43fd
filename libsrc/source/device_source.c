// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/device_source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/tls.h"

#include "util/log.h"

int device_source_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	return src->ops->list(src, devs, count);
}

int device_source_candidates(struct device_source *src, struct usbip_local_device **devs,
			     size_t *count)
{
	if (!src->ops->candidates)
		return device_source_list(src, devs, count);
	return src->ops->candidates(src, devs, count);
}

/* Keeps the first *count devices sel matches at the front; returns how many. */
static size_t keep_matching(const struct usbip_selector *sel, struct usbip_local_device *devs,
			    size_t count)
{
	size_t i, kept = 0;

	for (i = 0; i < count; i++) {
		const struct usbip_usb_device *u = &devs[i].info.udev;

		if (selector_matches(sel, u->busid, u->id_vendor, u->id_product, devs[i].serial))
			devs[kept++] = devs[i];
	}
	return kept;
}

int device_source_select(struct device_source *src, const struct usbip_selector *sel,
			 enum device_source_scope scope, struct usbip_local_device **devs,
			 size_t *count)
{
	bool listed = scope == DEVICE_SOURCE_LISTED;
	const char *noun = listed ? src->ops->list_noun : src->ops->candidates_noun;
	struct usbip_local_device *all = NULL;
	size_t n = 0;
	char text[256];

	if ((listed ? device_source_list(src, &all, &n)
		    : device_source_candidates(src, &all, &n)) != 0)
		return -1;
	n = keep_matching(sel, all, n);
	if (n == 0) {
		selector_describe(sel, text, sizeof(text));
		log_err("no %s matches %s", noun ? noun : "device", text);
		free(all);
		return -1;
	}
	*devs = all;
	*count = n;
	return 0;
}

int device_source_get(struct device_source *src, const char *busid, struct usbip_local_device *dev)
{
	return src->ops->get(src, busid, dev);
}

int device_source_prepare(struct device_source *src, const char *busid)
{
	return src->ops->prepare ? src->ops->prepare(src, busid) : 0;
}

enum usbip_op_status device_source_hand_over(struct device_source *src, const char *busid,
					     struct usbip_conn *conn, int *watch_fd)
{
	if (watch_fd)
		*watch_fd = -1;
	return src->ops->hand_over(src, busid, conn, watch_fd);
}

int device_source_release(struct device_source *src, const char *busid)
{
	return src->ops->release ? src->ops->release(src, busid) : 0;
}

int device_source_reclaim(struct device_source *src, const char *busid)
{
	return src->ops->reclaim ? src->ops->reclaim(src, busid) : -1;
}

void device_source_free(struct device_source *src)
{
	struct device_session *sess;

	if (!src)
		return;
	while ((sess = TAILQ_FIRST(&src->sessions)) != NULL) {
		TAILQ_REMOVE(&src->sessions, sess, entry);
		free(sess);
	}
	src->ops->destroy(src);
}

enum usbip_op_status
device_source_hand_to_kernel(const char *busid, struct usbip_conn *conn,
			     enum usbip_op_status (*export)(const char *busid, int sockfd,
							    struct usbip_local_device *dev),
			     int *watch_fd)
{
	struct usbip_local_device dev = { 0 };
	enum usbip_op_status status;
	int fd = usbip_conn_kernel_fd(conn);

	/* The driver's reference keeps the socket (and any relay's end) alive. */
	status = fd < 0 ? USBIP_ST_ERROR : export(busid, fd, &dev);
	if (status == USBIP_ST_OK && watch_fd)
		*watch_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	conn_close(conn);
	return status;
}

void device_source_init(struct device_source *src, const struct device_source_ops *ops,
			const char *kind)
{
	src->ops = ops;
	src->kind = kind;
	TAILQ_INIT(&src->sessions);
}

static struct device_session *session_of(struct device_source *src, const char *busid)
{
	struct device_session *sess;

	TAILQ_FOREACH(sess, &src->sessions, entry)
		if (strcmp(sess->busid, busid) == 0)
			return sess;
	return NULL;
}

void device_source_note(struct device_source *src, const char *busid, const struct usbip_conn *conn)
{
	device_source_note_peer(src, busid, conn->peer, tls_datapath(conn));
}

void device_source_note_peer(struct device_source *src, const char *busid, const char *peer,
			     const char *datapath)
{
	struct device_session *sess = session_of(src, busid);

	if (!sess) {
		sess = calloc(1, sizeof(*sess));
		if (!sess)
			return; /* status only: not worth failing the import */
		snprintf(sess->busid, sizeof(sess->busid), "%s", busid);
		TAILQ_INSERT_TAIL(&src->sessions, sess, entry);
	}
	snprintf(sess->peer, sizeof(sess->peer), "%s", peer);
	sess->since = (long long)time(NULL);
	sess->datapath = datapath;
	sess->transport = sess->datapath ? "tls" : "tcp";
}

void device_source_status(struct device_source *src, struct json_writer *w)
{
	struct usbip_local_device *devs = NULL;
	struct device_session *sess, *next;
	size_t n = 0, i;

	json_string(w, "source", src->kind);
	json_array_begin(w, "devices");
	if (device_source_list(src, &devs, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		const struct usbip_usb_device *u = &devs[i].info.udev;
		bool used = devs[i].stub_status == USBIP_STUB_USED;

		json_object_begin(w, NULL);
		json_string(w, "busid", u->busid);
		json_hex(w, "vendor", u->id_vendor, 4);
		json_hex(w, "product", u->id_product, 4);
		if (devs[i].serial[0])
			json_string(w, "serial", devs[i].serial);
		json_string(w, "state",
			    used				      ? "exported"
			    : devs[i].stub_status == USBIP_STUB_ERROR ? "error"
								      : "available");
		sess = used ? session_of(src, u->busid) : NULL;
		if (sess) {
			json_string(w, "peer", sess->peer);
			json_uint(w, "since", (unsigned long long)sess->since);
			json_string(w, "transport", sess->transport);
			if (sess->datapath)
				json_string(w, "datapath", sess->datapath);
		}
		json_object_end(w);
	}
	json_array_end(w);
	/* Who had a device that is no longer in use is of no interest any more. */
	for (sess = TAILQ_FIRST(&src->sessions); sess; sess = next) {
		next = TAILQ_NEXT(sess, entry);
		for (i = 0; i < n; i++)
			if (strcmp(devs[i].info.udev.busid, sess->busid) == 0 &&
			    devs[i].stub_status == USBIP_STUB_USED)
				break;
		if (i == n) {
			TAILQ_REMOVE(&src->sessions, sess, entry);
			free(sess);
		}
	}
	free(devs);
}

/* The devices offered, by state, and the newest export still under way. */
void device_source_metrics(struct device_source *src, struct metrics_text *m, const char *prefix)
{
	struct usbip_local_device *devs = NULL;
	unsigned long counts[3] = { 0 };
	static const char *const states[3] = { "available", "exported", "error" };
	const struct device_session *sess;
	long long newest = 0;
	char name[96];
	size_t n = 0, i;

	if (device_source_list(src, &devs, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++)
		counts[devs[i].stub_status == USBIP_STUB_USED	 ? 1
		       : devs[i].stub_status == USBIP_STUB_ERROR ? 2
								 : 0]++;
	free(devs);
	snprintf(name, sizeof(name), "%s_devices", prefix);
	metrics_family(m, name, "gauge", "the devices offered, by state");
	for (i = 0; i < 3; i++)
		metrics_sample(m, name, (double)counts[i], "state", states[i], METRICS_END);
	TAILQ_FOREACH(sess, &src->sessions, entry)
		if (sess->since > newest)
			newest = sess->since;
	snprintf(name, sizeof(name), "%s_last_export_timestamp_seconds", prefix);
	metrics_family(m, name, "gauge", "when the newest export still known began (0: none)");
	metrics_sample(m, name, (double)newest, METRICS_END);
}

enum usbip_op_status device_source_availability(const struct usbip_local_device *dev)
{
	switch (dev->stub_status) {
	case USBIP_STUB_AVAILABLE:
		return USBIP_ST_OK;
	case USBIP_STUB_USED:
		return USBIP_ST_DEV_BUSY;
	case USBIP_STUB_NOT_BOUND:
		return USBIP_ST_NA;
	case USBIP_STUB_ERROR:
		break;
	}
	return USBIP_ST_DEV_ERR;
}

void device_source_record(const struct usbip_local_device *dev, struct usbip_usb_device *udev)
{
	uint8_t probe[USBIP_DEVICE_RECORD_SIZE];

	if (udev != &dev->info.udev)
		*udev = dev->info.udev;
	if (!dev->serial[0])
		return;
	if (strlen(dev->serial) < sizeof(udev->serial))
		strcpy(udev->serial, dev->serial);
	if (usbip_proto_encode_device(probe, udev) != 0 || strcmp(udev->serial, dev->serial) != 0) {
		log_warn("%s: serial '%s' does not fit in the device record; sent without it",
			 udev->busid, dev->serial);
		udev->serial[0] = '\0';
	}
}
