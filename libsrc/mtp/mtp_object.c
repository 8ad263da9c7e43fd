// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storage and object operations: listing, ObjectInfo, reading, sending,
 * deleting, moving and copying objects, and Android's edit operations.
 */
#include "mtp/mtp_object.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define RC_PartialDeletion   0x2012
#define RC_NoValidObjectInfo 0x2015

/* ---- helpers ---- */

bool mtp_object_valid_handle(uint32_t h)
{
	return h != 0 && h != MTP_ALL_HANDLES;
}

struct mtp_storage *mtp_object_storage(struct mtp_device *m, uint32_t id)
{
	size_t i;

	for (i = 0; i < m->num_storages; i++)
		if (m->storages[i].id == id)
			return &m->storages[i];
	return NULL;
}

struct mtp_storage *mtp_object_find(struct mtp_device *m, uint32_t handle, uint32_t *local)
{
	uint32_t index = handle >> MTP_HANDLE_SHIFT;

	*local = handle & MTP_LOCAL_MASK;
	if (!mtp_object_valid_handle(handle) || index >= m->num_storages || *local == 0)
		return NULL;
	return &m->storages[index];
}

uint32_t mtp_object_handle(const struct mtp_storage *s, uint32_t local)
{
	return local == MTP_STORE_ROOT ? 0 : (uint32_t)s->index << MTP_HANDLE_SHIFT | local;
}

/* The entry of a device-wide handle, refreshed (mtp_store_get) or as last listed (peek). */
static int object_entry(struct mtp_device *m, uint32_t handle, bool refresh, struct mtp_storage **s,
			struct mtp_entry *e)
{
	uint32_t local;

	*s = mtp_object_find(m, handle, &local);
	if (!*s || (refresh ? mtp_store_get((*s)->store, local, e)
			    : mtp_store_peek((*s)->store, local, e)))
		return -ENOENT;
	e->handle = mtp_object_handle(*s, e->handle);
	e->parent = mtp_object_handle(*s, e->parent);
	return 0;
}

int mtp_object_entry(struct mtp_device *m, uint32_t handle, struct mtp_storage **s,
		     struct mtp_entry *e)
{
	return object_entry(m, handle, true, s, e);
}

int mtp_object_peek(struct mtp_device *m, uint32_t handle, struct mtp_storage **s,
		    struct mtp_entry *e)
{
	return object_entry(m, handle, false, s, e);
}

/* Appends a store's listing to *all, made device-wide. */
static int list_one(struct mtp_storage *s, uint32_t local, bool recursive, uint32_t **all,
		    size_t *count)
{
	uint32_t *handles, *bigger;
	size_t n, i;
	int rc = mtp_store_list(s->store, local, recursive, &handles, &n);

	if (rc)
		return rc;
	bigger = n ? realloc(*all, (*count + n) * sizeof(**all)) : *all;
	if (n && !bigger) {
		free(handles);
		return -ENOMEM;
	}
	*all = bigger;
	for (i = 0; i < n; i++)
		(*all)[(*count)++] = mtp_object_handle(s, handles[i]);
	free(handles);
	return 0;
}

int mtp_object_list(struct mtp_device *m, struct mtp_storage *s, uint32_t parent, bool recursive,
		    uint32_t **handles, size_t *count)
{
	uint32_t local;
	size_t i;
	int rc = 0;

	*handles = NULL;
	*count = 0;
	if (parent != 0) {
		struct mtp_storage *ps = mtp_object_find(m, parent, &local);

		if (!ps || (s && ps != s))
			return -ENOENT;
		rc = list_one(ps, local, recursive, handles, count);
	} else {
		for (i = 0; i < m->num_storages && !rc; i++)
			if (!s || s == &m->storages[i])
				rc = list_one(&m->storages[i], MTP_STORE_ROOT, recursive, handles,
					      count);
	}
	if (rc) {
		free(*handles);
		*handles = NULL;
		*count = 0;
	}
	return rc;
}

