// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The MTP responder driven through its USB/IP session with hand-built
 * containers on the bulk pipes: malformed containers and wrong transaction
 * ids get an error response and the device keeps working; names that would
 * leave the directory are refused; data phases in both directions, over
 * 4 GiB offsets included; a cancel in the middle of a transfer; the
 * response after file data sent when the host asks for it; uploads
 * that appear under their name only complete (cut, cancelled, wrong size,
 * a full storage, a local file renamed onto the name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ev.h"
#include "mtp/mtp_container.h"
#include "mtp/mtp_device.h"
#include "mtp/mtp_store.h"
#include "net/tcp.h"
#include "vdev/vdev_usbip.h"
#include "wire/usbip_proto.h"
#include "loop_util.h"
#include "testutil.h"

#define IN_URB 16384

struct harness {
	char dir[64], outside[80], second[80];
	int client;
	struct ev_loop *loop;
	struct mtp_device *mdev;
	struct vdev_usbip *session;
	uint32_t seq, tid;
	bool closed;
	bool small; /* h->dir is a tmpfs of SMALL_STORAGE of its own */
};

#define SMALL_STORAGE "size=256k"
static bool want_small; /* the next start_device mounts one (root only) */

static void closed(void *arg)
{
	((struct harness *)arg)->closed = true;
}

/* Runs the loop until it has been idle for a moment. */
static void pump(struct harness *h)
{
	assert_int_equal(run_loop_for(h->loop, 30), 0);
}

static void read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void submit(struct harness *h, uint32_t ep, bool in, uint32_t len, const uint8_t setup[8],
		   const void *data)
{
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_CMD_SUBMIT,
			  .seqnum = ++h->seq,
			  .devid = 0x10002,
			  .direction = in ? USBIP_DIR_IN : USBIP_DIR_OUT,
			  .ep = ep },
		.u.cmd_submit = { .transfer_buffer_length = len },
	};
	uint8_t buf[USBIP_URB_HEADER_SIZE];

	if (setup)
		memcpy(hdr.u.cmd_submit.setup, setup, 8);
	usbip_proto_encode_urb_header(buf, &hdr);
	assert_int_equal(write(h->client, buf, sizeof(buf)), sizeof(buf));
	if (!in && len)
		assert_int_equal(write(h->client, data, len), (ssize_t)len);
}

/* One RET_SUBMIT; returns actual_length, data (for IN) into buf. */
static uint32_t ret_submit(struct harness *h, bool in, uint8_t *buf, size_t cap, int *status)
{
	uint8_t raw[USBIP_URB_HEADER_SIZE];
	struct usbip_urb_header r;
	struct usbip_error err;
	struct pollfd p = { .fd = h->client, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 0), 1);
	read_full(h->client, raw, sizeof(raw));
	assert_int_equal(usbip_proto_decode_urb_header(raw, sizeof(raw), &r, &err), 0);
	assert_int_equal(r.base.command, USBIP_RET_SUBMIT);
	if (status)
		*status = r.u.ret_submit.status;
	if (in) {
		assert_true(r.u.ret_submit.actual_length <= cap);
		read_full(h->client, buf, r.u.ret_submit.actual_length);
	}
	return r.u.ret_submit.actual_length;
}

static void bulk_out(struct harness *h, const void *data, uint32_t len)
{
	submit(h, 1, false, len, NULL, data);
	pump(h);
	assert_int_equal(ret_submit(h, false, NULL, 0, NULL), len);
}

/* Reads one message from bulk IN (URBs until a short one); returns its length. */
static size_t bulk_in_message(struct harness *h, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		uint32_t n;

		assert_true(cap - got >= IN_URB);
		submit(h, 1, true, IN_URB, NULL, NULL);
		pump(h);
		n = ret_submit(h, true, buf + got, IN_URB, NULL);
		got += n;
		if (n < IN_URB)
			return got;
	}
}

static void control(struct harness *h, const uint8_t setup[8], const void *out, uint32_t len,
		    int *status)
{
	bool in = setup[0] & 0x80;
	uint8_t buf[64];

	submit(h, 0, in, len, setup, out);
	pump(h);
	ret_submit(h, in, buf, sizeof(buf), status);
}

static struct mtp_device *make_device(const struct mtp_storage_options *st, size_t n,
				      const char *serial, const char *name)
{
	struct mtp_device_options opts = {
		.storages = st, .num_storages = n, .serial = serial, .name = name
	};

	return mtp_device_new(&opts);
}

