// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipd: the device-side daemon. Answers OP_REQ_DEVLIST with the devices
 * bound to usbip-host and OP_REQ_IMPORT by handing the connection to the
 * device's stub, then replying.
 */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "kernel/host.h"
#include "util/log.h"

#define DEFAULT_PID_FILE RUNSTATEDIR "/usbipd.pid"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: usbipd [options]\n\n"
		"Serves the devices bound to usbip-host (see 'usbip bind') to 'usbip "
		"attach'.\n\n" USBIP_DAEMON_OPTIONS_HELP "  -h, --help            show this help\n"
		"  -v, --version         show the version\n\n"
		"The default pid file is %s.\n",
		DEFAULT_PID_FILE);
}

static void fill_devlist(struct usbip_devlist *list, struct usbip_local_device *devs, size_t n)
{
	size_t i;

	list->count = 0;
	list->entries = calloc(n ? n : 1, sizeof(*list->entries));
	if (!list->entries)
		return;
	/* Like the kernel's usbipd: a device in use is not offered. */
	for (i = 0; i < n && list->count < USBIP_MAX_DEVLIST; i++)
		if (devs[i].stub_status == USBIP_STUB_AVAILABLE)
			list->entries[list->count++] = devs[i].info;
}

static void handle_devlist(struct op_session *session)
{
	struct usbip_local_device *devs = NULL;
	struct usbip_devlist list = { 0, NULL };
	size_t n = 0;

	if (usbip_host_list(&devs, &n, true) == 0)
		fill_devlist(&list, devs, n);
	free(devs);
	if (!list.entries) {
		op_session_reply(session, USBIP_OP_REP_DEVLIST, USBIP_ST_ERROR, NULL);
		return;
	}
	log_info("%s: listed %u exportable devices", op_session_conn(session)->peer, list.count);
	op_session_reply_devlist(session, &list);
	usbip_devlist_free(&list);
}

static void handle_import(struct op_session *session, const struct op_request *req)
{
	struct usbip_conn *conn = op_session_conn(session);
	struct usbip_local_device dev;
	struct usbip_wire_error err;
	char busid[USBIP_BUSID_SIZE];
	enum usbip_op_status status;

	if (usbip_decode_import_request(req->body, req->body_len, busid, &err) != 0) {
		log_warn("%s: bad import request: %s", conn->peer, err.msg);
		op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_ERROR, NULL);
		return;
	}
	/* The stub takes the socket first; the reply follows on it, as in the kernel tools. */
	status = usbip_host_export(busid, usbip_conn_kernel_fd(conn), &dev);
	if (status != USBIP_ST_OK) {
		log_warn("%s: import of %s refused: %s", conn->peer, busid,
			 usbip_op_status_str(status));
		op_session_reply(session, USBIP_OP_REP_IMPORT, status, NULL);
		return;
	}
	log_info("%s: imported %s (%04x:%04x)", conn->peer, busid, dev.info.udev.id_vendor,
		 dev.info.udev.id_product);
	op_session_reply(session, USBIP_OP_REP_IMPORT, USBIP_ST_OK, &dev.info.udev);
}

static void handle_request(struct op_session *session, const struct op_request *req, void *arg)
{
	(void)arg;
	if (req->hdr.code == USBIP_OP_REQ_DEVLIST)
		handle_devlist(session);
	else
		handle_import(session, req);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		USBIP_DAEMON_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t served[] = { USBIP_OP_REQ_DEVLIST, USBIP_OP_REQ_IMPORT, 0 };
	struct usbip_daemon d = {
		.name = "usbipd",
		.default_pid_file = DEFAULT_PID_FILE,
		.server = { .name = "usbipd", .requests = served, .handle = handle_request },
	};
	int rc;

	usbip_log_init("usbipd", false);
	rc = daemon_parse_args(&d, argc, argv, opts, usage, NULL, NULL);
	if (rc >= 0)
		return rc;
	/* Not fatal: the module may be loaded later, and until then the list is empty. */
	if (!usbip_host_driver_loaded())
		log_warn("serving an empty device list until usbip-host is loaded");
	return daemon_run(&d, NULL, NULL);
}
