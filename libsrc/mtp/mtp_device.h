/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An MTP responder (a "phone" in MTP terms) on a virtual USB device: the
 * still-image-class interface (06/01/01, "MTP" in its string) with bulk IN,
 * bulk OUT and interrupt IN endpoints, the PTP/MTP operations over one
 * mtp_store per folder (one MTP storage each), the PTP class requests, the
 * Microsoft OS descriptors, and events for changes others make under the
 * folders.
 *
 * The files of the layer, lowest first; each includes only headers of the
 * ones before it, so calls only go down:
 *   mtp_limits     the limits (no code), also for the layer's callers
 *   mtp_container  the wire format: containers and datasets <-> structs
 *   mtp_store      one folder as an object store (handles, files, uploads)
 *   mtp_result     what an operation answers, as a value
 *   mtp_state      the state of one device (a struct, no functions)
 *   mtp_object     storage and object operations: they return results
 *   mtp_prop       property operations: they return results
 *   mtp_stream     data phases: file data to the host, the host's data in
 *   mtp_session    dispatch and the session: the one writer of responses
 *   mtp_device     the USB side: descriptors, class requests, vdev callbacks
 * The virtual device engine (vdev) asks for what to send next (in_next,
 * in_direct); nothing here writes into it from inside those calls.
 */
#ifndef USBIP_MTP_DEVICE_H
#define USBIP_MTP_DEVICE_H

#include <stdbool.h>

#include "mtp/mtp_limits.h"
#include "vdev/vdev.h"

#define MTP_VENDOR_ID  0x1d6b /* Linux Foundation */
#define MTP_PRODUCT_ID 0x0100 /* "PTP Gadget" in usb.ids */

/* One folder, one MTP storage. */
struct mtp_storage_options {
	const char *dir;
	const char *name; /* its description; NULL: the folder's own name */
	bool read_only;
};

struct mtp_device_options {
	const struct mtp_storage_options *storages; /* 1..MTP_MAX_STORAGES */
	size_t num_storages;
	bool read_only;	    /* every storage */
	const char *name;   /* the USB product and the DeviceFriendlyName (NULL: serve-mtp) */
	const char *serial; /* NULL: one derived from the folders' absolute paths */
};

/*
 * The argument of --dir, PATH[:NAME[:ro]], split in place: PATH ends at the
 * first ':', a trailing ":ro" marks it read-only, NAME is what is between
 * (PATH::ro: read-only, no name). 0, or -1 with a message in err.
 */
int mtp_device_parse_dir(char *arg, struct mtp_storage_options *st, char *err, size_t cap);
/*
 * Refuses more than MTP_MAX_STORAGES folders, a folder given twice, or one
 * inside another (by absolute path, and the same directory under two
 * paths): -1 and a message in err. A folder that is not there, or not a
 * directory: -2 and the message. 0 when all is well.
 */
int mtp_device_check_dirs(const struct mtp_storage_options *st, size_t n, char *err, size_t cap);
/* A --serial: 1..32 letters, digits, '-', '_' or '.' (a USB serial Windows takes). */
bool mtp_device_serial_ok(const char *serial);

struct mtp_device;

/* NULL with errno set when a folder cannot be opened (errno EINVAL: bad options). */
struct mtp_device *mtp_device_new(const struct mtp_device_options *opts);
void mtp_device_free(struct mtp_device *mdev);
struct vdev *mtp_device_vdev(struct mtp_device *mdev);
/* A descriptor to poll for POLLIN; then call mtp_device_process_changes. */
int mtp_device_watch_fd(const struct mtp_device *mdev);
/* Reads what changed under the folders and sends the events (in a session). */
void mtp_device_process_changes(struct mtp_device *mdev);

#endif
