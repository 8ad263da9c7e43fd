// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ws_hold: a client that dials a ws:// or wss:// remote through libusbip
 * (net/dial.c, net/ws.c), keeps the connection idle, then asks for the
 * device list: whether an idle WebSocket survives what lies between
 * (tests/daemon/ws.sh puts a proxy there that cuts idle connections).
 *
 * usage: ws_hold URL SECONDS PING_SECONDS
 * Prints "devlist after N s idle" and exits 0 when the answer came; 1 when
 * the connection failed (before or after the wait), 2 on bad usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "net/dial.h"
#include "net/op_msg.h"
#include "net/ws.h"
#include "util/log.h"
#include "wire/usbip_proto.h"

int main(int argc, char **argv)
{
	static struct ws_options ws;
	struct usbip_conn *conn;
	struct usbip_devlist list = { 0 };
	struct timespec idle;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: ws_hold URL SECONDS PING_SECONDS\n");
		return 2;
	}
	log_init("ws_hold", false);
	signal(SIGPIPE, SIG_IGN);
	ws.ping_s = (unsigned)atoi(argv[3]);
	dial_set_ws(&ws, NULL);
	if (dial(argv[1], "3240", 10000, NULL, &conn) != USBIP_OK)
		return 1;
	idle = (struct timespec){ .tv_sec = atoi(argv[2]) };
	while (nanosleep(&idle, &idle) != 0)
		;
	rc = op_msg_query_devlist(conn, &list);
	conn_close(conn);
	if (rc != 0) {
		printf("no devlist after %s s idle\n", argv[2]);
		return 1;
	}
	printf("devlist after %s s idle (%u devices)\n", argv[2], (unsigned)list.count);
	usbip_proto_devlist_free(&list);
	return 0;
}
