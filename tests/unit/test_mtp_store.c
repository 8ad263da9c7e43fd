// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The object store's path safety: nothing outside the served directory is
 * read, written or deleted, whatever the names and whatever is swapped in
 * behind the store's back (a directory replaced by a symlink, a file
 * replaced by a link to a file outside).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <errno.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mtp/mtp_store.h"

struct fixture {
	char top[64];	  /* holds both directories */
	char served[128]; /* what the store serves */
	char outside[128];
	struct mtp_store *store;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][512];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->top, sizeof(fx->top), "/tmp/test_mtp_store.XXXXXX");
	assert_non_null(mkdtemp(fx->top));
	snprintf(fx->served, sizeof(fx->served), "%s/served", fx->top);
	snprintf(fx->outside, sizeof(fx->outside), "%s/outside", fx->top);
	assert_int_equal(mkdir(fx->served, 0755), 0);
	assert_int_equal(mkdir(fx->outside, 0755), 0);
	write_file(path_in(fx->outside, "secret"), "secret");
	write_file(path_in(fx->outside, "f.txt"), "outside f");
	assert_int_equal(mkdir(path_in(fx->served, "a"), 0755), 0);
	write_file(path_in(fx->served, "a/f.txt"), "inside f");
	write_file(path_in(fx->served, "x"), "x");
	assert_int_equal(symlink(fx->outside, path_in(fx->served, "link-dir")), 0);
	assert_int_equal(symlink(path_in(fx->outside, "secret"), path_in(fx->served, "link-file")),
			 0);
	fx->store = mtp_store_open(fx->served, false);
	assert_non_null(fx->store);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[256];

	mtp_store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->top);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static uint32_t find(struct mtp_store *st, uint32_t parent, const char *name)
{
	uint32_t *h, found = 0;
	size_t n, i;
	struct mtp_entry e;

	assert_int_equal(mtp_store_list(st, parent, false, &h, &n), 0);
	for (i = 0; i < n; i++)
		if (mtp_store_peek(st, h[i], &e) == 0 && strcmp(e.name, name) == 0)
			found = h[i];
	free(h);
	return found;
}

static void assert_outside_intact(const struct fixture *fx)
{
	struct stat sb;

	assert_int_equal(stat(path_in(fx->outside, "secret"), &sb), 0);
	assert_int_equal(sb.st_size, 6);
	assert_int_equal(stat(path_in(fx->outside, "f.txt"), &sb), 0);
	assert_int_equal(sb.st_size, 9);
}

static void test_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "/", "../x", "x/", "/etc" };
	static const char *const good[] = { "ok", "...", ".hidden", "a b", "é", "a\\b" };
	char long_name[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(mtp_store_name_ok(bad[i]));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(mtp_store_name_ok(good[i]));
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_false(mtp_store_name_ok(long_name));
}

static void test_symlinks_not_listed(void **state)
{
	struct fixture *fx = *state;

	assert_int_not_equal(find(fx->store, MTP_STORE_ROOT, "a"), 0);
	assert_int_not_equal(find(fx->store, MTP_STORE_ROOT, "x"), 0);
	assert_int_equal(find(fx->store, MTP_STORE_ROOT, "link-dir"), 0);
	assert_int_equal(find(fx->store, MTP_STORE_ROOT, "link-file"), 0);
}

static void test_bad_names_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "..", "../escape", "a/../../escape", "/tmp/escape",
					   "." };
	uint32_t h, x = find(fx->store, MTP_STORE_ROOT, "x");
	int fd = -1;
	size_t i;
	struct stat sb;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			mtp_store_create(fx->store, MTP_STORE_ROOT, bad[i], false, &h, &fd),
			-EINVAL);
		assert_int_equal(
			mtp_store_create(fx->store, MTP_STORE_ROOT, bad[i], true, &h, NULL),
			-EINVAL);
		assert_int_equal(mtp_store_rename(fx->store, x, bad[i]), -EINVAL);
	}
	assert_int_not_equal(stat(path_in(fx->top, "escape"), &sb), 0);
	/* a name that exists is not overwritten */
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "a", false, &h, &fd), -EEXIST);
	assert_int_equal(mtp_store_rename(fx->store, x, "a"), -EEXIST);
	/* nor is a symlink's target written through */
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "link-file", false, &h, &fd),
			 -EEXIST);
	assert_outside_intact(fx);
}

