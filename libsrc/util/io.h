/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loops every descriptor needs: all of a buffer written, a buffer read
 * to its end, a signal (EINTR) never taken for a failure, and the one test
 * for "nothing to do now" on a non-blocking descriptor. Convention 2 of
 * util/result.h: 0 (or a count), or -1 with errno.
 */
#ifndef USBIP_UTIL_IO_H
#define USBIP_UTIL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Writes all of buf to a blocking descriptor, again after EINTR or a short
 * write. 0, or -1 with errno (EIO when the descriptor took nothing).
 */
int io_write_all(int fd, const void *buf, size_t len);

/* Like io_write_all at file offset off (pwrite(2)); the file offset stays. */
int io_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/*
 * Reads from a blocking descriptor until len bytes or the end, again after
 * EINTR. The bytes read (fewer than len only at the end), or -1 with errno.
 */
ssize_t io_read_all(int fd, void *buf, size_t len);

/* The call on a non-blocking descriptor found nothing to do now (EAGAIN, EWOULDBLOCK). */
bool io_would_block(int err);

/*
 * Nothing was lost and the call is to be made again: at once after a
 * signal (EINTR), or when the descriptor is ready (io_would_block).
 */
bool io_try_again(int err);

#endif
