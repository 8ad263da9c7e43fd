// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/op_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static int io_fail(struct usbip_conn *conn, const char *what)
{
	if (errno == ECONNRESET)
		log_err("%s: connection closed while %s", conn->peer, what);
	else
		log_err("%s: %s: %s", conn->peer, what, strerror(errno));
	return -1;
}

static int proto_fail(struct usbip_conn *conn, const struct usbip_error *err)
{
	log_err("%s: malformed message: %s", conn->peer, err->msg);
	return -1;
}

static int recv_bytes(struct usbip_conn *conn, void *buf, size_t len, const char *what)
{
	if (conn_read_full(conn, buf, len, USBIP_IO_TIMEOUT_MS))
		return io_fail(conn, what);
	return 0;
}

int op_msg_send(struct usbip_conn *conn, uint16_t code, uint32_t status,
		const struct usbip_usb_device *udev)
{
	uint8_t buf[USBIP_OP_HEADER_SIZE + USBIP_DEVICE_RECORD_SIZE];
	struct usbip_op_header hdr = { USBIP_VERSION, code, status };
	size_t len = USBIP_OP_HEADER_SIZE;

	usbip_proto_encode_op_header(buf, &hdr);
	if (udev) {
		if (usbip_proto_encode_device(buf + len, udev)) {
			log_err("%s: device record has an over-long path or a bad busid",
				conn->peer);
			return -1;
		}
		len += USBIP_DEVICE_RECORD_SIZE;
	}
	if (conn_write_full(conn, buf, len, USBIP_IO_TIMEOUT_MS))
		return io_fail(conn, "sending");
	return 0;
}

int op_msg_recv_header(struct usbip_conn *conn, uint16_t expect_code, struct usbip_op_header *hdr)
{
	uint8_t buf[USBIP_OP_HEADER_SIZE];
	struct usbip_error err;

	/*
	 * The first two bytes alone first: a TLS record (an alert or a
	 * handshake) where USB/IP was expected can be short, and deserves a
	 * better message than a truncated header.
	 */
	if (conn_read_full(conn, buf, 2, USBIP_IO_TIMEOUT_MS) != 0) {
		if (errno == ECONNRESET) {
			log_err("%s: the server closed the connection without a reply (if it uses "
				"TLS, add --tls)",
				conn->peer);
			return -1;
		}
		return io_fail(conn, "reading the header");
	}
	if ((buf[0] == 0x15 || buf[0] == 0x16) && buf[1] == 0x03) {
		log_err("%s: the server speaks TLS: use --tls", conn->peer);
		return -1;
	}
	if (recv_bytes(conn, buf + 2, sizeof(buf) - 2, "reading the header"))
		return -1;
	if (usbip_proto_decode_op_header(buf, sizeof(buf), expect_code, hdr, &err))
		return proto_fail(conn, &err);
	return 0;
}

int op_msg_recv_device(struct usbip_conn *conn, struct usbip_usb_device *udev)
{
	uint8_t buf[USBIP_DEVICE_RECORD_SIZE];
	struct usbip_error err;

	if (recv_bytes(conn, buf, sizeof(buf), "reading a device record"))
		return -1;
	if (usbip_proto_decode_device(buf, sizeof(buf), udev, &err))
		return proto_fail(conn, &err);
	return 0;
}

int op_msg_send_import_request(struct usbip_conn *conn, const char *busid)
{
	uint8_t buf[USBIP_OP_HEADER_SIZE + USBIP_IMPORT_REQUEST_SIZE];
	struct usbip_op_header hdr = { USBIP_VERSION, USBIP_OP_REQ_IMPORT, USBIP_ST_OK };

	usbip_proto_encode_op_header(buf, &hdr);
	if (usbip_proto_encode_import_request(buf + USBIP_OP_HEADER_SIZE, busid)) {
		char esc[LOG_ESCAPED_SIZE(64)];

		log_err("'%s' is not a busid (1 to %d printable characters, no space)",
			log_escape(esc, sizeof(esc), busid), USBIP_BUSID_SIZE - 1);
		return -1;
	}
	if (conn_write_full(conn, buf, sizeof(buf), USBIP_IO_TIMEOUT_MS))
		return io_fail(conn, "sending");
	return 0;
}

