// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the privileged end of the privilege-separation
 * channel, fed by a network process made of the input. The parent side
 * (daemon/privsep.c) serves usbipd's table (source/priv_source.c) in front
 * of a device source held in memory, and the runner's own hosts.allow
 * check. The input is a sequence of messages, each [flags:1][len:2 LE]
 * [len bytes]: the bytes go as one SOCK_SEQPACKET message (its header
 * included, so that sizes and types lie as they please), with a
 * descriptor (/dev/null) when flags bit 0 is set and two when bit 1 is.
 * Whatever the messages, the parent either answers or ends the channel,
 * never crashes, never hands over a connection for a device that is not
 * there and free (2-4.1 is in use, others do not exist), and leaks no descriptor (the channel is
 * made again after it ended).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/ev.h"
#include "daemon/privsep.h"
#include "source/device_source.h"
#include "source/priv_source.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- a device source in memory: two devices, one of them available --- */

static const char *const busids[] = { "1-1", "2-4.1" };

static void fill(struct usbip_local_device *dev, unsigned i)
{
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->info.udev.busid, sizeof(dev->info.udev.busid), "%s", busids[i]);
	snprintf(dev->info.udev.path, sizeof(dev->info.udev.path), "/sys/devices/fake/%s",
		 busids[i]);
	dev->info.udev.speed = USBIP_SPEED_HIGH;
	dev->info.udev.id_vendor = 0x46f4;
	dev->info.udev.id_product = (uint16_t)(i + 1);
	dev->stub_status = i ? USBIP_STUB_USED : USBIP_STUB_AVAILABLE;
}

static int mem_index(const char *busid)
{
	unsigned i;

	for (i = 0; i < 2; i++)
		if (strcmp(busid, busids[i]) == 0)
			return (int)i;
	return -1;
}

static int mem_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	unsigned i;

	*devs = calloc(2, sizeof(**devs));
	if (!*devs)
		return -1;
	for (i = 0; i < 2; i++)
		fill(&(*devs)[i], i);
	*count = 2;
	return 0;
}

static int mem_get(struct device_source *src, const char *busid, struct usbip_local_device *dev)
{
	int i = mem_index(busid);

	if (i < 0)
		return -1;
	fill(dev, (unsigned)i);
	return 0;
}

static enum usbip_op_status mem_hand_over(struct device_source *src, const char *busid,
					  struct usbip_conn *conn, int *watch_fd)
{
	/* What a sound parent never does: hand over a device that is not free. */
	if (mem_index(busid) != 0)
		abort();
	conn_close(conn);
	return USBIP_ST_OK;
}

static void mem_destroy(struct device_source *src)
{
	(void)src;
}

static const struct device_source_ops mem_ops = {
	.list = mem_list, .get = mem_get, .hand_over = mem_hand_over, .destroy = mem_destroy
};

static struct device_source source;
static struct privsep_table table;
static struct ev_loop *loop;
static struct privsep *parent;
static int child_fd = -1;
static int lowest_fd;

static void on_lost(void *arg)
{
	(void)arg;
}

static void channel_up(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	parent = privsep_adopt(sv[0], 0);
	if (!parent || privsep_serve(parent, loop, &table, on_lost, NULL) != 0)
		abort();
	child_fd = sv[1];
}

static void channel_down(void)
{
	privsep_free(parent);
	parent = NULL;
	close(child_fd);
	child_fd = -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	device_source_init(&source, &mem_ops, "memory");
	table = (struct privsep_table){ priv_source_ops, priv_source_nops, &source };
	loop = ev_loop_new();
	if (!loop)
		abort();
	return 0;
}

/* One message from the fake child, with n descriptors. */
static void send_one(const uint8_t *bytes, size_t len, int n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	struct iovec iov = { (void *)bytes, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2] = { -1, -1 }, i;

	for (i = 0; i < n; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (n) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
	}
	sendmsg(child_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* What the parent answered, read and dropped (descriptors too). */
static void drain(void)
{
	char buf[PRIVSEP_MAX_MESSAGE + 64];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} control;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		struct cmsghdr *c;

		if (recvmsg(child_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			size_t k, count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (k = 0; k < count; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;

	/* Before each input: libFuzzer opens files of its own between inputs. */
	lowest_fd = fuzz_lowest_free_fd();
	channel_up();
	while (at + 3 <= size) {
		uint8_t flags = data[at];
		size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;

		at += 3;
		if (len > size - at)
			len = size - at;
		send_one(data + at, len, (flags & 1) + ((flags >> 1) & 1));
		at += len;
		if (!privsep_serve_pending(parent))
			break; /* the parent ended the channel: the rest is not read */
		drain();
	}
	channel_down();
	if (fuzz_lowest_free_fd() != lowest_fd)
		abort(); /* a descriptor leaked */
	return 0;
}
