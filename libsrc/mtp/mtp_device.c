// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The USB side of the MTP responder: what the device looks like, the PTP
 * class requests on ep0, commands gathered from the bulk OUT pipe and
 * handed to the session, and events on the interrupt pipe.
 */
#include "mtp/mtp_device.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtp/mtp_object.h"
#include "mtp/mtp_session.h"
#include "mtp/mtp_state.h"
#include "util/log.h"
#include "vdev/vdev.h"
#include "wire/usb_descriptors.h"
#include "wire/usbip_proto.h"

/* PTP still image class requests (USB Still Image Capture Device Definition, 5.2) */
#define PTP_REQ_CANCEL	       0x64
#define PTP_REQ_GET_EXT_EVENT  0x65
#define PTP_REQ_RESET	       0x66
#define PTP_REQ_GET_DEV_STATUS 0x67

static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
	18,
	USB_DT_DEVICE,
	0x00,
	0x02, /* USB 2.0 */
	0x00,
	0x00,
	0x00, /* class per interface */
	64,   /* ep0 max packet */
	MTP_VENDOR_ID & 0xff,
	MTP_VENDOR_ID >> 8,
	MTP_PRODUCT_ID & 0xff,
	MTP_PRODUCT_ID >> 8,
	0x00,
	0x01, /* bcdDevice 1.00 */
	1,
	2,
	3, /* manufacturer, product, serial */
	1, /* one configuration */
};

static const uint8_t config_desc[] = {
	/* configuration: 1 interface, self-powered */
	9,
	USB_DT_CONFIG,
	39,
	0,
	1,
	1,
	0,
	0xc0,
	1,
	/* interface 0: still image capture, PTP, 3 endpoints, string 4 ("MTP") */
	9,
	USB_DT_INTERFACE,
	0,
	0,
	3,
	0x06,
	0x01,
	0x01,
	4,
	/* bulk IN, bulk OUT: 512 bytes (high speed) */
	7,
	0x05,
	MTP_EP_BULK_IN,
	0x02,
	MTP_BULK_MPS & 0xff,
	MTP_BULK_MPS >> 8,
	0,
	7,
	0x05,
	MTP_EP_BULK_OUT,
	0x02,
	MTP_BULK_MPS & 0xff,
	MTP_BULK_MPS >> 8,
	0,
	/* interrupt IN: events, up to 64 bytes every 2^(6-1) microframes */
	7,
	0x05,
	MTP_EP_INTR_IN,
	0x03,
	64,
	0,
	6,
};

/* ---- vdev callbacks ---- */

static void on_out(void *priv, uint8_t ep, const uint8_t *data, size_t len)
{
	struct mtp_device *m = priv;

	if (ep == (MTP_EP_BULK_OUT & 0x0f))
		mtp_session_out(m, data, len);
}

/* File data straight into the host's URB: one copy, from the page cache. */
static size_t on_in_direct(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end)
{
	struct mtp_device *m = priv;

	if (ep != MTP_EP_BULK_IN)
		return 0;
	return mtp_session_in_direct(m, buf, room, end);
}

static uint8_t *on_in_next(void *priv, uint8_t ep, size_t *len, bool *end)
{
	struct mtp_device *m = priv;

	if (ep != MTP_EP_BULK_IN)
		return NULL;
	return mtp_session_in_next(m, len, end);
}

/* "MSFT100", then bMS_VendorCode and bPad 0: the UTF-16 unit of the code, little-endian. */
static const char ms_os_string[] = { 'M', 'S', 'F', 'T', '1', '0', '0', MTP_MS_VENDOR_CODE, 0 };

/*
 * The Microsoft OS feature requests (bRequest: our vendor code), device to
 * host: wIndex 4 the extended compat ID ("MTP" for interface 0), wIndex 5
 * the extended properties (none). wValue is the interface (high byte, 0
 * for the device-wide compat ID) and the page (low byte): one interface,
 * one page. Windows asks for the header alone first, then for dwLength
 * bytes; anything shorter than the header, any other index, page or
 * interface, or an OUT request is not one of them: a stall.
 */
