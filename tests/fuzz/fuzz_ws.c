// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: WebSocket (net/ws.c). The first byte chooses what the
 * rest is: a client's upgrade request as a server reads it (with a trusted
 * proxy, so that Forwarded is read too), a server's answer as a client
 * reads it, or the frames a peer sends to a server's or a client's relay
 * (libwslay's parser and our callbacks: text frames, bad control frames,
 * unmasked or masked frames, closes). Whatever comes, the parsers answer
 * within their bounds and the relay ends when the input does.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "net/tcp.h"
#include "net/ws.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

#define FRAMES_MAX 65536 /* what a socket's buffer takes at once */

static void frames(const uint8_t *data, size_t size, bool server)
{
	int peer[2], local[2];
	struct usbip_conn *conn;

	if (size > FRAMES_MAX || socketpair(AF_UNIX, SOCK_STREAM, 0, peer) != 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, local) != 0) {
		close(peer[0]);
		close(peer[1]);
		return;
	}
	/*
	 * Nobody reads the local end here: non-blocking, so that a flood of
	 * small messages (each a buffer's worth of accounting) ends the relay
	 * on a full socket instead of blocking it.
	 */
	fcntl(local[0], F_SETFL, O_NONBLOCK);
	/* The peer's bytes, then its end: the relay ends at that end of file. */
	if (write(peer[1], data, size) != (ssize_t)size)
		abort();
	shutdown(peer[1], SHUT_WR);
	conn = tcp_conn_from_fd(peer[0]);
	if (conn) {
		ws_relay_run(conn, local[0], server, 60);
		conn_close(conn);
	}
	close(peer[1]);
	close(local[0]);
	close(local[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ws_options o = { .trusted = { "10.0.0.1" }, .ntrusted = 1 };
	struct ws_request req;
	char err[256];

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		ws_parse_request((const char *)data + 1, size - 1, &o, "10.0.0.1", &req, err,
				 sizeof(err));
		if (memchr(req.key, '\0', sizeof(req.key)) == NULL ||
		    memchr(req.forwarded, '\0', sizeof(req.forwarded)) == NULL)
			abort();
		break;
	case 1:
		ws_parse_response((const char *)data + 1, size - 1, "dGhlIHNhbXBsZSBub25jZQ==", err,
				  sizeof(err));
		break;
	default:
		frames(data + 1, size - 1, (data[0] & 3) == 2);
		break;
	}
	return 0;
}
