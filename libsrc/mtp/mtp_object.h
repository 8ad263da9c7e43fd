/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Storage and object operations (mtp_object.c), and the lookups of
 * storages and objects by handle that the property operations share.
 * The operations fill in a result (mtp_result.h); the session answers it.
 */
#ifndef USBIP_MTP_OBJECT_H
#define USBIP_MTP_OBJECT_H

#include "mtp/mtp_state.h"

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

/*
 * The operations. An operation with a data phase from the host has two:
 * the first checks the command and says where the data goes (a RECEIVE
 * result, or a response that refuses it), _done answers once it is in.
 */
void mtp_object_get_storage_ids(struct mtp_device *m, struct mtp_result *r);
void mtp_object_get_storage_info(struct mtp_device *m, struct mtp_result *r);
void mtp_object_get_handles(struct mtp_device *m, struct mtp_result *r);
void mtp_object_get_info(struct mtp_device *m, struct mtp_result *r);
void mtp_object_get(struct mtp_device *m, struct mtp_result *r);
void mtp_object_delete(struct mtp_device *m, struct mtp_result *r);
void mtp_object_move_copy(struct mtp_device *m, struct mtp_result *r);
void mtp_object_get_references(struct mtp_device *m, struct mtp_result *r);
void mtp_object_set_references(struct mtp_device *m, struct mtp_result *r);
void mtp_object_set_references_done(struct mtp_device *m, struct mtp_result *r);
void mtp_object_truncate(struct mtp_device *m, struct mtp_result *r);
void mtp_object_edit(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_info(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_info_done(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_prop_list(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_prop_list_done(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_done(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_partial(struct mtp_device *m, struct mtp_result *r);
void mtp_object_send_partial_done(struct mtp_device *m, struct mtp_result *r);

#endif