uint16_t mtp_object_format_of(const struct mtp_entry *e)
{
	return e->is_dir ? PTP_OFC_Association : PTP_OFC_Undefined;
}

void mtp_object_date(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y%m%dT%H%M%S", &tm) == 0)
		snprintf(out, cap, "19700101T000000");
}

void mtp_object_cancel_send(struct mtp_device *m)
{
	uint32_t local;
	struct mtp_storage *s;

	if (!m->send_pending)
		return;
	m->send_fd = -1; /* the store's */
	s = mtp_object_find(m, m->send_handle, &local);
	if (s)
		mtp_store_upload_abort(s->store, local);
	m->send_pending = false;
}

/*
 * Where an object goes (SendObjectInfo, SendObjectPropList, MoveObject,
 * CopyObject): a StorageID (0: the parent's, or the first storage) and a
 * parent (0 or 0xffffffff: the storage's top). The parent must be a folder
 * of that storage. 0 or the response code.
 */
static uint16_t destination(struct mtp_device *m, uint32_t storage, uint32_t parent,
			    struct mtp_storage **s, uint32_t *local_parent)
{
	struct mtp_storage *want = storage ? mtp_object_storage(m, storage) : NULL;
	struct mtp_entry e;

	if (storage && !want)
		return PTP_RC_InvalidStorageId;
	if (parent == 0 || parent == MTP_ROOT_PARENT) {
		*s = want ? want : &m->storages[0];
		*local_parent = MTP_STORE_ROOT;
		return 0;
	}
	if (mtp_object_entry(m, parent, s, &e) || !e.is_dir || (want && *s != want))
		return PTP_RC_InvalidParentObject;
	*local_parent = parent & MTP_LOCAL_MASK;
	return 0;
}

/* ---- storages ---- */

void mtp_object_get_storage_ids(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_buf b = { 0 };
	uint32_t ids[MTP_MAX_STORAGES];
	size_t i;

	for (i = 0; i < m->num_storages; i++)
		ids[i] = m->storages[i].id;
	mtp_container_put_u32_array(&b, ids, m->num_storages);
	mtp_result_dataset(r, &b);
}

/* Each storage with its own folder's size, free space and read-only flag. */
void mtp_object_get_storage_info(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s = mtp_object_storage(m, m->op.params[0]);
	struct mtp_storage_info info = { 0 };
	struct mtp_buf b = { 0 };

	if (!s) {
		mtp_result_rc(r, PTP_RC_InvalidStorageId);
		return;
	}
	info.read_only = s->read_only;
	info.description = s->description;
	info.volume = s->volume;
	mtp_store_space(s->store, &info.capacity, &info.free_bytes);
	mtp_container_encode_storage_info(&b, &info);
	mtp_result_dataset(r, &b);
}

/* ---- reading ---- */

/*
 * GetObjectHandles / GetNumObjects: the handles for (storage, format,
 * parent). Storage 0xffffffff is every storage; parent 0 every object of
 * them, 0xffffffff their top level, a folder its children.
 */
static int select_handles(struct mtp_device *m, uint32_t **handles, size_t *count)
{
	uint32_t storage = m->op.params[0], format = m->op.params[1], parent = m->op.params[2];
	struct mtp_storage *s = NULL;
	size_t i, j;
	int rc;

	if (m->op.num_params < 1 ||
	    (storage != MTP_ALL_STORAGES && !(s = mtp_object_storage(m, storage))))
		return PTP_RC_InvalidStorageId;
	if (m->op.num_params < 3)
		parent = 0;
	if (parent == 0)
		rc = mtp_object_list(m, s, 0, true, handles, count);
	else
		rc = mtp_object_list(m, s, parent == MTP_ROOT_PARENT ? 0 : parent, false, handles,
				     count);
	if (rc)
		return rc == -ENOTDIR || rc == -ENOENT ? PTP_RC_InvalidParentObject
						       : mtp_result_rc_of_errno(rc);
	if (m->op.num_params >= 2 && format != 0) {
		for (i = j = 0; i < *count; i++) {
			struct mtp_storage *es;
			struct mtp_entry e;

			if (mtp_object_peek(m, (*handles)[i], &es, &e) == 0 &&
			    mtp_object_format_of(&e) == format)
				(*handles)[j++] = (*handles)[i];
		}
		*count = j;
	}
	return 0;
}

