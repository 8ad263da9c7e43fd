/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The usbip-host (stub) driver on the device side: which local devices can
 * be exported, binding them to usbip-host and back, and handing a connected
 * socket to a bound device.
 */
#ifndef USBIP_HOST_DRIVER_H
#define USBIP_HOST_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "wire/usbip_proto.h"

#define USBIP_HOST_DRIVER_DIR "/sys/bus/usb/drivers/usbip-host"

/* usbip_status values of a bound device (enum usbip_device_status). */
enum usbip_stub_status {
	USBIP_STUB_NOT_BOUND = 0,
	USBIP_STUB_AVAILABLE = 1,
	USBIP_STUB_USED = 2,
	USBIP_STUB_ERROR = 3,
};

struct usbip_local_device {
	struct usbip_devlist_entry info; /* record and interfaces, as sent on the wire */
	char driver[64];		 /* bound driver, "" if none */
	char serial[128];		 /* iSerialNumber string, "" if none */
	enum usbip_stub_status stub_status;
	bool hub;      /* a hub: never exported */
	bool imported; /* below vhci_hcd: exporting it again would loop */
};

/*
 * Lists local USB devices that could be exported: no hubs, nothing imported
 * through vhci. With bound_only, only devices bound to usbip-host.
 * Returns 0 and a malloc'd array in *devs (free it), or -1 after logging.
 */
int host_list(struct usbip_local_device **devs, size_t *count, bool bound_only);

/* Fills dev for one busid; -1 (logged) if there is no such device. */
int host_get(const char *busid, struct usbip_local_device *dev);
/* The same, silent when busid is not there (yet): a device vhci-hcd is making. */
int host_peek(const char *busid, struct usbip_local_device *dev);

/* Whether the usbip-host driver is loaded; logs a hint when it is not. */
bool host_driver_loaded(void);

/*
 * Binds busid to usbip-host: refuses hubs and vhci devices, unbinds the
 * current driver, adds the busid to match_busid and binds. On failure every
 * step is undone and the device goes back to its driver. Already bound to
 * usbip-host counts as success when already_ok is set.
 */
int host_bind(const char *busid, bool already_ok);

/* Unbinds from usbip-host and lets the kernel probe the usual driver again. */
int host_unbind(const char *busid);

/*
 * Makes usbip-host drop the connection a bound device is exported on (one
 * no process of ours holds any more, e.g. the agent before a restart), so
 * that it can be exported again. Asynchronous: the stub is available again
 * once it has shut the connection down.
 */
int host_reclaim(const char *busid);

/*
 * Removes busid from usbip-host's match_busid after its device was
 * unplugged, so that the next device plugged into that port gets its own
 * driver, not usbip-host.
 */
void host_forget(const char *busid);

/*
 * The parsers of what the readers above take from sysfs, from memory (the
 * fuzz target feeds them): the "speed" attribute (Mb/s, e.g. "480") as an
 * enum usbip_speed (UNKNOWN for anything else), a bound device's
 * "usbip_status" without its newline (ERROR unless it is one of the
 * driver's values), and whether busid names a USB device port path,
 * "BUS-PORT[.PORT...]" like "1-1.4": anything else (a peer's "../..", an
 * interface "1-1:1.0") is refused before it can reach a sysfs path.
 */
uint32_t host_parse_speed(const char *text);
enum usbip_stub_status host_parse_stub_status(const char *text);
bool host_busid_valid(const char *busid);

/*
 * Writes sockfd to the usbip_sockfd attribute of dev (found by usbip-host or
 * usbip-vudc, named in the log line) if its status lets it take one: the
 * driver takes its own reference. USBIP_ST_OK, or DEV_BUSY, DEV_ERR or NA.
 */
enum usbip_op_status host_give_socket(const struct usbip_local_device *dev, const char *driver,
				      int sockfd);

/*
 * Hands sockfd to the bound device (usbip_sockfd) and fills dev with what
 * it is. Returns an OP status: USBIP_ST_OK, or why not (NODEV, NA,
 * DEV_BUSY, DEV_ERR).
 */
enum usbip_op_status host_export(const char *busid, int sockfd, struct usbip_local_device *dev);

#endif
