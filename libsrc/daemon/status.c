// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/status.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

struct status_socket {
	struct ev_loop *loop;
	struct ev_watch watch;
	struct sockaddr_un addr;
	status_fn fn;
	void *arg;
	ino_t inode; /* of the socket file we made: only that one is removed */
	bool watched;
	int dirfd; /* its folder: removed through it, whoever we are then */
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* STATUS_DIR, or USBIP_STATUS_DIR (tests: a folder of their own, as usbip status takes). */
static const char *status_dir(void)
{
	const char *dir = getenv("USBIP_STATUS_DIR");

	return dir && dir[0] ? dir : STATUS_DIR;
}

/* Whether a live daemon answers on path already (another instance). */
static bool taken(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return live;
}

/*
 * The status folder, and the runstatedir above it where a build for
 * /usr/local has none yet: only the last part is root's alone (0700).
 */
static int make_dirs(const char *dir)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -1;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The time until end, in tv; false once it has passed. */
static bool time_left(const struct timespec *end, struct timeval *tv)
{
	struct timespec now;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(end->tv_sec - now.tv_sec) * 1000000 + (end->tv_nsec - now.tv_nsec) / 1000;
	if (us <= 0)
		return false;
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return true;
}

/* One answer: the whole object, then the connection ends. */
static void answer(struct status_socket *s, int fd)
{
	struct timespec end;
	struct timeval tv;
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0, done = 0;
	FILE *out = open_memstream(&buf, &len);
	ssize_t n;

	if (!out)
		return;
	json_init(&w, out);
	json_object_begin(&w, NULL);
	s->fn(&w, s->arg);
	json_object_end(&w);
	json_finish(&w);
	if (fclose(out) != 0) {
		free(buf);
		return;
	}
	/*
	 * A reader that does not read gets a second in all, not the daemon's
	 * loop: one that reads a little now and then does not renew it.
	 */
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 1;
	while (done < len && time_left(&end, &tv)) {
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(buf);
}

static void on_connect(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	struct status_socket *s = w->data;
	int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	answer(s, fd);
	close(fd);
}

/*
 * The folder the socket goes in (s->dir, opened as s->dirfd): the status
 * folder, or for a daemon that will run as user, its folder of that user's
 * inside it, so that the socket can be removed once it is that user.
 */
static int open_dir(struct status_socket *s, const struct passwd *user)
{
	int n = user ? snprintf(s->dir, sizeof(s->dir), "%s/%s", status_dir(), user->pw_name)
		     : snprintf(s->dir, sizeof(s->dir), "%s", status_dir());

	if (n >= (int)sizeof(s->dir) || make_dirs(status_dir()) != 0)
		return -1;
	if (user && mkdir(s->dir, 0700) != 0 && errno != EEXIST)
		return -1;
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0)
		return -1;
	return user ? fchown(s->dirfd, user->pw_uid, user->pw_gid) : 0;
}

/* Sets s's path to name; false when it does not fit. */
static bool set_path(struct status_socket *s, const char *name)
{
	return snprintf(s->addr.sun_path, sizeof(s->addr.sun_path), "%s/%s.sock", s->dir, name) <
	       (int)sizeof(s->addr.sun_path);
}

/*
 * The first of name and alt that no live instance answers on: 0, 1 when
 * both are taken (warned), -1 when a path does not fit.
 */
static int choose_path(struct status_socket *s, const char *name, const char *alt)
{
	if (!set_path(s, name))
		return -1;
	if (!taken(&s->addr))
		return 0;
	if (alt) {
		if (!set_path(s, alt))
			return -1;
		if (!taken(&s->addr))
			return 0;
	}
	log_warn("%s answers for another instance: this one has no status socket",
		 s->addr.sun_path);
	return 1;
}

struct status_socket *status_open(const char *name, const char *alt, const struct passwd *user,
				  status_fn fn, void *arg)
{
	struct status_socket *s = calloc(1, sizeof(*s));
	struct stat sb;
	mode_t old;
	int fd = -1, chosen;

	if (!s)
		return NULL;
	s->fn = fn;
	s->arg = arg;
	s->watch.fd = -1;
	s->dirfd = -1;
	s->addr.sun_family = AF_UNIX;
	if (open_dir(s, user) != 0 || (chosen = choose_path(s, name, alt)) < 0)
		goto fail;
	if (chosen > 0) {
		close(s->dirfd);
		free(s);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Left by an instance that died: nobody answered on it. */
	unlink(s->addr.sun_path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(fd, 8) != 0 || stat(s->addr.sun_path, &sb) != 0 ||
	    (user && chown(s->addr.sun_path, user->pw_uid, user->pw_gid) != 0))
		goto fail;
	s->inode = sb.st_ino;
	s->watch = (struct ev_watch){ .fd = fd, .events = POLLIN, .cb = on_connect, .data = s };
	log_debug("status on %s", s->addr.sun_path);
	return s;
fail:
	log_warn("no status socket %s/%s.sock: %s ('usbip status' will not see this daemon)",
		 status_dir(), name, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
	return NULL;
}

const char *status_folder(const struct status_socket *s)
{
	return s ? s->dir : NULL;
}

int status_watch(struct status_socket *s, struct ev_loop *loop)
{
	if (!s || s->watched)
		return s ? 0 : -1;
	if (ev_watch_add(loop, &s->watch) != 0) {
		log_warn("%s: cannot watch it ('usbip status' will not see this daemon)",
			 s->addr.sun_path);
		return -1;
	}
	s->loop = loop;
	s->watched = true;
	return 0;
}

void status_close(struct status_socket *s)
{
	const char *base;
	struct stat sb;

	if (!s)
		return;
	if (s->watched)
		ev_watch_remove(s->loop, &s->watch);
	close(s->watch.fd);
	/* Through its folder: a daemon that gave root up owns that folder, not the path to it. */
	base = strrchr(s->addr.sun_path, '/') + 1;
	if (fstatat(s->dirfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_ino == s->inode &&
	    unlinkat(s->dirfd, base, 0) != 0)
		log_warn("%s left behind: %s", s->addr.sun_path, strerror(errno));
	close(s->dirfd);
	free(s);
}
