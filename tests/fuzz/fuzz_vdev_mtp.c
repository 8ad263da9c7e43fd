// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the MTP responder behind serve-mtp, driven through the
 * virtual device's URB entry (vdev_submit) as the USB/IP session drives it,
 * over a small folder that is put back before every input. The input is
 * cut into a sequence of URBs, each a 4-byte record and what it carries:
 *
 *   byte 0     what: 0 control (8 setup bytes follow, then the data of an
 *              OUT request), 1 OUT (LEN data bytes follow), 2 IN of LEN
 *              bytes, 3 CMD_UNLINK of the URB (LEN & 15) before the last,
 *              4 an MTP command container on bulk OUT (operation code LEN,
 *              the next transaction id, EP & 7 parameters of 4 bytes
 *              follow), 5 hold IN completions (LEN & 1: on/off, the
 *              transport's back-pressure), 6 the host goes away
 *              (vdev_disconnect) and comes back configured, 7 a change
 *              under the folder (LEN & 1: a file added or removed) and the
 *              events it makes
 *   byte 1     the endpoint (low 4 bits); URB_SHORT_NOT_OK (0x10),
 *              URB_ZERO_PACKET (0x20); 0x40: the transport takes an IN
 *              URB's memory over, as vdev_usbip does, and gives it back
 *   bytes 2-3  LEN, little endian
 *
 * Every input starts configured (SET_CONFIGURATION 1). Checked: no URB
 * completes twice or after it was unlinked, none claims more bytes than
 * its buffer holds, IN data is there when claimed, the read-only storage
 * is left as it was, no descriptor leaks, and (ASan) no memory leaks or is
 * touched after it was freed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp_device.h"
#include "vdev/vdev.h"
#include "wire/usbip_proto.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_URBS 512 /* per input; seqnums 1..MAX_URBS */

static char dir[64], ro_dir[64];
static struct fuzz_tree_stamp stamp, ro_stamp;

struct run {
	struct vdev *dev;
	uint32_t seq;
	uint8_t done[MAX_URBS + 1]; /* 1: completed, 2: unlinked or dropped */
};

static void on_complete(void *arg, struct vdev_urb *urb, int status)
{
	struct run *r = arg;

	if (urb->seqnum == 0 || urb->seqnum > r->seq || r->done[urb->seqnum])
		abort(); /* unknown, completed twice, or after its unlink */
	r->done[urb->seqnum] = 1;
	if (urb->actual > urb->length || status > 0 || status < -4095)
		abort();
	if (urb->dir_in && urb->actual &&
	    (!urb->buf || !urb->mem || urb->buf != urb->mem + VDEV_URB_HEADROOM ||
	     urb->mem_size < VDEV_URB_HEADROOM + urb->actual))
		abort();
	/* Read what the device wrote, so that ASan sees it was all there. */
	if (urb->dir_in && urb->actual) {
		volatile uint8_t sum = 0;
		uint32_t i;

		for (i = 0; i < urb->actual; i++)
			sum ^= urb->buf[i];
		(void)sum;
	}
	if (urb->dir_in && (urb->flags & 0x40000000u) && urb->mem) {
		/* The transport's way: it takes the memory, frees the URB, sends, gives back. */
		uint8_t *mem = urb->mem;
		size_t mem_size = urb->mem_size;

		urb->mem = urb->buf = NULL;
		vdev_urb_free(r->dev, urb);
		vdev_mem_release(r->dev, mem, mem_size);
		return;
	}
	vdev_urb_free(r->dev, urb);
}

static void submit(struct run *r, uint8_t ep, bool in, uint32_t flags, uint32_t length,
		   const uint8_t *setup, const uint8_t *out)
{
	struct vdev_urb *urb;

	if (r->seq == MAX_URBS)
		return;
	urb = vdev_urb_new(r->dev, length, !in);
	if (!urb)
		abort();
	urb->seqnum = ++r->seq;
	urb->ep = ep;
	urb->dir_in = in;
	urb->flags = flags;
	urb->number_of_packets = USBIP_NON_ISO;
	if (setup)
		memcpy(urb->setup, setup, 8);
	if (!in && length)
		memcpy(urb->buf, out, length);
	vdev_submit(r->dev, urb);
}

static void set_config(struct run *r)
{
	static const uint8_t setup[8] = { 0x00, 0x09, 1, 0, 0, 0, 0, 0 };

	submit(r, 0, false, 0, 0, setup, NULL);
}

static void change_folder(struct mtp_device *m, bool add)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/new.txt", dir);
	if (add)
		fuzz_write_file(dir, "new.txt", 10, 'n');
	else
		remove(path);
	mtp_device_process_changes(m);
}