void mtp_object_get_handles(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t *handles;
	size_t count;
	int rc = select_handles(m, &handles, &count);
	struct mtp_buf b = { 0 };

	if (rc) {
		mtp_result_rc(r, (uint16_t)rc);
		return;
	}
	if (m->op.code == PTP_OC_GetNumObjects) {
		uint32_t n = (uint32_t)count;

		free(handles);
		mtp_result_rc1(r, PTP_RC_OK, n);
		return;
	}
	mtp_container_put_u32_array(&b, handles, count);
	free(handles);
	mtp_result_dataset(r, &b);
}

/* The object the operation's first parameter names; false once InvalidObjectHandle is answered. */
static bool op_object(struct mtp_device *m, struct mtp_result *r, struct mtp_storage **s,
		      struct mtp_entry *e)
{
	if (mtp_object_entry(m, m->op.params[0], s, e) == 0)
		return true;
	mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
	return false;
}

void mtp_object_get_info(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_object_info info = { 0 };
	struct mtp_storage *s;
	struct mtp_entry e;
	struct mtp_buf b = { 0 };

	if (!op_object(m, r, &s, &e))
		return;
	info.storage_id = s->id;
	info.format = mtp_object_format_of(&e);
	info.compressed_size = e.size >= 0xffffffffu ? 0xffffffffu : (uint32_t)e.size;
	info.parent = e.parent;
	info.association_type = e.is_dir ? PTP_AT_GenericFolder : 0;
	snprintf(info.filename, sizeof(info.filename), "%s", e.name);
	mtp_object_date(e.mtime, info.modified, sizeof(info.modified));
	mtp_container_encode_object_info(&b, &info);
	mtp_result_dataset(r, &b);
}

