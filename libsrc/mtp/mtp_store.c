// SPDX-License-Identifier: GPL-2.0-or-later
#include "mtp/mtp_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "mtp/mtp_container.h"
#include "util/log.h"
#include "util/io.h"

#define MAX_DEPTH 128 /* directories deeper than this are not followed */

struct obj {
	uint32_t handle, parent;
	char *name;
	bool is_dir, scanned;
	uint64_t size, ino, dev;
	int64_t mtime;
	int64_t mtime_ns, ctime_ns; /* what changes tell: a change is a stat that differs */
	unsigned int gen;
	uint32_t first_child, next_sibling, prev_sibling; /* 0: none */
	uint32_t hash_next;
	int wd; /* inotify watch of a scanned directory, or -1 */
};

/*
 * An upload not yet complete: its data goes to a hidden temporary in the
 * folder it is for (dir_fd, kept open: the folder may be renamed
 * meanwhile), which the store made (dev, ino) and holds locked (flock) as
 * long as it is in use, so that a leftover of a process that was killed
 * is told from a live upload of another.
 */
struct upload {
	SLIST_ENTRY(upload) link; /* first: pmccabe misreads a struct that ends with one */
	uint32_t handle, parent; /* the object's handle from the commit on */
	char *name;
	char tmp[sizeof(MTP_STORE_UPLOAD_PREFIX) + 16];
	int fd, dir_fd;
	dev_t dev;
	ino_t ino;
};

struct mtp_store {
	int root_fd;
	SLIST_HEAD(, upload) uploads;
	bool read_only;
	struct obj **objs; /* by handle; objs[0] is the top directory */
	uint32_t nobjs;	   /* next handle */
	uint32_t *buckets; /* (parent, name) -> first handle; 0: empty */
	size_t nbuckets, count;
	unsigned int gen;
	int inotify_fd;
	uint32_t *wd_handle; /* inotify watch descriptor -> directory handle + 1 */
	size_t nwd;
};

static size_t hash_of(uint32_t parent, const char *name, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return (size_t)(h % n);
}

static struct obj *get_obj(const struct mtp_store *st, uint32_t handle)
{
	return handle < st->nobjs ? st->objs[handle] : NULL;
}

static struct obj *lookup(const struct mtp_store *st, uint32_t parent, const char *name)
{
	uint32_t h = st->buckets[hash_of(parent, name, st->nbuckets)];

	while (h) {
		struct obj *o = st->objs[h];

		if (o->parent == parent && strcmp(o->name, name) == 0)
			return o;
		h = o->hash_next;
	}
	return NULL;
}

static void hash_insert(struct mtp_store *st, struct obj *o)
{
	size_t b = hash_of(o->parent, o->name, st->nbuckets);

	o->hash_next = st->buckets[b];
	st->buckets[b] = o->handle;
}

static void hash_remove(struct mtp_store *st, struct obj *o)
{
	uint32_t *p = &st->buckets[hash_of(o->parent, o->name, st->nbuckets)];

	while (*p && *p != o->handle)
		p = &st->objs[*p]->hash_next;
	if (*p)
		*p = o->hash_next;
}

static int grow_hash(struct mtp_store *st)
{
	size_t n = st->nbuckets * 2, i;
	uint32_t *b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	free(st->buckets);
	st->buckets = b;
	st->nbuckets = n;
	for (i = 1; i < st->nobjs; i++)
		if (st->objs[i])
			hash_insert(st, st->objs[i]);
	return 0;
}

static void link_child(struct mtp_store *st, struct obj *o)
{
	struct obj *p = st->objs[o->parent];

	o->prev_sibling = 0;
	o->next_sibling = p->first_child;
	if (p->first_child)
		st->objs[p->first_child]->prev_sibling = o->handle;
	p->first_child = o->handle;
}

static void unlink_child(struct mtp_store *st, struct obj *o)
{
	if (o->prev_sibling)
		st->objs[o->prev_sibling]->next_sibling = o->next_sibling;
	else
		st->objs[o->parent]->first_child = o->next_sibling;
	if (o->next_sibling)
		st->objs[o->next_sibling]->prev_sibling = o->prev_sibling;
	o->next_sibling = o->prev_sibling = 0;
}

static void fill_stat(struct obj *o, const struct stat *sb)
{
	o->is_dir = S_ISDIR(sb->st_mode);
	o->size = o->is_dir ? 0 : (uint64_t)sb->st_size;
	o->mtime = sb->st_mtime;
	o->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	o->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
	o->ino = sb->st_ino;
	o->dev = sb->st_dev;
}

