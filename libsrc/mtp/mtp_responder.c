// SPDX-License-Identifier: GPL-2.0-or-later
#include "mtp/mtp_responder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mtp/mtp_container.h"
#include "mtp/mtp_store.h"
#include "util/log.h"
#include "wire/usb_descriptors.h"
#include "wire/usbip_proto.h"

#define EP_BULK_IN  0x81
#define EP_BULK_OUT 0x01
#define EP_INTR_IN  0x82
#define BULK_MPS    512

#define STORAGE_ID    0x00010001u
#define ALL_STORAGES  0xffffffffu
#define ROOT_PARENT   0xffffffffu
#define ALL_HANDLES   0xffffffffu
#define DATASET_MAX   (64u << 10)  /* an ObjectInfo or a property value from the host */
#define STREAM_CHUNK  (512u << 10) /* file data read per refill of the IN queue */
#define EVENTS_QUEUED 4096	   /* bytes of events kept while nobody reads them */

/* PTP still image class requests (USB Still Image Capture Device Definition, 5.2) */
#define PTP_REQ_CANCEL	       0x64
#define PTP_REQ_GET_EXT_EVENT  0x65
#define PTP_REQ_RESET	       0x66
#define PTP_REQ_GET_DEV_STATUS 0x67

enum data_sink {
	SINK_NONE,   /* discard (an error is already decided) */
	SINK_BUFFER, /* a dataset, kept in memory up to DATASET_MAX */
	SINK_FILE,   /* SendObject / SendPartialObject: written to out_fd */
};

struct mtp_device {
	struct vdev *vdev;
	struct mtp_store *store;
	bool read_only;
	char name[128];
	char serial[32];

	bool session_open;
	uint32_t last_tid;

	/* the command being received (it may come in more than one URB) */
	uint8_t cmd[MTP_COMMAND_MAX];
	size_t cmd_len;
	bool cmd_overflow;

	/* the operation whose data phase is running */
	struct mtp_operation op;
	bool in_data_out;
	enum data_sink sink;
	uint16_t pending_rc; /* an error to answer after the data phase, or 0 */
	uint8_t hdr[MTP_HEADER_SIZE];
	size_t hdr_got;
	uint64_t expected; /* payload bytes announced, or UINT64_MAX (over 4 GiB) */
	uint64_t received;
	struct mtp_buf dataset;
	int out_fd;
	uint64_t out_offset;
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
};

static const uint8_t device_desc[USB_DT_DEVICE_SIZE] = {
	18,
	USB_DT_DEVICE,
	0x00,
	0x02, /* USB 2.0 */
	0x00,
	0x00,
	0x00, /* class per interface */
	64,   /* ep0 max packet */
	MTP_VENDOR_ID & 0xff,
	MTP_VENDOR_ID >> 8,
	MTP_PRODUCT_ID & 0xff,
	MTP_PRODUCT_ID >> 8,
	0x00,
	0x01, /* bcdDevice 1.00 */
	1,
	2,
	3, /* manufacturer, product, serial */
	1, /* one configuration */
};

static const uint8_t config_desc[] = {
	/* configuration: 1 interface, self-powered */
	9,
	USB_DT_CONFIG,
	39,
	0,
	1,
	1,
	0,
	0xc0,
	1,
	/* interface 0: still image capture, PTP, 3 endpoints, string 4 ("MTP") */
	9,
	USB_DT_INTERFACE,
	0,
	0,
	3,
	0x06,
	0x01,
	0x01,
	4,
	/* bulk IN, bulk OUT: 512 bytes (high speed) */
	7,
	0x05,
	EP_BULK_IN,
	0x02,
	BULK_MPS & 0xff,
	BULK_MPS >> 8,
	0,
	7,
	0x05,
	EP_BULK_OUT,
	0x02,
	BULK_MPS & 0xff,
	BULK_MPS >> 8,
	0,
	/* interrupt IN: events, up to 64 bytes every 2^(6-1) microframes */
	7,
	0x05,
	EP_INTR_IN,
	0x03,
	64,
	0,
	6,
};

static const uint16_t operations[] = {
	PTP_OC_GetDeviceInfo,
	PTP_OC_OpenSession,
	PTP_OC_CloseSession,
	PTP_OC_GetStorageIDs,
	PTP_OC_GetStorageInfo,
	PTP_OC_GetNumObjects,
	PTP_OC_GetObjectHandles,
	PTP_OC_GetObjectInfo,
	PTP_OC_GetObject,
	PTP_OC_DeleteObject,
	PTP_OC_SendObjectInfo,
	PTP_OC_SendObject,
	PTP_OC_GetDevicePropDesc,
	PTP_OC_GetDevicePropValue,
	PTP_OC_MoveObject,
	PTP_OC_CopyObject,
	PTP_OC_GetPartialObject,
	MTP_OC_GetObjectPropsSupported,
	MTP_OC_GetObjectPropDesc,
	MTP_OC_GetObjectPropValue,
	MTP_OC_SetObjectPropValue,
	MTP_OC_GetObjectPropList,
	MTP_OC_GetObjectReferences,
	ANDROID_OC_GetPartialObject64,
	ANDROID_OC_SendPartialObject,
	ANDROID_OC_TruncateObject,
	ANDROID_OC_BeginEditObject,
	ANDROID_OC_EndEditObject,
};

static const uint16_t events[] = {
	PTP_EC_ObjectAdded,
	PTP_EC_ObjectRemoved,
	PTP_EC_ObjectInfoChanged,
};