static void test_create_rename_delete(void **state)
{
	struct fixture *fx = *state;
	uint32_t a = find(fx->store, MTP_STORE_ROOT, "a"), h, d;
	struct mtp_entry e;
	struct stat sb;
	int fd = -1;

	assert_int_equal(mtp_store_create(fx->store, a, "new.txt", false, &h, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(mtp_store_get(fx->store, h, &e), 0);
	assert_int_equal(e.size, 5);
	assert_int_equal(e.parent, a);
	assert_int_equal(mtp_store_rename(fx->store, h, "renamed.txt"), 0);
	assert_int_equal(stat(path_in(fx->served, "a/renamed.txt"), &sb), 0);
	assert_int_equal(mtp_store_move(fx->store, h, MTP_STORE_ROOT), 0);
	assert_int_equal(stat(path_in(fx->served, "renamed.txt"), &sb), 0);
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "dir", true, &d, NULL), 0);
	assert_int_equal(mtp_store_move(fx->store, d, d), -EINVAL);
	assert_int_equal(mtp_store_delete(fx->store, h), 0);
	assert_int_not_equal(stat(path_in(fx->served, "renamed.txt"), &sb), 0);
	assert_int_equal(mtp_store_get(fx->store, h, &e), -ENOENT);
}

/* A directory swapped for a symlink to the outside after it was listed. */
static void test_directory_swapped_for_symlink(void **state)
{
	struct fixture *fx = *state;
	uint32_t a = find(fx->store, MTP_STORE_ROOT, "a"), f = find(fx->store, a, "f.txt"), h;
	struct mtp_entry e;
	int fd = -1;

	assert_int_not_equal(f, 0);
	assert_int_equal(rename(path_in(fx->served, "a"), path_in(fx->served, "a.old")), 0);
	assert_int_equal(symlink(fx->outside, path_in(fx->served, "a")), 0);

	assert_true(mtp_store_open_file(fx->store, f, O_RDONLY) < 0);
	assert_true(mtp_store_open_file(fx->store, f, O_RDWR) < 0);
	assert_int_equal(mtp_store_get(fx->store, f, &e), -ENOENT);
	assert_true(mtp_store_delete(fx->store, f) < 0);
	assert_true(mtp_store_create(fx->store, a, "planted", false, &h, &fd) < 0);
	assert_true(mtp_store_rename(fx->store, f, "moved") < 0);
	assert_outside_intact(fx);
	assert_int_equal(access(path_in(fx->outside, "planted"), F_OK), -1);
}

/* A file replaced by a link to a file outside. */
static void test_file_swapped_for_symlink(void **state)
{
	struct fixture *fx = *state;
	uint32_t x = find(fx->store, MTP_STORE_ROOT, "x");
	struct mtp_entry e;

	assert_int_equal(unlink(path_in(fx->served, "x")), 0);
	assert_int_equal(symlink(path_in(fx->outside, "secret"), path_in(fx->served, "x")), 0);
	assert_true(mtp_store_open_file(fx->store, x, O_RDONLY) < 0);
	assert_int_equal(mtp_store_get(fx->store, x, &e), -ENOENT);
	x = find(fx->store, MTP_STORE_ROOT, "x");
	assert_int_equal(x, 0); /* and the next listing does not show it */
	assert_outside_intact(fx);
}

/* Deleting a folder removes links inside it, never what they point to. */
static void test_delete_tree_with_links(void **state)
{
	struct fixture *fx = *state;
	uint32_t a = find(fx->store, MTP_STORE_ROOT, "a");

	assert_int_equal(symlink(fx->outside, path_in(fx->served, "a/out-dir")), 0);
	assert_int_equal(symlink(path_in(fx->outside, "f.txt"), path_in(fx->served, "a/out-file")),
			 0);
	assert_int_equal(mkdir(path_in(fx->served, "a/sub"), 0755), 0);
	write_file(path_in(fx->served, "a/sub/g"), "g");
	assert_int_equal(mtp_store_delete(fx->store, a), 0);
	assert_int_equal(access(path_in(fx->served, "a"), F_OK), -1);
	assert_outside_intact(fx);
}