/* Does sb say something that o does not know? (ctime moves with every change, ours too.) */
static bool stat_differs(const struct obj *o, const struct stat *sb)
{
	return (!o->is_dir && o->size != (uint64_t)sb->st_size) || o->ino != sb->st_ino ||
	       o->mtime_ns != (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec ||
	       o->ctime_ns != (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
}

/* A new handle, with no object yet (objs[handle] NULL); false when none is left or no memory. */
static bool take_handle(struct mtp_store *st, uint32_t *handle)
{
	if (st->nobjs > MTP_STORE_HANDLE_MAX)
		return false; /* handles are never reused: a folder that churned through 2^28 names
			       */
	if ((st->nobjs & (st->nobjs - 1)) == 0 || st->nobjs < 16) {
		/* capacity doubles at powers of two */
		size_t cap = st->nobjs < 16 ? 16 : (size_t)st->nobjs * 2;
		struct obj **bigger = realloc(st->objs, cap * sizeof(*bigger));

		if (!bigger)
			return false;
		st->objs = bigger;
	}
	st->objs[st->nobjs] = NULL;
	*handle = st->nobjs++;
	return true;
}

/* The object name in parent, under handle (taken with take_handle and still empty). */
static struct obj *place_obj(struct mtp_store *st, uint32_t handle, uint32_t parent,
			     const char *name, const struct stat *sb)
{
	struct obj *o;

	if (st->count + 1 > st->nbuckets && grow_hash(st))
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->name = strdup(name);
	if (!o->name) {
		free(o);
		return NULL;
	}
	o->handle = handle;
	o->parent = parent;
	o->wd = -1;
	o->gen = st->gen;
	fill_stat(o, sb);
	st->objs[o->handle] = o;
	st->count++;
	hash_insert(st, o);
	link_child(st, o);
	return o;
}

static struct obj *add_obj(struct mtp_store *st, uint32_t parent, const char *name,
			   const struct stat *sb)
{
	uint32_t handle;
	struct obj *o;

	if (!take_handle(st, &handle))
		return NULL;
	o = place_obj(st, handle, parent, name, sb);
	if (!o)
		st->nobjs--; /* the handle it took, still unused */
	return o;
}

static void remove_obj(struct mtp_store *st, struct obj *o)
{
	while (o->first_child)
		remove_obj(st, st->objs[o->first_child]);
	if (o->wd >= 0) {
		inotify_rm_watch(st->inotify_fd, o->wd);
		if ((size_t)o->wd < st->nwd)
			st->wd_handle[o->wd] = 0;
	}
	if (o->handle == MTP_STORE_ROOT)
		return;
	hash_remove(st, o);
	unlink_child(st, o);
	st->objs[o->handle] = NULL;
	st->count--;
	free(o->name);
	free(o);
}

static bool is_upload_tmp(const char *name)
{
	return strncmp(name, MTP_STORE_UPLOAD_PREFIX, sizeof(MTP_STORE_UPLOAD_PREFIX) - 1) == 0;
}

bool mtp_store_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 255 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && !is_upload_tmp(name);
}

/*
 * A directory stream over its own copy of fd (closedir closes the copy, the
 * caller keeps fd). Returns 0 or -errno.
 */
static int dir_stream(int fd, DIR **out)
{
	int dfd = dup(fd);

	if (dfd < 0)
		return -errno;
	*out = fdopendir(dfd);
	if (!*out) {
		int err = errno;

		close(dfd);
		return -err;
	}
	return 0;
}

/*
 * Removes name in directory dfd if it is an upload temporary nobody holds
 * (the lock goes with the process that made it): what a killed serve-mtp
 * left. A live upload, ours or another serve-mtp's, is locked and stays.
 */
static void remove_leftover(const struct mtp_store *st, int dfd, const char *name)
{
	const struct upload *u;
	struct stat held, now;
	int fd;

	/*
	 * Our own are not even opened: where flock is emulated with POSIX
	 * locks (NFS), closing any descriptor of the file would drop its lock.
	 */
	if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	SLIST_FOREACH(u, &st->uploads, link)
		if (u->dev == now.st_dev && u->ino == now.st_ino)
			return;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == held.st_dev &&
	    now.st_ino == held.st_ino && unlinkat(dfd, name, 0) == 0)
		log_info("mtp: removed %s, an upload a stopped serve-mtp left", name);
	close(fd);
}

/* Every leftover upload temporary in directory fd. */
static void remove_leftovers(const struct mtp_store *st, int fd)
{
	struct dirent *de;
	DIR *d;

	if (dir_stream(fd, &d))
		return;
	while ((de = readdir(d)))
		if (is_upload_tmp(de->d_name))
			remove_leftover(st, fd, de->d_name);
	closedir(d);
}

static struct upload *find_upload(struct mtp_store *st, uint32_t handle)
{
	struct upload *u;

	SLIST_FOREACH(u, &st->uploads, link)
		if (u->handle == handle)
			return u;
	return NULL;
}

