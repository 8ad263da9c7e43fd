/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Classic mode's device side, written once for every device source: answers
 * OP_REQ_DEVLIST with the source's available devices and OP_REQ_IMPORT by
 * replying and then handing the connection to the device. usbipd and
 * serve-mtp plug it into the request server (daemon/op_server.h).
 */
#ifndef USBIP_SOURCE_DEVICE_SERVER_H
#define USBIP_SOURCE_DEVICE_SERVER_H

#include <stdint.h>

#include "daemon/op_server.h"
#include "source/device_source.h"

/* The request codes it serves, 0-terminated: op_server_config.requests. */
extern const uint16_t device_server_requests[];

/* The request handler: op_server_config.handle, with the device source as arg. */
void device_server_handle(struct op_session *session, const struct op_request *req, void *arg);

#endif