static void test_read_only(void **state)
{
	struct fixture *fx = *state;
	struct mtp_store *ro = mtp_store_open(fx->served, true);
	uint32_t x, h;
	int fd = -1;

	assert_non_null(ro);
	x = find(ro, MTP_STORE_ROOT, "x");
	assert_int_equal(mtp_store_create(ro, MTP_STORE_ROOT, "n", false, &h, &fd), -EROFS);
	assert_int_equal(mtp_store_delete(ro, x), -EROFS);
	assert_int_equal(mtp_store_rename(ro, x, "y"), -EROFS);
	assert_int_equal(mtp_store_open_file(ro, x, O_RDWR), -EROFS);
	fd = mtp_store_open_file(ro, x, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	mtp_store_close(ro);
}

static void test_unknown_handles(void **state)
{
	struct fixture *fx = *state;
	struct mtp_entry e;
	uint32_t *h;
	size_t n;

	assert_int_equal(mtp_store_get(fx->store, 0, &e), -ENOENT);
	assert_int_equal(mtp_store_get(fx->store, 12345, &e), -ENOENT);
	assert_int_equal(mtp_store_get(fx->store, 0xffffffff, &e), -ENOENT);
	assert_int_equal(mtp_store_list(fx->store, 999, false, &h, &n), -ENOENT);
	assert_int_equal(mtp_store_delete(fx->store, MTP_STORE_ROOT), -ENOENT);
	assert_int_equal(
		mtp_store_list(fx->store, find(fx->store, MTP_STORE_ROOT, "x"), false, &h, &n),
		-ENOTDIR);
}

/* What the store reported, in order. */
struct events {
	uint16_t code[64];
	uint32_t handle[64];
	size_t n;
};

static void record(void *arg, uint16_t code, uint32_t handle)
{
	struct events *ev = arg;

	assert_true(ev->n < 64);
	ev->code[ev->n] = code;
	ev->handle[ev->n++] = handle;
}

static void read_events(struct mtp_store *st, struct events *ev)
{
	memset(ev, 0, sizeof(*ev));
	mtp_store_read_events(st, record, ev);
}

static bool reported(const struct events *ev, uint16_t code, uint32_t handle)
{
	size_t i;

	for (i = 0; i < ev->n; i++)
		if (ev->code[i] == code && ev->handle[i] == handle)
			return true;
	return false;
}

static bool file_is(const char *path, const char *text)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strcmp(buf, text) == 0;
}

/*
 * CopyObject of a folder: everything in it, never what a link in it points
 * to; not into itself; into another store too. Nothing of a failed copy
 * stays.
 */
