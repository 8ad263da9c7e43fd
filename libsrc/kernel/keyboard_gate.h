/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipa's keyboard gate on vhci-hcd. A device that an exporter sends could
 * type commands here if it is a keyboard, so while an export enumerates,
 * new vhci devices arrive unauthorized (vhci_gate): no configuration,
 * no driver, until their interfaces were looked at. One with a boot
 * keyboard interface on a port this process attached needs a rule naming
 * it, or it is refused; everything else is authorized. The gate opens
 * again once every port it waits for was looked at. The sysfs work is
 * here; when to look (udev events, a poll, a deadline) is the caller's.
 */
#ifndef USBIP_KERNEL_KEYBOARD_GATE_H
#define USBIP_KERNEL_KEYBOARD_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/usbip_proto.h"

/* What the gate asks of its owner, who knows the ports and the rules. */
struct keyboard_gate_hooks {
	/* Whether this process attached the device on port: only those are checked. */
	bool (*attached_here)(void *arg, unsigned port);
	/* Whether a rule (usbipa's --allow-device) names this keyboard. */
	bool (*keyboard_named)(void *arg, uint16_t vendor, uint16_t product, const char *serial);
	/* A keyboard no rule names is on port, unauthorized: take it away (detach). */
	void (*refuse)(void *arg, unsigned port);
	void *arg;
};

struct keyboard_gate;

/*
 * A gate for nports vhci ports. Whether the gate is closed is not known
 * (a usbipa that died may have left it so): keyboard_gate_open makes sure.
 */
struct keyboard_gate *keyboard_gate_new(unsigned nports, const struct keyboard_gate_hooks *hooks);
void keyboard_gate_free(struct keyboard_gate *g);

/* Holds new vhci devices back for a look; warns when it cannot (nothing is checked then). */
void keyboard_gate_close(struct keyboard_gate *g);

/*
 * Lets new devices in as the kernel does by default, and authorizes every
 * vhci device left unauthorized that the gate does not wait for: one a
 * usbipa that died left behind, or one whose event went by.
 */
void keyboard_gate_open(struct keyboard_gate *g);

/* The device attached on port is to be looked at before it is let in. */
void keyboard_gate_wait_for(struct keyboard_gate *g, unsigned port);
/* Whether some port is still waiting for its look. */
bool keyboard_gate_waiting(const struct keyboard_gate *g);
/* Stops waiting (devices that never enumerated) and opens the gate. */
void keyboard_gate_give_up(struct keyboard_gate *g);

/*
 * Looks at the device on port (its local busid) if it has finished
 * enumerating (its descriptors are there): refused or authorized, it is
 * no longer waited for, and the gate opens when nothing else is. A device
 * still enumerating is left for a later look.
 */
void keyboard_gate_look(struct keyboard_gate *g, unsigned port, const char *busid);
/* Looks at every waiting port whose device is there now. */
void keyboard_gate_look_at_waiting(struct keyboard_gate *g);
/* A USB device appeared (a udev event): looked at if it is on a vhci port. */
void keyboard_gate_device_added(struct keyboard_gate *g, const char *busid);

/* Whether these interfaces include a boot keyboard (HID class, boot subclass, keyboard protocol).
 */
bool keyboard_gate_boot_keyboard(const struct usbip_usb_interface *interfaces, unsigned count);

#endif
