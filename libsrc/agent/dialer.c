// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/dialer.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tcp.h"
#include "util/log.h"

enum {
	DIALER_EXPORT = PRIVSEP_TYPE_DAEMON, /* OP_REQ_EXPORT or OP_REQ_UNEXPORT */
	DIALER_DEVLIST,			     /* the remote's devices a selector matches */
	DIALER_IMPORT,			     /* OP_REQ_IMPORT */
};

/* The matches of one device list that fit in a message; the agents use the first. */
#define DIALER_MAX_MATCHES 128

/* Where to, common to every request. */
struct dialer_remote {
	char host[256];
	char port[16];
	uint32_t tls; /* index in the table; 0: plain TCP */
	int32_t timeout_ms;
};

struct dialer_export_request {
	struct dialer_remote to;
	uint16_t request; /* OP_REQ_EXPORT or OP_REQ_UNEXPORT */
	struct usbip_usb_device udev;
};

struct dialer_devlist_request {
	struct dialer_remote from;
	struct usbip_selector selector;
};

struct dialer_import_request {
	struct dialer_remote from;
	char busid[USBIP_BUSID_SIZE];
};

/* Every answer starts so. */
struct dialer_result {
	uint32_t result; /* enum usbip_result */
	uint32_t status; /* the reply's status (an export or OP status) */
	char peer[80];	 /* the remote, "host:port", for logs */
};

struct dialer_devlist_reply {
	struct dialer_result r;
	uint32_t count;
	struct usbip_devlist_entry entries[DIALER_MAX_MATCHES];
};

struct dialer_import_reply {
	struct dialer_result r;
	struct usbip_usb_device udev;
};

_Static_assert(sizeof(struct dialer_devlist_reply) <= PRIVSEP_MAX_MESSAGE,
	       "a device list's matches fit in one message");

/* --- The network process: makes the exchanges. --- */

/* The remote of a request, or -1 if no sound agent asks so. */
static int remote_of(struct dialer *d, const struct dialer_remote *r, struct usbip_tls **tls)
{
	if (!PRIVSEP_STRING_OK(r->host) || !PRIVSEP_STRING_OK(r->port) ||
	    r->tls >= DIALER_MAX_TLS || (r->tls && !d->tls[r->tls]) || r->timeout_ms <= 0)
		return -1;
	*tls = d->tls[r->tls];
	return 0;
}

/*
 * The connection's kernel descriptor to send back: kernel TLS is set up,
 * or the relay started, here, unprivileged. The connection is closed.
 */
static enum usbip_result hand_back(struct usbip_conn *conn, struct dialer_result *res,
				   int *reply_fd)
{
	int kfd = usbip_conn_kernel_fd(conn);

	snprintf(res->peer, sizeof(res->peer), "%s", conn->peer);
	*reply_fd = kfd >= 0 ? fcntl(kfd, F_DUPFD_CLOEXEC, 3) : -1;
	conn_close(conn);
	return *reply_fd >= 0 ? USBIP_OK : USBIP_E_FAILED;
}

static ssize_t serve_export(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct dialer_export_request *req = request;
	struct dialer_result *rep = reply;
	struct device_export_target to;
	struct usbip_conn *conn = NULL;
	struct usbip_tls *tls;
	enum usbip_result r;

	if (remote_of(arg, &req->to, &tls) != 0 ||
	    (req->request != USBIP_OP_REQ_EXPORT && req->request != USBIP_OP_REQ_UNEXPORT))
		return -1;
	memset(rep, 0, sizeof(*rep));
	to = (struct device_export_target){ .host = req->to.host,
					    .port = req->to.port,
					    .tls = tls,
					    .timeout_ms = req->to.timeout_ms };
	r = device_export_exchange(&to, req->request, &req->udev, &rep->status, &conn);
	if (r == USBIP_OK && req->request == USBIP_OP_REQ_EXPORT)
		r = hand_back(conn, rep, reply_fd);
	else
		conn_close(conn);
	rep->result = (uint32_t)r;
	return sizeof(*rep);
}

static ssize_t serve_devlist(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct dialer_devlist_request *req = request;
	struct dialer_devlist_reply *rep = reply;
	struct vhci_import_target from;
	struct usbip_devlist matches;
	struct usbip_tls *tls;
	unsigned i;

	if (remote_of(arg, &req->from, &tls) != 0 ||
	    req->selector.nbusids > SELECTOR_MAX_CRITERIA ||
	    req->selector.nhwids > SELECTOR_MAX_CRITERIA)
		return -1;
	memset(&rep->r, 0, sizeof(rep->r));
	rep->count = 0;
	from = (struct vhci_import_target){ .host = req->from.host,
					    .port = req->from.port,
					    .tls = tls,
					    .timeout_ms = req->from.timeout_ms };
	rep->r.result = (uint32_t)vhci_import_find_here(&from, &req->selector, &matches);
	if (rep->r.result == USBIP_OK) {
		if (matches.count > DIALER_MAX_MATCHES)
			log_warn("%s: %u devices match; the first %d are used", req->from.host,
				 matches.count, DIALER_MAX_MATCHES);
		for (i = 0; i < matches.count && i < DIALER_MAX_MATCHES; i++)
			rep->entries[rep->count++] = matches.entries[i];
		usbip_proto_devlist_free(&matches);
	}
	return (ssize_t)(offsetof(struct dialer_devlist_reply, entries) +
			 rep->count * sizeof(rep->entries[0]));
}

