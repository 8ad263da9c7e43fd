/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the MTP responder: the state of one device, which the files above
 * share (the order of the files is in mtp_device.h). No functions: each
 * file has its own header.
 */
#ifndef USBIP_MTP_STATE_H
#define USBIP_MTP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/mtp_container.h"
#include "mtp/mtp_limits.h"
#include "mtp/mtp_result.h"
#include "mtp/mtp_store.h"

#define MTP_EP_BULK_IN	0x81
#define MTP_EP_BULK_OUT 0x01
#define MTP_EP_INTR_IN	0x82
#define MTP_BULK_MPS	512

#define MTP_ALL_STORAGES 0xffffffffu
#define MTP_ROOT_PARENT	 0xffffffffu
#define MTP_ALL_HANDLES	 0xffffffffu
#define MTP_DATASET_MAX	 (64u << 10) /* an ObjectInfo or a property value from the host */

/*
 * Object handles are device-wide: the storage's index in the top bits,
 * the handle its store gave in the rest (the first storage's handles are
 * its store's own). 0 stays the top of a storage, as a parent.
 */
#define MTP_HANDLE_SHIFT 28
#define MTP_LOCAL_MASK	 ((1u << MTP_HANDLE_SHIFT) - 1)

/* One folder served as one storage. */
struct mtp_storage {
	uint32_t id; /* StorageID: 0x00010001, 0x00020001, ... */
	unsigned int index;
	struct mtp_store *store;
	bool read_only;
	char description[MTP_NAME_MAX]; /* its NAME, or the folder's own name */
	char volume[MTP_SERIAL_MAX + 16];
};

struct mtp_op; /* an entry of the session's table of operations */
struct vdev;

struct mtp_device {
	struct vdev *vdev;
	struct mtp_storage storages[MTP_MAX_STORAGES];
	size_t num_storages;
	int watch_fd; /* an epoll descriptor over the stores' inotify descriptors */
	char name[MTP_NAME_ARG_MAX + 1]; /* --name: the product, the default DeviceFriendlyName */
	/* device properties an initiator may set (kept while we run) */
	char friendly[MTP_NAME_MAX], sync_partner[MTP_NAME_MAX];
	char serial[MTP_SERIAL_MAX + 1];
	/* string descriptors 1..0xEE: 1-4 ours, 0xEE the Microsoft OS string, NULL between */
	const char *strings[MTP_MS_OS_STRING_INDEX];

	bool session_open;
	uint32_t session_id;

	/* the command being received (it may come in more than one URB) */
	uint8_t cmd[MTP_COMMAND_MAX];
	size_t cmd_len;
	bool cmd_overflow;

	/* the operation being answered, and its entry in the table (NULL: unknown) */
	struct mtp_operation op;
	const struct mtp_op *cur;

	/* the data phase from the host, while in_data_out */
	bool in_data_out;
	enum mtp_sink sink;
	uint16_t pending_rc; /* an error to answer after the data phase, or 0 */
	uint8_t hdr[MTP_HEADER_SIZE];
	size_t hdr_got;
	uint64_t expected; /* payload bytes announced, or UINT64_MAX (over 4 GiB) */
	uint64_t received;
	struct mtp_buf dataset;
	int out_fd;
	bool out_owned; /* out_fd is closed when the data phase ends */
	uint64_t out_offset;
	uint64_t out_limit; /* file data past this offset is an IncompleteTransfer */
	int out_errno;

	/* a SendObjectInfo waiting for its SendObject */
	bool send_pending;
	uint32_t send_handle;
	uint64_t send_size; /* UINT64_MAX: unknown (4 GiB or more) */
	int send_fd;

	/* file data being sent on the bulk IN pipe */
	bool streaming;
	int in_fd;
	uint64_t in_offset, in_left;
	bool in_param; /* the response carries the byte count (GetPartialObject) */
	uint64_t in_sent;
	struct mtp_operation in_op;
	bool in_owed;	/* the response after the file data is still to be sent */
	uint16_t in_rc; /* its code, once the file data ended */
};

#endif
