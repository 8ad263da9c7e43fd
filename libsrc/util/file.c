/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util/file.h"
#include "util/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *file_type(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* Reads fd to its end, at most max bytes; the file may have grown since fstat. */
static char *read_to_end(int fd, size_t max, const char *what, size_t *len, char *err,
			 size_t err_len)
{
	char *buf = malloc(max + 1);
	ssize_t n = buf ? io_read_all(fd, buf, max + 1) : 0;

	*len = n > 0 ? (size_t)n : 0;
	if (buf && n >= 0 && *len <= max) {
		buf[*len] = '\0';
		return buf;
	}
	if (!buf)
		snprintf(err, err_len, "out of memory");
	else if (n < 0)
		snprintf(err, err_len, "%s", strerror(errno));
	else
		snprintf(err, err_len, "larger than %zu bytes, the most a %s may have", max, what);
	if (buf)
		explicit_bzero(buf, max + 1); /* it may be a secret, read in part */
	free(buf);
	*len = 0;
	return NULL;
}

int file_read_regular(const char *path, size_t max, const char *what, char **buf, size_t *len,
		      mode_t *mode, int *errno_out, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat sb;

	*buf = NULL;
	*len = 0;
	if (errno_out)
		*errno_out = fd < 0 ? errno : 0;
	if (fd < 0) {
		snprintf(err, err_len, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0)
		snprintf(err, err_len, "%s", strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, err_len, "%s, not a %s", file_type(sb.st_mode), what);
	else if ((unsigned long long)sb.st_size > max)
		snprintf(err, err_len, "%lld bytes, more than the %zu a %s may have",
			 (long long)sb.st_size, max, what);
	else
		*buf = read_to_end(fd, max, what, len, err, err_len);
	if (*buf && mode)
		*mode = sb.st_mode;
	close(fd);
	return *buf ? 0 : -1;
}