static void test_copy_folder(void **state)
{
	struct fixture *fx = *state;
	char other_dir[160];
	struct mtp_store *other;
	uint32_t a, sub, dst, copy, copy2, h;
	struct stat sb;

	assert_int_equal(mkdir(path_in(fx->served, "a/sub"), 0755), 0);
	write_file(path_in(fx->served, "a/sub/g.txt"), "deep g");
	assert_int_equal(symlink(fx->outside, path_in(fx->served, "a/sub/out")), 0);
	a = find(fx->store, MTP_STORE_ROOT, "a");
	sub = find(fx->store, a, "sub");
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "dst", true, &dst, NULL), 0);
	assert_int_equal(mtp_store_copy(fx->store, a, fx->store, dst, &copy), 0);
	assert_true(file_is(path_in(fx->served, "dst/a/f.txt"), "inside f"));
	assert_true(file_is(path_in(fx->served, "dst/a/sub/g.txt"), "deep g"));
	assert_int_equal(lstat(path_in(fx->served, "dst/a/sub/out"), &sb), -1); /* not copied */
	assert_int_not_equal(find(fx->store, copy, "sub"), 0);
	/* into itself, or below itself, or where the name is taken */
	assert_int_equal(mtp_store_copy(fx->store, a, fx->store, sub, &h), -EINVAL);
	assert_int_equal(mtp_store_copy(fx->store, a, fx->store, a, &h), -EINVAL);
	assert_int_equal(mtp_store_copy(fx->store, a, fx->store, dst, &h), -EEXIST);
	assert_true(file_is(path_in(fx->served, "dst/a/f.txt"), "inside f")); /* untouched */
	/* into another store */
	snprintf(other_dir, sizeof(other_dir), "%s/other", fx->top);
	assert_int_equal(mkdir(other_dir, 0755), 0);
	assert_non_null(other = mtp_store_open(other_dir, false));
	assert_int_equal(mtp_store_copy(fx->store, a, other, MTP_STORE_ROOT, &copy2), 0);
	assert_true(file_is(path_in(other_dir, "a/sub/g.txt"), "deep g"));
	assert_int_not_equal(find(other, copy2, "f.txt"), 0);
	mtp_store_close(other);
	/* a store that is read-only takes no copy */
	assert_non_null(other = mtp_store_open(other_dir, true));
	assert_int_equal(mtp_store_copy(fx->store, find(fx->store, MTP_STORE_ROOT, "x"), other,
					MTP_STORE_ROOT, &h),
			 -EROFS);
	mtp_store_close(other);
	assert_outside_intact(fx);
}

/* MoveObject into another store: gone from this one, there with a handle of its own. */
static void test_move_to_other_store(void **state)
{
	struct fixture *fx = *state;
	char other_dir[160];
	struct mtp_store *other;
	uint32_t a = find(fx->store, MTP_STORE_ROOT, "a"), x = find(fx->store, MTP_STORE_ROOT, "x");
	uint32_t na, nx;
	struct mtp_entry e;

	snprintf(other_dir, sizeof(other_dir), "%s/other", fx->top);
	assert_int_equal(mkdir(other_dir, 0755), 0);
	assert_non_null(other = mtp_store_open(other_dir, false));
	assert_int_equal(mtp_store_move_to(fx->store, x, other, MTP_STORE_ROOT, &nx), 0);
	assert_int_equal(mtp_store_move_to(fx->store, a, other, MTP_STORE_ROOT, &na), 0);
	assert_true(file_is(path_in(other_dir, "x"), "x"));
	assert_true(file_is(path_in(other_dir, "a/f.txt"), "inside f"));
	assert_int_equal(access(path_in(fx->served, "a"), F_OK), -1);
	assert_int_equal(mtp_store_get(fx->store, a, &e), -ENOENT);
	assert_int_equal(mtp_store_get(other, na, &e), 0);
	assert_string_equal(e.name, "a");
	assert_int_not_equal(find(other, na, "f.txt"), 0);
	/* within one store it is a move that keeps the handle */
	assert_int_equal(mtp_store_move_to(other, nx, other, na, &x), 0);
	assert_int_equal(x, nx);
	assert_true(file_is(path_in(other_dir, "a/x"), "x"));
	mtp_store_close(other);
}

/*
 * Folders made after the listing are watched as they appear: what was put
 * in one before its watch was in place is reported with it, and what is
 * put in it later too; the same for a folder the store made itself.
 */