static size_t mtp_command(uint8_t *buf, uint16_t code, uint32_t tid, unsigned int n,
			  const uint8_t *params)
{
	uint32_t len = 12 + 4 * n;

	buf[0] = (uint8_t)len;
	buf[1] = buf[2] = buf[3] = 0;
	buf[4] = 1; /* command */
	buf[5] = 0;
	buf[6] = (uint8_t)code;
	buf[7] = (uint8_t)(code >> 8);
	buf[8] = (uint8_t)tid;
	buf[9] = (uint8_t)(tid >> 8);
	buf[10] = (uint8_t)(tid >> 16);
	buf[11] = (uint8_t)(tid >> 24);
	memcpy(buf + 12, params, 4 * n);
	return len;
}

static struct mtp_device *mdev;
static unsigned int inputs;

/*
 * One device for many inputs: closing an inotify descriptor that holds
 * watches waits for the kernel (~20 ms), which would make every input that
 * opens a session that slow. Between inputs the host goes away (which
 * ends the session) and a tree an input changed is put back, which the
 * device sees as changes made by others. Every 1000 inputs the device is
 * made anew, so that what one input leaves cannot build up for long.
 */
static void fresh_device(void)
{
	const struct mtp_storage_options st[2] = {
		{ .dir = dir },
		{ .dir = ro_dir, .name = "Read-only", .read_only = true },
	};
	const struct mtp_device_options opts = { .storages = st, .num_storages = 2 };

	mtp_device_free(mdev);
	fuzz_reset_tree(dir, &stamp);
	mdev = mtp_device_new(&opts);
	if (!mdev)
		abort();
}

static void free_device(void)
{
	mtp_device_free(mdev);
	mdev = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_make_dir(dir, sizeof(dir), "fuzz_vdev_mtp");
	fuzz_make_dir(ro_dir, sizeof(ro_dir), "fuzz_vdev_mtp_ro");
	fuzz_reset_tree(ro_dir, &ro_stamp);
	atexit(free_device); /* before the folders go (atexit runs in reverse) */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	struct fuzz_tree_stamp now;
	uint32_t tid = 0;
	int fd0;

	if (inputs++ % 1000 == 0) {
		fresh_device();
	} else {
		fuzz_reset_tree(dir, &stamp);
		mtp_device_process_changes(mdev);
	}
	fd0 = fuzz_lowest_free_fd();
	memset(&r, 0, sizeof(r));
	r.dev = mtp_device_vdev(mdev);
	vdev_set_completion(r.dev, on_complete, &r);
	set_config(&r);
	while (size >= 4 && r.seq < MAX_URBS) {
		uint8_t what = data[0] & 7, ep = data[1] & 0x0f, cmd[12 + 4 * 7];
		uint32_t flags = 0, len = (uint32_t)data[2] | (uint32_t)data[3] << 8, n;

		if (data[1] & 0x10)
			flags |= USBIP_URB_SHORT_NOT_OK;
		if (data[1] & 0x20)
			flags |= USBIP_URB_ZERO_PACKET;
		if (data[1] & 0x40)
			flags |= 0x40000000u; /* ours: take the memory over (on_complete) */
		data += 4;
		size -= 4;
		switch (what) {
		case 0: /* control: the direction is the setup packet's */
			if (size < 8)
				goto out;
			n = data[0] & 0x80 ? 0 : (len < size - 8 ? len : (uint32_t)(size - 8));
			submit(&r, 0, data[0] & 0x80, flags, data[0] & 0x80 ? len : n, data,
			       data + 8);
			data += 8 + n;
			size -= 8 + n;
			break;
		case 1:
			n = len < size ? len : (uint32_t)size;
			submit(&r, ep, false, flags, n, NULL, data);
			data += n;
			size -= n;
			break;
		case 2:
			submit(&r, ep, true, flags, len, NULL, NULL);
			break;
		case 3:
			n = r.seq > (len & 15) ? r.seq - (len & 15) : 0;
			if (n && vdev_unlink(r.dev, n)) {
				if (r.done[n])
					abort(); /* unlinked after it completed */
				r.done[n] = 2;
			}
			break;
		case 4:
			n = (ep & 7) > 5 ? 5 : ep & 7;
			if (size < 4 * n)
				goto out;
			n = (uint32_t)mtp_command(cmd, (uint16_t)len, tid++, n, data);
			data += n - 12;
			size -= n - 12;
			submit(&r, 1, false, flags, n, NULL, cmd);
			break;
		case 5:
			vdev_in_hold(r.dev, len & 1);
			break;
		case 6:
			vdev_disconnect(r.dev);
			/* What was queued is dropped, never completed: nothing of it may come. */
			for (n = 1; n <= r.seq; n++)
				if (!r.done[n])
					r.done[n] = 2;
			set_config(&r);
			break;
		case 7:
			change_folder(mdev, len & 1);
			break;
		}
	}
out:
	vdev_disconnect(r.dev);
	if (fuzz_lowest_free_fd() != fd0)
		abort(); /* an input leaked a descriptor */
	if (fuzz_tree_stamp(ro_dir, &now) != 0 || memcmp(&now, &ro_stamp, sizeof(now)) != 0)
		abort(); /* a read-only storage was changed */
	return 0;
}
