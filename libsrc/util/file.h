/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef USBIP_UTIL_FILE_H
#define USBIP_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads the whole of a regular file named by the user (a configuration, a
 * certificate, a key, a password file), never waiting on it: opened with
 * O_NONBLOCK (a FIFO with no writer), looked at with fstat before a byte is
 * read (a directory, /dev/zero, a device), at most max bytes. On success
 * *buf (malloc'd, NUL-terminated, *len bytes before the NUL) and *mode are
 * set and 0 is returned. On failure -1, *buf NULL, and err says why without
 * the path ("a FIFO, not a WHAT", "N bytes, more than the M a WHAT may
 * have", or strerror); errno_out, when not NULL, gets open's errno (ENOENT
 * for a missing file) or 0. A caller that read a secret wipes *len bytes
 * before it frees them.
 */
int file_read_regular(const char *path, size_t max, const char *what, char **buf, size_t *len,
		      mode_t *mode, int *errno_out, char *err, size_t err_len);

/* "a directory", "a FIFO", "a device", "a socket": what a mode is that is not a file. */
const char *file_type(mode_t mode);

#endif
