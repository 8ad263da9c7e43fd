// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/io.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* All of buf to fd: at offset off (pwrite) when off >= 0, else where the file offset is (write). */
static int write_fully(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int io_write_all(int fd, const void *buf, size_t len)
{
	return write_fully(fd, buf, len, -1);
}

int io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	if (off < 0) {
		errno = EINVAL;
		return -1;
	}
	return write_fully(fd, buf, len, off);
}

ssize_t io_read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool io_would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

bool io_try_again(int err)
{
	return err == EINTR || io_would_block(err);
}
