/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Giving up root for good: for the parts that only talk to peers. */
#ifndef USBIP_UTIL_PRIVDROP_H
#define USBIP_UTIL_PRIVDROP_H

/* The system user made by make install, or nobody where there is none. */
#define PRIVDROP_USER "usbip"
const char *privdrop_default_user(void);

/*
 * Becomes user (its uid, gid and no other groups, so no capabilities left)
 * for good, with PR_SET_NO_NEW_PRIVS so that nothing executed can regain
 * any. Only from root; -1 (logged) if the user does not exist or a step
 * fails.
 */
int privdrop_to(const char *user);

/*
 * The same, inside root (chroot and chdir to it first) when root is not
 * NULL: a process that should reach no file after its start.
 */
int privdrop_jail(const char *user, const char *root);

#endif