static const uint16_t device_props[] = { PTP_DPC_DeviceFriendlyName };
static const uint16_t formats[] = { PTP_OFC_Undefined, PTP_OFC_Association };
static const uint16_t object_props[] = {
	MTP_OPC_StorageID,    MTP_OPC_ObjectFormat,   MTP_OPC_ProtectionStatus,
	MTP_OPC_ObjectSize,   MTP_OPC_ObjectFileName, MTP_OPC_DateModified,
	MTP_OPC_ParentObject, MTP_OPC_PersistentUID,  MTP_OPC_Name,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sending ---- */

/* A response with n (0..3) parameters. */
static void respond(struct mtp_device *m, uint16_t rc, unsigned int n, uint32_t p0, uint32_t p1,
		    uint32_t p2)
{
	struct mtp_operation resp = { .code = rc,
				      .transaction_id = m->op.transaction_id,
				      .params = { p0, p1, p2 },
				      .num_params = n };
	uint8_t buf[MTP_COMMAND_MAX];

	if (rc != PTP_RC_OK)
		log_debug("mtp: operation 0x%04x (transaction %u): response 0x%04x", m->op.code,
			  m->op.transaction_id, rc);
	vdev_in_write(m->vdev, EP_BULK_IN, buf, mtp_encode_response(buf, &resp), true);
}

static void respond_rc(struct mtp_device *m, uint16_t rc)
{
	respond(m, rc, 0, 0, 0, 0);
}

/* A data phase from a built dataset, then OK. */
static void send_dataset(struct mtp_device *m, struct mtp_buf *b)
{
	uint8_t hdr[MTP_HEADER_SIZE];

	if (b->failed) {
		respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	mtp_encode_data_header(hdr, m->op.code, m->op.transaction_id, b->len);
	vdev_in_write(m->vdev, EP_BULK_IN, hdr, sizeof(hdr), b->len == 0);
	if (b->len)
		vdev_in_write(m->vdev, EP_BULK_IN, b->data, b->len, true);
	respond_rc(m, PTP_RC_OK);
}

static uint16_t rc_of_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT:
	case EISDIR:
		return PTP_RC_InvalidObjectHandle;
	case EROFS:
		return PTP_RC_StoreReadOnly;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return PTP_RC_StoreFull;
	case EACCES:
	case EPERM:
		return PTP_RC_AccessDenied;
	case ENOTDIR:
		return PTP_RC_InvalidParentObject;
	case EINVAL:
	case ENAMETOOLONG:
		return PTP_RC_InvalidParameter;
	}
	return PTP_RC_GeneralError;
}

static void format_date(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y%m%dT%H%M%S", &tm) == 0)
		snprintf(out, cap, "19700101T000000");
}

/* ---- file data on the bulk IN pipe ---- */

static void stop_stream(struct mtp_device *m)
{
	if (m->in_fd >= 0)
		close(m->in_fd);
	m->in_fd = -1;
	m->streaming = false;
}

/* Queues the next piece of the file; ends the data phase and answers when done. */
static void refill_stream(struct mtp_device *m)
{
	size_t want = m->in_left < STREAM_CHUNK ? (size_t)m->in_left : STREAM_CHUNK;
	uint8_t *buf = vdev_in_alloc(want); /* read straight into the IN queue */
	ssize_t n = 0;

	if (!buf) {
		vdev_in_write(m->vdev, EP_BULK_IN, NULL, 0, true);
		stop_stream(m);
		m->op = m->in_op;
		respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	while (want) {
		n = pread(m->in_fd, buf, want, (off_t)m->in_offset);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (want && n <= 0) {
		/* The file shrank (or failed) under us: end the data phase short and say so. */
		uint16_t rc = n < 0 ? rc_of_errno(errno) : PTP_RC_GeneralError;

		log_warn("mtp: file changed or failed while being read (%s)",
			 n < 0 ? strerror(errno) : "shorter than announced");
		vdev_in_discard(buf);
		vdev_in_write(m->vdev, EP_BULK_IN, NULL, 0, true);
		stop_stream(m);
		m->op = m->in_op;
		respond_rc(m, rc == PTP_RC_OK ? PTP_RC_GeneralError : rc);
		return;
	}
	m->in_offset += (uint64_t)n;
	m->in_left -= (uint64_t)n;
	m->in_sent += (uint64_t)n;
	if (m->in_left == 0) {
		uint32_t count = (uint32_t)m->in_sent;

		stop_stream(m);
		vdev_in_commit(m->vdev, EP_BULK_IN, buf, (size_t)n, true);
		m->op = m->in_op;
		respond(m, PTP_RC_OK, m->in_param ? 1 : 0, count, 0, 0);
		return;
	}
	vdev_in_commit(m->vdev, EP_BULK_IN, buf, (size_t)n, false);
}

static void start_stream(struct mtp_device *m, int fd, uint64_t offset, uint64_t count,
			 bool with_count)
{
	uint8_t hdr[MTP_HEADER_SIZE];

	m->in_fd = fd;
	m->in_offset = offset;
	m->in_left = count;
	m->in_sent = 0;
	m->in_param = with_count;
	m->in_op = m->op;
	m->streaming = true;
	mtp_encode_data_header(hdr, m->op.code, m->op.transaction_id, count);
	if (count == 0) {
		vdev_in_write(m->vdev, EP_BULK_IN, hdr, sizeof(hdr), true);
		stop_stream(m);
		respond(m, PTP_RC_OK, with_count ? 1 : 0, 0, 0, 0);
		return;
	}
	vdev_in_write(m->vdev, EP_BULK_IN, hdr, sizeof(hdr), false);
	/* More is queued as the host's URBs take it (in_wanted). */
	if (m->streaming && vdev_in_waiting(m->vdev, EP_BULK_IN) &&
	    !vdev_in_queued(m->vdev, EP_BULK_IN))
		refill_stream(m);
}

/* ---- object helpers ---- */

static bool storage_ok(uint32_t id, bool allow_all)
{
	return id == STORAGE_ID || (allow_all && id == ALL_STORAGES);
}

/* The store handle of a parent parameter: 0 and 0xffffffff are the top. */
static uint32_t parent_of_param(uint32_t p)
{
	return (p == 0 || p == ROOT_PARENT) ? MTP_STORE_ROOT : p;
}

static bool valid_handle(uint32_t h)
{
	return h != 0 && h != ALL_HANDLES;
}

static uint16_t format_of(const struct mtp_entry *e)
{
	return e->is_dir ? PTP_OFC_Association : PTP_OFC_Undefined;
}

static bool prop_value(const struct mtp_entry *e, uint16_t prop, struct mtp_value *v, char *date,
		       size_t date_cap)
{
	memset(v, 0, sizeof(*v));
	switch (prop) {
	case MTP_OPC_StorageID:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT32, .u = STORAGE_ID };
		return true;
	case MTP_OPC_ObjectFormat:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT16, .u = format_of(e) };
		return true;
	case MTP_OPC_ProtectionStatus:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT16, .u = 0 };
		return true;
	case MTP_OPC_ObjectSize:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT64, .u = e->size };
		return true;
	case MTP_OPC_ObjectFileName:
	case MTP_OPC_Name:
		*v = (struct mtp_value){ .type = PTP_DTC_STR, .str = e->name };
		return true;
	case MTP_OPC_DateModified:
		format_date(e->mtime, date, date_cap);
		*v = (struct mtp_value){ .type = PTP_DTC_STR, .str = date };
		return true;
	case MTP_OPC_ParentObject:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT32, .u = e->parent };
		return true;
	case MTP_OPC_PersistentUID:
		*v = (struct mtp_value){ .type = PTP_DTC_UINT128, .u = e->ino, .hi = e->dev };
		return true;
	}
	return false;
}