/* Whether u's temporary is still the file the store made (not something put in its place). */
static bool tmp_is_ours(const struct upload *u)
{
	struct stat sb;

	return fstatat(u->dir_fd, u->tmp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_dev == u->dev &&
	       sb.st_ino == u->ino;
}

/* Forgets u; its temporary goes first if it is still there (and ours). */
static void drop_upload(struct mtp_store *st, struct upload *u, bool remove_tmp)
{
	if (find_upload(st, u->handle) == u)
		SLIST_REMOVE(&st->uploads, u, upload, link);
	if (remove_tmp && tmp_is_ours(u))
		unlinkat(u->dir_fd, u->tmp, 0);
	if (u->fd >= 0)
		close(u->fd); /* after the unlink: the lock says "in use" until it is gone */
	if (u->dir_fd >= 0)
		close(u->dir_fd);
	free(u->name);
	free(u);
}

struct mtp_store *mtp_store_open(const char *dir, bool read_only)
{
	struct mtp_store *st = calloc(1, sizeof(*st));
	struct stat sb;
	struct obj *root;

	if (!st)
		return NULL;
	SLIST_INIT(&st->uploads);
	st->inotify_fd = -1;
	st->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0 || fstat(st->root_fd, &sb) != 0)
		goto fail;
	st->read_only = read_only;
	st->nbuckets = 1024;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	st->objs = calloc(16, sizeof(*st->objs));
	root = calloc(1, sizeof(*root));
	if (!st->buckets || !st->objs || !root || !(root->name = strdup(""))) {
		free(root);
		errno = ENOMEM;
		goto fail;
	}
	root->wd = -1;
	fill_stat(root, &sb);
	st->objs[0] = root;
	st->nobjs = 1;
	st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!read_only)
		remove_leftovers(st, st->root_fd);
	return st;
fail:
	mtp_store_close(st);
	return NULL;
}

void mtp_store_close(struct mtp_store *st)
{
	int saved = errno;

	if (!st)
		return;
	while (!SLIST_EMPTY(&st->uploads))
		drop_upload(st, SLIST_FIRST(&st->uploads), true);
	if (st->objs && st->objs[0]) {
		remove_obj(st, st->objs[0]);
		free(st->objs[0]->name);
		free(st->objs[0]);
	}
	free(st->objs);
	free(st->buckets);
	free(st->wd_handle);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st);
	errno = saved;
}

bool mtp_store_read_only(const struct mtp_store *st)
{
	return st->read_only;
}

int mtp_store_watch_fd(const struct mtp_store *st)
{
	return st->inotify_fd;
}

