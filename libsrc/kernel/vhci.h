/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vhci-hcd driver on the application side: its ports, attaching a
 * connected socket to a free port of the right speed, detaching, and the
 * record of where each imported device came from.
 */
#ifndef USBIP_VHCI_DRIVER_H
#define USBIP_VHCI_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/usbip_proto.h"

#define USBIP_VHCI_SYSFS "/sys/devices/platform/vhci_hcd.0"
/* The same below sysfs's root (sysfs_path), for the paths of this module. */
#define USBIP_VHCI_SYSFS_DIR "/devices/platform/vhci_hcd.0"
/* Where attach records its peers; the kernel tools use the same files. */
#define USBIP_VHCI_STATE_DIR "/var/run/vhci_hcd"
#define USBIP_VHCI_MAX_PORTS 1024

/* Port status values in vhci's status file (enum usbip_device_status). */
enum usbip_vhci_port_status {
	USBIP_VDEV_NULL = 4,	    /* free */
	USBIP_VDEV_NOTASSIGNED = 5, /* attached, no USB address yet */
	USBIP_VDEV_USED = 6,	    /* in use */
	USBIP_VDEV_ERROR = 7,
};

struct usbip_vhci_port {
	unsigned port;
	bool superspeed; /* on the USB 3 root hub */
	unsigned status;
	unsigned speed;
	uint32_t devid;
	char local_busid[USBIP_BUSID_SIZE];
};

struct usbip_vhci {
	unsigned nports;
	struct usbip_vhci_port *ports; /* nports entries, by port number */
};

/* Where an imported device came from (the state file of its port). */
struct usbip_vhci_record {
	char host[256];
	char service[32];
	char busid[USBIP_BUSID_SIZE];
};

/*
 * Parses the text of one status file (len bytes, need not be terminated):
 * a header line, then a row per port, "hs  0000 004 000 00000000 000000
 * 0-0" (hub, port, status, speed, devid, sockfd, local busid), into
 * vhci->ports (vhci->nports entries). Rows for ports past nports, and rows
 * that do not parse, are skipped. -1 when text is empty.
 */
int vhci_parse_status(const char *text, size_t len, struct usbip_vhci *vhci);

/* Reads vhci's ports; -1 (logged, with a hint to load vhci-hcd) on failure. */
int vhci_open(struct usbip_vhci *vhci);
void vhci_close(struct usbip_vhci *vhci);

/* A free port on the hub that suits speed, or -1. */
int vhci_free_port(const struct usbip_vhci *vhci, uint32_t speed);

/*
 * Attaches sockfd as a device of the given record: picks a free port of the
 * right speed, retries on a port taken concurrently (EBUSY), and returns
 * the port, or -1 after logging why (-2 when no port was free).
 */
int vhci_attach(const struct usbip_usb_device *udev, int sockfd);

/* Detaches a port and removes its record. */
int vhci_detach(unsigned port);

/* Records or reads where the device on a port came from. */
int vhci_record_write(unsigned port, const struct usbip_vhci_record *rec);
int vhci_record_read(unsigned port, struct usbip_vhci_record *rec);
void vhci_record_remove(unsigned port);
/* A record's line, "HOST SERVICE BUSID"; -1 if it is not one. */
int vhci_record_parse(const char *line, struct usbip_vhci_record *rec);

const char *vhci_status_str(unsigned status);

/*
 * With closed, a device that appears on vhci-hcd is not authorized
 * (authorized_default 0 on its root hubs): no configuration is set and no
 * driver binds until vhci_authorize, so that its interfaces can be
 * looked at first. Not closed: as the kernel has it by default.
 */
int vhci_gate(bool closed);
int vhci_authorize(const char *local_busid);

#endif
