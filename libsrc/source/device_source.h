/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where exported devices come from. A device source lists the devices it
 * can export, looks one up, makes one ready, takes the connection of an
 * importer (classic mode) or of an accepted export (connect mode), and
 * gives the device back. Three sources implement it: the usbip-host stub
 * (host_source.c), usbip-vudc gadgets (vudc_source.c) and virtual devices
 * made in user space (vdev_source.c). The DEVLIST/IMPORT server
 * (device_server.c) and the export exchange (device_export.c) are written
 * once, against this interface.
 */
#ifndef USBIP_SOURCE_DEVICE_SOURCE_H
#define USBIP_SOURCE_DEVICE_SOURCE_H

#include <stddef.h>
#include <sys/queue.h>

#include "daemon/metrics.h"
#include "match/selector.h"
#include "kernel/host.h"
#include "net/conn.h"
#include "util/json.h"
#include "wire/usbip_proto.h"

struct device_source;

struct device_source_ops {
	/*
	 * Every device the source could export now, each with its status
	 * (available, used, error). Returns 0 and a malloc'd array, or -1
	 * (logged).
	 */
	int (*list)(struct device_source *src, struct usbip_local_device **devs, size_t *count);
	/*
	 * Every device prepare could make exportable, those list has among
	 * them (usbip-host: every device but hubs and imported ones, bound or
	 * not). NULL where that is what list gives.
	 */
	int (*candidates)(struct device_source *src, struct usbip_local_device **devs,
			  size_t *count);
	/* What list and candidates give, for "no exportable device matches -b 1-9". */
	const char *list_noun, *candidates_noun;
	/* Fills dev for busid; -1 (logged) if the source has no such device. */
	int (*get)(struct device_source *src, const char *busid, struct usbip_local_device *dev);
	/*
	 * Makes busid exportable (usbip-host: binds it). NULL where every
	 * listed device is exportable as it is.
	 */
	int (*prepare)(struct device_source *src, const char *busid);
	/*
	 * Hands the connection over once the peer has its reply: from now on
	 * URBs flow between the peer and the device. The source owns conn
	 * whatever it returns. With watch_fd, a kernel driver's source also
	 * returns a duplicate of the socket it gave the driver (or -1): it
	 * hangs up when the driver drops the connection, so a caller can wait
	 * for that on its event loop instead of polling sysfs. Returns
	 * USBIP_ST_OK or why not.
	 */
	enum usbip_op_status (*hand_over)(struct device_source *src, const char *busid,
					  struct usbip_conn *conn, int *watch_fd);
	/*
	 * Gives busid back to whoever had it before prepare (usbip-host: its
	 * own driver). NULL where there is nothing to give back.
	 */
	int (*release)(struct device_source *src, const char *busid);
	/*
	 * Takes busid back from a connection nobody here holds (the kernel
	 * still has it), so that it can be exported again. NULL: cannot.
	 */
	int (*reclaim)(struct device_source *src, const char *busid);
	void (*destroy)(struct device_source *src);
};

/* An import or export this source has given a connection to, for status. */
struct device_session {
	TAILQ_ENTRY(device_session) entry;
	char busid[USBIP_BUSID_SIZE];
	char peer[80];
	long long since;       /* the wall clock */
	const char *transport; /* "tcp" or "tls" */
	const char *datapath;  /* with TLS: "ktls" or "relay" */
};

TAILQ_HEAD(device_sessions, device_session);

struct device_source {
	const struct device_source_ops *ops;
	const char *kind; /* "usbip-host", "usbip-vudc", "virtual": for logs */
	struct device_sessions sessions;
};

/*
 * For the kernel drivers' sources: hands conn's socket to a driver with
 * export (host_export, vudc_export), which takes its own
 * reference, so conn is closed here whatever happens; with watch_fd, a
 * duplicate of that socket for the caller (see hand_over).
 */
enum usbip_op_status
device_source_hand_to_kernel(const char *busid, struct usbip_conn *conn,
			     enum usbip_op_status (*export)(const char *busid, int sockfd,
							    struct usbip_local_device *dev),
			     int *watch_fd);

/* For the implementations: sets up the base. */
void device_source_init(struct device_source *src, const struct device_source_ops *ops,
			const char *kind);

/* Notes who gets busid over conn (before hand_over, which takes conn). */
void device_source_note(struct device_source *src, const char *busid,
			const struct usbip_conn *conn);
/* The same from what is known of it: datapath "ktls", "relay" or NULL (plain TCP), static. */
void device_source_note_peer(struct device_source *src, const char *busid, const char *peer,
			     const char *datapath);

/*
 * Writes "devices": what the source offers, each with its status and, if
 * in use, the peer that has it, since when and over what.
 */
void device_source_status(struct device_source *src, struct json_writer *w);
/* /metrics: PREFIX_devices{state} and PREFIX_last_export_timestamp_seconds (usbipd(8)). */
void device_source_metrics(struct device_source *src, struct metrics_text *m, const char *prefix);

int device_source_list(struct device_source *src, struct usbip_local_device **devs, size_t *count);
int device_source_candidates(struct device_source *src, struct usbip_local_device **devs,
			     size_t *count);
int device_source_get(struct device_source *src, const char *busid, struct usbip_local_device *dev);

/* Which devices of a source device_source_select chooses from. */
enum device_source_scope {
	DEVICE_SOURCE_LISTED,	  /* what it can export now (list) */
	DEVICE_SOURCE_CANDIDATES, /* what prepare could make exportable too (candidates) */
};

/*
 * The devices in scope that sel matches, in the order the source gives
 * them. None is an error, said in one line ("no bound device matches -b
 * 1-1.*"). Returns 0 and a malloc'd array (free it), or -1.
 */
int device_source_select(struct device_source *src, const struct usbip_selector *sel,
			 enum device_source_scope scope, struct usbip_local_device **devs,
			 size_t *count);
int device_source_prepare(struct device_source *src, const char *busid);
enum usbip_op_status device_source_hand_over(struct device_source *src, const char *busid,
					     struct usbip_conn *conn, int *watch_fd);
int device_source_release(struct device_source *src, const char *busid);
int device_source_reclaim(struct device_source *src, const char *busid);
void device_source_free(struct device_source *src);

/*
 * The device record to send for dev, with the device's serial in the bytes
 * after the path's zero, where our peers (usbipa's policy, attach -i) find
 * it and the kernel's tools ignore it. Left out, with a warning, when it
 * does not fit.
 */
void device_source_record(const struct usbip_local_device *dev, struct usbip_usb_device *udev);

/*
 * Whether a listed device can be taken now, as the OP status a refusal
 * carries: OK, NA (not bound), DEV_BUSY (in use) or DEV_ERR.
 */
enum usbip_op_status device_source_availability(const struct usbip_local_device *dev);

#endif