static ssize_t serve_import(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct dialer_import_request *req = request;
	struct dialer_import_reply *rep = reply;
	struct vhci_import_target from;
	struct usbip_conn *conn = NULL;
	struct usbip_tls *tls;
	enum usbip_result r;

	if (remote_of(arg, &req->from, &tls) != 0 || !PRIVSEP_STRING_OK(req->busid))
		return -1;
	memset(rep, 0, sizeof(*rep));
	from = (struct vhci_import_target){ .host = req->from.host,
					    .port = req->from.port,
					    .tls = tls,
					    .timeout_ms = req->from.timeout_ms };
	r = vhci_import_exchange(&from, req->busid, &rep->udev, &rep->r.status, &conn);
	if (r == USBIP_OK)
		r = hand_back(conn, &rep->r, reply_fd);
	rep->r.result = (uint32_t)r;
	return sizeof(*rep);
}

static const struct privsep_op dialer_ops[] = {
	{ DIALER_EXPORT, "an export exchange", sizeof(struct dialer_export_request), false,
	  sizeof(struct dialer_result), serve_export },
	{ DIALER_DEVLIST, "a device list", sizeof(struct dialer_devlist_request), false,
	  sizeof(struct dialer_devlist_reply), serve_devlist },
	{ DIALER_IMPORT, "an import", sizeof(struct dialer_import_request), false,
	  sizeof(struct dialer_import_reply), serve_import },
};

/* --- The agent: asks, and checks each answer as a peer's. --- */

static int fill_remote(const struct dialer *d, struct dialer_remote *r, const char *host,
		       const char *port, const struct usbip_tls *tls, int timeout_ms)
{
	unsigned i;

	if (snprintf(r->host, sizeof(r->host), "%s", host) >= (int)sizeof(r->host) ||
	    snprintf(r->port, sizeof(r->port), "%s", port) >= (int)sizeof(r->port)) {
		log_err("%s: name too long", host);
		return -1;
	}
	r->timeout_ms = timeout_ms;
	r->tls = 0;
	if (!tls)
		return 0;
	for (i = 1; i < DIALER_MAX_TLS; i++)
		if (d->tls[i] == tls) {
			r->tls = i;
			return 0;
		}
	log_err("%s: this TLS context is not known to the network process", host);
	return -1;
}

/* The results an exchange has. */
static bool result_ok(uint32_t result)
{
	switch ((enum usbip_result)result) {
	case USBIP_OK:
	case USBIP_E_FAILED:
	case USBIP_E_UNREACHABLE:
	case USBIP_E_REFUSED:
		return true;
	default:
		return false;
	}
}

/*
 * One call: dialing, a proxy, the handshake and the exchange each have the
 * timeout. Returns the reply's length, or -1 (logged) for no sound answer.
 * A descriptor comes back only with USBIP_OK, and only when wanted.
 */
static ssize_t ask(struct dialer *d, uint16_t type, const void *req, size_t len, int timeout_ms,
		   void *reply, size_t reply_max, bool wants_fd, int *fd)
{
	const struct dialer_result *res = reply;
	struct privsep *chan = *d->chan;
	ssize_t n;

	*fd = -1;
	if (!chan)
		return -1;
	privsep_set_timeout(chan, 4 * timeout_ms + 5000);
	n = privsep_call(chan, type, req, len, -1, reply, reply_max, fd);
	if (n >= (ssize_t)sizeof(*res) && PRIVSEP_STRING_OK(res->peer) && result_ok(res->result) &&
	    (*fd >= 0) == (res->result == USBIP_OK && wants_fd))
		return n;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (n >= 0)
		log_err("the network process answered %s wrongly",
			type == DIALER_EXPORT ? "an export" : "a request");
	return -1;
}

/* The connection to hand to the kernel, named as the network process saw it. */
static struct usbip_conn *conn_of(int fd, const struct dialer_result *res)
{
	struct usbip_conn *conn = tcp_conn_from_fd(fd);

	if (conn)
		snprintf(conn->peer, sizeof(conn->peer), "%s", res->peer);
	return conn;
}

