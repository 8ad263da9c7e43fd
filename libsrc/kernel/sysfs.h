/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading and writing single sysfs attribute files. */
#ifndef USBIP_SYSFS_ATTR_H
#define USBIP_SYSFS_ATTR_H

#include <stddef.h>

/*
 * Writes value (no newline added: usbip-host's match_busid and rebind keep
 * one) in a single write(2). Returns 0, or -1 with errno from the kernel.
 */
int sysfs_write_attr(const char *path, const char *value);

/* Reads up to len-1 bytes, zero-terminated, trailing newline removed. */
int sysfs_read_attr(const char *path, char *buf, size_t len);

#endif
