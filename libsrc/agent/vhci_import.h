/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The application side of classic mode, written once for `usbip attach`
 * and its --persist follower: find a remote device by selector in the
 * remote's device list, import it (OP_REQ_IMPORT) and attach it to a free
 * vhci-hcd port, recording where it came from for `usbip port`.
 */
#ifndef USBIP_AGENT_VHCI_IMPORT_H
#define USBIP_AGENT_VHCI_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "match/selector.h"
#include "net/conn.h"
#include "net/tls.h"
#include "util/result.h"
#include "wire/usbip_proto.h"

struct vhci_import_target;

/*
 * Who talks to usbipd: by default this process; or one that asks the
 * unprivileged network process to (agent/dialer.c), so that root reads
 * nothing from the network and only attaches. find is vhci_import_find's
 * exchange; import's, on USBIP_OK, gives the device's record and the
 * connection to hand to vhci-hcd.
 */
struct vhci_import_dialer {
	enum usbip_result (*find)(void *arg, const struct vhci_import_target *from,
				  const struct usbip_selector *sel, struct usbip_devlist *matches);
	enum usbip_result (*import)(void *arg, const struct vhci_import_target *from,
				    const char *busid, struct usbip_usb_device *udev,
				    uint32_t *status, struct usbip_conn **conn);
	void *arg;
};

struct vhci_import_target {
	const char *host, *port;
	struct usbip_tls *tls; /* client context, or NULL */
	int timeout_ms;
	const struct vhci_import_dialer *dialer; /* NULL: this process dials */
};

/* The exchanges themselves, made here (what a dialer runs elsewhere). */
enum usbip_result vhci_import_find_here(const struct vhci_import_target *from,
					const struct usbip_selector *sel,
					struct usbip_devlist *matches);
enum usbip_result vhci_import_exchange(const struct vhci_import_target *from, const char *busid,
				       struct usbip_usb_device *udev, uint32_t *status,
				       struct usbip_conn **conn);

/*
 * The remote devices the selector matches, from the remote's device list:
 * USBIP_OK with a malloc'd list (possibly empty) in *matches, or why the
 * list could not be had.
 */
enum usbip_result vhci_import_find(const struct vhci_import_target *from,
				   const struct usbip_selector *sel, struct usbip_devlist *matches);

/*
 * Imports busid and attaches it. Returns USBIP_OK with the vhci port in
 * *port and, with watch_fd, a duplicate of the socket vhci-hcd got (it
 * hangs up when vhci drops the connection); USBIP_E_REFUSED with the OP
 * status in *status; USBIP_E_UNREACHABLE or USBIP_E_FAILED.
 */
enum usbip_result vhci_import(const struct vhci_import_target *from, const char *busid, int *port,
			      int *watch_fd, uint32_t *status);

#endif