static enum usbip_result ask_export(void *arg, const struct device_export_target *to,
				    uint16_t request, const struct usbip_usb_device *udev,
				    uint32_t *status, struct usbip_conn **conn)
{
	struct dialer *d = arg;
	struct dialer_export_request req;
	struct dialer_result rep;
	bool export = request == USBIP_OP_REQ_EXPORT;
	int fd;

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	memset(&req, 0, sizeof(req));
	if (fill_remote(d, &req.to, to->host, to->port, to->tls, to->timeout_ms) != 0)
		return USBIP_E_FAILED;
	req.request = request;
	req.udev = *udev;
	if (ask(d, DIALER_EXPORT, &req, sizeof(req), to->timeout_ms, &rep, sizeof(rep), export,
		&fd) != (ssize_t)sizeof(rep) ||
	    rep.status > USBIP_EXPORT_ST_NODEV) {
		if (fd >= 0)
			close(fd);
		return USBIP_E_FAILED;
	}
	*status = rep.status;
	if (rep.result != USBIP_OK || !export)
		return (enum usbip_result)rep.result;
	*conn = conn_of(fd, &rep);
	return *conn ? USBIP_OK : USBIP_E_FAILED;
}

static enum usbip_result ask_devlist(void *arg, const struct vhci_import_target *from,
				     const struct usbip_selector *sel,
				     struct usbip_devlist *matches)
{
	struct dialer *d = arg;
	struct dialer_devlist_request req;
	struct dialer_devlist_reply *rep = malloc(sizeof(*rep));
	enum usbip_result r = USBIP_E_FAILED;
	ssize_t n;
	int fd;

	matches->count = 0;
	matches->entries = NULL;
	memset(&req, 0, sizeof(req));
	if (!rep ||
	    fill_remote(d, &req.from, from->host, from->port, from->tls, from->timeout_ms) != 0) {
		free(rep);
		return USBIP_E_FAILED;
	}
	req.selector = *sel;
	n = ask(d, DIALER_DEVLIST, &req, sizeof(req), from->timeout_ms, rep, sizeof(*rep), false,
		&fd);
	if (n >= (ssize_t)offsetof(struct dialer_devlist_reply, entries) &&
	    rep->count <= DIALER_MAX_MATCHES &&
	    (size_t)n == offsetof(struct dialer_devlist_reply, entries) +
				 rep->count * sizeof(rep->entries[0])) {
		r = (enum usbip_result)rep->r.result;
		if (r == USBIP_OK) {
			matches->entries =
				calloc(rep->count ? rep->count : 1, sizeof(*matches->entries));
			if (matches->entries) {
				memcpy(matches->entries, rep->entries,
				       rep->count * sizeof(*matches->entries));
				matches->count = rep->count;
			} else {
				r = USBIP_E_FAILED;
			}
		}
	} else if (n >= 0) {
		log_err("the network process answered a device list wrongly");
	}
	free(rep);
	return r;
}

static enum usbip_result ask_import(void *arg, const struct vhci_import_target *from,
				    const char *busid, struct usbip_usb_device *udev,
				    uint32_t *status, struct usbip_conn **conn)
{
	struct dialer *d = arg;
	struct dialer_import_request req;
	struct dialer_import_reply rep;
	int fd;

	*status = USBIP_ST_ERROR;
	*conn = NULL;
	memset(&req, 0, sizeof(req));
	if (fill_remote(d, &req.from, from->host, from->port, from->tls, from->timeout_ms) != 0)
		return USBIP_E_FAILED;
	snprintf(req.busid, sizeof(req.busid), "%s", busid);
	if (ask(d, DIALER_IMPORT, &req, sizeof(req), from->timeout_ms, &rep, sizeof(rep), true,
		&fd) != (ssize_t)sizeof(rep) ||
	    rep.r.status > USBIP_ST_ERROR) {
		if (fd >= 0)
			close(fd);
		return USBIP_E_FAILED;
	}
	*status = rep.r.status;
	if (rep.r.result != USBIP_OK)
		return (enum usbip_result)rep.r.result;
	/* The record vhci-hcd is told about: the speed and ids it attaches with. */
	if (!privsep_usb_device_ok(&rep.udev)) {
		log_err("the network process answered an import wrongly");
		close(fd);
		return USBIP_E_FAILED;
	}
	*udev = rep.udev;
	*conn = conn_of(fd, &rep.r);
	return *conn ? USBIP_OK : USBIP_E_FAILED;
}

void dialer_init(struct dialer *d, struct privsep **chan)
{
	memset(d, 0, sizeof(*d));
	d->chan = chan;
	d->exporter = (struct device_export_dialer){ .exchange = ask_export, .arg = d };
	d->serves =
		(struct privsep_table){ dialer_ops, sizeof(dialer_ops) / sizeof(dialer_ops[0]), d };
	d->importer =
		(struct vhci_import_dialer){ .find = ask_devlist, .import = ask_import, .arg = d };
}

int dialer_add_tls(struct dialer *d, struct usbip_tls *tls)
{
	unsigned i;

	if (!tls)
		return 0;
	for (i = 1; i < DIALER_MAX_TLS; i++)
		if (!d->tls[i]) {
			d->tls[i] = tls;
			return (int)i;
		}
	log_err("more than %d TLS contexts", DIALER_MAX_TLS - 1);
	return -1;
}

void dialer_drop_tls(struct dialer *d, const struct usbip_tls *tls)
{
	unsigned i;

	for (i = 1; tls && i < DIALER_MAX_TLS; i++)
		if (d->tls[i] == tls)
			d->tls[i] = NULL;
}
