/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices chosen by what they are or where they are plugged, the same way
 * on every command and daemon: -b BUSID, where a shell pattern such as
 * "1-1.*" means every device behind that hub, and -i VID:PID[:SERIAL]
 * (the form usbipa's --allow-device takes too). Several criteria combine:
 * a device is selected when it matches all of them.
 */
#ifndef USBIP_MATCH_SELECTOR_H
#define USBIP_MATCH_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/usbip_proto.h"

/* A hardware identity: VID:PID, and the serial when one was given. */
struct usbip_hwid {
	uint16_t vendor, product;
	char serial[USBIP_SERIAL_SIZE]; /* "" matches any */
};

/* "VID:PID" or "VID:PID:SERIAL", hex IDs. -1 with a message on bad syntax. */
int selector_parse_hwid(const char *spec, struct usbip_hwid *id, char *err, size_t err_len);
bool selector_hwid_matches(const struct usbip_hwid *id, uint16_t vendor, uint16_t product,
			   const char *serial);

#define SELECTOR_MAX_CRITERIA 8

struct usbip_selector {
	char busids[SELECTOR_MAX_CRITERIA][USBIP_BUSID_SIZE]; /* fnmatch(3) patterns */
	unsigned nbusids;
	struct usbip_hwid hwids[SELECTOR_MAX_CRITERIA];
	unsigned nhwids;
};

/* Adds -b PATTERN or -i VID:PID[:SERIAL]; -1 with a message on bad syntax. */
int selector_add_busid(struct usbip_selector *sel, const char *pattern, char *err, size_t err_len);
int selector_add_hwid(struct usbip_selector *sel, const char *spec, char *err, size_t err_len);
/*
 * The one handler of the option letters: 'b' (-b/--busid) adds a busid
 * pattern, 'i' (-i/--hardware-id) a hardware identity. -1 with a message
 * on bad syntax or another letter.
 */
int selector_add_option(struct usbip_selector *sel, int opt, const char *arg, char *err,
			size_t err_len);

/*
 * Whether each -b pattern of sel can match the busid of some USB device
 * (BUS-PORT[.PORT]...: digits, '-' and '.'): -1 with a message for one
 * that never can ("zzzz", "1-1:1.0", an interface's). Not for selectors
 * of gadgets, whose busids are names (usbip-vudc.0).
 */
int selector_check_usb_busids(const struct usbip_selector *sel, char *err, size_t err_len);

bool selector_empty(const struct usbip_selector *sel);
/* One busid without wildcards and nothing else: the one device on that port. */
bool selector_is_one_busid(const struct usbip_selector *sel);

/* Whether a device with this busid, identity and serial ("" if none) is selected. */
bool selector_matches(const struct usbip_selector *sel, const char *busid, uint16_t vendor,
		      uint16_t product, const char *serial);

/* The selector as the command line would give it, for messages: "-b 1-1.* -i 46f4:0001". */
void selector_describe(const struct usbip_selector *sel, char *buf, size_t len);

#endif