/* A device over h->dir (and h->second, when two), attached through a USB/IP session. */
static int start_device(void **state, bool two, bool second_ro)
{
	struct harness *h = calloc(1, sizeof(*h));
	static const uint8_t set_config[8] = { 0x00, 0x09, 1, 0, 0, 0, 0, 0 };
	struct mtp_storage_options st[2] = { { 0 } };
	int sv[2];

	assert_non_null(h);
	snprintf(h->dir, sizeof(h->dir), "/tmp/test_mtp_device.XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->outside, sizeof(h->outside), "%s-outside", h->dir);
	assert_int_equal(mkdir(h->outside, 0755), 0);
	snprintf(h->second, sizeof(h->second), "%s-second", h->dir);
	assert_int_equal(mkdir(h->second, 0755), 0);
	if (want_small && geteuid() == 0 &&
	    mount("tmpfs", h->dir, "tmpfs", MS_NOSUID | MS_NODEV, SMALL_STORAGE) == 0)
		h->small = true;
	want_small = false;
	st[0].dir = h->dir;
	st[1] = (struct mtp_storage_options){ .dir = h->second,
					      .name = "Second",
					      .read_only = second_ro };
	if (two) {
		/* something in each before the device starts */
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "%s/one.txt", h->dir);
		assert_non_null(f = fopen(path, "w"));
		fputs("first storage", f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/sub", h->second);
		assert_int_equal(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/sub/two.txt", h->second);
		assert_non_null(f = fopen(path, "w"));
		fputs("second storage", f);
		fclose(f);
	}
	h->mdev = make_device(st, two ? 2 : 1, NULL, NULL);
	assert_non_null(h->mdev);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h->client = sv[0];
	h->loop = ev_loop_new();
	h->session = vdev_usbip_start(h->loop, tcp_conn_from_fd(sv[1]), mtp_device_vdev(h->mdev),
				      closed, h);
	assert_non_null(h->session);
	control(h, set_config, NULL, 0, NULL);
	*state = h;
	return 0;
}

static int setup_device(void **state)
{
	return start_device(state, false, false);
}

static int setup_two_storages(void **state)
{
	return start_device(state, true, true);
}

static int setup_two_writable(void **state)
{
	return start_device(state, true, false);
}

static int setup_small_storage(void **state)
{
	want_small = true;
	return start_device(state, false, false);
}

static int teardown_device(void **state)
{
	struct harness *h = *state;
	char cmd[320];

	if (!h->closed)
		vdev_usbip_stop(h->session);
	mtp_device_free(h->mdev);
	if (h->small)
		umount2(h->dir, MNT_DETACH);
	ev_loop_free(h->loop);
	close(h->client);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", h->dir, h->outside, h->second);
	if (system(cmd) != 0)
		return -1;
	free(h);
	return 0;
}

static void send_command(struct harness *h, uint16_t code, uint32_t tid, unsigned int n,
			 const uint32_t *params)
{
	uint8_t buf[MTP_COMMAND_MAX];
	unsigned int i;

	for (i = 0; i < 4; i++)
		buf[i] = (uint8_t)((12 + 4 * n) >> (8 * i));
	buf[4] = 1;
	buf[5] = 0;
	buf[6] = (uint8_t)code;
	buf[7] = (uint8_t)(code >> 8);
	for (i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(tid >> (8 * i));
	for (i = 0; i < n; i++) {
		unsigned int k;

		for (k = 0; k < 4; k++)
			buf[12 + 4 * i + k] = (uint8_t)(params[i] >> (8 * k));
	}
	bulk_out(h, buf, 12 + 4 * n);
}

static struct mtp_header header_of(const uint8_t *buf, size_t len)
{
	struct mtp_header hdr;
	struct usbip_error err;

	assert_int_equal(mtp_container_decode_header(buf, len, &hdr, &err), 0);
	return hdr;
}

/* Expects a response (no data phase); returns its code, params into p. */
static uint16_t response(struct harness *h, uint32_t *p)
{
	uint8_t buf[IN_URB];
	size_t len = bulk_in_message(h, buf, sizeof(buf));
	struct mtp_header hdr = header_of(buf, len);
	size_t i;

	assert_int_equal(hdr.type, MTP_CONTAINER_RESPONSE);
	assert_int_equal(hdr.length, len);
	for (i = 0; p && 12 + 4 * i + 4 <= len; i++)
		p[i] = buf[12 + 4 * i] | buf[13 + 4 * i] << 8 | buf[14 + 4 * i] << 16 |
		       (uint32_t)buf[15 + 4 * i] << 24;
	return hdr.code;
}

/* Runs a transaction with a data-in phase; returns the response code, the payload in data. */
static uint16_t with_data_in(struct harness *h, uint16_t code, unsigned int n,
			     const uint32_t *params, uint8_t *data, size_t cap, size_t *len,
			     uint32_t *p)
{
	uint8_t *buf = malloc(cap + IN_URB);
	size_t got;
	struct mtp_header hdr;

	assert_non_null(buf);
	send_command(h, code, ++h->tid, n, params);
	got = bulk_in_message(h, buf, cap + IN_URB);
	hdr = header_of(buf, got);
	if (hdr.type == MTP_CONTAINER_RESPONSE) {
		free(buf);
		*len = 0;
		return hdr.code;
	}
	assert_int_equal(hdr.type, MTP_CONTAINER_DATA);
	assert_int_equal(hdr.transaction_id, h->tid);
	*len = got - 12;
	memcpy(data, buf + 12, *len);
	free(buf);
	return response(h, p);
}

static uint16_t simple(struct harness *h, uint16_t code, unsigned int n, const uint32_t *params,
		       uint32_t *p)
{
	send_command(h, code, ++h->tid, n, params);
	return response(h, p);
}

static void open_session(struct harness *h)
{
	const uint32_t one = 1;

	h->tid = 0;
	send_command(h, PTP_OC_OpenSession, 0, 1, &one);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
}

static void send_data(struct harness *h, uint16_t code, uint32_t tid, const void *payload,
		      size_t len)
{
	uint8_t *buf = malloc(len + 12);

	assert_non_null(buf);
	mtp_container_encode_data_header(buf, code, tid, len);
	if (len)
		memcpy(buf + 12, payload, len);
	bulk_out(h, buf, (uint32_t)(len + 12));
	if ((len + 12) % 512 == 0)
		bulk_out(h, NULL, 0); /* the ZLP a host sends after a multiple of 512 */
	free(buf);
}

static uint16_t send_object_info(struct harness *h, const char *name, uint16_t format,
				 uint32_t size, uint32_t *handle)
{
	struct mtp_object_info info = {
		.storage_id = 0x00010001, .format = format, .compressed_size = size, .parent = 0
	};
	struct mtp_buf b = { 0 };
	const uint32_t params[2] = { 0x00010001, 0xffffffff };
	uint32_t p[3] = { 0 };
	uint16_t rc;

	snprintf(info.filename, sizeof(info.filename), "%s", name);
	mtp_container_encode_object_info(&b, &info);
	send_command(h, PTP_OC_SendObjectInfo, ++h->tid, 2, params);
	send_data(h, PTP_OC_SendObjectInfo, h->tid, b.data, b.len);
	mtp_container_buf_free(&b);
	rc = response(h, p);
	if (handle)
		*handle = p[2];
	return rc;
}

static void test_session_and_device_info(void **state)
{
	struct harness *h = *state;
	uint8_t data[4096];
	size_t len;

	assert_int_equal(
		with_data_in(h, PTP_OC_GetDeviceInfo, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_true(len > 100);
	assert_int_equal(simple(h, PTP_OC_GetStorageIDs, 0, NULL, NULL), PTP_RC_SessionNotOpen);
	open_session(h);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 8);
	assert_int_equal(data[4], 0x01);
	assert_int_equal(data[6], 0x01);
}

static void test_malformed_containers(void **state)
{
	struct harness *h = *state;
	static const char *const junk[] = {
		"\x01\x02\x03\x04\x05",				    /* 5 bytes */
		"\x10\x00\x00\x00\x01\x00\x04\x10\x01\x00\x00\x00", /* length says 16, has 12 */
		"\x0c\x00\x00\x00\x02\x00\x04\x10\x01\x00\x00\x00", /* data, no operation */
		"\x0c\x00\x00\x00\x09\x00\x04\x10\x01\x00\x00\x00", /* type 9 */
		"\x04\x00\x00\x00\x01\x00\x04\x10\x01\x00\x00\x00", /* length 4 */
	};
	static const size_t lens[] = { 5, 12, 12, 12, 12 };
	uint8_t big[600], data[4096];
	size_t i, len;

	open_session(h);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		bulk_out(h, junk[i], (uint32_t)lens[i]);
		assert_int_equal(response(h, NULL), PTP_RC_GeneralError);
	}
	/* 600 bytes of command: bounded, refused once it ends */
	memset(big, 0x41, sizeof(big));
	bulk_out(h, big, 512);
	bulk_out(h, big, 88);
	assert_int_equal(response(h, NULL), PTP_RC_GeneralError);
	/* and it keeps working, whatever the transaction ids that follow */
	h->tid = 100;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_false(h->closed);
}

static void test_send_and_get_object(void **state)
{
	struct harness *h = *state;
	uint8_t payload[3000], data[8192];
	uint32_t handle, p[3];
	size_t len, i;
	char path[128];
	struct stat sb;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	open_session(h);
	assert_int_equal(
		send_object_info(h, "sent.bin", PTP_OFC_Undefined, sizeof(payload), &handle),
		PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, payload, sizeof(payload));
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	snprintf(path, sizeof(path), "%s/sent.bin", h->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(payload));

	assert_int_equal(
		with_data_in(h, PTP_OC_GetObject, 1, &handle, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, sizeof(payload));
	assert_memory_equal(data, payload, len);
	{
		const uint32_t part[3] = { handle, 1000, 500 };

		assert_int_equal(with_data_in(h, PTP_OC_GetPartialObject, 3, part, data,
					      sizeof(data), &len, p),
				 PTP_RC_OK);
		assert_int_equal(len, 500);
		assert_int_equal(p[0], 500);
		assert_memory_equal(data, payload + 1000, 500);
	}
	/* exactly 500 bytes: the data container is 512, a ZLP ends it */
	assert_int_equal(send_object_info(h, "five.bin", PTP_OFC_Undefined, 500, &handle),
			 PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, payload, 500);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObject, 1, &handle, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 500);
}

static void test_names_outside_refused(void **state)
{
	struct harness *h = *state;
	static const char *const bad[] = { "..", "../escape", "a/b", "/etc/passwd", "." };
	size_t i;
	char path[128];
	uint32_t handle;

	open_session(h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(send_object_info(h, bad[i], PTP_OFC_Undefined, 1, &handle),
				 PTP_RC_InvalidParameter);
	snprintf(path, sizeof(path), "%s/../escape", h->dir);
	assert_int_equal(access(path, F_OK), -1);
	/* a folder, then a rename to a bad name */
	assert_int_equal(send_object_info(h, "folder", PTP_OFC_Association, 0, &handle), PTP_RC_OK);
	{
		const uint32_t params[2] = { handle, MTP_OPC_ObjectFileName };
		struct mtp_buf b = { 0 };

		mtp_container_put_string(&b, "../../moved");
		send_command(h, MTP_OC_SetObjectPropValue, ++h->tid, 2, params);
		send_data(h, MTP_OC_SetObjectPropValue, h->tid, b.data, b.len);
		assert_int_equal(response(h, NULL), MTP_RC_InvalidObjectPropValue);
		mtp_container_buf_free(&b);
		b = (struct mtp_buf){ 0 };
		mtp_container_put_string(&b, "renamed");
		send_command(h, MTP_OC_SetObjectPropValue, ++h->tid, 2, params);
		send_data(h, MTP_OC_SetObjectPropValue, h->tid, b.data, b.len);
		assert_int_equal(response(h, NULL), PTP_RC_OK);
		mtp_container_buf_free(&b);
	}
	snprintf(path, sizeof(path), "%s/renamed", h->dir);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_bad_data_phases(void **state)
{
	struct harness *h = *state;
	uint8_t junk[40];
	uint32_t handle;

	open_session(h);
	/* an ObjectInfo cut short */
	{
		const uint32_t params[2] = { 0x00010001, 0xffffffff };

		memset(junk, 0, sizeof(junk));
		send_command(h, PTP_OC_SendObjectInfo, ++h->tid, 2, params);
		send_data(h, PTP_OC_SendObjectInfo, h->tid, junk, sizeof(junk));
		assert_int_equal(response(h, NULL), MTP_RC_InvalidDataset);
	}
	/* a data container with another transaction id: taken, as Android takes it */
	assert_int_equal(send_object_info(h, "f", PTP_OFC_Undefined, 4, &handle), PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid + 7, "abcd", 4);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	{
		char path[128];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/f", h->dir);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, 4);
	}
	/* SendObject without an ObjectInfo */
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, "abcd", 4);
	assert_int_equal(response(h, NULL), 0x2015);
	/* header and payload in separate short transfers: still one container */
	assert_int_equal(send_object_info(h, "split", PTP_OFC_Undefined, 8, &handle), PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	{
		uint8_t buf[12];

		mtp_container_encode_data_header(buf, PTP_OC_SendObject, h->tid, 8);
		bulk_out(h, buf, sizeof(buf));
		bulk_out(h, "1234", 4);
		bulk_out(h, "5678", 4);
	}
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	/* a data container shorter than it says, then the host cancels */
	assert_int_equal(send_object_info(h, "g", PTP_OFC_Undefined, 100, &handle), PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	{
		static const uint8_t cancel[8] = { 0x21, 0x64, 0, 0, 0, 0, 6, 0 };
		uint8_t buf[20], body[6] = { 0x01, 0x40, (uint8_t)h->tid };

		mtp_container_encode_data_header(buf, PTP_OC_SendObject, h->tid, 100);
		memcpy(buf + 12, "12345678", 8);
		bulk_out(h, buf, sizeof(buf));
		control(h, cancel, body, 6, NULL);
	}
	assert_int_equal(simple(h, PTP_OC_GetObjectInfo, 1, &handle, NULL),
			 PTP_RC_InvalidObjectHandle); /* the partial file is not kept */
	assert_int_equal(simple(h, 0x9999, 0, NULL, NULL), PTP_RC_OperationNotSupported);
	assert_false(h->closed);
}

static void test_large_offsets(void **state)
{
	struct harness *h = *state;
	char path[128];
	uint32_t *handles, p[1];
	uint8_t data[IN_URB * 4];
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/sparse.bin", h->dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 5ll << 30), 0);		     /* 5 GiB, sparse */
	assert_int_equal(pwrite(fd, "tail", 4, (5ll << 30) - 4), 4); /* at the very end */
	close(fd);
	open_session(h);
	{
		const uint32_t params[3] = { 0xffffffff, 0, 0 };

		assert_int_equal(with_data_in(h, PTP_OC_GetObjectHandles, 3, params, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(len, 8);
		handles = (uint32_t *)(data + 4);
		p[0] = *handles;
	}
	{
		const uint32_t part[4] = { p[0], (uint32_t)((5ull << 30) - 4), 1, 100 };

		assert_int_equal(with_data_in(h, ANDROID_OC_GetPartialObject64, 4, part, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(len, 4);
		assert_memory_equal(data, "tail", 4);
	}
	{
		/* SendPartialObject past 4 GiB, then TruncateObject */
		const uint32_t part[4] = { p[0], 0x10, 1, 3 };
		const uint32_t trunc[3] = { p[0], 0x20, 1 };
		char back[3];

		send_command(h, ANDROID_OC_SendPartialObject, ++h->tid, 4, part);
		send_data(h, ANDROID_OC_SendPartialObject, h->tid, "xyz", 3);
		assert_int_equal(response(h, NULL), PTP_RC_OK);
		fd = open(path, O_RDONLY);
		assert_int_equal(pread(fd, back, 3, (1ll << 32) + 0x10), 3);
		assert_memory_equal(back, "xyz", 3);
		close(fd);
		assert_int_equal(simple(h, ANDROID_OC_TruncateObject, 3, trunc, NULL), PTP_RC_OK);
		assert_int_equal(stat(path, &(struct stat){ 0 }), 0);
	}
	{
		/* ObjectInfo says 0xffffffff, the ObjectSize property the real size */
		const uint32_t prop[2] = { p[0], MTP_OPC_ObjectSize };

		assert_int_equal(with_data_in(h, MTP_OC_GetObjectPropValue, 2, prop, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(len, 8);
		assert_int_equal(data[4], 0x01); /* 0x1_0000_0020 */
		assert_int_equal(data[0], 0x20);
		assert_int_equal(
			with_data_in(h, PTP_OC_GetObjectInfo, 1, p, data, sizeof(data), &len, NULL),
			PTP_RC_OK);
		assert_memory_equal(data + 8, "\xff\xff\xff\xff", 4);
	}
}

static void test_cancel_mid_transfer(void **state)
{
	struct harness *h = *state;
	static const uint8_t cancel[8] = { 0x21, 0x64, 0, 0, 0, 0, 6, 0 };
	static const uint8_t status_req[8] = { 0xa1, 0x67, 0, 0, 0, 0, 4, 0 };
	uint8_t data[IN_URB], *big = calloc(1, 1 << 20);
	uint8_t body[6] = { 0x01, 0x40 };
	char path[128];
	uint32_t *handles;
	size_t len;
	int fd, st;

	assert_non_null(big);
	snprintf(path, sizeof(path), "%s/big.bin", h->dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	assert_int_equal(write(fd, big, 1 << 20), 1 << 20);
	close(fd);
	free(big);
	open_session(h);
	{
		const uint32_t params[3] = { 0xffffffff, 0, 0xffffffff };

		assert_int_equal(with_data_in(h, PTP_OC_GetObjectHandles, 3, params, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		handles = (uint32_t *)(data + 4);
	}
	send_command(h, PTP_OC_GetObject, ++h->tid, 1, handles);
	submit(h, 1, true, IN_URB, NULL, NULL); /* one piece of the data, then cancel */
	pump(h);
	assert_int_equal(ret_submit(h, true, data, sizeof(data), NULL), IN_URB);
	control(h, cancel, body, 6, &st);
	assert_int_equal(st, 0);
	control(h, status_req, NULL, 4, &st);
	assert_int_equal(st, 0);
	/* after the cancel, the next transaction works */
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
}

/* The handle of the only object of the first storage's top. */
static uint32_t only_handle(struct harness *h)
{
	const uint32_t params[3] = { 0xffffffff, 0, 0xffffffff };
	uint8_t data[64];
	uint32_t handle;
	size_t len;

	assert_int_equal(
		with_data_in(h, PTP_OC_GetObjectHandles, 3, params, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 8);
	memcpy(&handle, data + 4, 4);
	return handle;
}

static void write_file(const char *path, size_t size)
{
	uint8_t *buf = calloc(1, size + 1);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_non_null(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

/*
 * The response after file data is sent when the host's next IN URB asks
 * for it: after an empty file's header alone, after data cut short by a
 * file that shrank while being read (GeneralError), and never once a new
 * command came (the host gave up on the last one).
 */
static void test_get_object_response_follows_data(void **state)
{
	struct harness *h = *state;
	uint8_t data[IN_URB * 4];
	const uint32_t all[1] = { 0xffffffff };
	uint32_t handle, p[1] = { 7 };
	char path[128];
	size_t len;

	snprintf(path, sizeof(path), "%s/file.bin", h->dir);
	write_file(path, 0);
	open_session(h);
	handle = only_handle(h);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObject, 1, &handle, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 0);
	{
		const uint32_t part[3] = { handle, 10, 10 }; /* past the end: nothing */

		assert_int_equal(with_data_in(h, PTP_OC_GetPartialObject, 3, part, data,
					      sizeof(data), &len, p),
				 PTP_RC_OK);
		assert_int_equal(len, 0);
		assert_int_equal(p[0], 0);
	}

	/* the data read, its response not asked for: the next command is answered alone */
	write_file(path, 3000);
	send_command(h, PTP_OC_GetObject, ++h->tid, 1, &handle);
	assert_int_equal(bulk_in_message(h, data, sizeof(data)), 12 + 3000);
	assert_int_equal(simple(h, PTP_OC_GetNumObjects, 1, all, p), PTP_RC_OK);
	assert_int_equal(p[0], 1);

	/* shrinks after the first URB: the data ends short, the response says so */
	write_file(path, 1 << 20);
	send_command(h, PTP_OC_GetObject, ++h->tid, 1, &handle);
	submit(h, 1, true, IN_URB, NULL, NULL);
	pump(h);
	assert_int_equal(ret_submit(h, true, data, sizeof(data), NULL), IN_URB);
	assert_int_equal(truncate(path, 20000), 0);
	assert_int_equal(bulk_in_message(h, data, sizeof(data)), 20000 - (IN_URB - 12));
	assert_int_equal(response(h, NULL), PTP_RC_GeneralError);
	assert_int_equal(simple(h, PTP_OC_GetNumObjects, 1, all, p), PTP_RC_OK);
}

/* A control transfer to the device; returns the bytes answered (IN), the status in *status. */
static uint32_t control_in(struct harness *h, const uint8_t setup[8], uint8_t *buf, size_t cap,
			   int *status)
{
	uint32_t len = setup[6] | setup[7] << 8;

	submit(h, 0, true, len, setup, NULL);
	pump(h);
	return ret_submit(h, true, buf, cap, status);
}

/*
 * Windows' Microsoft OS descriptors (MS OS Descriptors 1.0): string 0xEE,
 * then the vendor requests with its vendor code, byte for byte as the
 * spec lays them out; and what is not one of them stalls (-EPIPE).
 */
static void test_ms_os_descriptors(void **state)
{
	struct harness *h = *state;
	static const uint8_t os_string[] = { 0x12, 0x03, 'M', 0,   'S', 0,   'F', 0, 'T',
					     0,	   '1',	 0,   '0', 0,	'0', 0,	  1, 0 };
	uint8_t buf[256], want[64], setup[8];
	size_t n;
	int st;

	/* GET_DESCRIPTOR(STRING, 0xEE), language 0 */
	memcpy(setup, "\x80\x06\xee\x03\x00\x00\xff\x00", 8);
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), sizeof(os_string));
	assert_int_equal(st, 0);
	assert_memory_equal(buf, os_string, sizeof(os_string));
	/* a string between ours and 0xEE does not exist */
	memcpy(setup, "\x80\x06\x05\x03\x09\x04\xff\x00", 8);
	control_in(h, setup, buf, sizeof(buf), &st);
	assert_int_equal(st, -EPIPE);

	/* extended compat ID (bmRequestType C0, bRequest = the vendor code, wIndex 4) */
	n = hex_to_bytes("28000000 0001 0400 01 00000000000000 00 01 4d54500000000000"
			 "0000000000000000 000000000000",
			 want, sizeof(want));
	memcpy(setup, "\xc0\x01\x00\x00\x04\x00\x28\x00", 8);
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), n);
	assert_int_equal(st, 0);
	assert_memory_equal(buf, want, n);
	/* the header alone first, as Windows asks; a longer wLength gets the 40 bytes */
	setup[6] = 0x10;
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), 16);
	assert_memory_equal(buf, want, 16);
	setup[6] = 0xff;
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), n);

	/* extended properties (wIndex 5): none, the header alone; to the device or interface 0 */
	n = hex_to_bytes("0a000000 0001 0500 0000", want, sizeof(want));
	memcpy(setup, "\xc1\x01\x00\x00\x05\x00\x0a\x00", 8);
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), n);
	assert_memory_equal(buf, want, n);
	setup[0] = 0xc0;
	assert_int_equal(control_in(h, setup, buf, sizeof(buf), &st), n);

	/* malformed: each stalls */
	{
		static const char *const bad[] = {
			"\xc0\x01\x00\x00\x06\x00\x28\x00", /* wIndex 6 */
			"\xc0\x01\x00\x00\x01\x00\x28\x00", /* wIndex 1 (genre: not ours) */
			"\xc0\x01\x00\x00\x04\x00\x0f\x00", /* shorter than the header */
			"\xc0\x01\x00\x00\x04\x00\x00\x00", /* wLength 0 */
			"\xc1\x01\x00\x00\x05\x00\x09\x00", /* ext. props shorter than theirs */
			"\xc0\x02\x00\x00\x04\x00\x28\x00", /* another vendor code */
			"\xc0\x01\x01\x00\x04\x00\x28\x00", /* page 1 */
			"\xc1\x01\x00\x01\x05\x00\x0a\x00", /* interface 1 */
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memcpy(setup, bad[i], 8);
			control_in(h, setup, buf, sizeof(buf), &st);
			if (st != -EPIPE)
				fail_msg("malformed MS OS request %zu answered (status %d)", i, st);
		}
		/* an OUT request with that code */
		memcpy(setup, "\x40\x01\x00\x00\x04\x00\x04\x00", 8);
		control(h, setup, "abcd", 4, &st);
		assert_int_equal(st, -EPIPE);
	}
	/* and the device still works */
	open_session(h);
	assert_int_equal(with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, buf, sizeof(buf), &n, NULL),
			 PTP_RC_OK);
}

/* SetDevicePropValue with payload as its data; returns the response code. */
static uint16_t set_device_prop(struct harness *h, uint32_t prop, const void *payload, size_t len)
{
	send_command(h, PTP_OC_SetDevicePropValue, ++h->tid, 1, &prop);
	send_data(h, PTP_OC_SetDevicePropValue, h->tid, payload, len);
	return response(h, NULL);
}

/*
 * Device properties as Windows reads and sets them, checked against the
 * DevicePropDesc layout of PTP 13.3.3 (code, type, get/set, default,
 * current, form): BatteryLevel (UINT8, read-only, range 0..100 step 1),
 * SynchronizationPartner and DeviceFriendlyName (strings, settable, the
 * value set is the value read). Bad values are refused and change nothing.
 */
static void test_device_props(void **state)
{
	struct harness *h = *state;
	uint8_t data[4096], want[256];
	size_t len, n;
	uint32_t prop;
	struct mtp_buf b = { 0 };

	open_session(h);
	prop = PTP_DPC_BatteryLevel;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetDevicePropDesc, 1, &prop, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	n = hex_to_bytes("0150 0200 00 64 64 01 00 64 01", want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(data, want, n);
	assert_int_equal(with_data_in(h, PTP_OC_GetDevicePropValue, 1, &prop, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_OK);
	assert_int_equal(len, 1);
	assert_int_equal(data[0], 100);
	assert_int_equal(set_device_prop(h, prop, "\x32", 1), PTP_RC_AccessDenied);

	prop = PTP_DPC_SynchronizationPartner;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetDevicePropDesc, 1, &prop, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	n = hex_to_bytes("01d4 ffff 01 00 00 00", want, sizeof(want));
	assert_int_equal(len, n);
	assert_memory_equal(data, want, n);
	mtp_container_put_string(&b, "Windows Media Player");
	assert_int_equal(set_device_prop(h, prop, b.data, b.len), PTP_RC_OK);
	assert_int_equal(with_data_in(h, PTP_OC_GetDevicePropValue, 1, &prop, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_OK);
	assert_int_equal(len, b.len);
	assert_memory_equal(data, b.data, b.len);
	mtp_container_buf_free(&b);

	/* DeviceFriendlyName: default serve-mtp (no --name), then what Windows sets */
	prop = PTP_DPC_DeviceFriendlyName;
	mtp_container_put_string(&b, "My files");
	assert_int_equal(set_device_prop(h, prop, b.data, b.len), PTP_RC_OK);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetDevicePropDesc, 1, &prop, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	n = hex_to_bytes("02d4 ffff 01 0a 73006500720076006500 2d006d0074007000 0000", want,
			 sizeof(want));
	assert_true(len == n + b.len + 1);
	assert_memory_equal(data, want, n);
	assert_memory_equal(data + n, b.data, b.len);
	assert_int_equal(data[len - 1], 0); /* no form */
	/* a string whose count lies, one with bytes after it, an empty data phase */
	assert_int_equal(set_device_prop(h, prop, "\x0a\x41\x00\x00\x00", 5),
			 PTP_RC_InvalidDevicePropValue);
	{
		uint8_t longer[64];

		memcpy(longer, b.data, b.len);
		memcpy(longer + b.len, "junk", 4);
		assert_int_equal(set_device_prop(h, prop, longer, b.len + 4),
				 PTP_RC_InvalidDevicePropValue);
	}
	assert_int_equal(set_device_prop(h, prop, NULL, 0), PTP_RC_InvalidDevicePropValue);
	assert_int_equal(with_data_in(h, PTP_OC_GetDevicePropValue, 1, &prop, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_OK);
	assert_int_equal(len, b.len); /* still "My files" */
	assert_memory_equal(data, b.data, b.len);
	mtp_container_buf_free(&b);
	/* one that does not exist */
	prop = 0xd403;
	assert_int_equal(set_device_prop(h, prop, "\x00", 1), PTP_RC_DevicePropNotSupported);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetDevicePropDesc, 1, &prop, data, sizeof(data), &len, NULL),
		PTP_RC_DevicePropNotSupported);
}

/* Walks an ObjectPropList (count, then handle, code, type, value); returns the count. */
static uint32_t walk_prop_list(const uint8_t *d, size_t len, uint32_t *handles, size_t cap,
			       size_t *nhandles)
{
	size_t off = 4, i;
	uint32_t n, k;

	assert_true(len >= 4);
	n = d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
	*nhandles = 0;
	for (k = 0; k < n; k++) {
		uint32_t hd;
		uint16_t type;

		assert_true(off + 8 <= len);
		hd = d[off] | d[off + 1] << 8 | d[off + 2] << 16 | (uint32_t)d[off + 3] << 24;
		type = (uint16_t)(d[off + 6] | d[off + 7] << 8);
		off += 8;
		switch (type) {
		case PTP_DTC_UINT16:
			off += 2;
			break;
		case PTP_DTC_UINT32:
			off += 4;
			break;
		case PTP_DTC_UINT64:
			off += 8;
			break;
		case PTP_DTC_UINT128:
			off += 16;
			break;
		case PTP_DTC_STR:
			assert_true(off < len);
			off += 1 + 2 * (size_t)d[off];
			break;
		default:
			fail_msg("element %u: type 0x%04x", k, type);
		}
		assert_true(off <= len);
		for (i = 0; i < *nhandles && handles[i] != hd; i++)
			;
		if (i == *nhandles) {
			assert_true(*nhandles < cap);
			handles[(*nhandles)++] = hd;
		}
	}
	assert_int_equal(off, len); /* the count matches what is there */
	return n;
}

/* GetObjectPropList(handle, format, prop, 0, depth): its response; elements and objects. */
static uint16_t prop_list(struct harness *h, uint32_t handle, uint32_t format, uint32_t prop,
			  uint32_t depth, uint32_t *elements, size_t *objects)
{
	const uint32_t params[5] = { handle, format, prop, 0, depth };
	static uint8_t data[65536];
	uint32_t handles[64];
	size_t len;
	uint16_t rc = with_data_in(h, MTP_OC_GetObjectPropList, 5, params, data, sizeof(data), &len,
				   NULL);

	if (rc == PTP_RC_OK)
		*elements = walk_prop_list(data, len, handles, 64, objects);
	return rc;
}

/* The handle of the object called name (0: none), from the whole-device list. */
static uint32_t handle_of(struct harness *h, const char *name)
{
	const uint32_t params[5] = { 0xffffffff, 0, MTP_OPC_ObjectFileName, 0, 0 };
	static uint8_t data[65536];
	size_t len, off = 4;
	struct mtp_buf want = { 0 };
	uint32_t found = 0;

	assert_int_equal(with_data_in(h, MTP_OC_GetObjectPropList, 5, params, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_OK);
	mtp_container_put_string(&want, name);
	while (off + 8 < len) {
		size_t slen = 1 + 2 * (size_t)data[off + 8];

		if (slen == want.len && memcmp(data + off + 8, want.data, slen) == 0)
			found = data[off] | data[off + 1] << 8 | data[off + 2] << 16 |
				(uint32_t)data[off + 3] << 24;
		off += 8 + slen;
	}
	mtp_container_buf_free(&want);
	return found;
}

/*
 * GetObjectPropList with all properties (0xffffffff) and the depths
 * Windows asks for, over a/ (a folder holding a/x.txt) and b.txt; each
 * answer walked element by element, its count matching what is there.
 */
static void test_prop_list_depths(void **state)
{
	struct harness *h = *state;
	const uint32_t all = 0xffffffff;
	char path[128];
	uint32_t n, a;
	size_t objects;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a", h->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/x.txt", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/b.txt", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	open_session(h);
	assert_int_equal(prop_list(h, all, 0, all, 0, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 3);
	assert_int_equal(n % 3, 0);
	assert_true(n / 3 >= 9); /* every property of each */
	a = handle_of(h, "a");
	assert_true(a != 0);
	/* handle 0: the top, which is no object */
	assert_int_equal(prop_list(h, 0, 0, all, 0, &n, &objects), PTP_RC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(prop_list(h, 0, 0, all, 1, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 2); /* a and b.txt */
	assert_int_equal(prop_list(h, 0, 0, all, all, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 3);
	/* a folder: itself, its children, everything below */
	assert_int_equal(prop_list(h, a, 0, all, 0, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 1);
	assert_int_equal(prop_list(h, a, 0, all, 1, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 1); /* x.txt, not a */
	assert_int_equal(prop_list(h, a, 0, MTP_OPC_ObjectFileName, 0, &n, &objects), PTP_RC_OK);
	assert_int_equal(n, 1);
	/* a file has nothing below it */
	assert_int_equal(prop_list(h, handle_of(h, "b.txt"), 0, all, 1, &n, &objects), PTP_RC_OK);
	assert_int_equal(n, 0);
	/* by format: folders only */
	assert_int_equal(prop_list(h, 0, PTP_OFC_Association, all, all, &n, &objects), PTP_RC_OK);
	assert_int_equal(objects, 1);
	/* what is not supported */
	assert_int_equal(prop_list(h, a, 0, all, 2, &n, &objects),
			 MTP_RC_SpecificationByDepthUnsupported);
	assert_int_equal(prop_list(h, 0x7777, 0, all, 0, &n, &objects), PTP_RC_InvalidObjectHandle);
	assert_int_equal(prop_list(h, a, 0, 0xdc99, 0, &n, &objects), MTP_RC_InvalidObjectPropCode);
}

/* SendObjectPropList(storage, parent, format, size high, size low) with list; response params. */
static uint16_t send_prop_list(struct harness *h, uint32_t parent, uint16_t format, uint64_t size,
			       const void *list, size_t len, uint32_t *p)
{
	const uint32_t params[5] = { 0x00010001, parent, format, (uint32_t)(size >> 32),
				     (uint32_t)size };

	send_command(h, MTP_OC_SendObjectPropList, ++h->tid, 5, params);
	send_data(h, MTP_OC_SendObjectPropList, h->tid, list, len);
	return response(h, p);
}

/*
 * Windows' upload: SendObjectPropList (MTP 1.1 D.2.30) then SendObject; a
 * folder made the same way; property lists whose counts lie, and other
 * malformed ones, refused with InvalidDataset and the failing element in
 * the fourth parameter, making nothing.
 */
static void test_send_object_prop_list(void **state)
{
	struct harness *h = *state;
	uint8_t list[256], data[256];
	uint32_t p[4], folder;
	size_t n, len;
	char path[160];
	struct stat sb;
	DIR *d;
	int entries = 0;

	open_session(h);
	n = hex_to_bytes("02000000 00000000 07dc ffff 07 75007000 2e007400 78007400 0000"
			 "00000000 44dc ffff 03 75007000 0000",
			 list, sizeof(list));
	assert_int_equal(send_prop_list(h, 0, PTP_OFC_Undefined, 5, list, n, p), PTP_RC_OK);
	assert_int_equal(p[0], 0x00010001);
	assert_int_equal(p[1], 0xffffffff);
	assert_true(p[2] != 0);
	assert_int_equal(p[3], 0);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, "hello", 5);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObject, 1, &p[2], data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	snprintf(path, sizeof(path), "%s/up.txt", h->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 5);

	/* a folder, then a file into it */
	n = hex_to_bytes("01000000 00000000 07dc ffff 02 6400 0000", list, sizeof(list));
	assert_int_equal(send_prop_list(h, 0, PTP_OFC_Association, 0, list, n, p), PTP_RC_OK);
	folder = p[2];
	snprintf(path, sizeof(path), "%s/d", h->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	n = hex_to_bytes("01000000 00000000 07dc ffff 02 6500 0000", list, sizeof(list));
	assert_int_equal(send_prop_list(h, folder, PTP_OFC_Undefined, 2, list, n, p), PTP_RC_OK);
	assert_int_equal(p[1], folder);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, "ok", 2);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	snprintf(path, sizeof(path), "%s/d/e", h->dir);
	assert_int_equal(stat(path, &sb), 0);

	/* malformed lists: InvalidDataset, the failing element, nothing made */
	{
		static const struct {
			const char *hex;
			uint32_t failed;
		} bad[] = {
			{ "03000000 00000000 07dc ffff 02 6600 0000", 1 }, /* the count lies */
			{ "ffffffff 00000000 07dc ffff 02 6600 0000", 1 }, /* ... wildly */
			{ "02000000 00000000 07dc ffff 02 6600 0000 00000000 46dc 0640 ffffff7f",
			  1 }, /* an array that lies */
			{ "01000000 00000000 04dc 0800 0500000000000000", 0 }, /* no name */
			{ "01000000 00000000 07dc ffff 09 6600", 0 },	       /* a string cut */
			{ "", 0 },
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = hex_to_bytes(bad[i].hex, list, sizeof(list));
			memset(p, 0xee, sizeof(p));
			assert_int_equal(send_prop_list(h, 0, PTP_OFC_Undefined, 1, list, n, p),
					 MTP_RC_InvalidDataset);
			assert_int_equal(p[3], bad[i].failed);
		}
		/* a name that leaves the folder */
		n = hex_to_bytes("01000000 00000000 07dc ffff 03 2e002e00 0000", list,
				 sizeof(list));
		assert_int_equal(send_prop_list(h, 0, PTP_OFC_Undefined, 1, list, n, p),
				 PTP_RC_InvalidParameter);
		/* SendObject with nothing announced */
		send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
		send_data(h, PTP_OC_SendObject, h->tid, "x", 1);
		assert_int_equal(response(h, NULL), 0x2015);
	}
	assert_non_null(d = opendir(h->dir));
	while (readdir(d))
		entries++;
	closedir(d);
	assert_int_equal(entries, 4); /* ., .., up.txt, d */
}

/* GetObjectReferences / SetObjectReferences: files and folders reference nothing. */
static void test_references(void **state)
{
	struct harness *h = *state;
	uint8_t data[64], arr[16];
	uint32_t handle;
	size_t len;

	open_session(h);
	assert_int_equal(send_object_info(h, "r", PTP_OFC_Association, 0, &handle), PTP_RC_OK);
	assert_int_equal(with_data_in(h, MTP_OC_GetObjectReferences, 1, &handle, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "\0\0\0\0", 4);
	send_command(h, MTP_OC_SetObjectReferences, ++h->tid, 1, &handle);
	send_data(h, MTP_OC_SetObjectReferences, h->tid, "\0\0\0\0", 4);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	/* a list with a handle in it would be kept nowhere */
	memcpy(arr, "\x01\0\0\0", 4);
	memcpy(arr + 4, &handle, 4);
	send_command(h, MTP_OC_SetObjectReferences, ++h->tid, 1, &handle);
	send_data(h, MTP_OC_SetObjectReferences, h->tid, arr, 8);
	assert_int_equal(response(h, NULL), PTP_RC_AccessDenied);
	/* a count that lies, an object that does not exist */
	memcpy(arr, "\x05\0\0\0", 4);
	send_command(h, MTP_OC_SetObjectReferences, ++h->tid, 1, &handle);
	send_data(h, MTP_OC_SetObjectReferences, h->tid, arr, 8);
	assert_int_equal(response(h, NULL), MTP_RC_InvalidDataset);
	handle = 0x7777;
	send_command(h, MTP_OC_SetObjectReferences, ++h->tid, 1, &handle);
	send_data(h, MTP_OC_SetObjectReferences, h->tid, "\0\0\0\0", 4);
	assert_int_equal(response(h, NULL), PTP_RC_InvalidObjectHandle);
	assert_int_equal(with_data_in(h, MTP_OC_GetObjectReferences, 1, &handle, data, sizeof(data),
				      &len, NULL),
			 PTP_RC_InvalidObjectHandle);
}

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The description in a StorageInfo dataset (after 26 bytes of fixed fields), in ASCII. */
static void storage_description(const uint8_t *d, size_t len, char *out, size_t cap)
{
	size_t n, i;

	assert_true(len > 26);
	n = d[26];
	assert_true(27 + 2 * n <= len && n <= cap);
	for (i = 0; i + 1 < n; i++)
		out[i] = (char)d[27 + 2 * i];
	out[n ? n - 1 : 0] = 0;
}

/*
 * Two folders, two storages: h->dir (read-write, named after the folder)
 * and h->second (read-only, "Second"). Each has its own StorageInfo; the
 * objects of both are listed, each with its own StorageID and handles that
 * never collide; a file of each reads back; a write goes to the folder of
 * the storage asked for, and the read-only one refuses it.
 */
static void test_two_storages(void **state)
{
	struct harness *h = *state;
	uint8_t data[4096];
	char desc[256], path[160];
	uint32_t p[4], one, two, sub, handle;
	size_t len, i;
	struct stat sb;

	open_session(h);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 12);
	assert_int_equal(le32_at(data), 2);
	assert_int_equal(le32_at(data + 4), 0x00010001);
	assert_int_equal(le32_at(data + 8), 0x00020001);
	p[0] = 0x00010001;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageInfo, 1, p, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(data[4], 0); /* read-write */
	storage_description(data, len, desc, sizeof(desc));
	assert_string_equal(desc, strrchr(h->dir, '/') + 1); /* the folder's own name */
	p[0] = 0x00020001;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageInfo, 1, p, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(data[4], 1);			      /* AccessCapability: read-only */
	assert_true(le32_at(data + 6) || le32_at(data + 10)); /* a capacity of its own */
	storage_description(data, len, desc, sizeof(desc));
	assert_string_equal(desc, "Second");
	p[0] = 0x00030001;
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageInfo, 1, p, data, sizeof(data), &len, NULL),
		PTP_RC_InvalidStorageId);

	/* every object of every storage; then each storage alone */
	{
		const uint32_t all[3] = { 0xffffffff, 0, 0 },
			       top2[3] = { 0x00020001, 0, 0xffffffff };

		assert_int_equal(with_data_in(h, PTP_OC_GetObjectHandles, 3, all, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(le32_at(data), 3); /* one.txt, sub, sub/two.txt */
		assert_int_equal(with_data_in(h, PTP_OC_GetObjectHandles, 3, top2, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(le32_at(data), 1); /* sub */
	}
	one = handle_of(h, "one.txt");
	two = handle_of(h, "two.txt");
	sub = handle_of(h, "sub");
	assert_true(one && two && sub && one != two && one != sub && two != sub);
	/* ObjectInfo: the StorageID of each; sub/two.txt's parent is sub */
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObjectInfo, 1, &two, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(le32_at(data), 0x00020001);
	assert_int_equal(le32_at(data + 38), sub);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObjectInfo, 1, &one, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(le32_at(data), 0x00010001);
	assert_int_equal(le32_at(data + 38), 0);
	/* the StorageID property, and the data of each */
	{
		const uint32_t prop[2] = { two, MTP_OPC_StorageID };

		assert_int_equal(with_data_in(h, MTP_OC_GetObjectPropValue, 2, prop, data,
					      sizeof(data), &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(le32_at(data), 0x00020001);
	}
	assert_int_equal(with_data_in(h, PTP_OC_GetObject, 1, &two, data, sizeof(data), &len, NULL),
			 PTP_RC_OK);
	assert_int_equal(len, 14);
	assert_memory_equal(data, "second storage", 14);
	assert_int_equal(with_data_in(h, PTP_OC_GetObject, 1, &one, data, sizeof(data), &len, NULL),
			 PTP_RC_OK);
	assert_memory_equal(data, "first storage", 13);
	/* top-level objects across storages through GetObjectPropList(0, depth 1) */
	{
		uint32_t n;
		size_t objects;

		assert_int_equal(prop_list(h, 0, 0, 0xffffffff, 1, &n, &objects), PTP_RC_OK);
		assert_int_equal(objects, 2); /* one.txt, sub */
	}

	/* writes: the read-only storage refuses, the other takes it, in its own folder */
	{
		struct mtp_object_info info = { .format = PTP_OFC_Undefined, .compressed_size = 3 };
		struct mtp_buf b = { 0 };
		const uint32_t to2[2] = { 0x00020001, 0xffffffff }, to1[2] = { 0x00010001, 0 };
		uint32_t bad[2] = { 0x00010001, 0 };

		snprintf(info.filename, sizeof(info.filename), "w.txt");
		mtp_container_encode_object_info(&b, &info);
		send_command(h, PTP_OC_SendObjectInfo, ++h->tid, 2, to2);
		send_data(h, PTP_OC_SendObjectInfo, h->tid, b.data, b.len);
		assert_int_equal(response(h, NULL), PTP_RC_StoreReadOnly);
		/* a parent of the other storage */
		bad[1] = sub;
		send_command(h, PTP_OC_SendObjectInfo, ++h->tid, 2, bad);
		send_data(h, PTP_OC_SendObjectInfo, h->tid, b.data, b.len);
		assert_int_equal(response(h, NULL), PTP_RC_InvalidParentObject);
		send_command(h, PTP_OC_SendObjectInfo, ++h->tid, 2, to1);
		send_data(h, PTP_OC_SendObjectInfo, h->tid, b.data, b.len);
		assert_int_equal(response(h, p), PTP_RC_OK);
		assert_int_equal(p[0], 0x00010001);
		handle = p[2];
		mtp_container_buf_free(&b);
		send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
		send_data(h, PTP_OC_SendObject, h->tid, "abc", 3);
		assert_int_equal(response(h, NULL), PTP_RC_OK);
		snprintf(path, sizeof(path), "%s/w.txt", h->dir);
		assert_int_equal(stat(path, &sb), 0);
		snprintf(path, sizeof(path), "%s/w.txt", h->second);
		assert_int_equal(stat(path, &sb), -1);
		assert_int_equal(handle_of(h, "w.txt"), handle);
	}
	assert_int_equal(simple(h, PTP_OC_DeleteObject, 1, &two, NULL), PTP_RC_StoreReadOnly);
	snprintf(path, sizeof(path), "%s/sub/two.txt", h->second);
	assert_int_equal(stat(path, &sb), 0);
	/* handles that name no storage */
	for (i = 2; i < 16; i++) {
		uint32_t bogus = (uint32_t)i << 28 | 1;

		assert_int_equal(simple(h, PTP_OC_DeleteObject, 1, &bogus, NULL),
				 PTP_RC_InvalidObjectHandle);
	}
}

/* --dir PATH[:NAME[:ro]], and the folders refused together. */
static void test_dir_options(void **state)
{
	struct mtp_storage_options st[MTP_MAX_STORAGES + 1];
	char a[32], b[32], c[32], err[256], base[64], sub[96], link[96], file[96];
	size_t i;

	(void)state;
	strcpy(a, "/srv/a");
	assert_int_equal(mtp_device_parse_dir(a, &st[0], err, sizeof(err)), 0);
	assert_string_equal(st[0].dir, "/srv/a");
	assert_null(st[0].name);
	assert_false(st[0].read_only);
	strcpy(a, "/srv/a:Music");
	assert_int_equal(mtp_device_parse_dir(a, &st[0], err, sizeof(err)), 0);
	assert_string_equal(st[0].dir, "/srv/a");
	assert_string_equal(st[0].name, "Music");
	assert_false(st[0].read_only);
	strcpy(a, "/srv/a:My Music:ro");
	assert_int_equal(mtp_device_parse_dir(a, &st[0], err, sizeof(err)), 0);
	assert_string_equal(st[0].name, "My Music");
	assert_true(st[0].read_only);
	strcpy(b, "rel::ro");
	assert_int_equal(mtp_device_parse_dir(b, &st[0], err, sizeof(err)), 0);
	assert_string_equal(st[0].dir, "rel");
	assert_null(st[0].name);
	assert_true(st[0].read_only);
	strcpy(b, "x:a:b");
	assert_int_equal(mtp_device_parse_dir(b, &st[0], err, sizeof(err)), 0);
	assert_string_equal(st[0].name, "a:b");
	strcpy(c, ":Music");
	assert_int_equal(mtp_device_parse_dir(c, &st[0], err, sizeof(err)), -1);
	{
		char longer[160];

		memset(longer, 'n', sizeof(longer));
		memcpy(longer, "/x:", 3);
		longer[sizeof(longer) - 1] = 0;
		assert_int_equal(mtp_device_parse_dir(longer, &st[0], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "NAME"));
	}

	snprintf(base, sizeof(base), "/tmp/test_mtp_dirs.XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(sub, sizeof(sub), "%s/sub", base);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(link, sizeof(link), "%s-link", base);
	assert_int_equal(symlink(base, link), 0);
	snprintf(file, sizeof(file), "%s/file", base);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	st[0] = (struct mtp_storage_options){ .dir = base };
	st[1] = (struct mtp_storage_options){ .dir = "/tmp" };
	assert_int_equal(mtp_device_check_dirs(st, 1, err, sizeof(err)), 0);
	/* the same folder twice, under its name and through a link */
	st[1].dir = base;
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "same folder"));
	st[1].dir = link;
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "same folder"));
	/* one inside the other, either way round */
	st[1].dir = sub;
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "inside"));
	st[1].dir = "/";
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -1);
	st[0].dir = "/";
	st[1].dir = base;
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "inside"));
	/* a name that only starts the same is not inside */
	st[0].dir = sub;
	st[1].dir = file; /* and a file is no folder: the other kind of failure */
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "not a directory"));
	st[1].dir = "/nonexistent/folder";
	assert_int_equal(mtp_device_check_dirs(st, 2, err, sizeof(err)), -2);
	/* too many, or none */
	for (i = 0; i <= MTP_MAX_STORAGES; i++)
		st[i] = (struct mtp_storage_options){ .dir = "/" };
	assert_int_equal(mtp_device_check_dirs(st, MTP_MAX_STORAGES + 1, err, sizeof(err)), -1);
	assert_int_equal(mtp_device_check_dirs(st, 0, err, sizeof(err)), -1);
	unlink(file);
	unlink(link);
	rmdir(sub);
	rmdir(base);
}

/* The serial descriptor (string 3) and the product (string 2) of a device. */
static void device_strings(struct mtp_device *mdev, char *serial, char *product, size_t cap)
{
	struct harness h = { .loop = ev_loop_new() };
	int sv[2], k;
	uint8_t buf[256];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h.client = sv[0];
	h.session = vdev_usbip_start(h.loop, tcp_conn_from_fd(sv[1]), mtp_device_vdev(mdev), closed,
				     &h);
	for (k = 2; k <= 3; k++) {
		uint8_t setup[8] = { 0x80, 0x06, (uint8_t)k, 0x03, 0x09, 0x04, 0xff, 0 };
		char *out = k == 3 ? serial : product;
		uint32_t n = control_in(&h, setup, buf, sizeof(buf), NULL), i;

		for (i = 0; 2 + 2 * i < n && i + 1 < cap; i++)
			out[i] = (char)buf[2 + 2 * i];
		out[i] = 0;
	}
	vdev_usbip_stop(h.session);
	ev_loop_free(h.loop);
	close(h.client);
}

/*
 * The serial stays the same across restarts for the same folders (derived
 * from their absolute paths), differs for others, is --serial when given;
 * the USB product is --name. Bad options make no device.
 */
static void test_serial_and_name(void **state)
{
	const struct mtp_storage_options tmp_root[2] = { { .dir = "/tmp" }, { .dir = "/" } },
					 spelled[2] = { { .dir = "/tmp/../tmp/" }, { .dir = "/" } },
					 root_tmp[2] = { { .dir = "/" }, { .dir = "/tmp" } },
					 missing[2] = { { .dir = "/tmp" },
							{ .dir = "/nonexistent/folder" } };
	char s1[64], s2[64], s3[64], prod[64];
	struct mtp_device *mdev;

	(void)state;
	assert_non_null(mdev = make_device(tmp_root, 2, NULL, NULL));
	device_strings(mdev, s1, prod, sizeof(s1));
	mtp_device_free(mdev);
	assert_string_equal(prod, "serve-mtp");
	assert_int_equal(strlen(s1), 16);
	assert_true(mtp_device_serial_ok(s1));
	/* again (a restart), and with the first folder under another spelling */
	assert_non_null(mdev = make_device(spelled, 2, NULL, NULL));
	device_strings(mdev, s2, prod, sizeof(s2));
	mtp_device_free(mdev);
	assert_string_equal(s1, s2);
	/* the same folders in another order: another device */
	assert_non_null(mdev = make_device(root_tmp, 2, NULL, NULL));
	device_strings(mdev, s3, prod, sizeof(s3));
	mtp_device_free(mdev);
	assert_string_not_equal(s1, s3);
	/* one folder fewer: another device */
	assert_non_null(mdev = make_device(tmp_root, 1, NULL, NULL));
	device_strings(mdev, s3, prod, sizeof(s3));
	mtp_device_free(mdev);
	assert_string_not_equal(s1, s3);
	/* --serial and --name */
	assert_non_null(mdev = make_device(tmp_root, 2, "my-phone_1.0", "Files"));
	device_strings(mdev, s3, prod, sizeof(s3));
	mtp_device_free(mdev);
	assert_string_equal(s3, "my-phone_1.0");
	assert_string_equal(prod, "Files");
	/* bad ones */
	assert_false(mtp_device_serial_ok(""));
	assert_false(mtp_device_serial_ok("with space"));
	assert_false(mtp_device_serial_ok("a,b"));
	assert_false(mtp_device_serial_ok("123456789012345678901234567890123"));
	assert_true(mtp_device_serial_ok("12345678901234567890123456789012"));
	errno = 0;
	assert_null(make_device(tmp_root, 2, "no/slash", NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(make_device(tmp_root, 0, NULL, NULL));
	assert_null(make_device(missing, 2, NULL, NULL));
	assert_int_equal(errno, ENOENT);
}

/* Cancels the URB with seqnum (still queued): CMD_UNLINK, and its RET_UNLINK read. */
static void unlink_urb(struct harness *h, uint32_t seqnum)
{
	struct usbip_urb_header hdr = {
		.base = { .command = USBIP_CMD_UNLINK, .seqnum = ++h->seq, .devid = 0x10002 },
		.u.cmd_unlink = { .unlink_seqnum = seqnum },
	};
	uint8_t buf[USBIP_URB_HEADER_SIZE];
	struct usbip_error err;

	usbip_proto_encode_urb_header(buf, &hdr);
	assert_int_equal(write(h->client, buf, sizeof(buf)), sizeof(buf));
	pump(h);
	read_full(h->client, buf, sizeof(buf));
	assert_int_equal(usbip_proto_decode_urb_header(buf, sizeof(buf), &hdr, &err), 0);
	assert_int_equal(hdr.base.command, USBIP_RET_UNLINK);
}

/*
 * Lets the device read what changed under its folders, then takes every
 * event queued on the interrupt pipe: codes and first parameters, up to
 * max (the count returned is of all of them).
 */
static size_t take_events(struct harness *h, uint16_t *codes, uint32_t *params, size_t max)
{
	size_t n = 0;

	mtp_device_process_changes(h->mdev);
	for (;;) {
		struct pollfd p = { .fd = h->client, .events = POLLIN };
		uint8_t buf[64];
		uint32_t len;

		submit(h, 2, true, sizeof(buf), NULL, NULL);
		pump(h);
		if (poll(&p, 1, 0) != 1) {
			unlink_urb(h, h->seq);
			return n;
		}
		len = ret_submit(h, true, buf, sizeof(buf), NULL);
		assert_int_equal(len, 16);
		assert_int_equal(buf[4], MTP_CONTAINER_EVENT);
		if (n < max) {
			codes[n] = (uint16_t)(buf[6] | buf[7] << 8);
			params[n] = le32_at(buf + 12);
		}
		n++;
	}
}

static bool has_event(const uint16_t *codes, const uint32_t *params, size_t n, uint16_t code,
		      uint32_t param)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (codes[i] == code && params[i] == param)
			return true;
	return false;
}

/* CopyObject / MoveObject: handle, storage, parent; the response's first parameter in *p. */
static uint16_t copy_move(struct harness *h, uint16_t code, uint32_t handle, uint32_t storage,
			  uint32_t parent, uint32_t *p)
{
	const uint32_t params[3] = { handle, storage, parent };

	return simple(h, code, 3, params, p);
}

/* The number of objects directly in folder parent of storage (GetNumObjects). */
static uint32_t count_in(struct harness *h, uint32_t storage, uint32_t parent)
{
	const uint32_t params[3] = { storage, 0, parent };
	uint32_t p[1] = { 0 };

	assert_int_equal(simple(h, PTP_OC_GetNumObjects, 3, params, p), PTP_RC_OK);
	return p[0];
}

/*
 * CopyObject and MoveObject through the responder, folders included, within
 * a storage and into the other one; the initiator hears of a move into the
 * other storage (the object has a new handle there) by events, and of
 * nothing it did itself within one.
 */
static void test_copy_move_objects(void **state)
{
	struct harness *h = *state;
	uint16_t codes[32];
	uint32_t params[32], p[3], one, dir, copy, moved = 0;
	char path[200];
	struct stat sb;
	size_t n, i;

	snprintf(path, sizeof(path), "%s/dir", h->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/in", h->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/in/deep.txt", h->dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	open_session(h);
	one = handle_of(h, "one.txt");
	dir = handle_of(h, "dir");
	take_events(h, codes, params, 32);
	/* into the same storage's top, where its name is taken; into itself */
	assert_int_equal(copy_move(h, PTP_OC_CopyObject, dir, 0x00010001, 0, p),
			 PTP_RC_AccessDenied);
	assert_int_equal(copy_move(h, PTP_OC_CopyObject, dir, 0x00010001, handle_of(h, "in"), p),
			 PTP_RC_InvalidParentObject);
	/* into the other storage: everything in it */
	assert_int_equal(copy_move(h, PTP_OC_CopyObject, dir, 0x00020001, 0, p), PTP_RC_OK);
	copy = p[0];
	assert_int_equal(copy >> 28, 1); /* a handle of the second storage */
	snprintf(path, sizeof(path), "%s/dir/in/deep.txt", h->second);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(count_in(h, 0x00020001, copy), 1);
	n = take_events(h, codes, params, 32);
	if (n)
		fail_msg("%zu events after a copy, the first 0x%04x", n, codes[0]);
	/* a file moved within a storage keeps its handle */
	assert_int_equal(copy_move(h, PTP_OC_MoveObject, one, 0x00010001, dir, p), PTP_RC_OK);
	assert_int_equal(count_in(h, 0x00010001, dir), 2);
	{
		uint8_t data[512];
		size_t len;

		assert_int_equal(with_data_in(h, PTP_OC_GetObjectInfo, 1, &one, data, sizeof(data),
					      &len, NULL),
				 PTP_RC_OK);
		assert_int_equal(le32_at(data + 38), dir);
	}
	snprintf(path, sizeof(path), "%s/dir/one.txt", h->dir);
	assert_int_equal(stat(path, &sb), 0);
	n = take_events(h, codes, params, 32);
	assert_int_equal(n, 0);
	/* a folder moved into the other storage: a new handle, told by events */
	assert_int_equal(copy_move(h, PTP_OC_MoveObject, dir, 0x00020001, copy, p), PTP_RC_OK);
	snprintf(path, sizeof(path), "%s/dir/dir/one.txt", h->second);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/dir", h->dir);
	assert_int_equal(stat(path, &sb), -1);
	n = take_events(h, codes, params, 32);
	assert_int_equal(n, 2);
	assert_true(has_event(codes, params, n, PTP_EC_ObjectRemoved, dir));
	for (i = 0; i < n; i++)
		if (codes[i] == PTP_EC_ObjectAdded)
			moved = params[i];
	assert_int_equal(moved >> 28, 1);
	assert_int_equal(simple(h, PTP_OC_GetObjectInfo, 1, &dir, NULL),
			 PTP_RC_InvalidObjectHandle);
	assert_int_equal(count_in(h, 0x00020001, moved), 2); /* in, one.txt */
	/* a storage that does not exist, a parent in another storage than the one named */
	assert_int_equal(copy_move(h, PTP_OC_CopyObject, moved, 0x00030001, 0, p),
			 PTP_RC_InvalidStorageId);
	assert_int_equal(copy_move(h, PTP_OC_CopyObject, moved, 0x00010001, copy, p),
			 PTP_RC_InvalidParentObject);
}

/*
 * Events during a session: a folder made by others after the session
 * began is watched from the moment it appears (what is put in it, before
 * and after, is reported); a folder the initiator made too; the
 * initiator's own writes bring no ObjectInfoChanged, others' do.
 */
static void test_events(void **state)
{
	struct harness *h = *state;
	uint16_t codes[32];
	uint32_t params[32], folder, mine, file;
	char path[200];
	size_t n;
	FILE *f;

	open_session(h);
	assert_int_equal(count_in(h, 0x00010001, 0xffffffff), 0); /* the top is listed */
	snprintf(path, sizeof(path), "%s/later", h->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/later/first.txt", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	n = take_events(h, codes, params, 32);
	folder = handle_of(h, "later");
	assert_true(has_event(codes, params, n, PTP_EC_ObjectAdded, folder));
	assert_true(has_event(codes, params, n, PTP_EC_ObjectAdded, handle_of(h, "first.txt")));
	snprintf(path, sizeof(path), "%s/later/second.txt", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	n = take_events(h, codes, params, 32);
	assert_true(has_event(codes, params, n, PTP_EC_ObjectAdded, handle_of(h, "second.txt")));
	/* a folder the initiator made, then a file others put in it */
	assert_int_equal(send_object_info(h, "made", PTP_OFC_Association, 0, &mine), PTP_RC_OK);
	snprintf(path, sizeof(path), "%s/made/theirs.txt", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	n = take_events(h, codes, params, 32);
	assert_true(has_event(codes, params, n, PTP_EC_ObjectAdded, handle_of(h, "theirs.txt")));
	assert_false(has_event(codes, params, n, PTP_EC_ObjectAdded, mine));
	/* the initiator's own file: sent, renamed; no news for it */
	assert_int_equal(send_object_info(h, "own.bin", PTP_OFC_Undefined, 4, &file), PTP_RC_OK);
	n = take_events(h, codes, params, 32); /* mid-way, as the event loop may look */
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	send_data(h, PTP_OC_SendObject, h->tid, "data", 4);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	n += take_events(h, codes, params, 32);
	{
		const uint32_t prop[2] = { file, MTP_OPC_ObjectFileName };
		struct mtp_buf b = { 0 };

		mtp_container_put_string(&b, "own2.bin");
		send_command(h, MTP_OC_SetObjectPropValue, ++h->tid, 2, prop);
		send_data(h, MTP_OC_SetObjectPropValue, h->tid, b.data, b.len);
		assert_int_equal(response(h, NULL), PTP_RC_OK);
		mtp_container_buf_free(&b);
	}
	n += take_events(h, codes, params, 32);
	if (n)
		fail_msg("%zu events for the initiator's own writes, one 0x%04x for %u", n,
			 codes[0], params[0]);
	/* someone else writes it: that is news */
	snprintf(path, sizeof(path), "%s/own2.bin", h->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("someone else", f);
	fclose(f);
	n = take_events(h, codes, params, 32);
	assert_true(has_event(codes, params, n, PTP_EC_ObjectInfoChanged, file));
}

/* A transaction with transaction id tid and no data phase; the response's id must be tid. */
static uint16_t with_tid(struct harness *h, uint16_t code, uint32_t tid, unsigned int n,
			 const uint32_t *params, uint32_t *p)
{
	uint8_t buf[IN_URB];
	size_t len;
	struct mtp_header hdr;

	send_command(h, code, tid, n, params);
	len = bulk_in_message(h, buf, sizeof(buf));
	hdr = header_of(buf, len);
	if (hdr.type == MTP_CONTAINER_DATA) {
		assert_int_equal(hdr.transaction_id, tid);
		len = bulk_in_message(h, buf, sizeof(buf));
		hdr = header_of(buf, len);
	}
	assert_int_equal(hdr.type, MTP_CONTAINER_RESPONSE);
	assert_int_equal(hdr.transaction_id, tid);
	if (p && len >= 16)
		p[0] = buf[12] | buf[13] << 8 | buf[14] << 16 | (uint32_t)buf[15] << 24;
	return hdr.code;
}

/*
 * Transaction ids as Android treats them: never a reason to refuse, the
 * answer carries the id sent. OpenSession with 0 then operations from 1
 * (libmtp), a retried id and a gap after it, OpenSession while open
 * (SessionAlreadyOpen with the session's id, and the session goes on),
 * CloseSession with id 0, then a new session.
 */
static void test_transaction_ids(void **state)
{
	struct harness *h = *state;
	const uint32_t session = 7, storage = 0x00010001;
	uint32_t p[1] = { 0 };

	assert_int_equal(with_tid(h, PTP_OC_OpenSession, 0, 1, &session, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 1, 0, NULL, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageInfo, 2, 1, &storage, NULL), PTP_RC_OK);
	/* the initiator timed out on 3, retried it, then went on from 6 */
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 3, 0, NULL, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 3, 0, NULL, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 6, 0, NULL, NULL), PTP_RC_OK);
	/* going back, and far ahead */
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 2, 0, NULL, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 0xfffffffe, 0, NULL, NULL), PTP_RC_OK);
	/* OpenSession while open: already open, this session's id, and it goes on */
	assert_int_equal(with_tid(h, PTP_OC_OpenSession, 0, 1, &(uint32_t){ 9 }, p),
			 PTP_RC_SessionAlreadyOpen);
	assert_int_equal(p[0], session);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 1, 0, NULL, NULL), PTP_RC_OK);
	/* CloseSession with id 0 closes it; then a new session opens */
	assert_int_equal(with_tid(h, PTP_OC_CloseSession, 0, 0, NULL, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 1, 0, NULL, NULL),
			 PTP_RC_SessionNotOpen);
	assert_int_equal(with_tid(h, PTP_OC_OpenSession, 0, 1, &(uint32_t){ 9 }, NULL), PTP_RC_OK);
	assert_int_equal(with_tid(h, PTP_OC_GetStorageIDs, 1, 0, NULL, NULL), PTP_RC_OK);
	/* and a data phase whose container has another id is taken */
	h->tid = 41;
	assert_int_equal(send_object_info(h, "tid.txt", PTP_OFC_Undefined, 2, NULL), PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, 77, 0, NULL);
	send_data(h, PTP_OC_SendObject, 3, "ok", 2);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
}

/* The u16 array at *off of a dataset (a u32 count, then the codes); off moves past it. */
static size_t get_u16_array(const uint8_t *d, size_t len, size_t *off, uint16_t *out, size_t cap)
{
	size_t n, i;

	assert_true(*off + 4 <= len);
	n = d[*off] | d[*off + 1] << 8 | d[*off + 2] << 16 | (size_t)d[*off + 3] << 24;
	*off += 4;
	assert_true(n <= cap && *off + 2 * n <= len);
	for (i = 0; i < n; i++)
		out[i] = (uint16_t)(d[*off + 2 * i] | d[*off + 2 * i + 1] << 8);
	*off += 2 * n;
	return n;
}

/* Skips an MTP string (a count of UTF-16 units, then the units). */
static void skip_string(const uint8_t *d, size_t len, size_t *off)
{
	assert_true(*off < len);
	*off += 1 + 2 * (size_t)d[*off];
	assert_true(*off <= len);
}

/*
 * Every operation GetDeviceInfo lists is handled: never OperationNotSupported,
 * and with no parameters a precise answer, not GeneralError. The ones the
 * MTP spec gives a data phase from the host take it (an empty one here: an
 * operation the table gives no data phase would see its data container read
 * as a malformed command, answered GeneralError). One it does not list is
 * refused.
 */
static void test_operations_listed_are_handled(void **state)
{
	struct harness *h = *state;
	static const uint16_t data_out[] = {
		PTP_OC_SendObjectInfo,		 PTP_OC_SendObject,
		MTP_OC_SetObjectPropValue,	 ANDROID_OC_SendPartialObject,
		0x1016 /* SetDevicePropValue */, 0x9808 /* SendObjectPropList */,
		MTP_OC_SetObjectReferences,
	};
	uint8_t data[4096];
	uint16_t codes[128];
	size_t len, off = 8, n, i, k;

	assert_int_equal(
		with_data_in(h, PTP_OC_GetDeviceInfo, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	skip_string(data, len, &off); /* VendorExtensionDesc */
	off += 2;		      /* FunctionalMode */
	n = get_u16_array(data, len, &off, codes, 128);
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		bool out = false;
		uint8_t buf[IN_URB];
		size_t got;
		struct mtp_header hdr;

		simple(h, PTP_OC_CloseSession, 0, NULL, NULL); /* the last one may have closed it */
		open_session(h);
		for (k = 0; k < sizeof(data_out) / sizeof(data_out[0]); k++)
			out |= data_out[k] == codes[i];
		send_command(h, codes[i], ++h->tid, 0, NULL);
		if (out)
			send_data(h, codes[i], h->tid, NULL, 0);
		got = bulk_in_message(h, buf, sizeof(buf));
		hdr = header_of(buf, got);
		assert_int_equal(hdr.transaction_id, h->tid);
		if (hdr.type == MTP_CONTAINER_DATA)
			hdr.code = response(h, NULL);
		else
			assert_int_equal(hdr.type, MTP_CONTAINER_RESPONSE);
		if (hdr.code == PTP_RC_OperationNotSupported || hdr.code == PTP_RC_GeneralError)
			fail_msg("operation 0x%04x is listed, answered 0x%04x", codes[i], hdr.code);
	}
	simple(h, PTP_OC_CloseSession, 0, NULL, NULL);
	open_session(h);
	assert_int_equal(simple(h, 0x9999, 0, NULL, NULL), PTP_RC_OperationNotSupported);
	/* nothing stray was left on the pipe: the next answer is the next transaction's */
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
}

/* ---- uploads: atomic, nothing partial ever under the name ---- */

/* The names in dir (hidden ones too), sorted, each followed by a space. */
static void names_in(const char *dir, char *out, size_t cap)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), i;
	size_t used = 0;

	assert_true(n >= 0);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0 &&
		    used < cap)
			used += (size_t)snprintf(out + used, cap - used, "%s ", list[i]->d_name);
		free(list[i]);
	}
	free(list);
}

static void assert_names(const char *dir, const char *want)
{
	char names[1024];

	names_in(dir, names, sizeof(names));
	assert_string_equal(names, want);
}

/* SendObject whose data container says declared bytes, of which the first n are sent. */
static void send_object_start(struct harness *h, uint32_t declared, size_t n)
{
	uint8_t buf[12], piece[IN_URB];
	size_t sent, k;

	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	mtp_container_encode_data_header(buf, PTP_OC_SendObject, h->tid, declared);
	bulk_out(h, buf, sizeof(buf));
	memset(piece, 'u', sizeof(piece));
	for (sent = 0; sent < n; sent += k) {
		k = n - sent < sizeof(piece) ? n - sent : sizeof(piece);
		bulk_out(h, piece, (uint32_t)k);
	}
}

/* Until the last byte is in, the upload is not under its name, nor listed. */
static void test_upload_atomic(void **state)
{
	struct harness *h = *state;
	uint8_t data[IN_URB];
	const uint32_t all[3] = { 0xffffffff, 0, 0xffffffff };
	uint32_t handle;
	size_t len;
	char path[128];
	struct stat sb;

	open_session(h);
	assert_int_equal(send_object_info(h, "up.bin", PTP_OFC_Undefined, 40000, &handle),
			 PTP_RC_OK);
	send_object_start(h, 40000, 20000);
	snprintf(path, sizeof(path), "%s/up.bin", h->dir);
	assert_int_equal(stat(path, &sb), -1);
	{
		char names[1024];

		names_in(h->dir, names, sizeof(names));
		assert_non_null(strstr(names, MTP_STORE_UPLOAD_PREFIX));
	}
	{
		uint8_t rest[IN_URB];

		memset(rest, 'u', sizeof(rest));
		bulk_out(h, rest, 16384);
		assert_int_equal(stat(path, &sb), -1);
		bulk_out(h, rest, 40000 - 20000 - 16384);
	}
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 40000);
	assert_names(h->dir, "up.bin ");
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObjectInfo, 1, &handle, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	/* the one object listed is the upload, under the handle SendObjectInfo gave */
	assert_int_equal(
		with_data_in(h, PTP_OC_GetObjectHandles, 3, all, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_int_equal(len, 8);
	assert_int_equal(le32_at(data), 1);
	assert_int_equal(le32_at(data + 4), handle);
}

/* A cut connection, a class Cancel, a new command instead of the data: nothing left. */
static void test_upload_cut_or_cancelled(void **state)
{
	struct harness *h = *state;
	static const uint8_t cancel[8] = { 0x21, 0x64, 0, 0, 0, 0, 6, 0 };
	uint8_t body[6] = { 0x01, 0x40 }, data[IN_URB];
	uint32_t handle;
	size_t len;

	open_session(h);
	assert_int_equal(send_object_info(h, "c.bin", PTP_OFC_Undefined, 40000, &handle),
			 PTP_RC_OK);
	send_object_start(h, 40000, 20000);
	body[2] = (uint8_t)h->tid;
	control(h, cancel, body, 6, NULL);
	assert_names(h->dir, "");

	assert_int_equal(send_object_info(h, "n.bin", PTP_OFC_Undefined, 40000, &handle),
			 PTP_RC_OK);
	send_command(h, PTP_OC_SendObject, ++h->tid, 0, NULL);
	assert_int_equal(
		with_data_in(h, PTP_OC_GetStorageIDs, 0, NULL, data, sizeof(data), &len, NULL),
		PTP_RC_OK);
	assert_names(h->dir, "");
	assert_int_equal(simple(h, PTP_OC_GetObjectInfo, 1, &handle, NULL),
			 PTP_RC_InvalidObjectHandle);

	assert_int_equal(send_object_info(h, "cut.bin", PTP_OFC_Undefined, 40000, &handle),
			 PTP_RC_OK);
	send_object_start(h, 40000, 20000);
	close(h->client); /* the host is gone */
	h->client = -1;
	pump(h);
	assert_true(h->closed);
	assert_names(h->dir, "");
}

/* A data phase shorter or longer than SendObjectInfo declared: IncompleteTransfer, nothing kept. */
static void test_upload_wrong_size(void **state)
{
	struct harness *h = *state;
	uint32_t handle;

	open_session(h);
	assert_int_equal(send_object_info(h, "short.bin", PTP_OFC_Undefined, 3000, &handle),
			 PTP_RC_OK);
	send_object_start(h, 2000, 2000);
	assert_int_equal(response(h, NULL), PTP_RC_IncompleteTransfer);
	assert_names(h->dir, "");
	assert_int_equal(send_object_info(h, "long.bin", PTP_OFC_Undefined, 3000, &handle),
			 PTP_RC_OK);
	send_object_start(h, 4000, 4000);
	assert_int_equal(response(h, NULL), PTP_RC_IncompleteTransfer);
	assert_names(h->dir, "");
	assert_int_equal(simple(h, PTP_OC_GetObjectInfo, 1, &handle, NULL),
			 PTP_RC_InvalidObjectHandle);
}

/*
 * A local user's file renamed onto the name of a pending upload is never
 * overwritten nor removed: the upload ends with AccessDenied (the name is
 * taken, as SendObjectInfo would say), and an abandoned one leaves it too.
 */
static void test_upload_rename_onto_pending(void **state)
{
	struct harness *h = *state;
	char local[128], name[128], names[1024];
	uint32_t handle;
	FILE *f;

	open_session(h);
	snprintf(local, sizeof(local), "%s-outside/local", h->dir);
	snprintf(name, sizeof(name), "%s/r.bin", h->dir);
	assert_int_equal(send_object_info(h, "r.bin", PTP_OFC_Undefined, 2000, &handle), PTP_RC_OK);
	send_object_start(h, 2000, 1000);
	assert_non_null(f = fopen(local, "w"));
	fputs("a local user's file", f);
	fclose(f);
	assert_int_equal(rename(local, name), 0);
	{
		uint8_t rest[1000];

		memset(rest, 'u', sizeof(rest));
		bulk_out(h, rest, sizeof(rest)); /* the last byte: now it would get its name */
	}
	assert_int_equal(response(h, NULL), PTP_RC_AccessDenied);
	assert_names(h->dir, "r.bin ");
	assert_non_null(f = fopen(name, "r"));
	assert_non_null(fgets(names, sizeof(names), f));
	fclose(f);
	assert_string_equal(names, "a local user's file");
}

/* A full storage: StoreFull, nothing left behind, the space given back (root: a small tmpfs). */
static void test_upload_store_full(void **state)
{
	struct harness *h = *state;
	struct statvfs before, after;
	uint32_t handle;

	if (!h->small) {
		skip(); /* not root: no tmpfs of our own */
		return;
	}
	open_session(h);
	assert_int_equal(statvfs(h->dir, &before), 0);
	assert_int_equal(send_object_info(h, "big.bin", PTP_OFC_Undefined, 1u << 20, &handle),
			 PTP_RC_OK);
	send_object_start(h, 1u << 20, 1u << 20);
	assert_int_equal(response(h, NULL), PTP_RC_StoreFull);
	assert_names(h->dir, "");
	assert_int_equal(statvfs(h->dir, &after), 0);
	assert_int_equal(after.f_bfree, before.f_bfree);
	/* and a file that fits still goes in */
	assert_int_equal(send_object_info(h, "fits.bin", PTP_OFC_Undefined, 4096, &handle),
			 PTP_RC_OK);
	send_object_start(h, 4096, 4096);
	assert_int_equal(response(h, NULL), PTP_RC_OK);
	assert_names(h->dir, "fits.bin ");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_device, teardown_device)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_session_and_device_info),
		T(test_malformed_containers),
		T(test_send_and_get_object),
		T(test_names_outside_refused),
		T(test_bad_data_phases),
		T(test_large_offsets),
		T(test_cancel_mid_transfer),
		T(test_get_object_response_follows_data),
		T(test_operations_listed_are_handled),
		T(test_transaction_ids),
		T(test_ms_os_descriptors),
		T(test_device_props),
		T(test_prop_list_depths),
		T(test_send_object_prop_list),
		T(test_references),
		cmocka_unit_test_setup_teardown(test_two_storages, setup_two_storages,
						teardown_device),
		cmocka_unit_test_setup_teardown(test_copy_move_objects, setup_two_writable,
						teardown_device),
		T(test_events),
		cmocka_unit_test(test_dir_options),
		cmocka_unit_test(test_serial_and_name),
		T(test_upload_atomic),
		T(test_upload_cut_or_cancelled),
		T(test_upload_wrong_size),
		T(test_upload_rename_onto_pending),
		cmocka_unit_test_setup_teardown(test_upload_store_full, setup_small_storage,
						teardown_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