static int ms_os_request(const struct vdev_setup *s, uint8_t *data)
{
	struct mtp_buf b = { 0 };
	size_t header, n;

	if (s->request != MTP_MS_VENDOR_CODE || !(s->request_type & VDEV_REQ_DIR_IN) ||
	    s->value != 0)
		return -1;
	if (s->index == MTP_MS_COMPAT_ID_INDEX) {
		mtp_container_encode_ms_compat_id(&b, 0, "MTP");
		header = MTP_MS_COMPAT_ID_HEADER;
	} else if (s->index == MTP_MS_EXT_PROPS_INDEX) {
		mtp_container_encode_ms_ext_props(&b);
		header = MTP_MS_EXT_PROPS_HEADER;
	} else {
		return -1;
	}
	if (b.failed || s->length < header) {
		mtp_container_buf_free(&b);
		return -1;
	}
	n = b.len < s->length ? b.len : s->length;
	memcpy(data, b.data, n);
	mtp_container_buf_free(&b);
	return (int)n;
}

static int on_control(void *priv, const struct vdev_setup *s, uint8_t *data)
{
	struct mtp_device *m = priv;

	if ((s->request_type & VDEV_REQ_TYPE_MASK) == VDEV_REQ_VENDOR)
		return ms_os_request(s, data);
	if ((s->request_type & VDEV_REQ_TYPE_MASK) != VDEV_REQ_CLASS)
		return -1;
	switch (s->request) {
	case PTP_REQ_CANCEL:
		/* Cancel: drop what is queued for the host and forget the transaction. */
		log_debug("mtp: host cancelled the transaction");
		mtp_session_reset(m);
		vdev_in_flush(m->vdev, MTP_EP_BULK_IN);
		return 0;
	case PTP_REQ_GET_DEV_STATUS:
		if (!(s->request_type & VDEV_REQ_DIR_IN) || s->length < 4)
			return -1;
		data[0] = 4;
		data[1] = 0;
		data[2] = PTP_RC_OK & 0xff;
		data[3] = PTP_RC_OK >> 8;
		return 4;
	case PTP_REQ_RESET:
		mtp_session_reset(m);
		vdev_in_flush(m->vdev, MTP_EP_BULK_IN);
		m->session_open = false;
		return 0;
	}
	return -1;
}

static void on_reset(void *priv)
{
	struct mtp_device *m = priv;

	mtp_session_reset(m);
	m->session_open = false;
}

static const struct vdev_ops mtp_ops = {
	.control = on_control,
	.out = on_out,
	.in_next = on_in_next,
	.in_direct = on_in_direct,
	.reset = on_reset,
};

/* ---- options ---- */

int mtp_device_parse_dir(char *arg, struct mtp_storage_options *st, char *err, size_t cap)
{
	char *colon = strchr(arg, ':');
	size_t n;

	memset(st, 0, sizeof(*st));
	st->dir = arg;
	if (colon) {
		char *name = colon + 1;

		*colon = 0;
		n = strlen(name);
		if (n >= 3 && strcmp(name + n - 3, ":ro") == 0) {
			st->read_only = true;
			name[n - 3] = 0;
		}
		st->name = *name ? name : NULL; /* PATH::ro: no name */
	}
	if (!*st->dir) {
		snprintf(err, cap, "--dir needs a folder: PATH[:NAME[:ro]]");
		return -1;
	}
	if (st->name && strlen(st->name) > MTP_NAME_ARG_MAX) {
		snprintf(err, cap, "--dir %s: its NAME is longer than %d bytes", st->dir,
			 MTP_NAME_ARG_MAX);
		return -1;
	}
	return 0;
}

/* Is the absolute path in inside the absolute path dir (or the same)? */
static bool path_within(const char *in, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(in, dir, n) == 0 && (in[n] == 0 || in[n] == '/');
}

