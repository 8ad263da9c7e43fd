/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipa's access policy: which peers may export to it and which devices it
 * accepts. An empty list allows everything of its kind.
 */
#ifndef USBIP_POLICY_H
#define USBIP_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "match/selector.h"
#include "wire/usbip_proto.h"

struct policy_network {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct usbip_policy {
	struct usbip_hwid *devices;
	unsigned ndevices;
	struct policy_network *networks;
	unsigned nnetworks;
	bool allow_any; /* --allow-any: no list needed */
};

/* "VID:PID" or "VID:PID:SERIAL" (selector_parse_hwid). -1 with a message on bad syntax. */
int policy_add_device(struct usbip_policy *policy, const char *spec, char *err, size_t err_len);
/* "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. */
int policy_add_network(struct usbip_policy *policy, const char *spec, char *err, size_t err_len);
void policy_free(struct usbip_policy *policy);

bool policy_allows_peer(const struct usbip_policy *policy, const struct sockaddr *addr);
bool policy_allows_device(const struct usbip_policy *policy, const struct usbip_usb_device *udev);

/* Whether an --allow-device rule names this device (not merely: no rule). */
bool policy_names_device(const struct usbip_policy *policy, uint16_t vendor, uint16_t product,
			 const char *serial);

/*
 * Which local users may connect over a Unix socket (--allow-uid,
 * --allow-gid), by the credentials the kernel took at connect
 * (SO_PEERCRED): the peer's uid, or its primary gid, in a list. No rule at
 * all: every peer the socket file's mode and group let connect.
 */
#define POLICY_MAX_IDS 32

struct policy_creds {
	uid_t uids[POLICY_MAX_IDS];
	unsigned nuids;
	gid_t gids[POLICY_MAX_IDS];
	unsigned ngids;
};

/* A uid or a user's name (resolved now): 0, or -1 with one line in err. */
int policy_add_uid(struct policy_creds *creds, const char *spec, char *err, size_t err_len);
/* A gid or a group's name. */
int policy_add_gid(struct policy_creds *creds, const char *spec, char *err, size_t err_len);
/* Whether a Unix peer with uid and (primary) gid may go on. creds NULL: no rule. */
bool policy_allows_cred(const struct policy_creds *creds, uid_t uid, gid_t gid);

#endif
