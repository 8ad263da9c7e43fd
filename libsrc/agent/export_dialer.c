// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent/export_dialer.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/tcp.h"
#include "util/log.h"

enum { EXPORT_DIALER_EXCHANGE = PRIVSEP_TYPE_DAEMON };

struct dialer_request {
	char host[256];
	char port[16];
	uint16_t request; /* OP_REQ_EXPORT or OP_REQ_UNEXPORT */
	int32_t timeout_ms;
	struct usbip_usb_device udev;
};

struct dialer_reply {
	uint32_t result; /* enum usbip_result */
	uint32_t status; /* enum usbip_export_status */
	char peer[80];	 /* the usbipa, "host:port", for logs */
};

/* --- The network process: makes the exchange. --- */

static ssize_t serve_exchange(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct dialer_request *req = request;
	struct dialer_reply *rep = reply;
	struct device_export_target to;
	struct usbip_conn *conn = NULL;
	uint32_t status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	enum usbip_result r;
	int kfd;

	if (!PRIVSEP_STRING_OK(req->host) || !PRIVSEP_STRING_OK(req->port) ||
	    (req->request != USBIP_OP_REQ_EXPORT && req->request != USBIP_OP_REQ_UNEXPORT))
		return -1;
	memset(rep, 0, sizeof(*rep));
	to = (struct device_export_target){
		.host = req->host, .port = req->port, .tls = arg, .timeout_ms = req->timeout_ms
	};
	r = device_export_exchange(&to, req->request, &req->udev, &status, &conn);
	if (r == USBIP_OK && req->request == USBIP_OP_REQ_EXPORT) {
		snprintf(rep->peer, sizeof(rep->peer), "%s", conn->peer);
		/* Kernel TLS is set up, or the relay started, here: unprivileged. */
		kfd = usbip_conn_kernel_fd(conn);
		*reply_fd = kfd >= 0 ? fcntl(kfd, F_DUPFD_CLOEXEC, 3) : -1;
		if (*reply_fd < 0)
			r = USBIP_E_FAILED;
	}
	usbip_conn_close(conn);
	rep->result = (uint32_t)r;
	rep->status = status;
	return sizeof(*rep);
}

const struct privsep_op export_dialer_ops[] = {
	{ EXPORT_DIALER_EXCHANGE, "an exchange with usbipa", sizeof(struct dialer_request), false,
	  sizeof(struct dialer_reply), serve_exchange },
};
const size_t export_dialer_nops = sizeof(export_dialer_ops) / sizeof(export_dialer_ops[0]);

/* --- The privileged process: asks, and checks the answer as a peer's. --- */

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

static enum usbip_result ask_exchange(void *arg, const struct device_export_target *to,
				      uint16_t request, const struct usbip_usb_device *udev,
				      uint32_t *status, struct usbip_conn **conn)
{
	struct export_dialer *d = arg;
	struct dialer_request req;
	struct dialer_reply rep = { 0 };
	struct privsep *chan = *d->chan;
	bool wants_fd = request == USBIP_OP_REQ_EXPORT;
	ssize_t len;
	int fd = -1;

	*status = USBIP_EXPORT_ST_NOT_ACCEPTED;
	if (!chan)
		return USBIP_E_FAILED;
	memset(&req, 0, sizeof(req));
	if (snprintf(req.host, sizeof(req.host), "%s", to->host) >= (int)sizeof(req.host) ||
	    snprintf(req.port, sizeof(req.port), "%s", to->port) >= (int)sizeof(req.port)) {
		log_err("%s: name too long", to->host);
		return USBIP_E_FAILED;
	}
	req.request = request;
	req.timeout_ms = to->timeout_ms;
	req.udev = *udev;
	/* Dialing, a proxy, the handshake and the exchange: each step has the timeout. */
	privsep_set_timeout(chan, 4 * to->timeout_ms + 5000);
	len = privsep_call(chan, EXPORT_DIALER_EXCHANGE, &req, sizeof(req), -1, &rep, sizeof(rep),
			   &fd);
	if (len != (ssize_t)sizeof(rep) || !PRIVSEP_STRING_OK(rep.peer) || !result_ok(rep.result) ||
	    rep.status > USBIP_EXPORT_ST_NODEV ||
	    (fd >= 0) != (rep.result == USBIP_OK && wants_fd)) {
		if (fd >= 0)
			close(fd);
		if (len >= 0)
			log_err("the network process answered an exchange wrongly");
		return USBIP_E_FAILED;
	}
	*status = rep.status;
	if (rep.result != USBIP_OK || !wants_fd)
		return (enum usbip_result)rep.result;
	*conn = usbip_tcp_conn_from_fd(fd);
	if (!*conn)
		return USBIP_E_FAILED;
	snprintf((*conn)->peer, sizeof((*conn)->peer), "%s", rep.peer);
	return USBIP_OK;
}

void export_dialer_init(struct export_dialer *d, struct privsep **chan)
{
	d->dialer = (struct device_export_dialer){ .exchange = ask_exchange, .arg = d };
	d->chan = chan;
}