int mtp_device_check_dirs(const struct mtp_storage_options *st, size_t n, char *err, size_t cap)
{
	char(*abs)[PATH_MAX];
	struct stat *sb;
	size_t i, j;
	int rc = 0;

	if (n == 0 || n > MTP_MAX_STORAGES) {
		snprintf(err, cap, n ? "at most %d --dir" : "which folder? give --dir DIR",
			 MTP_MAX_STORAGES);
		return -1;
	}
	abs = calloc(n, sizeof(*abs));
	sb = calloc(n, sizeof(*sb));
	if (!abs || !sb) {
		free(abs);
		free(sb);
		snprintf(err, cap, "out of memory");
		return -2;
	}
	for (i = 0; i < n && !rc; i++) {
		if (!realpath(st[i].dir, abs[i]) || stat(abs[i], &sb[i]) != 0) {
			snprintf(err, cap, "%s: %s", st[i].dir, strerror(errno));
			rc = -2;
		} else if (!S_ISDIR(sb[i].st_mode)) {
			snprintf(err, cap, "%s: not a directory", st[i].dir);
			rc = -2;
		}
	}
	for (i = 0; i < n && !rc; i++) {
		for (j = 0; j < n && !rc; j++) {
			if (i == j)
				continue;
			if (sb[i].st_dev == sb[j].st_dev && sb[i].st_ino == sb[j].st_ino) {
				snprintf(err, cap, "--dir %s and --dir %s are the same folder",
					 st[j].dir, st[i].dir);
				rc = -1;
			} else if (path_within(abs[i], abs[j])) {
				snprintf(err, cap, "--dir %s is inside --dir %s", st[i].dir,
					 st[j].dir);
				rc = -1;
			}
		}
	}
	free(abs);
	free(sb);
	return rc;
}

bool mtp_device_serial_ok(const char *serial)
{
	size_t n = strlen(serial), i;

	if (n == 0 || n > MTP_SERIAL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)serial[i]) && !strchr("-_.", serial[i]))
			return false;
	return true;
}

/*
 * A serial that stays the same across restarts for the same folders (so
 * a host keeps what it knows of the device): FNV-1a over their absolute
 * paths, in the order given.
 */
static void derive_serial(const struct mtp_device_options *opts, char *out, size_t cap)
{
	uint64_t h = 1469598103934665603ull;
	char abs[PATH_MAX];
	size_t i;

	for (i = 0; i < opts->num_storages; i++) {
		const char *p = realpath(opts->storages[i].dir, abs) ? abs : opts->storages[i].dir;

		for (; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0) * 1099511628211ull; /* the separator: "a","bc" is not "ab","c" */
	}
	snprintf(out, cap, "%016llx", (unsigned long long)h);
}

/* The storage's description when it has no NAME: its folder's own name. */
static void folder_name(const char *dir, char *out, size_t cap)
{
	char abs[PATH_MAX];
	const char *p = realpath(dir, abs) ? abs : dir, *slash = strrchr(p, '/');
	size_t n;

	if (slash && slash[1])
		p = slash + 1;			   /* "/" stays "/" */
	n = strlen(p) < cap ? strlen(p) : cap - 1; /* a name is at most 255 bytes anyway */
	memcpy(out, p, n);
	out[n] = 0;
}

/* ---- the public calls ---- */

static void close_storages(struct mtp_device *m)
{
	size_t i;

	for (i = 0; i < m->num_storages; i++)
		mtp_store_close(m->storages[i].store);
	m->num_storages = 0;
	if (m->watch_fd >= 0)
		close(m->watch_fd);
	m->watch_fd = -1;
}