static void test_events_new_folders(void **state)
{
	struct fixture *fx = *state;
	struct events ev;
	uint32_t n, early, late, d1, d2, deep, mine, inside;

	find(fx->store, MTP_STORE_ROOT, "x"); /* the top is listed, so watched */
	read_events(fx->store, &ev);
	assert_int_equal(mkdir(path_in(fx->served, "new"), 0755), 0);
	write_file(path_in(fx->served, "new/early.txt"), "early");
	read_events(fx->store, &ev);
	n = find(fx->store, MTP_STORE_ROOT, "new");
	early = find(fx->store, n, "early.txt");
	assert_true(reported(&ev, 0x4002, n));
	assert_true(reported(&ev, 0x4002, early));
	write_file(path_in(fx->served, "new/late.txt"), "late");
	read_events(fx->store, &ev);
	late = find(fx->store, n, "late.txt");
	assert_true(reported(&ev, 0x4002, late));
	/* folders in folders, made at once (mkdir -p) */
	assert_int_equal(mkdir(path_in(fx->served, "new/d1"), 0755), 0);
	assert_int_equal(mkdir(path_in(fx->served, "new/d1/d2"), 0755), 0);
	write_file(path_in(fx->served, "new/d1/d2/deep.txt"), "deep");
	read_events(fx->store, &ev);
	d1 = find(fx->store, n, "d1");
	d2 = find(fx->store, d1, "d2");
	deep = find(fx->store, d2, "deep.txt");
	assert_true(reported(&ev, 0x4002, d1) && reported(&ev, 0x4002, d2) &&
		    reported(&ev, 0x4002, deep));
	assert_int_equal(unlink(path_in(fx->served, "new/d1/d2/deep.txt")), 0);
	read_events(fx->store, &ev);
	assert_true(reported(&ev, 0x4003, deep));
	/* a folder the store made: what others put in it is reported */
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "mine", true, &mine, NULL), 0);
	write_file(path_in(fx->served, "mine/theirs.txt"), "t");
	read_events(fx->store, &ev);
	inside = find(fx->store, mine, "theirs.txt");
	assert_true(reported(&ev, 0x4002, inside));
	assert_false(reported(&ev, 0x4002, mine)); /* its own making is no news */
}

/* No event since the last look (step names the change that must cause none). */
static void assert_quiet(struct mtp_store *st, const char *step)
{
	struct events ev;

	read_events(st, &ev);
	if (ev.n)
		fail_msg("%s: %zu events, the first 0x%04x for %u", step, ev.n, ev.code[0],
			 ev.handle[0]);
}

/*
 * The store's own changes are not reported back (the initiator made them),
 * looked at after each one as the event loop would; the same changes made
 * by others are.
 */
static void test_no_events_for_own_changes(void **state)
{
	struct fixture *fx = *state;
	struct events ev;
	uint32_t a = find(fx->store, MTP_STORE_ROOT, "a"), h, d, c, x;
	struct mtp_entry e;
	int fd = -1;

	find(fx->store, a, "f.txt"); /* a is listed, so watched */
	read_events(fx->store, &ev);
	/* SendObjectInfo, then SendObject's data, then its stat learned */
	assert_int_equal(mtp_store_create(fx->store, a, "sent.bin", false, &h, &fd), 0);
	assert_quiet(fx->store, "create");
	assert_int_equal(write(fd, "payload", 7), 7);
	close(fd);
	assert_int_equal(mtp_store_get(fx->store, h, &e), 0);
	assert_quiet(fx->store, "write");
	assert_int_equal(mtp_store_rename(fx->store, h, "renamed.bin"), 0);
	assert_quiet(fx->store, "rename");
	assert_int_equal(mtp_store_move(fx->store, h, MTP_STORE_ROOT), 0);
	assert_quiet(fx->store, "move");
	assert_int_equal(mtp_store_create(fx->store, MTP_STORE_ROOT, "d", true, &d, NULL), 0);
	assert_quiet(fx->store, "mkdir");
	assert_int_equal(mtp_store_copy(fx->store, h, fx->store, d, &c), 0);
	assert_quiet(fx->store, "copy of a file");
	assert_int_equal(mtp_store_copy(fx->store, a, fx->store, d, &c), 0);
	assert_quiet(fx->store, "copy of a folder");
	fd = mtp_store_open_file(fx->store, h, O_RDWR); /* SendPartialObject, then learned */
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "P", 1, 0), 1);
	close(fd);
	assert_int_equal(mtp_store_get(fx->store, h, &e), 0);
	assert_quiet(fx->store, "partial write");
	/* others: a write, a chmod, a rename over it */
	write_file(path_in(fx->served, "renamed.bin"), "changed by someone");
	read_events(fx->store, &ev);
	assert_true(reported(&ev, 0x4007, h));
	assert_int_equal(chmod(path_in(fx->served, "renamed.bin"), 0600), 0);
	read_events(fx->store, &ev);
	assert_true(reported(&ev, 0x4007, h));
	x = find(fx->store, MTP_STORE_ROOT, "x");
	write_file(path_in(fx->served, "x.new"), "new x");
	assert_int_equal(rename(path_in(fx->served, "x.new"), path_in(fx->served, "x")), 0);
	read_events(fx->store, &ev);
	assert_true(reported(&ev, 0x4007, x));
}

