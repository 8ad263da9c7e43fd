/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading and writing single sysfs attribute files. */
#ifndef USBIP_SYSFS_ATTR_H
#define USBIP_SYSFS_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where sysfs is: "/sys", or a fake tree in a folder that a unit test set
 * (NULL sets "/sys" again). The kernel modules build their paths with
 * sysfs_path, so that their rules can be tested without the kernel.
 */
void sysfs_set_root(const char *root);
/* The root followed by the path made of fmt ("/bus/usb/devices/%s"); -1 when it does not fit. */
int sysfs_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#include <stdint.h>

/*
 * Writes value (no newline added: usbip-host's match_busid and rebind keep
 * one) in a single write(2). Returns 0, or -1 with errno from the kernel.
 */
int sysfs_write_attr(const char *path, const char *value);

/* Reads a binary attribute (a device's descriptors): up to len bytes in one read; -1 on failure. */
ssize_t sysfs_read_binary(const char *path, void *buf, size_t len);

/* Reads up to len-1 bytes, zero-terminated, trailing newline removed. */
int sysfs_read_attr(const char *path, char *buf, size_t len);

/* A word sysfs writes in an attribute and the value it stands for. */
struct sysfs_word {
	const char *text;
	uint32_t value;
};

/* The value of text in words[0..n); fallback when text is NULL or not among them. */
uint32_t sysfs_word_value(const struct sysfs_word *words, size_t n, const char *text,
			  uint32_t fallback);

/*
 * Says what was just found of a kernel driver, once per change: "the D
 * driver is not loaded (try: modprobe M)" when it is missing (the first
 * time, and again only after it was seen loaded), and that it is loaded
 * when it comes back after that. *said_missing is the caller's memory (a
 * static per driver), so that a daemon that looks every second logs once.
 * Returns present.
 */
bool sysfs_note_driver(bool present, const char *driver, const char *module, bool *said_missing);

#endif
