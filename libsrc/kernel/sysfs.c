// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static const char *sysfs_root = "/sys";

void sysfs_set_root(const char *root)
{
	sysfs_root = root ? root : "/sys";
}

int sysfs_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int root_len, n;

	root_len = snprintf(buf, len, "%s", sysfs_root);
	if (root_len < 0 || (size_t)root_len >= len)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + root_len, len - (size_t)root_len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len - (size_t)root_len ? -1 : 0;
}

uint32_t sysfs_word_value(const struct sysfs_word *words, size_t n, const char *text,
			  uint32_t fallback)
{
	size_t i;

	for (i = 0; text && i < n; i++)
		if (strcmp(text, words[i].text) == 0)
			return words[i].value;
	return fallback;
}

int sysfs_write_attr(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, value, len);
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

ssize_t sysfs_read_binary(const char *path, void *buf, size_t len)
{
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	return n;
}

int sysfs_read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n = sysfs_read_binary(path, buf, len - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

bool sysfs_note_driver(bool present, const char *driver, const char *module, bool *said_missing)
{
	if (!present && !*said_missing)
		log_err("the %s driver is not loaded (try: modprobe %s)", driver, module);
	else if (present && *said_missing)
		log_info("the %s driver is loaded now", driver);
	*said_missing = !present;
	return present;
}