/* A descriptor of directory handle h, walked from the top; -errno on failure. */
static int open_dir(struct mtp_store *st, uint32_t h, int depth)
{
	struct obj *o = get_obj(st, h);
	int pfd, fd;

	if (!o)
		return -ENOENT;
	if (h == MTP_STORE_ROOT) {
		fd = openat(st->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!o->is_dir)
		return -ENOTDIR;
	if (depth > MAX_DEPTH)
		return -ELOOP;
	pfd = open_dir(st, o->parent, depth + 1);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, o->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	close(pfd);
	return fd;
}

static void watch_dir(struct mtp_store *st, struct obj *o, int fd)
{
	char path[64];
	int wd;

	if (st->inotify_fd < 0 || o->wd >= 0)
		return;
	/*
	 * inotify wants a path: the descriptor's /proc link names exactly this
	 * directory (so it must be followed: no IN_DONT_FOLLOW).
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(st->inotify_fd, path,
			       IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
				       IN_CLOSE_WRITE | IN_ATTRIB | IN_ONLYDIR);
	if (wd < 0)
		return;
	if ((size_t)wd >= st->nwd) {
		size_t n = (size_t)wd * 2 + 16;
		uint32_t *bigger = realloc(st->wd_handle, n * sizeof(*bigger));

		if (!bigger) {
			inotify_rm_watch(st->inotify_fd, wd);
			return;
		}
		memset(bigger + st->nwd, 0, (n - st->nwd) * sizeof(*bigger));
		st->wd_handle = bigger;
		st->nwd = n;
	}
	/* The kernel gives the same wd for a directory watched twice: keep one owner. */
	if (st->wd_handle[wd] && st->wd_handle[wd] - 1 != o->handle) {
		struct obj *other = get_obj(st, st->wd_handle[wd] - 1);

		if (other)
			other->wd = -1;
	}
	st->wd_handle[wd] = o->handle + 1;
	o->wd = wd;
}

/* Rescans directory o, open as fd: adds new names, drops vanished ones. */
static int scan_dir(struct mtp_store *st, struct obj *o, int fd)
{
	DIR *d;
	struct dirent *de;
	unsigned int gen = ++st->gen;
	uint32_t c, next;
	int rc = dir_stream(fd, &d);

	if (rc)
		return rc;
	while ((de = readdir(d))) {
		struct stat sb;
		struct obj *child;

		if (is_upload_tmp(de->d_name) && !st->read_only)
			remove_leftover(st, fd, de->d_name);
		if (!mtp_store_name_ok(de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
			continue;
		child = lookup(st, o->handle, de->d_name);
		if (child && child->is_dir != S_ISDIR(sb.st_mode)) {
			remove_obj(st, child); /* a file became a directory: a new object */
			child = NULL;
		}
		if (child) {
			fill_stat(child, &sb);
			child->gen = gen;
		} else if (!add_obj(st, o->handle, de->d_name, &sb)) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	for (c = o->first_child; c; c = next) {
		next = st->objs[c]->next_sibling;
		if (st->objs[c]->gen != gen)
			remove_obj(st, st->objs[c]);
	}
	o->scanned = true;
	watch_dir(st, o, fd);
	return 0;
}

/*
 * A folder that just appeared (made by us, by others, or moved in) in a
 * folder the store knows, open as fd: scanned and watched at once, and
 * what it already holds (made before the watch was in place) reported
 * with fn (may be NULL), down to MAX_DEPTH, so that nothing made in it
 * afterwards goes unreported.
 */
static void adopt_dir(struct mtp_store *st, struct obj *o, int fd, mtp_store_event_fn fn, void *arg,
		      int depth)
{
	uint32_t c;

	if (scan_dir(st, o, fd))
		return;
	for (c = o->first_child; c; c = st->objs[c]->next_sibling) {
		struct obj *child = st->objs[c];
		int cfd;

		if (fn)
			fn(arg, PTP_EC_ObjectAdded, c);
		if (!child->is_dir || depth >= MAX_DEPTH)
			continue;
		cfd = openat(fd, child->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		adopt_dir(st, child, cfd, fn, arg, depth + 1);
		close(cfd);
	}
}

/* What o is on disk now (after a change of ours: its events then tell nothing new). */
static void refresh_obj(struct mtp_store *st, struct obj *o)
{
	struct stat sb;
	int pfd = open_dir(st, o->parent, 0);

	if (pfd < 0)
		return;
	if (fstatat(pfd, o->name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode) == o->is_dir)
		fill_stat(o, &sb);
	close(pfd);
}

struct handle_list {
	uint32_t *v;
	size_t n, cap;
};

static int push(struct handle_list *l, uint32_t h)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *bigger = realloc(l->v, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		l->v = bigger;
		l->cap = cap;
	}
	l->v[l->n++] = h;
	return 0;
}

static int list_dir(struct mtp_store *st, struct obj *o, int fd, bool recursive,
		    struct handle_list *l, int depth)
{
	uint32_t c;
	int rc = scan_dir(st, o, fd);

	if (rc)
		return rc;
	for (c = o->first_child; c; c = st->objs[c]->next_sibling)
		if ((rc = push(l, c)))
			return rc;
	if (!recursive || depth >= MAX_DEPTH)
		return 0;
	for (c = o->first_child; c; c = st->objs[c]->next_sibling) {
		struct obj *child = st->objs[c];
		int cfd;

		if (!child->is_dir)
			continue;
		cfd = openat(fd, child->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue; /* gone or swapped meanwhile: the next listing drops it */
		rc = list_dir(st, child, cfd, true, l, depth + 1);
		close(cfd);
		if (rc == -ENOMEM)
			return rc;
	}
	return 0;
}

int mtp_store_list(struct mtp_store *st, uint32_t parent, bool recursive, uint32_t **handles,
		   size_t *count)
{
	struct handle_list l = { 0 };
	struct obj *o = get_obj(st, parent);
	int fd, rc;

	*handles = NULL;
	*count = 0;
	if (!o)
		return -ENOENT;
	if (!o->is_dir)
		return -ENOTDIR;
	fd = open_dir(st, parent, 0);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR)
			remove_obj(st, o);
		return fd == -ELOOP ? -ENOENT : fd;
	}
	rc = list_dir(st, o, fd, recursive, &l, 0);
	close(fd);
	if (rc) {
		free(l.v);
		return rc;
	}
	*handles = l.v;
	*count = l.n;
	return 0;
}

static void to_entry(const struct obj *o, struct mtp_entry *e)
{
	e->handle = o->handle;
	e->parent = o->parent;
	e->name = o->name;
	e->is_dir = o->is_dir;
	e->size = o->size;
	e->mtime = o->mtime;
	e->ino = o->ino;
	e->dev = o->dev;
}

int mtp_store_peek(const struct mtp_store *st, uint32_t handle, struct mtp_entry *e)
{
	const struct obj *o = get_obj(st, handle);

	if (!o || handle == MTP_STORE_ROOT)
		return -ENOENT;
	to_entry(o, e);
	return 0;
}

int mtp_store_get(struct mtp_store *st, uint32_t handle, struct mtp_entry *e)
{
	struct obj *o = get_obj(st, handle);
	struct stat sb;
	int pfd, rc;

	if (!o || handle == MTP_STORE_ROOT)
		return -ENOENT;
	pfd = open_dir(st, o->parent, 0);
	if (pfd < 0)
		return pfd == -ENOMEM ? pfd : -ENOENT;
	rc = fstatat(pfd, o->name, &sb, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	close(pfd);
	if (!rc &&
	    (!(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) || o->is_dir != S_ISDIR(sb.st_mode)))
		rc = -ENOENT; /* replaced by a symlink or something else: not this object */
	if (rc) {
		if (rc == -ENOENT)
			remove_obj(st, o);
		return -ENOENT;
	}
	fill_stat(o, &sb);
	to_entry(o, e);
	return 0;
}

int mtp_store_open_file(struct mtp_store *st, uint32_t handle, int flags)
{
	struct obj *o = get_obj(st, handle);
	struct stat sb;
	int pfd, fd;

	if (!o || handle == MTP_STORE_ROOT)
		return -ENOENT;
	if (o->is_dir)
		return -EISDIR;
	if ((flags & O_ACCMODE) != O_RDONLY && st->read_only)
		return -EROFS;
	pfd = open_dir(st, o->parent, 0);
	if (pfd < 0)
		return pfd;
	/* O_NONBLOCK: a FIFO swapped in must not block us; checked below. */
	fd = openat(pfd, o->name,
		    (flags & O_ACCMODE) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		fd = -errno;
	close(pfd);
	if (fd < 0)
		return fd == -ELOOP ? -ENOENT : fd;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	fcntl(fd, F_SETFL, 0);
	fill_stat(o, &sb);
	return fd;
}

/* Whether name may be made in parent: 0 or -errno. */
static int new_name_ok(const struct mtp_store *st, uint32_t parent, const char *name)
{
	const struct obj *p = get_obj(st, parent);

	if (st->read_only)
		return -EROFS;
	if (!mtp_store_name_ok(name))
		return -EINVAL;
	if (!p)
		return -ENOENT;
	if (!p->is_dir)
		return -ENOTDIR;
	return 0;
}

int mtp_store_create(struct mtp_store *st, uint32_t parent, const char *name, bool dir,
		     uint32_t *handle, int *fd_out)
{
	struct obj *o;
	struct stat sb;
	int pfd, fd = -1, rc = new_name_ok(st, parent, name);

	if (rc)
		return rc;
	pfd = open_dir(st, parent, 0);
	if (pfd < 0)
		return pfd;
	if (dir) {
		if (mkdirat(pfd, name, 0755) != 0)
			rc = -errno;
	} else {
		fd = openat(pfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			rc = -errno;
	}
	if (!rc && fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		rc = -errno;
	close(pfd);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	o = lookup(st, parent, name);
	if (o)
		remove_obj(st, o); /* a stale entry of the same name */
	o = add_obj(st, parent, name, &sb);
	if (!o) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	*handle = o->handle;
	if (dir) {
		/* Watched from the start: what others put in it is reported. */
		int dfd = open_dir(st, o->handle, 0);

		if (dfd >= 0) {
			adopt_dir(st, o, dfd, NULL, NULL, 0);
			close(dfd);
		}
	}
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

/* ---- uploads: a hidden temporary, renamed to its name once complete ---- */

/* A new temporary in u->dir_fd, created and locked: 0, or -errno. */
static int make_tmp(struct upload *u)
{
	struct stat sb;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		static unsigned int made;
		uint64_t r;

		/* Unguessable if it can be; unique enough anyway (O_EXCL tells). */
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ ++made;
		snprintf(u->tmp, sizeof(u->tmp), "%s%016llx", MTP_STORE_UPLOAD_PREFIX,
			 (unsigned long long)r);
		u->fd = openat(u->dir_fd, u->tmp,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (u->fd < 0 && errno == EEXIST)
			continue;
		if (u->fd < 0)
			return -errno;
		/*
		 * Locked, and still linked: another serve-mtp removing leftovers
		 * may have taken it between the create and the lock.
		 */
		if (flock(u->fd, LOCK_EX | LOCK_NB) == 0 && fstat(u->fd, &sb) == 0 &&
		    sb.st_nlink > 0) {
			u->dev = sb.st_dev;
			u->ino = sb.st_ino;
			return 0;
		}
		close(u->fd); /* a sweeper has it, and removes it */
		u->fd = -1;
	}
	return -EEXIST;
}

int mtp_store_upload_begin(struct mtp_store *st, uint32_t parent, const char *name,
			   uint32_t *handle, int *fd)
{
	struct upload *u;
	struct stat sb;
	int rc = new_name_ok(st, parent, name);

	if (rc)
		return rc;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->name = strdup(name))) {
		free(u);
		return -ENOMEM;
	}
	u->fd = -1;
	u->parent = parent;
	u->dir_fd = open_dir(st, parent, 0);
	rc = u->dir_fd < 0 ? u->dir_fd : 0;
	if (!rc && fstatat(u->dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		rc = -EEXIST; /* the name is taken now */
	else if (!rc && errno != ENOENT)
		rc = -errno;
	if (!rc)
		rc = make_tmp(u);
	if (!rc && !take_handle(st, &u->handle))
		rc = -ENOMEM;
	if (rc) {
		drop_upload(st, u, u->fd >= 0); /* not listed yet: only its files go */
		return rc;
	}
	SLIST_INSERT_HEAD(&st->uploads, u, link);
	*handle = u->handle;
	*fd = u->fd;
	return 0;
}

/* The temporary under its final name, never over another file: 0 or -errno (-EEXIST). */
static int link_final(const struct upload *u)
{
	if (!tmp_is_ours(u))
		return -ENOENT; /* removed or replaced by someone else: not ours to publish */
	if (renameat2(u->dir_fd, u->tmp, u->dir_fd, u->name, RENAME_NOREPLACE) != 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* A file system without RENAME_NOREPLACE: a hard link does not replace either. */
		if (linkat(u->dir_fd, u->tmp, u->dir_fd, u->name, 0) != 0)
			return -errno;
		unlinkat(u->dir_fd, u->tmp, 0);
	}
	fsync(u->dir_fd); /* the name on disk too (the data was flushed before) */
	return 0;
}

int mtp_store_upload_commit(struct mtp_store *st, uint32_t handle)
{
	struct upload *u = find_upload(st, handle);
	struct obj *stale;
	struct stat sb;
	int rc;

	if (!u)
		return -ENOENT;
	rc = fsync(u->fd) != 0 ? -errno : link_final(u);
	if (rc) {
		drop_upload(st, u, true);
		return rc;
	}
	/* Known under the handle the host was given, if its folder is still known. */
	if (fstatat(u->dir_fd, u->name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && get_obj(st, u->parent) &&
	    S_ISREG(sb.st_mode)) {
		stale = lookup(st, u->parent, u->name);
		if (stale)
			remove_obj(st, stale);
		if (!place_obj(st, handle, u->parent, u->name, &sb))
			rc = -ENOMEM; /* linked all the same: the next listing finds it */
	}
	drop_upload(st, u, false);
	return rc;
}

void mtp_store_upload_abort(struct mtp_store *st, uint32_t handle)
{
	struct upload *u = find_upload(st, handle);

	if (u)
		drop_upload(st, u, true);
}

/* Empties directory fd (not following symlinks: a link is removed, never its target). */
static int delete_tree(int fd, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	rc = dir_stream(fd, &d);
	if (rc)
		return rc;
	while ((de = readdir(d))) {
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			int cfd = openat(fd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (cfd < 0) {
				rc = -errno;
				continue;
			}
			if (delete_tree(cfd, depth + 1) != 0)
				rc = -EIO;
			close(cfd);
			if (unlinkat(fd, de->d_name, AT_REMOVEDIR) != 0)
				rc = -errno;
		} else if (unlinkat(fd, de->d_name, 0) != 0) {
			rc = -errno;
		}
	}
	closedir(d);
	return rc;
}

int mtp_store_delete(struct mtp_store *st, uint32_t handle)
{
	struct obj *o = get_obj(st, handle);
	int pfd, rc = 0;

	if (st->read_only)
		return -EROFS;
	if (!o || handle == MTP_STORE_ROOT)
		return -ENOENT;
	pfd = open_dir(st, o->parent, 0);
	if (pfd < 0)
		return pfd;
	if (o->is_dir) {
		int fd = openat(pfd, o->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0) {
			rc = -errno;
		} else {
			rc = delete_tree(fd, 0);
			close(fd);
			if (unlinkat(pfd, o->name, AT_REMOVEDIR) != 0 && !rc)
				rc = -errno;
		}
	} else {
		struct stat sb;

		/* Only the regular file we know, not whatever took its name. */
		if (fstatat(pfd, o->name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			rc = -errno;
		else if (!S_ISREG(sb.st_mode))
			rc = -ENOENT;
		else if (unlinkat(pfd, o->name, 0) != 0)
			rc = -errno;
	}
	close(pfd);
	if (rc == 0 || rc == -ENOENT)
		remove_obj(st, o);
	return rc;
}

static void rename_obj(struct mtp_store *st, struct obj *o, uint32_t parent, char *name)
{
	struct obj *stale = lookup(st, parent, name);

	if (stale && stale != o)
		remove_obj(st, stale);
	hash_remove(st, o);
	unlink_child(st, o);
	free(o->name);
	o->name = name;
	o->parent = parent;
	hash_insert(st, o);
	link_child(st, o);
}

int mtp_store_rename(struct mtp_store *st, uint32_t handle, const char *name)
{
	struct obj *o = get_obj(st, handle);
	char *copy;
	int pfd, rc = 0;

	if (st->read_only)
		return -EROFS;
	if (!o || handle == MTP_STORE_ROOT)
		return -ENOENT;
	if (!mtp_store_name_ok(name))
		return -EINVAL;
	if (strcmp(name, o->name) == 0)
		return 0;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	pfd = open_dir(st, o->parent, 0);
	if (pfd < 0) {
		free(copy);
		return pfd;
	}
	if (renameat2(pfd, o->name, pfd, name, RENAME_NOREPLACE) != 0)
		rc = -errno;
	close(pfd);
	if (rc) {
		free(copy);
		return rc;
	}
	rename_obj(st, o, o->parent, copy);
	refresh_obj(st, o); /* a rename changes its ctime */
	return 0;
}

static bool is_ancestor(const struct mtp_store *st, uint32_t a, uint32_t h)
{
	int depth = 0;

	while (h != MTP_STORE_ROOT && depth++ < MAX_DEPTH * 4) {
		if (h == a)
			return true;
		h = st->objs[h]->parent;
	}
	return false;
}

int mtp_store_move(struct mtp_store *st, uint32_t handle, uint32_t new_parent)
{
	struct obj *o = get_obj(st, handle), *np = get_obj(st, new_parent);
	char *copy;
	int ofd, nfd, rc = 0;

	if (st->read_only)
		return -EROFS;
	if (!o || handle == MTP_STORE_ROOT || !np)
		return -ENOENT;
	if (!np->is_dir)
		return -ENOTDIR;
	if (is_ancestor(st, handle, new_parent))
		return -EINVAL;
	if (o->parent == new_parent)
		return 0;
	copy = strdup(o->name);
	if (!copy)
		return -ENOMEM;
	ofd = open_dir(st, o->parent, 0);
	nfd = ofd < 0 ? ofd : open_dir(st, new_parent, 0);
	if (ofd < 0 || nfd < 0) {
		rc = ofd < 0 ? ofd : nfd;
	} else if (renameat2(ofd, o->name, nfd, o->name, RENAME_NOREPLACE) != 0) {
		rc = -errno;
	}
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
	if (rc) {
		free(copy);
		return rc;
	}
	rename_obj(st, o, new_parent, copy);
	refresh_obj(st, o);
	return 0;
}

/* All of in into out: in the kernel when it can (copy_file_range), else through a buffer. */
static int copy_data(int in, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);

		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		/* not between these file systems: the plain way, from where it got to */
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (io_write_all(out, buf, (size_t)n) != 0)
			return -errno;
	}
}

/*
 * Copies name in directory dfd (a regular file, or a directory with
 * everything in it, never following a symlink) into parent of store to.
 * On failure nothing of the copy is left.
 */
static int copy_entry(int dfd, const char *name, struct mtp_store *to, uint32_t parent,
		      uint32_t *new_handle, int depth)
{
	struct stat sb;
	int in, out, rc;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
		return -ENOENT; /* not an object */
	if (depth > MAX_DEPTH)
		return -ELOOP;
	in = openat(dfd, name,
		    (S_ISDIR(sb.st_mode) ? O_DIRECTORY : O_NONBLOCK) | O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return -errno;
	if (fstat(in, &sb) != 0 || (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))) {
		close(in);
		return -ENOENT; /* swapped for something else meanwhile */
	}
	if (S_ISREG(sb.st_mode)) {
		fcntl(in, F_SETFL, 0);
		/* Like an upload: under its name only once complete. */
		rc = mtp_store_upload_begin(to, parent, name, new_handle, &out);
		if (rc == 0) {
			rc = copy_data(in, out);
			if (rc)
				mtp_store_upload_abort(to, *new_handle);
			else
				rc = mtp_store_upload_commit(to, *new_handle);
		}
	} else {
		rc = mtp_store_create(to, parent, name, true, new_handle, NULL);
		if (rc == 0) {
			DIR *d = NULL;
			struct dirent *de;

			rc = dir_stream(in, &d);
			while (!rc && (de = readdir(d))) {
				uint32_t child;

				if (!mtp_store_name_ok(de->d_name))
					continue;
				rc = copy_entry(in, de->d_name, to, *new_handle, &child, depth + 1);
				if (rc == -ENOENT)
					rc = 0; /* gone meanwhile, or not an object: not copied */
			}
			if (d)
				closedir(d);
			if (rc)
				mtp_store_delete(to, *new_handle);
		}
	}
	close(in);
	return rc;
}

int mtp_store_copy(struct mtp_store *st, uint32_t handle, struct mtp_store *to, uint32_t new_parent,
		   uint32_t *new_handle)
{
	struct obj *o = get_obj(st, handle), *np = get_obj(to, new_parent);
	char *name;
	int pfd, rc;

	if (to->read_only)
		return -EROFS;
	if (!o || handle == MTP_STORE_ROOT || !np)
		return -ENOENT;
	if (!np->is_dir)
		return -ENOTDIR;
	/* Into itself or below: it would copy what it makes. */
	if (st == to && is_ancestor(st, handle, new_parent))
		return -EINVAL;
	name = strdup(o->name); /* o may go from the table while objects are added */
	if (!name)
		return -ENOMEM;
	pfd = open_dir(st, o->parent, 0);
	if (pfd < 0) {
		free(name);
		return pfd;
	}
	rc = copy_entry(pfd, name, to, new_parent, new_handle, 0);
	close(pfd);
	free(name);
	return rc;
}

int mtp_store_move_to(struct mtp_store *st, uint32_t handle, struct mtp_store *to,
		      uint32_t new_parent, uint32_t *new_handle)
{
	struct obj *o = get_obj(st, handle), *np = get_obj(to, new_parent), *n;
	struct stat sb;
	int ofd, nfd, rc = 0;

	if (st == to) {
		*new_handle = handle;
		return mtp_store_move(st, handle, new_parent);
	}
	if (st->read_only || to->read_only)
		return -EROFS;
	if (!o || handle == MTP_STORE_ROOT || !np)
		return -ENOENT;
	if (!np->is_dir)
		return -ENOTDIR;
	ofd = open_dir(st, o->parent, 0);
	nfd = ofd < 0 ? ofd : open_dir(to, new_parent, 0);
	if (ofd < 0 || nfd < 0)
		rc = ofd < 0 ? ofd : nfd;
	else if (renameat2(ofd, o->name, nfd, o->name, RENAME_NOREPLACE) != 0)
		rc = -errno; /* EXDEV: another file system, the caller copies */
	if (!rc && fstatat(nfd, o->name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		rc = -errno;
	if (!rc) {
		n = lookup(to, new_parent, o->name);
		if (n)
			remove_obj(to, n); /* a stale entry of that name */
		n = add_obj(to, new_parent, o->name, &sb);
		if (!n) {
			rc = -ENOMEM; /* moved, but unknown to us until the next listing */
		} else {
			*new_handle = n->handle;
			if (n->is_dir) {
				int dfd = open_dir(to, n->handle, 0);

				if (dfd >= 0) {
					adopt_dir(to, n, dfd, NULL, NULL, 0);
					close(dfd);
				}
			}
		}
		remove_obj(st, o);
	}
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
	return rc;
}

int mtp_store_space(struct mtp_store *st, uint64_t *capacity, uint64_t *free_bytes)
{
	struct statvfs sv;

	if (fstatvfs(st->root_fd, &sv) != 0)
		return -errno;
	*capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
	*free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

/* An object that went away (or became something that is no object): ObjectRemoved. */
static void report_removed(struct mtp_store *st, struct obj *o, mtp_store_event_fn fn, void *arg)
{
	uint32_t h = o->handle;

	remove_obj(st, o);
	fn(arg, PTP_EC_ObjectRemoved, h);
}

/* A new name in folder dh (open as fd): ObjectAdded, and a new folder's contents with it. */
static void report_added(struct mtp_store *st, uint32_t dh, int fd, const char *name,
			 const struct stat *sb, mtp_store_event_fn fn, void *arg)
{
	struct obj *o = add_obj(st, dh, name, sb);
	int cfd;

	if (!o)
		return;
	fn(arg, PTP_EC_ObjectAdded, o->handle);
	if (!o->is_dir)
		return;
	/* A new folder: watched now, and what is already in it reported. */
	cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd >= 0) {
		adopt_dir(st, o, cfd, fn, arg, 1);
		close(cfd);
	}
}

/* The name ev->name of folder dir (dh, open as fd) was made or changed. */
static void name_changed(struct mtp_store *st, const struct inotify_event *ev, struct obj *dir,
			 uint32_t dh, int fd, mtp_store_event_fn fn, void *arg)
{
	struct obj *o = lookup(st, dh, ev->name);
	struct stat sb;

	if (fstatat(fd, ev->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
		if (o) /* replaced by something that is not an object */
			report_removed(st, o, fn, arg);
		return;
	}
	if (o && o->is_dir == S_ISDIR(sb.st_mode)) {
		bool changed = stat_differs(o, &sb);

		/*
		 * Only what differs from what we know is news: after our own
		 * changes the store knows the new stat, so they go unreported.
		 * IN_CREATE of a known name is our own create.
		 */
		fill_stat(o, &sb);
		if (changed && !(ev->mask & IN_CREATE))
			fn(arg, PTP_EC_ObjectInfoChanged, o->handle);
		return;
	}
	if (o)
		report_removed(st, o, fn, arg);
	if (dir->scanned) /* else nobody has listed it: the first listing finds the new name */
		report_added(st, dh, fd, ev->name, &sb, fn, arg);
}

static void handle_event(struct mtp_store *st, const struct inotify_event *ev,
			 mtp_store_event_fn fn, void *arg)
{
	uint32_t dh;
	struct obj *dir, *o;
	int fd;

	if (ev->wd < 0 || (size_t)ev->wd >= st->nwd || !st->wd_handle[ev->wd])
		return;
	dh = st->wd_handle[ev->wd] - 1;
	dir = get_obj(st, dh);
	if (ev->mask & IN_IGNORED) {
		st->wd_handle[ev->wd] = 0;
		if (dir && dir->wd == ev->wd)
			dir->wd = -1;
		return;
	}
	if (!dir || !ev->len || !mtp_store_name_ok(ev->name))
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		o = lookup(st, dh, ev->name);
		if (o)
			report_removed(st, o, fn, arg);
		return;
	}
	fd = open_dir(st, dh, 0);
	if (fd < 0)
		return;
	name_changed(st, ev, dir, dh, fd, fn, arg);
	close(fd);
}

void mtp_store_read_events(struct mtp_store *st, mtp_store_event_fn fn, void *arg)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (st->inotify_fd < 0)
		return;
	for (;;) {
		ssize_t n = read(st->inotify_fd, buf, sizeof(buf)), off = 0;

		if (n <= 0)
			return;
		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			const struct inotify_event *ev = (const void *)(buf + off);

			off += (ssize_t)(sizeof(*ev) + ev->len);
			if (off > n)
				break;
			handle_event(st, ev, fn, arg);
		}
	}
}