int op_msg_recv_import_request(struct usbip_conn *conn, char busid[USBIP_BUSID_SIZE])
{
	uint8_t buf[USBIP_IMPORT_REQUEST_SIZE];
	struct usbip_error err;

	if (recv_bytes(conn, buf, sizeof(buf), "reading the import request"))
		return -1;
	if (usbip_proto_decode_import_request(buf, sizeof(buf), busid, &err))
		return proto_fail(conn, &err);
	return 0;
}

int op_msg_send_devlist_reply(struct usbip_conn *conn, const struct usbip_devlist *list)
{
	size_t size = usbip_proto_devlist_reply_size(list);
	uint8_t *buf = malloc(size);
	int rc = 0;

	if (!buf) {
		log_err("%s: out of memory for the device list", conn->peer);
		return -1;
	}
	if (usbip_proto_encode_devlist_reply(buf, size, list) < 0) {
		log_err("%s: a device record has an over-long path or a bad busid", conn->peer);
		rc = -1;
	} else if (conn_write_full(conn, buf, size, USBIP_IO_TIMEOUT_MS)) {
		rc = io_fail(conn, "sending the device list");
	}
	free(buf);
	return rc;
}

int op_msg_recv_devlist_body(struct usbip_conn *conn, struct usbip_devlist *list)
{
	uint8_t buf[USBIP_DEVICE_RECORD_SIZE];
	struct usbip_error err;
	uint32_t i, j, count;

	list->count = 0;
	list->entries = NULL;
	if (recv_bytes(conn, buf, USBIP_DEVLIST_COUNT_SIZE, "reading the device count"))
		return -1;
	if (usbip_proto_decode_devlist_count(buf, USBIP_DEVLIST_COUNT_SIZE, &count, &err))
		return proto_fail(conn, &err);
	/* count is bounded by the decoder (USBIP_MAX_DEVLIST). */
	if (count) {
		list->entries = calloc(count, sizeof(*list->entries));
		if (!list->entries) {
			log_err("%s: out of memory for %u devices", conn->peer, count);
			return -1;
		}
	}
	for (i = 0; i < count; i++) {
		struct usbip_devlist_entry *e = &list->entries[i];

		if (op_msg_recv_device(conn, &e->udev))
			goto fail;
		for (j = 0; j < e->udev.num_interfaces; j++) {
			if (recv_bytes(conn, buf, USBIP_INTERFACE_RECORD_SIZE,
				       "reading an interface record"))
				goto fail;
			if (usbip_proto_decode_interface(buf, USBIP_INTERFACE_RECORD_SIZE,
							 &e->interfaces[j], &err)) {
				proto_fail(conn, &err);
				goto fail;
			}
		}
		list->count = i + 1;
	}
	return 0;
fail:
	usbip_proto_devlist_free(list);
	return -1;
}

int op_msg_query_devlist(struct usbip_conn *conn, struct usbip_devlist *list)
{
	struct usbip_op_header hdr;

	if (op_msg_send(conn, USBIP_OP_REQ_DEVLIST, USBIP_ST_OK, NULL) ||
	    op_msg_recv_header(conn, USBIP_OP_REP_DEVLIST, &hdr))
		return -1;
	if (hdr.status != USBIP_ST_OK) {
		log_err("%s: device list refused: %s", conn->peer,
			usbip_proto_op_status_str(hdr.status));
		return -1;
	}
	return op_msg_recv_devlist_body(conn, list);
}

int op_msg_query_import(struct usbip_conn *conn, const char *busid, struct usbip_usb_device *udev,
			uint32_t *status)
{
	struct usbip_op_header hdr;

	*status = USBIP_ST_ERROR;
	if (op_msg_send_import_request(conn, busid) ||
	    op_msg_recv_header(conn, USBIP_OP_REP_IMPORT, &hdr))
		return -1;
	*status = hdr.status;
	if (hdr.status != USBIP_ST_OK) {
		log_err("%s: import of %s refused: %s", conn->peer, busid,
			usbip_proto_op_status_str(hdr.status));
		return -1;
	}
	if (op_msg_recv_device(conn, udev))
		return -1;
	if (strncmp(udev->busid, busid, USBIP_BUSID_SIZE) != 0) {
		log_err("%s: replied with device %s, not the requested %s", conn->peer, udev->busid,
			busid);
		return -1;
	}
	return 0;
}
