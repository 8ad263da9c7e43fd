// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: a whole connection to serve-mtp's request server, made
 * of the input. The request server (daemon/op_server.c) with the device
 * server (source/device_server.c) in front of a real device source: the
 * virtual-device source with an MTP device over a small folder, put back
 * before every input. The input is what the peer sends, all of it, then
 * it closes its side: an OP request (a DEVLIST, an IMPORT of "1-1" that
 * hands the connection to the device, or anything else), and after an
 * import the URB stream (CMD_SUBMIT, CMD_UNLINK) that vdev_usbip reads. The
 * peer reads whatever comes back.
 *
 * The connection arrives through a listening Unix socket (the server's own
 * accept path); TCP wrappers, which only know IP peers, let it in (the
 * stub below). Checked: the server closes every connection once the peer
 * has closed its side (within 10 s of the loop's clock), the device is
 * offered again afterwards, no descriptor leaks, and (ASan) no memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/ev.h"
#include "daemon/op_server.h"
#include "mtp/mtp_device.h"
#include "net/tcp_wrappers.h"
#include "source/device_server.h"
#include "source/vdev_source.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The peer is on a Unix socket, which hosts.allow cannot name: it may come in. */
bool tcp_wrappers_allow(int fd, const char *daemon_name)
{
	(void)fd;
	(void)daemon_name;
	return true;
}

static char dir[64];
static struct fuzz_tree_stamp stamp;
static struct sockaddr_un addr = { .sun_family = AF_UNIX };
static socklen_t addr_len;
static struct ev_loop *loop;

static void free_device(void);

struct peer {
	struct ev_watch watch;
	bool closed, timed_out;
};

/* The peer reads and drops what the server sends, until the server closes. */
static void peer_event(struct ev_loop *l, struct ev_watch *w, short revents)
{
	struct peer *p = w->data;
	uint8_t sink[65536];
	ssize_t n;

	if (!revents) {
		p->timed_out = true;
		ev_loop_stop(l);
		return;
	}
	while ((n = recv(w->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		p->closed = true;
		ev_loop_stop(l);
	}
}

static int listen_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, addr_len) != 0 || listen(fd, 4) != 0)
		abort();
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_make_dir(dir, sizeof(dir), "fuzz_server");
	/* An abstract name: nothing in the file system, gone with the process. */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "usbip-fuzz-server-%d",
		 (int)getpid());
	addr_len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	loop = ev_loop_new();
	if (!loop)
		abort();
	atexit(free_device); /* before the folder goes (atexit runs in reverse) */
	return 0;
}

/*
 * One device and its source for many inputs, as serve-mtp has: closing the
 * inotify descriptor of a device whose folders were scanned waits for the
 * kernel (~20 ms). An input that changed the folder gets it put back, which
 * the device sees as changes made by others; every 1000 inputs the device
 * is made anew.
 */
static struct mtp_device *mdev;
static struct device_source *src;
static unsigned int inputs;

static void free_device(void)
{
	device_source_free(src);
	mtp_device_free(mdev);
	src = NULL;
	mdev = NULL;
}

static void fresh_device(void)
{
	const struct mtp_storage_options st = { .dir = dir };
	const struct mtp_device_options opts = { .storages = &st, .num_storages = 1 };
	const struct vdev_source_options sopts = {
		.busid = "1-1", .path = "/sys/devices/serve-mtp/1-1", .busnum = 1, .devnum = 2
	};

	free_device();
	fuzz_reset_tree(dir, &stamp);
	mdev = mtp_device_new(&opts);
	src = mdev ? vdev_source_new(loop, mtp_device_vdev(mdev), &sopts) : NULL;
	if (!src)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct op_server_config cfg = {
		.name = "fuzz",
		.requests = device_server_requests,
		.handle = device_server_handle,
	};
	struct peer p = { 0 };
	struct op_server *server;
	int fd0, client;

	if (inputs++ % 1000 == 0) {
		fresh_device();
	} else {
		fuzz_reset_tree(dir, &stamp);
		mtp_device_process_changes(mdev);
	}
	fd0 = fuzz_lowest_free_fd();
	cfg.arg = src;
	server = op_server_new(loop, &cfg);
	if (!server || op_server_listen(server, listen_socket()) != 0)
		abort();
	client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client < 0 || connect(client, (struct sockaddr *)&addr, addr_len) != 0)
		abort();
	/* All of it at once (a Unix socket's buffer holds far more than -max_len). */
	if (size && send(client, data, size, MSG_NOSIGNAL) != (ssize_t)size)
		abort();
	shutdown(client, SHUT_WR);
	p.watch = (struct ev_watch){
		.fd = client,
		.events = POLLIN,
		.deadline_ms = ev_now_ms() + 10000,
		.cb = peer_event,
		.data = &p,
	};
	if (ev_watch_add(loop, &p.watch) != 0)
		abort();
	ev_loop_run(loop);
	ev_watch_remove(loop, &p.watch);
	close(client);
	if (p.timed_out || !p.closed || vdev_source_attached(src))
		abort(); /* the server kept a connection its peer had closed */
	op_server_free(server);
	if (fuzz_lowest_free_fd() != fd0)
		abort(); /* an input leaked a descriptor */
	return 0;
}