/* GetObject, GetPartialObject, GetPartialObject64. */
void mtp_object_get(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local;
	struct mtp_storage *s = mtp_object_find(m, m->op.params[0], &local);
	uint64_t offset = 0, size, count;
	bool partial = m->op.code != PTP_OC_GetObject;
	struct stat sb;
	int fd;

	if (!s) {
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
		return;
	}
	fd = mtp_store_open_file(s->store, local, O_RDONLY);
	if (fd < 0) {
		mtp_result_rc(r, mtp_result_rc_of_errno(fd));
		return;
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		mtp_result_rc(r, PTP_RC_GeneralError);
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
	mtp_result_file(r, fd, offset, count, partial);
}

void mtp_object_get_references(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s;
	struct mtp_entry e;
	struct mtp_buf b = { 0 };

	if (!op_object(m, r, &s, &e))
		return;
	mtp_container_put_u32_array(&b, NULL, 0);
	mtp_result_dataset(r, &b);
}

/*
 * SetObjectReferences: the objects here are files and folders, which
 * reference nothing. An empty list is what they have (OK); a list with
 * handles would be kept nowhere: refused, not pretended.
 */
void mtp_object_set_references(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s;
	struct mtp_entry e;

	if (op_object(m, r, &s, &e))
		mtp_result_into_buffer(r);
}

void mtp_object_set_references_done(struct mtp_device *m, struct mtp_result *r)
{
	struct usbip_error err;
	uint32_t count;

	if (mtp_container_decode_u32_array(m->dataset.data, m->dataset.len, &count, &err)) {
		log_warn("mtp: SetObjectReferences: %s", err.msg);
		mtp_result_rc(r, MTP_RC_InvalidDataset);
		return;
	}
	mtp_result_rc(r, count ? PTP_RC_AccessDenied : PTP_RC_OK);
}

/* ---- changing ---- */

/*
 * After a change made through a descriptor of ours: the store learns the
 * object's new stat, so the inotify events it caused are not reported to
 * the initiator as ObjectInfoChanged (it made the change itself).
 */
static void known_now(struct mtp_storage *s, uint32_t local)
{
	struct mtp_entry e;

	mtp_store_get(s->store, local, &e);
}

/* The storage of an object that is to change: NULL, and the answer in r, when it cannot. */
static struct mtp_storage *writable(struct mtp_device *m, struct mtp_result *r, uint32_t handle,
				    uint32_t *local)
{
	struct mtp_storage *s = mtp_object_find(m, handle, local);

	if (!s)
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
	else if (s->read_only)
		mtp_result_rc(r, PTP_RC_StoreReadOnly);
	else
		return s;
	return NULL;
}

void mtp_object_delete(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local;
	struct mtp_storage *s;
	int rc;

	if (m->op.params[0] == MTP_ALL_HANDLES) {
		/* "Delete everything" is never what a user of a shared folder wants. */
		mtp_result_rc(r, PTP_RC_AccessDenied);
		return;
	}
	s = writable(m, r, m->op.params[0], &local);
	if (!s)
		return;
	rc = mtp_store_delete(s->store, local);
	if (rc == -ENOTEMPTY || rc == -EIO)
		mtp_result_rc(r, RC_PartialDeletion);
	else
		mtp_result_rc(r, rc ? mtp_result_rc_of_errno(rc) : PTP_RC_OK);
}

/*
 * MoveObject / CopyObject: handle, StorageID, parent (0: the storage's
 * top). Folders are copied with everything in them. Within a storage a
 * move keeps the handle; into another storage (a rename when the folders
 * share a file system, a copy and a delete when not) the object gets a
 * handle there, and events tell the initiator: ObjectRemoved for the old
 * handle, ObjectAdded for the new one.
 */
void mtp_object_move_copy(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local, parent, new_local = 0;
	struct mtp_storage *s, *to;
	bool move = m->op.code == PTP_OC_MoveObject;
	uint16_t code;
	int rc;

	s = mtp_object_find(m, m->op.params[0], &local);
	if (!s) {
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
		return;
	}
	if (m->op.params[1] == 0) {
		mtp_result_rc(r, PTP_RC_InvalidStorageId);
		return;
	}
	code = destination(m, m->op.params[1], m->op.params[2], &to, &parent);
	if (code) {
		mtp_result_rc(r, code);
		return;
	}
	if (to->read_only || (move && s->read_only)) {
		mtp_result_rc(r, PTP_RC_StoreReadOnly);
		return;
	}
	if (!move) {
		rc = mtp_store_copy(s->store, local, to->store, parent, &new_local);
	} else {
		rc = mtp_store_move_to(s->store, local, to->store, parent, &new_local);
		if (rc == -EXDEV) {
			rc = mtp_store_copy(s->store, local, to->store, parent, &new_local);
			if (!rc && mtp_store_delete(s->store, local) != 0) {
				/* Both are there now: better than neither. */
				log_warn("mtp: moved by copying, but the original could not go");
				rc = -EIO;
			}
		}
	}
	if (rc) {
		mtp_result_rc(r, rc == -EEXIST			   ? PTP_RC_AccessDenied
				 : rc == -ENOTDIR || rc == -EINVAL ? PTP_RC_InvalidParentObject
								   : mtp_result_rc_of_errno(rc));
		return;
	}
	if (!move) {
		mtp_result_rc1(r, PTP_RC_OK, mtp_object_handle(to, new_local));
		return;
	}
	mtp_result_rc(r, PTP_RC_OK);
	if (to != s) {
		mtp_result_event(r, PTP_EC_ObjectRemoved, mtp_object_handle(s, local));
		mtp_result_event(r, PTP_EC_ObjectAdded, mtp_object_handle(to, new_local));
	}
}

void mtp_object_truncate(struct mtp_device *m, struct mtp_result *r)
{
	uint64_t size = m->op.params[1] | (uint64_t)m->op.params[2] << 32;
	uint32_t local;
	struct mtp_storage *s = writable(m, r, m->op.params[0], &local);
	int fd, rc = 0;

	if (!s)
		return;
	fd = mtp_store_open_file(s->store, local, O_RDWR);
	if (fd < 0) {
		mtp_result_rc(r, mtp_result_rc_of_errno(fd));
		return;
	}
	if (size > INT64_MAX || ftruncate(fd, (off_t)size) != 0)
		rc = size > INT64_MAX ? -EINVAL : -errno;
	close(fd);
	known_now(s, local);
	mtp_result_rc(r, rc ? mtp_result_rc_of_errno(rc) : PTP_RC_OK);
}

/* BeginEditObject / EndEditObject: nothing to prepare, the object must be a file. */
void mtp_object_edit(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local;
	struct mtp_storage *s = writable(m, r, m->op.params[0], &local);
	struct mtp_entry e;

	if (!s)
		return;
	if (mtp_store_get(s->store, local, &e) || e.is_dir) {
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
		return;
	}
	mtp_result_rc(r, PTP_RC_OK);
}

/* ---- sending: SendObjectInfo, then SendObject ---- */

/* SendObjectInfo and SendObjectPropList: storage and parent are their first two parameters. */
static void start_send(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s;
	uint32_t parent;
	uint16_t rc = destination(m, m->op.params[0], m->op.params[1], &s, &parent);

	if (!rc && s->read_only)
		rc = PTP_RC_StoreReadOnly;
	if (rc)
		mtp_result_rc(r, rc);
	else
		mtp_result_into_buffer(r);
}

/*
 * Makes the object a SendObjectInfo or SendObjectPropList announced: a
 * folder at once, a file (empty) that the SendObject to come fills.
 * nparams: 3 (SendObjectInfo) or 4 (SendObjectPropList, FailedPropIndex 0).
 */
static void create_object(struct mtp_device *m, struct mtp_result *r, const char *name, bool dir,
			  uint64_t size, unsigned int nparams)
{
	struct mtp_storage *s;
	uint32_t parent, handle, resp[4] = { 0 };
	uint16_t code = destination(m, m->op.params[0], m->op.params[1], &s, &parent);
	int rc, fd = -1;

	if (code) { /* the parent went away during the data phase */
		mtp_result_rc(r, code);
		return;
	}
	if (!mtp_store_name_ok(name)) {
		log_warn("mtp: refused file name \"%s\"", name);
		mtp_result_rc(r, PTP_RC_InvalidParameter);
		return;
	}
	mtp_object_cancel_send(m); /* an object announced and never sent */
	rc = dir ? mtp_store_create(s->store, parent, name, true, &handle, NULL)
		 : mtp_store_upload_begin(s->store, parent, name, &handle, &fd);
	if (rc) {
		log_info("mtp: creating \"%s\": %s", name, strerror(-rc));
		mtp_result_rc(r, rc == -EEXIST			   ? PTP_RC_AccessDenied
				 : rc == -ENOENT || rc == -ENOTDIR ? PTP_RC_InvalidParentObject
								   : mtp_result_rc_of_errno(rc));
		return;
	}
	handle = mtp_object_handle(s, handle);
	if (!dir) {
		m->send_pending = true;
		m->send_handle = handle;
		m->send_fd = fd;
		m->send_size = size;
	}
	resp[0] = s->id;
	resp[1] = parent == MTP_STORE_ROOT ? MTP_ROOT_PARENT : m->op.params[1];
	resp[2] = handle;
	mtp_result_respond(r, PTP_RC_OK, nparams, resp);
}

void mtp_object_send_info(struct mtp_device *m, struct mtp_result *r)
{
	start_send(m, r);
}

void mtp_object_send_info_done(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_object_info info;
	struct usbip_error err;

	if (mtp_container_decode_object_info(m->dataset.data, m->dataset.len, &info, &err)) {
		log_warn("mtp: SendObjectInfo: %s", err.msg);
		mtp_result_rc(r, MTP_RC_InvalidDataset);
		return;
	}
	create_object(m, r, info.filename, info.format == PTP_OFC_Association,
		      info.compressed_size == 0xffffffffu ? UINT64_MAX : info.compressed_size, 3);
}

/*
 * SendObjectPropList (MTP 1.1 D.2.30, what Windows uploads with): storage,
 * parent, format, and the size in two halves (high, then low) in the
 * command; the properties in the data; SendObject follows, as after
 * SendObjectInfo.
 */
void mtp_object_send_prop_list(struct mtp_device *m, struct mtp_result *r)
{
	start_send(m, r);
}

void mtp_object_send_prop_list_done(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_prop_list_info info;
	struct usbip_error err;
	uint32_t failed, resp[4] = { 0 };
	uint64_t size = (uint64_t)m->op.params[3] << 32 | m->op.params[4];

	if (mtp_container_decode_send_prop_list(m->dataset.data, m->dataset.len, &info, &failed,
						&err)) {
		log_warn("mtp: SendObjectPropList: %s", err.msg);
		resp[3] = failed;
		mtp_result_respond(r, MTP_RC_InvalidDataset, 4, resp);
		return;
	}
	create_object(m, r, info.filename, m->op.params[2] == PTP_OFC_Association, size, 4);
}

void mtp_object_send(struct mtp_device *m, struct mtp_result *r)
{
	if (!m->send_pending) {
		mtp_result_rc(r, RC_NoValidObjectInfo);
		return;
	}
	mtp_result_into_file(r, m->send_fd, 0, false);
	r->out.limit = m->send_size; /* UINT64_MAX: not declared (4 GiB or more) */
}

/*
 * The data is in: the file gets its name (mtp_store_upload_commit) if it
 * is all there. One the initiator declared the size of is incomplete when
 * shorter or longer; a name a local file took meanwhile is not
 * overwritten (AccessDenied, as SendObjectInfo answers a taken name).
 */
void mtp_object_send_done(struct mtp_device *m, struct mtp_result *r)
{
	struct mtp_storage *s;
	uint32_t local;
	int rc;

	if (m->send_size != UINT64_MAX && m->received != m->send_size) {
		log_info("mtp: upload of %llu bytes declared, %llu sent: not kept",
			 (unsigned long long)m->send_size, (unsigned long long)m->received);
		mtp_object_cancel_send(m); /* a partial file is not kept */
		mtp_result_rc(r, PTP_RC_IncompleteTransfer);
		return;
	}
	s = mtp_object_find(m, m->send_handle, &local);
	rc = s ? mtp_store_upload_commit(s->store, local) : -ENOENT;
	m->send_pending = false;
	m->send_fd = -1;
	if (rc) {
		log_info("mtp: completing an upload: %s", strerror(-rc));
		mtp_result_rc(r, rc == -EEXIST ? PTP_RC_AccessDenied : mtp_result_rc_of_errno(rc));
		return;
	}
	mtp_result_rc(r, PTP_RC_OK);
}

/* Android's SendPartialObject: handle, 64-bit offset, length; the data goes in place. */
void mtp_object_send_partial(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local;
	struct mtp_storage *s = mtp_object_find(m, m->op.params[0], &local);
	int fd;

	if (!s) {
		mtp_result_rc(r, PTP_RC_InvalidObjectHandle);
		return;
	}
	if (s->read_only) {
		mtp_result_rc(r, PTP_RC_StoreReadOnly);
		return;
	}
	fd = mtp_store_open_file(s->store, local, O_RDWR);
	if (fd < 0) {
		mtp_result_rc(r, mtp_result_rc_of_errno(fd));
		return;
	}
	mtp_result_into_file(r, fd, m->op.params[1] | (uint64_t)m->op.params[2] << 32, true);
}

void mtp_object_send_partial_done(struct mtp_device *m, struct mtp_result *r)
{
	uint32_t local;
	struct mtp_storage *s = mtp_object_find(m, m->op.params[0], &local);

	if (s)
		known_now(s, local); /* the data is written and its descriptor closed */
	mtp_result_rc(r, PTP_RC_OK);
}
