/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading and writing single sysfs attribute files. */
#ifndef USBIP_SYSFS_ATTR_H
#define USBIP_SYSFS_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes value (no newline added: usbip-host's match_busid and rebind keep
 * one) in a single write(2). Returns 0, or -1 with errno from the kernel.
 */
int sysfs_write_attr(const char *path, const char *value);

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
