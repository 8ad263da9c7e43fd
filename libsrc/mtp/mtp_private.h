/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the MTP responder: the state of one device, shared by the files
 * that make it up. Each file's functions carry its name as their prefix:
 *   mtp_device.c   the USB side: descriptors, class requests, commands in,
 *                  events out, and the public mtp_device_* calls
 *   mtp_session.c  the table of operations, dispatch, responses, the session
 *   mtp_object.c   storage and object operations
 *   mtp_prop.c     object and device properties
 *   mtp_stream.c   data phases: file data to the host, data from it
 */
#ifndef USBIP_MTP_PRIVATE_H
#define USBIP_MTP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/mtp_container.h"
#include "mtp/mtp_device.h"
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

/* What the dispatcher needs to know of an operation (mtp_session.c has the table). */
enum mtp_op_flags {
	MTP_OP_SESSION = 1 << 0,    /* refused with SessionNotOpen outside a session */
	MTP_OP_DATA_OUT = 1 << 1,   /* the host sends a data phase after the command */
	MTP_OP_KEEPS_SEND = 1 << 2, /* a pending SendObjectInfo survives it */
	MTP_OP_TAKES_SEND = 1 << 3, /* it consumes the pending send: failed, the object goes */
};

struct mtp_device;

struct mtp_op {
	uint16_t code;
	unsigned int flags;
	/*
	 * Runs the operation and answers. With MTP_OP_DATA_OUT it only checks
	 * the command and says where the data goes (mtp_stream_begin_out).
	 */
	void (*run)(struct mtp_device *m);
	/* MTP_OP_DATA_OUT: the data is in and nothing failed so far; answers. */
	void (*done)(struct mtp_device *m);
};

enum mtp_sink {
	MTP_SINK_NONE,	 /* discard (an error is already decided) */
	MTP_SINK_BUFFER, /* a dataset, kept in memory up to MTP_DATASET_MAX */
	MTP_SINK_FILE,	 /* file data, written to out_fd at out_offset */
};

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

/* ---- mtp_device.c ---- */

/* An event for the initiator on the interrupt pipe (in a session only; bounded). */
void mtp_device_event(struct mtp_device *m, uint16_t code, uint32_t handle);

/* ---- mtp_session.c ---- */

/* A whole command container from the host. */
void mtp_session_command(struct mtp_device *m, const uint8_t *buf, size_t len);
/* The response to m->op with n (0..3) parameters; _params: up to 5 from an array. */
void mtp_session_respond(struct mtp_device *m, uint16_t rc, unsigned int n, uint32_t p0,
			 uint32_t p1, uint32_t p2);
void mtp_session_respond_params(struct mtp_device *m, uint16_t rc, unsigned int n,
				const uint32_t *params);
void mtp_session_respond_rc(struct mtp_device *m, uint16_t rc);
/* A data phase from a built dataset, then OK (a failed build: GeneralError). */
void mtp_session_send_dataset(struct mtp_device *m, struct mtp_buf *b);
uint16_t mtp_session_rc_of_errno(int err);
/* The vdev in_next callback on the bulk IN pipe: file data, then the response owed after it. */
uint8_t *mtp_session_in_next(struct mtp_device *m, size_t *len, bool *end);

/* ---- mtp_object.c ---- */

bool mtp_object_valid_handle(uint32_t h);
/* The storage of a StorageID, or NULL. */
struct mtp_storage *mtp_object_storage(struct mtp_device *m, uint32_t id);
/* The storage of an object handle and the handle in its store (*local), or NULL. */
struct mtp_storage *mtp_object_find(struct mtp_device *m, uint32_t handle, uint32_t *local);
/* The device-wide handle of a store's handle (the top stays 0). */
uint32_t mtp_object_handle(const struct mtp_storage *s, uint32_t local);
/*
 * The entry of an object, refreshed from the file system, with device-wide
 * handle and parent; its storage in *s. -ENOENT if there is no such object.
 */
int mtp_object_entry(struct mtp_device *m, uint32_t handle, struct mtp_storage **s,
		     struct mtp_entry *e);
/* The same as a listing last saw it (no file system access). */
int mtp_object_peek(struct mtp_device *m, uint32_t handle, struct mtp_storage **s,
		    struct mtp_entry *e);