static bool prop_known(uint16_t prop)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(object_props); i++)
		if (object_props[i] == prop)
			return true;
	return false;
}

/* ---- operations without a data-out phase ---- */

static void op_get_device_info(struct mtp_device *m)
{
	struct mtp_device_info info = {
		.operations = operations,
		.num_operations = ARRAY_SIZE(operations),
		.events = events,
		.num_events = ARRAY_SIZE(events),
		.device_props = device_props,
		.num_device_props = ARRAY_SIZE(device_props),
		.formats = formats,
		.num_formats = ARRAY_SIZE(formats),
		.extensions = "microsoft.com: 1.0;",
		.manufacturer = "usbip-ng",
		.model = "serve-mtp",
		.version = PACKAGE_VERSION,
		.serial = m->serial,
	};
	struct mtp_buf b = { 0 };

	mtp_encode_device_info(&b, &info);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_open_session(struct mtp_device *m)
{
	uint32_t *handles;
	size_t count;

	if (m->op.num_params < 1 || m->op.params[0] == 0) {
		respond_rc(m, PTP_RC_InvalidParameter);
		return;
	}
	/* A new initiator on the same USB connection (each mtp-tools run): start over. */
	m->session_open = true;
	/* Events queued for an earlier initiator are no news to this one. */
	vdev_in_flush(m->vdev, EP_INTR_IN);
	/* The top directory is watched from now on, for events about it. */
	if (mtp_store_list(m->store, MTP_STORE_ROOT, false, &handles, &count) == 0)
		free(handles);
	m->last_tid = m->op.transaction_id;
	respond_rc(m, PTP_RC_OK);
}

static void op_get_storage_ids(struct mtp_device *m)
{
	struct mtp_buf b = { 0 };
	const uint32_t id = STORAGE_ID;

	mtp_put_u32_array(&b, &id, 1);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_storage_info(struct mtp_device *m)
{
	struct mtp_storage_info info = { .read_only = m->read_only,
					 .description = m->name,
					 .volume = m->serial };
	struct mtp_buf b = { 0 };

	if (!storage_ok(m->op.params[0], false)) {
		respond_rc(m, PTP_RC_InvalidStorageId);
		return;
	}
	mtp_store_space(m->store, &info.capacity, &info.free_bytes);
	mtp_encode_storage_info(&b, &info);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

/* GetObjectHandles / GetNumObjects: the handles for (storage, format, parent). */
static int select_handles(struct mtp_device *m, uint32_t **handles, size_t *count)
{
	uint32_t storage = m->op.params[0], format = m->op.params[1], parent = m->op.params[2];
	size_t i, j;
	int rc;

	if (m->op.num_params < 1 || !storage_ok(storage, true))
		return PTP_RC_InvalidStorageId;
	if (m->op.num_params < 3)
		parent = 0;
	/* PTP: parent 0 means every object of the storage, 0xffffffff the top level. */
	if (parent == 0)
		rc = mtp_store_list(m->store, MTP_STORE_ROOT, true, handles, count);
	else
		rc = mtp_store_list(m->store, parent_of_param(parent), false, handles, count);
	if (rc)
		return rc == -ENOTDIR || rc == -ENOENT ? PTP_RC_InvalidParentObject
						       : rc_of_errno(rc);
	if (m->op.num_params >= 2 && format != 0) {
		for (i = j = 0; i < *count; i++) {
			struct mtp_entry e;

			if (mtp_store_peek(m->store, (*handles)[i], &e) == 0 &&
			    format_of(&e) == format)
				(*handles)[j++] = (*handles)[i];
		}
		*count = j;
	}
	return 0;
}

static void op_get_object_handles(struct mtp_device *m)
{
	uint32_t *handles;
	size_t count;
	int rc = select_handles(m, &handles, &count);
	struct mtp_buf b = { 0 };

	if (rc) {
		respond_rc(m, (uint16_t)rc);
		return;
	}
	if (m->op.code == PTP_OC_GetNumObjects) {
		uint32_t n = (uint32_t)count;

		free(handles);
		respond(m, PTP_RC_OK, 1, n, 0, 0);
		return;
	}
	mtp_put_u32_array(&b, handles, count);
	free(handles);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_object_info(struct mtp_device *m)
{
	struct mtp_object_info info = { .storage_id = STORAGE_ID };
	struct mtp_entry e;
	struct mtp_buf b = { 0 };

	if (!valid_handle(m->op.params[0]) || mtp_store_get(m->store, m->op.params[0], &e)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	info.format = format_of(&e);
	info.compressed_size = e.size >= 0xffffffffu ? 0xffffffffu : (uint32_t)e.size;
	info.parent = e.parent;
	info.association_type = e.is_dir ? PTP_AT_GenericFolder : 0;
	snprintf(info.filename, sizeof(info.filename), "%s", e.name);
	format_date(e.mtime, info.modified, sizeof(info.modified));
	mtp_encode_object_info(&b, &info);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_object(struct mtp_device *m)
{
	uint32_t h = m->op.params[0];
	uint64_t offset = 0, size, count;
	bool partial = m->op.code != PTP_OC_GetObject;
	struct stat sb;
	int fd;

	if (!valid_handle(h)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	fd = mtp_store_open_file(m->store, h, O_RDONLY);
	if (fd < 0) {
		respond_rc(m, rc_of_errno(fd));
		return;
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	size = (uint64_t)sb.st_size;
	count = size;
	if (m->op.code == PTP_OC_GetPartialObject) {
		offset = m->op.params[1];
		count = m->op.params[2];
	} else if (m->op.code == ANDROID_OC_GetPartialObject64) {
		offset = m->op.params[1] | (uint64_t)m->op.params[2] << 32;
		count = m->op.params[3];
	}
	if (partial) {
		if (offset > size)
			offset = size;
		if (count > size - offset)
			count = size - offset;
	}
	start_stream(m, fd, offset, count, partial);
}

static void op_delete_object(struct mtp_device *m)
{
	uint32_t h = m->op.params[0];
	int rc;

	if (m->read_only) {
		respond_rc(m, PTP_RC_StoreReadOnly);
		return;
	}
	if (h == ALL_HANDLES) {
		/* "Delete everything" is never what a user of a shared folder wants. */
		respond_rc(m, PTP_RC_AccessDenied);
		return;
	}
	if (!valid_handle(h)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	rc = mtp_store_delete(m->store, h);
	if (rc == -ENOTEMPTY || rc == -EIO)
		respond_rc(m, 0x2012); /* PartialDeletion */
	else
		respond_rc(m, rc ? rc_of_errno(rc) : PTP_RC_OK);
}

static void op_move_copy(struct mtp_device *m)
{
	uint32_t h = m->op.params[0], parent = parent_of_param(m->op.params[2]), new_handle = 0;
	int rc;

	if (m->read_only) {
		respond_rc(m, PTP_RC_StoreReadOnly);
		return;
	}
	if (!valid_handle(h)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	if (!storage_ok(m->op.params[1], false)) {
		respond_rc(m, PTP_RC_InvalidStorageId);
		return;
	}
	if (parent != MTP_STORE_ROOT) {
		struct mtp_entry e;

		if (mtp_store_get(m->store, parent, &e) || !e.is_dir) {
			respond_rc(m, PTP_RC_InvalidParentObject);
			return;
		}
	}
	if (m->op.code == PTP_OC_MoveObject)
		rc = mtp_store_move(m->store, h, parent);
	else
		rc = mtp_store_copy(m->store, h, parent, &new_handle);
	if (rc == -EEXIST)
		rc = -EACCES;
	if (rc) {
		respond_rc(m, rc == -ENOTDIR ? PTP_RC_InvalidParentObject : rc_of_errno(rc));
		return;
	}
	respond(m, PTP_RC_OK, m->op.code == PTP_OC_CopyObject ? 1 : 0, new_handle, 0, 0);
}

static void op_device_prop(struct mtp_device *m)
{
	struct mtp_value v = { .type = PTP_DTC_STR, .str = m->name };
	struct mtp_buf b = { 0 };

	if (m->op.params[0] != PTP_DPC_DeviceFriendlyName) {
		respond_rc(m, PTP_RC_DevicePropNotSupported);
		return;
	}
	if (m->op.code == PTP_OC_GetDevicePropDesc)
		mtp_encode_device_prop_desc(&b, PTP_DPC_DeviceFriendlyName, &v, &v, false);
	else
		mtp_put_value(&b, &v);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_props_supported(struct mtp_device *m)
{
	struct mtp_buf b = { 0 };

	mtp_put_u16_array(&b, object_props, ARRAY_SIZE(object_props));
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_prop_desc(struct mtp_device *m)
{
	uint16_t prop = (uint16_t)m->op.params[0];
	struct mtp_entry none = { .name = "" };
	struct mtp_value def;
	char date[32];
	struct mtp_buf b = { 0 };
	bool settable = !m->read_only && (prop == MTP_OPC_ObjectFileName || prop == MTP_OPC_Name);

	if (m->op.params[0] > 0xffff || !prop_known(prop)) {
		respond_rc(m, MTP_RC_InvalidObjectPropCode);
		return;
	}
	prop_value(&none, prop, &def, date, sizeof(date));
	if (def.type == PTP_DTC_STR)
		def.str = "";
	else
		def.u = def.hi = 0;
	mtp_encode_object_prop_desc(&b, prop, &def, settable, 0);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_prop_value(struct mtp_device *m)
{
	struct mtp_entry e;
	struct mtp_value v;
	char date[32];
	struct mtp_buf b = { 0 };

	if (!valid_handle(m->op.params[0]) || mtp_store_get(m->store, m->op.params[0], &e)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	if (m->op.params[1] > 0xffff ||
	    !prop_value(&e, (uint16_t)m->op.params[1], &v, date, sizeof(date))) {
		respond_rc(m, MTP_RC_InvalidObjectPropCode);
		return;
	}
	mtp_put_value(&b, &v);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void put_props(struct mtp_buf *b, const struct mtp_entry *e, uint32_t prop, uint32_t *n)
{
	size_t i;
	char date[32];
	struct mtp_value v;

	for (i = 0; i < ARRAY_SIZE(object_props); i++) {
		if (prop != 0xffffffffu && prop != object_props[i])
			continue;
		prop_value(e, object_props[i], &v, date, sizeof(date));
		mtp_put_prop_element(b, e->handle, object_props[i], &v);
		(*n)++;
	}
}

/* GetObjectPropList: handle, format, property (0xffffffff: all), group, depth. */
static void op_get_prop_list(struct mtp_device *m)
{
	uint32_t h = m->op.params[0], format = m->op.params[1], prop = m->op.params[2];
	uint32_t group = m->op.params[3], depth = m->op.params[4], n = 0, *handles = NULL;
	size_t count = 0, i;
	struct mtp_buf b = { 0 };
	struct mtp_entry e;
	int rc = 0;

	if (prop == 0) {
		respond_rc(m, group ? MTP_RC_SpecificationByGroupUnsupported
				    : MTP_RC_InvalidObjectPropCode);
		return;
	}
	if (prop != 0xffffffffu && (prop > 0xffff || !prop_known((uint16_t)prop))) {
		respond_rc(m, MTP_RC_InvalidObjectPropCode);
		return;
	}
	if (h == ALL_HANDLES) {
		rc = mtp_store_list(m->store, MTP_STORE_ROOT, true, &handles, &count);
	} else if (depth == 0) {
		if (h == 0 || mtp_store_get(m->store, h, &e)) {
			respond_rc(m, PTP_RC_InvalidObjectHandle);
			return;
		}
		handles = malloc(sizeof(*handles));
		if (handles) {
			handles[0] = h;
			count = 1;
		} else {
			rc = -ENOMEM;
		}
	} else if (depth == 1 || depth == 0xffffffffu) {
		rc = mtp_store_list(m->store, h, depth != 1, &handles, &count);
	} else {
		respond_rc(m, MTP_RC_SpecificationByDepthUnsupported);
		return;
	}
	if (rc) {
		respond_rc(m, rc == -ENOENT || rc == -ENOTDIR ? PTP_RC_InvalidObjectHandle
							      : rc_of_errno(rc));
		return;
	}
	mtp_put_u32(&b, 0); /* the count, patched below */
	for (i = 0; i < count; i++) {
		if (mtp_store_peek(m->store, handles[i], &e))
			continue;
		if (format && format_of(&e) != format)
			continue;
		put_props(&b, &e, prop, &n);
	}
	free(handles);
	mtp_patch_u32(&b, 0, n);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_get_references(struct mtp_device *m)
{
	struct mtp_entry e;
	struct mtp_buf b = { 0 };

	if (!valid_handle(m->op.params[0]) || mtp_store_get(m->store, m->op.params[0], &e)) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	mtp_put_u32_array(&b, NULL, 0);
	send_dataset(m, &b);
	mtp_buf_free(&b);
}

static void op_truncate(struct mtp_device *m)
{
	uint64_t size = m->op.params[1] | (uint64_t)m->op.params[2] << 32;
	int fd, rc = 0;

	if (m->read_only) {
		respond_rc(m, PTP_RC_StoreReadOnly);
		return;
	}
	fd = valid_handle(m->op.params[0]) ? mtp_store_open_file(m->store, m->op.params[0], O_RDWR)
					   : -ENOENT;
	if (fd < 0) {
		respond_rc(m, rc_of_errno(fd));
		return;
	}
	if (size > INT64_MAX || ftruncate(fd, (off_t)size) != 0)
		rc = size > INT64_MAX ? -EINVAL : -errno;
	close(fd);
	respond_rc(m, rc ? rc_of_errno(rc) : PTP_RC_OK);
}

static void op_edit(struct mtp_device *m)
{
	struct mtp_entry e;

	if (m->read_only) {
		respond_rc(m, PTP_RC_StoreReadOnly);
		return;
	}
	if (!valid_handle(m->op.params[0]) || mtp_store_get(m->store, m->op.params[0], &e) ||
	    e.is_dir) {
		respond_rc(m, PTP_RC_InvalidObjectHandle);
		return;
	}
	respond_rc(m, PTP_RC_OK);
}

/* ---- operations with a data-out phase ---- */

static void cancel_send(struct mtp_device *m, bool remove)
{
	if (!m->send_pending)
		return;
	if (m->send_fd >= 0)
		close(m->send_fd);
	m->send_fd = -1;
	if (remove)
		mtp_store_delete(m->store, m->send_handle);
	m->send_pending = false;
}

static void begin_data_out(struct mtp_device *m, enum data_sink sink, uint16_t pending_rc)
{
	m->in_data_out = true;
	m->sink = pending_rc ? SINK_NONE : sink;
	m->pending_rc = pending_rc;
	m->hdr_got = 0;
	m->expected = 0;
	m->received = 0;
	m->out_errno = 0;
	mtp_buf_free(&m->dataset);
}

static void start_send_object_info(struct mtp_device *m)
{
	uint16_t rc = 0;

	if (m->read_only)
		rc = PTP_RC_StoreReadOnly;
	else if (m->op.params[0] != 0 && !storage_ok(m->op.params[0], false))
		rc = PTP_RC_InvalidStorageId;
	begin_data_out(m, SINK_BUFFER, rc);
}

static void finish_send_object_info(struct mtp_device *m)
{
	struct mtp_object_info info;
	struct mtp_error err;
	uint32_t parent = parent_of_param(m->op.params[1]), handle;
	bool dir;
	int rc, fd = -1;

	if (mtp_decode_object_info(m->dataset.data, m->dataset.len, &info, &err)) {
		log_warn("mtp: SendObjectInfo: %s", err.msg);
		respond_rc(m, MTP_RC_InvalidDataset);
		return;
	}
	if (!mtp_store_name_ok(info.filename)) {
		log_warn("mtp: SendObjectInfo: refused file name \"%s\"", info.filename);
		respond_rc(m, PTP_RC_InvalidParameter);
		return;
	}
	cancel_send(m, true); /* an ObjectInfo never followed by its object */
	dir = info.format == PTP_OFC_Association;
	rc = mtp_store_create(m->store, parent, info.filename, dir, &handle, dir ? NULL : &fd);
	if (rc) {
		log_info("mtp: creating \"%s\": %s", info.filename, strerror(-rc));
		respond_rc(m, rc == -EEXIST			? PTP_RC_AccessDenied
			      : rc == -ENOENT || rc == -ENOTDIR ? PTP_RC_InvalidParentObject
								: rc_of_errno(rc));
		return;
	}
	if (!dir) {
		m->send_pending = true;
		m->send_handle = handle;
		m->send_fd = fd;
		m->send_size =
			info.compressed_size == 0xffffffffu ? UINT64_MAX : info.compressed_size;
	}
	respond(m, PTP_RC_OK, 3, STORAGE_ID, m->op.params[1] == 0 ? ROOT_PARENT : m->op.params[1],
		handle);
}

static void start_send_object(struct mtp_device *m)
{
	if (!m->send_pending) {
		begin_data_out(m, SINK_NONE, 0x2015); /* NoValidObjectInfo */
		return;
	}
	begin_data_out(m, SINK_FILE, 0);
	m->out_fd = m->send_fd;
	m->out_offset = 0;
}

static void finish_send_object(struct mtp_device *m, bool complete)
{
	bool size_ok = m->send_size == UINT64_MAX || m->received == m->send_size;

	if (m->out_errno || !complete || !size_ok) {
		cancel_send(m, true); /* a partial file is not kept */
		respond_rc(m, m->out_errno ? rc_of_errno(m->out_errno) : PTP_RC_IncompleteTransfer);
		return;
	}
	if (fsync(m->send_fd) != 0 && errno != EINVAL) {
		int e = errno;

		cancel_send(m, true);
		respond_rc(m, rc_of_errno(e));
		return;
	}
	cancel_send(m, false);
	respond_rc(m, PTP_RC_OK);
}

static void start_send_partial(struct mtp_device *m)
{
	int fd;

	if (m->read_only) {
		begin_data_out(m, SINK_NONE, PTP_RC_StoreReadOnly);
		return;
	}
	fd = valid_handle(m->op.params[0]) ? mtp_store_open_file(m->store, m->op.params[0], O_RDWR)
					   : -ENOENT;
	if (fd < 0) {
		begin_data_out(m, SINK_NONE, rc_of_errno(fd));
		return;
	}
	begin_data_out(m, SINK_FILE, 0);
	m->out_fd = fd;
	m->out_offset = m->op.params[1] | (uint64_t)m->op.params[2] << 32;
}

static void start_set_prop_value(struct mtp_device *m)
{
	uint16_t prop = (uint16_t)m->op.params[1];
	uint16_t rc = 0;
	struct mtp_entry e;

	if (!valid_handle(m->op.params[0]) || mtp_store_get(m->store, m->op.params[0], &e))
		rc = PTP_RC_InvalidObjectHandle;
	else if (m->op.params[1] > 0xffff || !prop_known(prop))
		rc = MTP_RC_InvalidObjectPropCode;
	else if (prop != MTP_OPC_ObjectFileName && prop != MTP_OPC_Name)
		rc = PTP_RC_AccessDenied;
	else if (m->read_only)
		rc = PTP_RC_StoreReadOnly;
	begin_data_out(m, SINK_BUFFER, rc);
}

static void finish_set_prop_value(struct mtp_device *m)
{
	struct mtp_reader r;
	char name[MTP_NAME_MAX];
	int rc;

	mtp_reader_init(&r, m->dataset.data, m->dataset.len);
	mtp_get_string(&r, name, sizeof(name), "value");
	if (r.failed || r.off != r.len || !mtp_store_name_ok(name)) {
		respond_rc(m, MTP_RC_InvalidObjectPropValue);
		return;
	}
	rc = mtp_store_rename(m->store, m->op.params[0], name);
	respond_rc(m, rc == -EEXIST ? PTP_RC_AccessDenied : rc ? rc_of_errno(rc) : PTP_RC_OK);
}

/* The data phase is over (complete: all announced bytes arrived). */
static void finish_data_out(struct mtp_device *m, bool complete)
{
	m->in_data_out = false;
	if (m->pending_rc) {
		/* A SendObject that failed: its object is not kept half-made. */
		if (m->op.code == PTP_OC_SendObject)
			cancel_send(m, true);
		respond_rc(m, m->pending_rc);
	} else if (m->sink == SINK_BUFFER && m->dataset.failed) {
		respond_rc(m, MTP_RC_InvalidDataset);
	} else if (!complete && m->op.code != PTP_OC_SendObject) {
		respond_rc(m, PTP_RC_IncompleteTransfer);
	} else {
		switch (m->op.code) {
		case PTP_OC_SendObjectInfo:
			finish_send_object_info(m);
			break;
		case PTP_OC_SendObject:
			finish_send_object(m, complete);
			break;
		case ANDROID_OC_SendPartialObject:
			respond_rc(m, m->out_errno ? rc_of_errno(m->out_errno) : PTP_RC_OK);
			break;
		case MTP_OC_SetObjectPropValue:
			finish_set_prop_value(m);
			break;
		default:
			respond_rc(m, PTP_RC_OK);
		}
	}
	if (m->op.code == ANDROID_OC_SendPartialObject && m->out_fd >= 0)
		close(m->out_fd);
	m->out_fd = -1;
	mtp_buf_free(&m->dataset);
}

static void sink_payload(struct mtp_device *m, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	m->received += n;
	if (m->sink == SINK_BUFFER) {
		if (m->dataset.len + n > DATASET_MAX) {
			m->dataset.failed = true; /* bounded: the rest is read and dropped */
			return;
		}
		mtp_put_bytes(&m->dataset, p, n);
	} else if (m->sink == SINK_FILE && !m->out_errno) {
		while (n) {
			ssize_t w = pwrite(m->out_fd, p, n, (off_t)m->out_offset);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				m->out_errno = w < 0 ? errno : EIO;
				return;
			}
			p += w;
			n -= (size_t)w;
			m->out_offset += (uint64_t)w;
		}
	}
}

/* ---- commands ---- */

static void handle_command(struct mtp_device *m, const uint8_t *buf, size_t len);

static void data_out(struct mtp_device *m, const uint8_t *data, size_t len)
{
	bool short_xfer = len % BULK_MPS != 0 || len == 0;
	size_t take;

	if (m->hdr_got < MTP_HEADER_SIZE) {
		struct mtp_header hdr;
		struct mtp_error err;

		take = MTP_HEADER_SIZE - m->hdr_got;
		if (take > len)
			take = len;
		memcpy(m->hdr + m->hdr_got, data, take);
		m->hdr_got += take;
		data += take;
		len -= take;
		if (m->hdr_got < MTP_HEADER_SIZE) {
			if (short_xfer) {
				m->pending_rc =
					m->pending_rc ? m->pending_rc : PTP_RC_IncompleteTransfer;
				finish_data_out(m, false);
			}
			return;
		}
		if (mtp_decode_header(m->hdr, MTP_HEADER_SIZE, &hdr, &err) == 0 &&
		    hdr.type == MTP_CONTAINER_COMMAND && short_xfer && len + 12 == hdr.length) {
			/* The host gave up on the data phase and sent a new command. */
			uint8_t cmd[MTP_COMMAND_MAX];

			m->in_data_out = false;
			if (m->op.code == PTP_OC_SendObject)
				cancel_send(m, true);
			if (hdr.length <= sizeof(cmd)) {
				memcpy(cmd, m->hdr, MTP_HEADER_SIZE);
				memcpy(cmd + MTP_HEADER_SIZE, data, len);
				handle_command(m, cmd, hdr.length);
			}
			return;
		}
		if (mtp_decode_header(m->hdr, MTP_HEADER_SIZE, &hdr, &err) != 0 ||
		    hdr.type != MTP_CONTAINER_DATA || hdr.code != m->op.code) {
			log_warn("mtp: bad data container for operation 0x%04x", m->op.code);
			if (!m->pending_rc)
				m->pending_rc = PTP_RC_GeneralError;
			m->sink = SINK_NONE;
			m->expected = UINT64_MAX;
		} else {
			if (hdr.transaction_id != m->op.transaction_id) {
				if (!m->pending_rc)
					m->pending_rc = PTP_RC_InvalidTransactionID;
				m->sink = SINK_NONE;
			}
			m->expected = hdr.length == MTP_LENGTH_UNKNOWN
					      ? UINT64_MAX
					      : (uint64_t)hdr.length - MTP_HEADER_SIZE;
		}
	}
	take = len;
	if (m->expected != UINT64_MAX && take > m->expected - m->received)
		take = (size_t)(m->expected - m->received);
	sink_payload(m, data, take);
	/*
	 * With a known length the container ends when its bytes are in: hosts
	 * send the header and the payload as separate transfers (libmtp does),
	 * so a short transfer in between means nothing. A host that gives up
	 * sends the class Cancel request. Over 4 GiB the length is unknown and
	 * a short transfer with payload (or a ZLP) ends it.
	 */
	if (m->expected != UINT64_MAX) {
		if (m->received == m->expected)
			finish_data_out(m, true);
		return;
	}
	if (short_xfer && (take || len == 0))
		finish_data_out(m, true);
}

static bool needs_session(uint16_t code)
{
	return code != PTP_OC_GetDeviceInfo && code != PTP_OC_OpenSession;
}

static void handle_command(struct mtp_device *m, const uint8_t *buf, size_t len)
{
	struct mtp_operation op;
	struct mtp_error err;
	bool tid_ok;

	if (mtp_decode_command(buf, len, &op, &err)) {
		struct mtp_header hdr;

		log_warn("mtp: malformed command: %s", err.msg);
		m->op = (struct mtp_operation){ 0 };
		if (mtp_decode_header(buf, len, &hdr, NULL) == 0) {
			m->op.code = hdr.code;
			m->op.transaction_id = hdr.transaction_id;
		}
		respond_rc(m, PTP_RC_GeneralError);
		return;
	}
	m->op = op;
	log_debug("mtp: operation 0x%04x, transaction %u, %u parameters: %08x %08x %08x %08x %08x",
		  op.code, op.transaction_id, op.num_params, op.params[0], op.params[1],
		  op.params[2], op.params[3], op.params[4]);
	tid_ok = !m->session_open || op.code == PTP_OC_OpenSession ||
		 op.transaction_id == m->last_tid + 1;
	if (m->session_open && op.code != PTP_OC_OpenSession)
		m->last_tid = op.transaction_id; /* resynchronise after a wrong one */
	if (m->streaming || vdev_in_queued(m->vdev, EP_BULK_IN)) {
		/*
		 * A new command while data of the last one was still queued: the
		 * host gave up on it. Dropping it also bounds what a host that
		 * never reads can make us hold to one transaction's worth.
		 */
		stop_stream(m);
		vdev_in_flush(m->vdev, EP_BULK_IN);
	}
	if (op.code == PTP_OC_SendObject || op.code == PTP_OC_SendObjectInfo ||
	    op.code == MTP_OC_SetObjectPropValue || op.code == ANDROID_OC_SendPartialObject) {
		/* The data phase comes anyway: take it, then answer. */
		if (!m->session_open) {
			begin_data_out(m, SINK_NONE, PTP_RC_SessionNotOpen);
			return;
		}
		if (!tid_ok) {
			begin_data_out(m, SINK_NONE, PTP_RC_InvalidTransactionID);
			return;
		}
		if (op.code == PTP_OC_SendObjectInfo)
			start_send_object_info(m);
		else if (op.code == PTP_OC_SendObject)
			start_send_object(m);
		else if (op.code == ANDROID_OC_SendPartialObject)
			start_send_partial(m);
		else
			start_set_prop_value(m);
		return;
	}
	if (needs_session(op.code) && !m->session_open) {
		respond_rc(m, PTP_RC_SessionNotOpen);
		return;
	}
	if (!tid_ok) {
		respond_rc(m, PTP_RC_InvalidTransactionID);
		return;
	}
	if (op.code != PTP_OC_SendObject && m->send_pending && op.code != PTP_OC_GetDeviceInfo &&
	    op.code != PTP_OC_GetStorageInfo && op.code != PTP_OC_GetObjectInfo &&
	    op.code != MTP_OC_GetObjectPropValue && op.code != PTP_OC_GetObjectHandles &&
	    op.code != MTP_OC_GetObjectPropList)
		cancel_send(m, true); /* the ObjectInfo was abandoned */
	switch (op.code) {
	case PTP_OC_GetDeviceInfo:
		op_get_device_info(m);
		break;
	case PTP_OC_OpenSession:
		op_open_session(m);
		break;
	case PTP_OC_CloseSession:
		m->session_open = false;
		respond_rc(m, PTP_RC_OK);
		break;
	case PTP_OC_GetStorageIDs:
		op_get_storage_ids(m);
		break;
	case PTP_OC_GetStorageInfo:
		op_get_storage_info(m);
		break;
	case PTP_OC_GetNumObjects:
	case PTP_OC_GetObjectHandles:
		op_get_object_handles(m);
		break;
	case PTP_OC_GetObjectInfo:
		op_get_object_info(m);
		break;
	case PTP_OC_GetObject:
	case PTP_OC_GetPartialObject:
	case ANDROID_OC_GetPartialObject64:
		op_get_object(m);
		break;
	case PTP_OC_DeleteObject:
		op_delete_object(m);
		break;
	case PTP_OC_MoveObject:
	case PTP_OC_CopyObject:
		op_move_copy(m);
		break;
	case PTP_OC_GetDevicePropDesc:
	case PTP_OC_GetDevicePropValue:
		op_device_prop(m);
		break;
	case MTP_OC_GetObjectPropsSupported:
		op_get_props_supported(m);
		break;
	case MTP_OC_GetObjectPropDesc:
		op_get_prop_desc(m);
		break;
	case MTP_OC_GetObjectPropValue:
		op_get_prop_value(m);
		break;
	case MTP_OC_GetObjectPropList:
		op_get_prop_list(m);
		break;
	case MTP_OC_GetObjectReferences:
		op_get_references(m);
		break;
	case ANDROID_OC_TruncateObject:
		op_truncate(m);
		break;
	case ANDROID_OC_BeginEditObject:
	case ANDROID_OC_EndEditObject:
		op_edit(m);
		break;
	default:
		respond_rc(m, PTP_RC_OperationNotSupported);
	}
}

/* ---- vdev callbacks ---- */

static void reset_state(struct mtp_device *m)
{
	stop_stream(m);
	if (m->in_data_out && m->op.code == ANDROID_OC_SendPartialObject && m->out_fd >= 0)
		close(m->out_fd);
	m->out_fd = -1;
	m->in_data_out = false;
	cancel_send(m, true);
	mtp_buf_free(&m->dataset);
	m->cmd_len = 0;
	m->cmd_overflow = false;
}

static void on_out(void *priv, uint8_t ep, const uint8_t *data, size_t len)
{
	struct mtp_device *m = priv;
	bool short_xfer = len % BULK_MPS != 0 || len == 0;

	if (ep != (EP_BULK_OUT & 0x0f))
		return;
	if (m->in_data_out) {
		data_out(m, data, len);
		return;
	}
	if (len == 0 && m->cmd_len == 0)
		return; /* the ZLP that ends a data phase of a multiple of 512 bytes */
	if (m->cmd_len + len > sizeof(m->cmd)) {
		m->cmd_overflow = true;
		m->cmd_len = 0;
	} else {
		memcpy(m->cmd + m->cmd_len, data, len);
		m->cmd_len += len;
	}
	if (!short_xfer)
		return;
	if (m->cmd_overflow) {
		log_warn("mtp: oversized command container dropped");
		m->op = (struct mtp_operation){ 0 };
		respond_rc(m, PTP_RC_GeneralError);
	} else {
		handle_command(m, m->cmd, m->cmd_len);
	}
	m->cmd_len = 0;
	m->cmd_overflow = false;
}

/* File data straight into the host's URB: one copy, from the page cache. */
static size_t on_in_direct(void *priv, uint8_t ep, uint8_t *buf, size_t room, bool *end)
{
	struct mtp_device *m = priv;
	size_t want;
	ssize_t n = 0;

	if (ep != EP_BULK_IN || !m->streaming)
		return 0;
	want = m->in_left < room ? (size_t)m->in_left : room;
	while (want) {
		n = pread(m->in_fd, buf, want, (off_t)m->in_offset);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n <= 0) {
		/* The file shrank (or failed) under us: end the data phase short and say so. */
		uint16_t rc = n < 0 ? rc_of_errno(errno) : PTP_RC_GeneralError;

		log_warn("mtp: file changed or failed while being read (%s)",
			 n < 0 ? strerror(errno) : "shorter than announced");
		stop_stream(m);
		*end = true;
		m->op = m->in_op;
		respond_rc(m, rc == PTP_RC_OK ? PTP_RC_GeneralError : rc);
		return 0;
	}
	m->in_offset += (uint64_t)n;
	m->in_left -= (uint64_t)n;
	m->in_sent += (uint64_t)n;
	if (m->in_left == 0) {
		uint32_t count = (uint32_t)m->in_sent;

		stop_stream(m);
		*end = true;
		m->op = m->in_op;
		respond(m, PTP_RC_OK, m->in_param ? 1 : 0, count, 0, 0);
	}
	return (size_t)n;
}

static void on_in_wanted(void *priv, uint8_t ep)
{
	struct mtp_device *m = priv;

	if (ep == EP_BULK_IN && m->streaming)
		refill_stream(m);
}

static int on_control(void *priv, const struct vdev_setup *s, uint8_t *data)
{
	struct mtp_device *m = priv;

	if ((s->request_type & VDEV_REQ_TYPE_MASK) != VDEV_REQ_CLASS)
		return -1;
	switch (s->request) {
	case PTP_REQ_CANCEL:
		/* Cancel: drop what is queued for the host and forget the transaction. */
		log_debug("mtp: host cancelled the transaction");
		reset_state(m);
		vdev_in_flush(m->vdev, EP_BULK_IN);
		return 0;
	case PTP_REQ_GET_DEV_STATUS:
		if (!(s->request_type & VDEV_REQ_DIR_IN) || s->length < 4)
			return -1;
		data[0] = 4;
		data[1] = 0;
		data[2] = PTP_RC_OK & 0xff;
		data[3] = PTP_RC_OK >> 8;
		return 4;
	case PTP_REQ_RESET:
		reset_state(m);
		vdev_in_flush(m->vdev, EP_BULK_IN);
		m->session_open = false;
		return 0;
	}
	return -1;
}

static void on_reset(void *priv)
{
	struct mtp_device *m = priv;

	reset_state(m);
	m->session_open = false;
}

static const struct vdev_ops mtp_ops = {
	.control = on_control,
	.out = on_out,
	.in_wanted = on_in_wanted,
	.in_direct = on_in_direct,
	.reset = on_reset,
};

static const char *const strings_template[] = { "usbip-ng", "serve-mtp", NULL, "MTP" };

struct mtp_device *mtp_device_new(const struct mtp_device_options *opts)
{
	struct mtp_device *m = calloc(1, sizeof(*m));
	static const char *strings[4];
	struct vdev_config cfg = {
		.device_desc = device_desc,
		.config_desc = config_desc,
		.strings = strings,
		.num_strings = 4,
		.speed = USBIP_SPEED_HIGH,
		.ops = &mtp_ops,
	};
	struct stat sb;

	if (!m)
		return NULL;
	m->in_fd = m->out_fd = m->send_fd = -1;
	m->read_only = opts->read_only;
	snprintf(m->name, sizeof(m->name), "%s", opts->name ? opts->name : "serve-mtp");
	m->store = mtp_store_open(opts->dir, opts->read_only);
	if (!m->store) {
		free(m);
		return NULL;
	}
	/* A serial that stays the same for the same directory, so hosts recognise it. */
	if (stat(opts->dir, &sb) == 0)
		snprintf(m->serial, sizeof(m->serial), "%08llx%08llx",
			 (unsigned long long)sb.st_dev & 0xffffffffull,
			 (unsigned long long)sb.st_ino & 0xffffffffull);
	memcpy(strings, strings_template, sizeof(strings));
	strings[2] = m->serial;
	cfg.priv = m;
	m->vdev = vdev_new(&cfg);
	if (!m->vdev) {
		mtp_store_close(m->store);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void mtp_device_free(struct mtp_device *m)
{
	if (!m)
		return;
	reset_state(m);
	vdev_free(m->vdev);
	mtp_store_close(m->store);
	free(m);
}

struct vdev *mtp_device_vdev(struct mtp_device *m)
{
	return m->vdev;
}

int mtp_device_watch_fd(const struct mtp_device *m)
{
	return mtp_store_watch_fd(m->store);
}

static void send_event(void *arg, uint16_t code, uint32_t handle)
{
	struct mtp_device *m = arg;
	struct mtp_operation ev = { .code = code, .params = { handle }, .num_params = 1 };
	uint8_t buf[MTP_COMMAND_MAX];

	log_debug("mtp: event 0x%04x for object %u", code, handle);
	if (!m->session_open || !vdev_configured(m->vdev))
		return;
	/* Bounded: an initiator that never reads events loses the oldest news, not memory. */
	if (vdev_in_queued(m->vdev, EP_INTR_IN) > EVENTS_QUEUED)
		vdev_in_flush(m->vdev, EP_INTR_IN);
	vdev_in_write(m->vdev, EP_INTR_IN, buf, mtp_encode_event(buf, &ev), true);
}

void mtp_device_process_changes(struct mtp_device *m)
{
	mtp_store_read_events(m->store, send_event, m);
}