/* ---- uploads ---- */

/* How many names in dir begin with the upload prefix. */
static int temporaries_in(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), i, count = 0;

	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strncmp(list[i]->d_name, MTP_STORE_UPLOAD_PREFIX,
			    strlen(MTP_STORE_UPLOAD_PREFIX)) == 0)
			count++;
		free(list[i]);
	}
	free(list);
	return count;
}

static bool exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* The data is under the name only once committed; the temporary is never an object. */
static void test_upload_commit(void **state)
{
	struct fixture *fx = *state;
	uint32_t h, *handles;
	size_t n, i;
	struct mtp_entry e;
	int fd;

	assert_int_equal(mtp_store_upload_begin(fx->store, MTP_STORE_ROOT, "up.bin", &h, &fd), 0);
	assert_int_equal(write(fd, "complete", 8), 8);
	assert_false(exists(path_in(fx->served, "up.bin")));
	assert_int_equal(temporaries_in(fx->served), 1);
	assert_int_equal(mtp_store_list(fx->store, MTP_STORE_ROOT, false, &handles, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_not_equal(handles[i], h);
		assert_int_equal(mtp_store_peek(fx->store, handles[i], &e), 0);
		assert_true(mtp_store_name_ok(e.name));
	}
	free(handles);
	assert_int_equal(mtp_store_get(fx->store, h, &e), -ENOENT);
	assert_int_equal(temporaries_in(fx->served), 1); /* a listing leaves a live one alone */
	assert_int_equal(mtp_store_upload_commit(fx->store, h), 0);
	assert_true(file_is(path_in(fx->served, "up.bin"), "complete"));
	assert_int_equal(temporaries_in(fx->served), 0);
	assert_int_equal(mtp_store_get(fx->store, h, &e), 0); /* the handle the host was given */
	assert_string_equal(e.name, "up.bin");
	assert_int_equal(e.size, 8);
	assert_int_equal(find(fx->store, MTP_STORE_ROOT, "up.bin"), h);
	/* a name taken now is refused at once */
	assert_int_equal(mtp_store_upload_begin(fx->store, MTP_STORE_ROOT, "up.bin", &h, &fd),
			 -EEXIST);
	assert_int_equal(mtp_store_upload_begin(fx->store, MTP_STORE_ROOT,
						MTP_STORE_UPLOAD_PREFIX "x", &h, &fd),
			 -EINVAL);
	assert_false(mtp_store_name_ok(MTP_STORE_UPLOAD_PREFIX "0123"));
}

/* A cut or cancelled upload (abort) leaves nothing; so does closing the store. */
static void test_upload_abort(void **state)
{
	struct fixture *fx = *state;
	uint32_t h, a = find(fx->store, MTP_STORE_ROOT, "a");
	int fd;

	assert_int_equal(mtp_store_upload_begin(fx->store, a, "part.bin", &h, &fd), 0);
	assert_int_equal(write(fd, "half", 4), 4);
	mtp_store_upload_abort(fx->store, h);
	assert_false(exists(path_in(fx->served, "a/part.bin")));
	assert_int_equal(temporaries_in(path_in(fx->served, "a")), 0);
	assert_int_equal(mtp_store_upload_begin(fx->store, a, "part.bin", &h, &fd), 0);
	mtp_store_close(fx->store); /* serve-mtp stopping mid-upload */
	fx->store = mtp_store_open(fx->served, false);
	assert_non_null(fx->store);
	assert_false(exists(path_in(fx->served, "a/part.bin")));
	assert_int_equal(temporaries_in(path_in(fx->served, "a")), 0);
}

/*
 * A local user's file is never replaced or removed: one renamed onto the
 * pending name wins (the commit is -EEXIST, and the upload goes), one
 * renamed onto the temporary itself is not removed by the abort.
 */
static void test_upload_never_over_local(void **state)
{
	struct fixture *fx = *state;
	struct dirent **list;
	char tmp[512];
	uint32_t h;
	int fd, n, i;

	assert_int_equal(mtp_store_upload_begin(fx->store, MTP_STORE_ROOT, "up.bin", &h, &fd), 0);
	assert_int_equal(write(fd, "upload", 6), 6);
	write_file(path_in(fx->served, "mine"), "local data");
	assert_int_equal(rename(path_in(fx->served, "mine"), path_in(fx->served, "up.bin")), 0);
	assert_int_equal(mtp_store_upload_commit(fx->store, h), -EEXIST);
	assert_true(file_is(path_in(fx->served, "up.bin"), "local data"));
	assert_int_equal(temporaries_in(fx->served), 0);

	assert_int_equal(mtp_store_upload_begin(fx->store, MTP_STORE_ROOT, "up2.bin", &h, &fd), 0);
	n = scandir(fx->served, &list, NULL, alphasort);
	tmp[0] = 0;
	for (i = 0; i < n; i++) {
		if (strncmp(list[i]->d_name, MTP_STORE_UPLOAD_PREFIX,
			    strlen(MTP_STORE_UPLOAD_PREFIX)) == 0)
			snprintf(tmp, sizeof(tmp), "%s", path_in(fx->served, list[i]->d_name));
		free(list[i]);
	}
	free(list);
	assert_true(tmp[0]);
	write_file(path_in(fx->served, "mine"), "local data");
	assert_int_equal(rename(path_in(fx->served, "mine"), tmp), 0);
	mtp_store_upload_abort(fx->store, h);
	assert_true(file_is(tmp, "local data")); /* not the file the store made: left alone */
	assert_false(exists(path_in(fx->served, "up2.bin")));
	unlink(tmp);
}

/*
 * What a killed serve-mtp left (an upload temporary nobody holds) goes
 * when a store opens (its top) or lists the folder; one a live process
 * holds stays; none is ever listed.
 */
static void test_upload_leftovers(void **state)
{
	struct fixture *fx = *state;
	const char *top = path_in(fx->served, MTP_STORE_UPLOAD_PREFIX "0000000000000001");
	char sub[512], held[512];
	uint32_t a;
	int fd;

	snprintf(sub, sizeof(sub), "%s", path_in(fx->served, "a/" MTP_STORE_UPLOAD_PREFIX "02"));
	snprintf(held, sizeof(held), "%s", path_in(fx->served, MTP_STORE_UPLOAD_PREFIX "03"));
	mtp_store_close(fx->store);
	write_file(top, "left by a killed process");
	write_file(sub, "left in a folder");
	write_file(held, "another serve-mtp's live upload");
	fd = open(held, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	fx->store = mtp_store_open(fx->served, false);
	assert_non_null(fx->store);
	assert_false(exists(top));
	assert_true(exists(held));
	assert_true(exists(sub)); /* not looked at yet */
	a = find(fx->store, MTP_STORE_ROOT, "a");
	assert_int_not_equal(a, 0);
	assert_int_equal(find(fx->store, MTP_STORE_ROOT, MTP_STORE_UPLOAD_PREFIX "03"), 0);
	assert_int_equal(find(fx->store, a, "f.txt") != 0, 1);
	assert_false(exists(sub));
	assert_true(exists(held));
	close(fd);
	unlink(held);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		T(test_symlinks_not_listed),
		T(test_bad_names_refused),
		T(test_create_rename_delete),
		T(test_directory_swapped_for_symlink),
		T(test_file_swapped_for_symlink),
		T(test_delete_tree_with_links),
		T(test_read_only),
		T(test_unknown_handles),
		T(test_copy_folder),
		T(test_move_to_other_store),
		T(test_events_new_folders),
		T(test_no_events_for_own_changes),
		T(test_upload_commit),
		T(test_upload_abort),
		T(test_upload_never_over_local),
		T(test_upload_leftovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