static int open_storages(struct mtp_device *m, const struct mtp_device_options *opts)
{
	size_t i;

	m->watch_fd = epoll_create1(EPOLL_CLOEXEC);
	if (m->watch_fd < 0)
		return -1;
	for (i = 0; i < opts->num_storages; i++) {
		const struct mtp_storage_options *o = &opts->storages[i];
		struct mtp_storage *s = &m->storages[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		s->index = (unsigned int)i;
		s->id = (uint32_t)(i + 1) << 16 | 1;
		s->read_only = opts->read_only || o->read_only;
		s->store = mtp_store_open(o->dir, s->read_only);
		if (!s->store)
			return -1;
		m->num_storages++;
		if (o->name)
			snprintf(s->description, sizeof(s->description), "%s", o->name);
		else
			folder_name(o->dir, s->description, sizeof(s->description));
		snprintf(s->volume, sizeof(s->volume), "%s-%u", m->serial, s->index + 1);
		/* Without inotify there are no events; the device works all the same. */
		if (mtp_store_watch_fd(s->store) >= 0 &&
		    epoll_ctl(m->watch_fd, EPOLL_CTL_ADD, mtp_store_watch_fd(s->store), &ev) != 0)
			log_warn("mtp: %s: no events for changes made there", o->dir);
	}
	return 0;
}

struct mtp_device *mtp_device_new(const struct mtp_device_options *opts)
{
	struct mtp_device *m;
	struct vdev_config cfg = {
		.device_desc = device_desc,
		.config_desc = config_desc,
		.num_strings = MTP_MS_OS_STRING_INDEX,
		.speed = USBIP_SPEED_HIGH,
		.ops = &mtp_ops,
	};
	int err;

	if (opts->num_storages == 0 || opts->num_storages > MTP_MAX_STORAGES ||
	    (opts->serial && !mtp_device_serial_ok(opts->serial)) ||
	    (opts->name && strlen(opts->name) > MTP_NAME_ARG_MAX)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->in_fd = m->out_fd = m->send_fd = m->watch_fd = -1;
	snprintf(m->name, sizeof(m->name), "%s", opts->name ? opts->name : "serve-mtp");
	snprintf(m->friendly, sizeof(m->friendly), "%s", m->name);
	if (opts->serial)
		snprintf(m->serial, sizeof(m->serial), "%s", opts->serial);
	else
		derive_serial(opts, m->serial, sizeof(m->serial));
	if (open_storages(m, opts) != 0) {
		err = errno;
		close_storages(m);
		free(m);
		errno = err;
		return NULL;
	}
	m->strings[0] = "usbip-ng";
	m->strings[1] = m->name;
	m->strings[2] = m->serial;
	m->strings[3] = "MTP";
	m->strings[MTP_MS_OS_STRING_INDEX - 1] = ms_os_string;
	cfg.strings = m->strings;
	cfg.priv = m;
	m->vdev = vdev_new(&cfg);
	if (!m->vdev) {
		close_storages(m);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void mtp_device_free(struct mtp_device *m)
{
	if (!m)
		return;
	mtp_session_reset(m);
	vdev_free(m->vdev);
	close_storages(m);
	free(m);
}

struct vdev *mtp_device_vdev(struct mtp_device *m)
{
	return m->vdev;
}

int mtp_device_watch_fd(const struct mtp_device *m)
{
	return m->watch_fd;
}

struct event_ctx {
	struct mtp_device *m;
	const struct mtp_storage *s;
};

static void send_event(void *arg, uint16_t code, uint32_t local)
{
	const struct event_ctx *ctx = arg;

	mtp_session_event(ctx->m, code, mtp_object_handle(ctx->s, local));
}

void mtp_device_process_changes(struct mtp_device *m)
{
	struct epoll_event evs[MTP_MAX_STORAGES];
	int n, i;

	/* Level-triggered: what is not read now is reported again by the next poll. */
	n = epoll_wait(m->watch_fd, evs, MTP_MAX_STORAGES, 0);
	for (i = 0; i < n; i++) {
		struct event_ctx ctx = { m, NULL };

		if (evs[i].data.u32 >= m->num_storages)
			continue;
		ctx.s = &m->storages[evs[i].data.u32];
		mtp_store_read_events(ctx.s->store, send_event, &ctx);
	}
}
