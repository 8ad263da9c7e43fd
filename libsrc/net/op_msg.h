/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control-phase messages (OP_*) over a connection: each function encodes or
 * decodes through usbip_proto and moves whole messages. All of them log one
 * line naming the peer on failure and return -1; 0 on success.
 */
#ifndef USBIP_NET_OP_MSG_H
#define USBIP_NET_OP_MSG_H

#include <stdint.h>

#include "net/conn.h"
#include "wire/usbip_proto.h"

/* Sends an OP header followed by an optional device record. */
int op_msg_send(struct usbip_conn *conn, uint16_t code, uint32_t status,
		const struct usbip_usb_device *udev);

/* Receives an OP header; expect_code 0 accepts any request. */
int op_msg_recv_header(struct usbip_conn *conn, uint16_t expect_code, struct usbip_op_header *hdr);

int op_msg_recv_device(struct usbip_conn *conn, struct usbip_usb_device *udev);

int op_msg_send_import_request(struct usbip_conn *conn, const char *busid);
int op_msg_recv_import_request(struct usbip_conn *conn, char busid[USBIP_BUSID_SIZE]);

int op_msg_send_devlist_reply(struct usbip_conn *conn, const struct usbip_devlist *list);
/* After the OP_REP_DEVLIST header: the count, the records and their interfaces. */
int op_msg_recv_devlist_body(struct usbip_conn *conn, struct usbip_devlist *list);

/*
 * Client side of a whole exchange. op_msg_query_devlist sends OP_REQ_DEVLIST
 * and reads the reply. op_msg_query_import sends OP_REQ_IMPORT and reads the
 * reply; a refusal is returned in *status with -1.
 */
int op_msg_query_devlist(struct usbip_conn *conn, struct usbip_devlist *list);
int op_msg_query_import(struct usbip_conn *conn, const char *busid, struct usbip_usb_device *udev,
			uint32_t *status);

#endif
