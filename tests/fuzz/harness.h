/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libFuzzer targets that drive whole paths of the library. */
#ifndef USBIP_FUZZ_HARNESS_H
#define USBIP_FUZZ_HARNESS_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * What the library prints (log lines, usage, errors) goes to /dev/null:
 * one line per input would slow the fuzzer down and bury its own output.
 * libFuzzer took its copy of stderr before this runs, and the sanitizers
 * write their reports to descriptor 2 themselves, so both still show.
 */
static inline void fuzz_quiet(void)
{
	FILE *null = fopen("/dev/null", "w");

	if (!null)
		abort();
	stdout = null;
	stderr = null;
}

/* The lowest descriptor not in use: what an input that leaks one moves. */
static inline int fuzz_lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static inline int fuzz_remove_one(const char *path, const struct stat *sb, int flag,
				  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static inline void fuzz_write_file(const char *dir, const char *name, size_t size, char fill)
{
	char path[256], buf[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		abort();
	memset(buf, fill, sizeof(buf));
	for (; size; size -= n) {
		n = size < sizeof(buf) ? size : sizeof(buf);
		fwrite(buf, 1, n, f);
	}
	fclose(f);
}

/*
 * A scratch folder for the tree below: in /dev/shm (tmpfs) when there is
 * one, since a disk's file system makes each input cost milliseconds. tmpl
 * ends in XXXXXX and has room for the prefix.
 */
static const char *fuzz_dirs[4];

static inline void fuzz_remove_dirs(void)
{
	size_t i;

	for (i = 0; i < sizeof(fuzz_dirs) / sizeof(fuzz_dirs[0]) && fuzz_dirs[i]; i++) {
		nftw(fuzz_dirs[i], fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
		rmdir(fuzz_dirs[i]);
	}
}

/* Made once; removed when the fuzzer exits. */
static inline void fuzz_make_dir(char *path, size_t cap, const char *name)
{
	struct stat sb;
	size_t i;

	snprintf(path, cap, "%s/%s.XXXXXX",
		 stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp", name);
	if (!mkdtemp(path))
		abort();
	for (i = 0; fuzz_dirs[i]; i++)
		if (i + 1 == sizeof(fuzz_dirs) / sizeof(fuzz_dirs[0]))
			abort();
	if (i == 0)
		atexit(fuzz_remove_dirs);
	fuzz_dirs[i] = path;
}

/* What fuzz_reset_tree looks at to tell whether an input changed the tree. */
struct fuzz_tree_stamp {
	struct timespec mtime[5];
	off_t size[5];
};

static inline int fuzz_tree_stamp(const char *dir, struct fuzz_tree_stamp *st)
{
	static const char *const names[5] = { "", "/sub", "/sub/empty", "/a.txt", "/sub/b.bin" };
	char path[256];
	struct stat sb;
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, names[i]);
		if (lstat(path, &sb) != 0)
			return -1;
		st->mtime[i] = sb.st_mtim;
		st->size[i] = sb.st_size;
	}
	return 0;
}

/*
 * Puts back the same small tree in dir, so that each input starts from the
 * same folder whatever the last one created, renamed or deleted: a.txt
 * (100 bytes), sub/ with b.bin (600 bytes: more than one 512-byte packet)
 * and an empty folder sub/empty. A change anywhere shows in the stamp
 * (a folder's mtime moves when an entry is added, removed or renamed), so
 * an unchanged tree is left as it is.
 */
static inline void fuzz_reset_tree(const char *dir, struct fuzz_tree_stamp *stamp)
{
	struct fuzz_tree_stamp now;
	char path[256];

	if (fuzz_tree_stamp(dir, &now) == 0 && memcmp(&now, stamp, sizeof(now)) == 0)
		return;
	nftw(dir, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	fuzz_write_file(dir, "a.txt", 100, 'a');
	snprintf(path, sizeof(path), "%s/sub", dir);
	if (mkdir(path, 0755) != 0)
		abort();
	fuzz_write_file(dir, "sub/b.bin", 600, 'b');
	snprintf(path, sizeof(path), "%s/sub/empty", dir);
	if (mkdir(path, 0755) != 0)
		abort();
	if (fuzz_tree_stamp(dir, stamp) != 0)
		abort();
}

#endif
