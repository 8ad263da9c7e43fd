/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The objects of an MTP storage: a directory tree, numbered with handles.
 *
 * Nothing outside the directory is ever touched. Every access walks from
 * the directory's own descriptor one name at a time with openat(2) and
 * O_NOFOLLOW, names come from readdir or are checked (no '/', no "." or
 * "..", no NUL, not empty), and only regular files and directories are
 * shown: symlinks, devices, FIFOs and sockets are not objects. So a
 * symlink, or a directory swapped for one behind our back, makes an access
 * fail (ELOOP/ENOTDIR) instead of leading out.
 *
 * Handles stay the same for a name as long as it exists; a listing rescans
 * the directory, and inotify reports changes made by others: a folder
 * that appears in one the store knows is watched at once, and the store's
 * own changes, whose results it knows, are not reported back.
 */
#ifndef USBIP_MTP_STORE_H
#define USBIP_MTP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTP_STORE_ROOT 0 /* the handle of the top directory (never an object itself) */
/* Handles stay at or below this: a device serving several stores keeps the store in the top bits.
 */
#define MTP_STORE_HANDLE_MAX 0x0fffffffu

struct mtp_store;

struct mtp_entry {
	uint32_t handle;
	uint32_t parent;  /* MTP_STORE_ROOT at the top */
	const char *name; /* valid until the store changes */
	bool is_dir;
	uint64_t size;
	int64_t mtime;
	uint64_t ino, dev;
};

/* Opens dir; NULL with errno set (the caller says why). */
struct mtp_store *mtp_store_open(const char *dir, bool read_only);
void mtp_store_close(struct mtp_store *store);

/* A name a client may give: not empty, no '/', not "." or "..", at most 255 bytes. */
bool mtp_store_name_ok(const char *name);

/* The entry of handle, its metadata refreshed; -ENOENT if it is gone or unknown. */
int mtp_store_get(struct mtp_store *store, uint32_t handle, struct mtp_entry *e);
/* The entry as last seen by a listing, without touching the file system. */
int mtp_store_peek(const struct mtp_store *store, uint32_t handle, struct mtp_entry *e);

/*
 * Handles of parent's children (recursive: all its descendants), after
 * rescanning. *handles is malloc'd. 0 or -errno (-ENOENT, -ENOTDIR).
 */
int mtp_store_list(struct mtp_store *store, uint32_t parent, bool recursive, uint32_t **handles,
		   size_t *count);

/* A descriptor of a regular file object (flags: O_RDONLY or O_RDWR); -errno on failure. */
int mtp_store_open_file(struct mtp_store *store, uint32_t handle, int flags);

/*
 * Creates a file (returning a writable descriptor in *fd) or a directory
 * named name in parent. -EEXIST when the name is taken.
 */
int mtp_store_create(struct mtp_store *store, uint32_t parent, const char *name, bool dir,
		     uint32_t *handle, int *fd);
/*
 * An upload, atomic: a file named name in parent that appears under its
 * name only at mtp_store_upload_commit, with all its data on disk. Until
 * then the data goes, through *fd (the store's: written, not closed), to
 * a hidden temporary in that folder, named MTP_STORE_UPLOAD_PREFIX and
 * random characters: never an object, never a name a client may give,
 * and removed when a store opens or lists its folder and no live upload
 * holds it (what a killed process left). *handle is the object's from the
 * commit on. -EEXIST when the name is taken now.
 */
#define MTP_STORE_UPLOAD_PREFIX ".serve-mtp-upload-"
int mtp_store_upload_begin(struct mtp_store *store, uint32_t parent, const char *name,
			   uint32_t *handle, int *fd);
/*
 * Flushes the data (fsync) and gives the file its name, never over
 * another file: -EEXIST when one took the name meanwhile (it stays as it
 * is). Either way the upload is over: on failure nothing of it is left.
 */
int mtp_store_upload_commit(struct mtp_store *store, uint32_t handle);
/* Drops an upload: its temporary goes (only the file the store made, by device and inode). */
void mtp_store_upload_abort(struct mtp_store *store, uint32_t handle);
/* Deletes an object (a directory with everything in it). */
int mtp_store_delete(struct mtp_store *store, uint32_t handle);
int mtp_store_rename(struct mtp_store *store, uint32_t handle, const char *name);
int mtp_store_move(struct mtp_store *store, uint32_t handle, uint32_t new_parent);
/*
 * Moves an object into new_parent of store to (another store, or the
 * same), keeping its name; in to it has *new_handle. -EXDEV when the two
 * are on different file systems: the caller copies, then deletes.
 */
int mtp_store_move_to(struct mtp_store *store, uint32_t handle, struct mtp_store *to,
		      uint32_t new_parent, uint32_t *new_handle);
/*
 * Copies an object (a file, or a folder with all in it) into new_parent
 * of store to (which may be store itself) under the same name. Copying
 * a folder into itself is -EINVAL; on failure nothing of the copy stays.
 */
int mtp_store_copy(struct mtp_store *store, uint32_t handle, struct mtp_store *to,
		   uint32_t new_parent, uint32_t *new_handle);
/* Size and free bytes of the file system under the directory. */
int mtp_store_space(struct mtp_store *store, uint64_t *capacity, uint64_t *free_bytes);
bool mtp_store_read_only(const struct mtp_store *store);

/* Changes made by others, read from inotify: poll watch_fd for POLLIN, then read them. */
int mtp_store_watch_fd(const struct mtp_store *store);
typedef void (*mtp_store_event_fn)(void *arg, uint16_t event_code, uint32_t handle);
void mtp_store_read_events(struct mtp_store *store, mtp_store_event_fn fn, void *arg);

#endif