/*
 * Device-wide handles of the objects under parent (a device-wide handle;
 * 0: the top of storage s, or of every storage when s is NULL), recursive:
 * all of them. *handles is malloc'd. 0 or -errno.
 */
int mtp_object_list(struct mtp_device *m, struct mtp_storage *s, uint32_t parent, bool recursive,
		    uint32_t **handles, size_t *count);
uint16_t mtp_object_format_of(const struct mtp_entry *e);
/* "YYYYMMDDThhmmss" in UTC. */
void mtp_object_date(int64_t t, char *out, size_t cap);
/* Drops a SendObjectInfo still waiting for its data, and the data that came (the temporary). */
void mtp_object_cancel_send(struct mtp_device *m);

void mtp_object_get_storage_ids(struct mtp_device *m);
void mtp_object_get_storage_info(struct mtp_device *m);
void mtp_object_get_handles(struct mtp_device *m);
void mtp_object_get_info(struct mtp_device *m);
void mtp_object_get(struct mtp_device *m);
void mtp_object_delete(struct mtp_device *m);
void mtp_object_move_copy(struct mtp_device *m);
void mtp_object_get_references(struct mtp_device *m);
void mtp_object_set_references(struct mtp_device *m);
void mtp_object_set_references_done(struct mtp_device *m);
void mtp_object_truncate(struct mtp_device *m);
void mtp_object_edit(struct mtp_device *m);
void mtp_object_send_info(struct mtp_device *m);
void mtp_object_send_info_done(struct mtp_device *m);
void mtp_object_send_prop_list(struct mtp_device *m);
void mtp_object_send_prop_list_done(struct mtp_device *m);
void mtp_object_send(struct mtp_device *m);
void mtp_object_send_done(struct mtp_device *m);
void mtp_object_send_partial(struct mtp_device *m);
void mtp_object_send_partial_done(struct mtp_device *m);

/* ---- mtp_prop.c ---- */

/* The device properties and object properties this device has. */
size_t mtp_prop_device_codes(const uint16_t **codes);
void mtp_prop_device(struct mtp_device *m);
void mtp_prop_set_device(struct mtp_device *m);
void mtp_prop_set_device_done(struct mtp_device *m);
void mtp_prop_supported(struct mtp_device *m);
void mtp_prop_desc(struct mtp_device *m);
void mtp_prop_value(struct mtp_device *m);
void mtp_prop_list(struct mtp_device *m);
void mtp_prop_set_value(struct mtp_device *m);
void mtp_prop_set_value_done(struct mtp_device *m);

/* ---- mtp_stream.c ---- */

/* count file bytes of fd from offset, then the response (with_count: the count in it). */
void mtp_stream_start_in(struct mtp_device *m, int fd, uint64_t offset, uint64_t count,
			 bool with_count);
void mtp_stream_stop_in(struct mtp_device *m);
/* An IN URB waits and nothing is queued: the next piece of the file (NULL: none). */
uint8_t *mtp_stream_refill(struct mtp_device *m, size_t *len, bool *end);
/* The vdev in_direct callback: file data straight into an URB's buffer. */
size_t mtp_stream_direct(struct mtp_device *m, uint8_t *buf, size_t room, bool *end);

/*
 * The host's data phase begins (the dispatcher calls this for MTP_OP_DATA_OUT
 * operations): its payload is dropped and rc (0: the operation's done) is
 * answered, unless the operation's run says where the payload goes.
 */
void mtp_stream_begin_out(struct mtp_device *m, uint16_t rc);
/* The payload is a dataset, kept in m->dataset (bounded). */
void mtp_stream_into_buffer(struct mtp_device *m);
/* The payload is file data, written at offset (owned: fd is closed at the end). */
void mtp_stream_into_file(struct mtp_device *m, int fd, uint64_t offset, bool owned);
/* The payload is read and dropped, and rc answered. */
void mtp_stream_refuse(struct mtp_device *m, uint16_t rc);
/* One OUT transfer of the data phase. */
void mtp_stream_out(struct mtp_device *m, const uint8_t *data, size_t len);
/* The data phase ends without an answer (cancel, reset, a new command). */
void mtp_stream_abandon_out(struct mtp_device *m);

#endif
