// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/privsep.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/process.h"
#include "net/tcp_wrappers.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/sandbox.h"

/* The network process's root: made by the parent, root's own, empty. */
#define PRIVSEP_RUN_DIR	   RUNSTATEDIR "/usbip"
#define PRIVSEP_EMPTY_ROOT PRIVSEP_RUN_DIR "/empty"

/*
 * How long the child waits for an answer. The parent answers at once but
 * for sysfs writes, which the kernel finishes in milliseconds; a parent
 * that takes this long is stuck, and the child gives up on that request.
 */
#define PRIVSEP_CALL_TIMEOUT_MS 30000

/* The runner's own messages. */
enum {
	PRIVSEP_ADMIT = 1, /* may this peer in? (with its socket) */
	PRIVSEP_HELLO,	   /* the child is set up: the first message it sends */
	PRIVSEP_BYE,	   /* the parent stops the child: the last message it sends */
};

/* How long the parent waits for the child's hello. */
#define PRIVSEP_HELLO_TIMEOUT_MS 10000

struct privsep_header {
	uint16_t type;
	uint16_t reserved; /* 0 */
	uint32_t len;	   /* of what follows */
};

struct privsep {
	int fd;
	pid_t peer; /* in the parent: the child */
	const char *name;
	const struct privsep_table *table;
	bool is_parent;
	bool said_bye;	      /* the parent ended the channel on purpose */
	int timeout_ms;	      /* of privsep_call */
	struct ev_loop *loop; /* while it serves */
	struct ev_watch watch;
	void (*on_lost)(void *arg);
	void *lost_arg;
	/* Requests are read into this, replies written from that: C structs, aligned. */
	_Alignas(max_align_t) uint8_t request[PRIVSEP_MAX_MESSAGE];
	_Alignas(max_align_t) uint8_t reply[PRIVSEP_MAX_MESSAGE];
};

/* The empty root, made if missing; -1 (logged) if it is anything but empty and root's. */
static int empty_root(void)
{
	struct stat st;
	struct dirent *e;
	DIR *dir;
	int entries = 0;

	if ((mkdir(PRIVSEP_RUN_DIR, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(PRIVSEP_EMPTY_ROOT, 0755) != 0 && errno != EEXIST)) {
		log_err("cannot make %s: %s", PRIVSEP_EMPTY_ROOT, strerror(errno));
		return -1;
	}
	if (lstat(PRIVSEP_EMPTY_ROOT, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		log_err("%s must be a directory of root's that only root can write",
			PRIVSEP_EMPTY_ROOT);
		return -1;
	}
	dir = opendir(PRIVSEP_EMPTY_ROOT);
	if (!dir) {
		log_err("cannot read %s: %s", PRIVSEP_EMPTY_ROOT, strerror(errno));
		return -1;
	}
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			entries++;
	closedir(dir);
	if (entries) {
		log_err("%s is not empty: the network process would see what is in it",
			PRIVSEP_EMPTY_ROOT);
		return -1;
	}
	return 0;
}

static ssize_t send_message(int fd, uint16_t type, const void *body, size_t len, int pass_fd,
			    int send_flags);

/* Whether fd has something to read (or its end) within timeout_ms. */
static bool readable_within(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ready;

	do
		ready = poll(&pfd, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	return ready > 0;
}

/* In the parent: the child's hello, or -1 when it failed to set itself up. */
static int await_hello(int fd)
{
	struct privsep_header hdr = { 0 };
	ssize_t n;

	if (!readable_within(fd, PRIVSEP_HELLO_TIMEOUT_MS))
		return -1;
	n = recv(fd, &hdr, sizeof(hdr), MSG_DONTWAIT);
	return n == (ssize_t)sizeof(hdr) && hdr.type == PRIVSEP_HELLO && hdr.len == 0 ? 0 : -1;
}

static struct privsep *channel_new(int fd, const char *name)
{
	struct privsep *chan = calloc(1, sizeof(*chan));

	if (!chan) {
		log_err("out of memory");
		close(fd);
		return NULL;
	}
	chan->fd = fd;
	chan->name = name;
	chan->timeout_ms = PRIVSEP_CALL_TIMEOUT_MS;
	return chan;
}

void privsep_set_timeout(struct privsep *chan, int timeout_ms)
{
	chan->timeout_ms = timeout_ms;
}

pid_t privsep_split(const char *name, const char *user, bool jail, struct privsep **chan)
{
	bool root = geteuid() == 0;
	pid_t parent = getpid(), pid;
	int sv[2];

	*chan = NULL;
#ifdef SANDBOX_ASAN
	if (jail) {
		log_info("a sanitizer build: no empty root, LeakSanitizer reads /proc at exit");
		jail = false;
	}
#endif
	/* Found before the fork, so that a wrong --user is said before anything runs. */
	if (root && !getpwnam(user)) {
		log_err("no user '%s' to run as", user);
		return -1;
	}
	if (root && jail && empty_root() != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_err("socketpair: %s", strerror(errno));
		return -1;
	}
	/* What the child can no longer read once its root is empty. */
	tzset();
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid > 0) {
		close(sv[1]);
		if (await_hello(sv[0]) != 0) {
			log_err("the network process could not start");
			close(sv[0]);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		*chan = channel_new(sv[0], name);
		if (!*chan) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		(*chan)->peer = pid;
		(*chan)->is_parent = true;
		return pid;
	}
	close(sv[0]);
	/*
	 * Dies with the parent, which may have gone before this was set
	 * (SIGKILL: it takes no signal from anyone else, see daemon.c).
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
	process_forget_parent();
	if (root && privdrop_jail(user, jail ? PRIVSEP_EMPTY_ROOT : NULL) != 0)
		_exit(1);
	if (!root)
		log_info("not started as root: the network process keeps uid %u",
			 (unsigned)getuid());
	if (send_message(sv[1], PRIVSEP_HELLO, NULL, 0, -1, 0) < 0)
		_exit(1);
	*chan = channel_new(sv[1], name);
	if (!*chan)
		_exit(1);
	return 0;
}

static ssize_t send_message(int fd, uint16_t type, const void *body, size_t len, int pass_fd,
			    int send_flags)
{
	struct privsep_header hdr = { .type = type, .len = (uint32_t)len };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)body, len } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | send_flags);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(hdr) + len) ? n : -1;
}

/*
 * Reads one message: its header and up to max bytes of body into body, and
 * the descriptors that came with it (at most one is kept in *fd; any
 * more are closed and counted in *extra). Returns the body's length, 0 with
 * *eof at the end, -1 with errno (EAGAIN) or EMSGSIZE for a message that
 * did not fit, or EBADMSG for one without a whole header.
 */
static ssize_t recv_message(int fd, struct privsep_header *hdr, void *body, size_t max, int *passed,
			    int *extra, bool *eof)
{
	struct iovec iov[2] = { { hdr, sizeof(*hdr) }, { body, max } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = iov,
			      .msg_iovlen = 2,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*passed = -1;
	*extra = 0;
	*eof = false;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t i, count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*passed < 0) {
				*passed = got;
			} else {
				close(got);
				(*extra)++;
			}
		}
	}
	if (n == 0) {
		*eof = true;
		return 0;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((size_t)n < sizeof(*hdr) || hdr->len != (size_t)n - sizeof(*hdr)) {
		errno = EBADMSG;
		return -1;
	}
	return n - (ssize_t)sizeof(*hdr);
}

ssize_t privsep_call(struct privsep *chan, uint16_t type, const void *request, size_t len, int fd,
		     void *reply, size_t reply_max, int *reply_fd)
{
	struct privsep_header hdr = { 0 };
	int passed, extra;
	bool eof;
	ssize_t n;

	if (len > PRIVSEP_MAX_MESSAGE || send_message(chan->fd, type, request, len, fd, 0) < 0) {
		log_err("cannot ask the privileged process: %s", strerror(errno));
		return -1;
	}
	if (reply_fd)
		*reply_fd = -1;
	if (!readable_within(chan->fd, chan->timeout_ms)) {
		log_err("the %s process did not answer",
			chan->is_parent ? "network" : "privileged");
		return -1;
	}
	n = recv_message(chan->fd, &hdr, reply, reply_max, &passed, &extra, &eof);
	if (eof || n < 0 || hdr.type != type) {
		if (passed >= 0)
			close(passed);
		log_err("no answer from the %s process%s",
			chan->is_parent ? "network" : "privileged", eof ? ": it is gone" : "");
		return -1;
	}
	if (reply_fd)
		*reply_fd = passed;
	else if (passed >= 0)
		close(passed);
	return n;
}

bool privsep_admit(int fd, void *chan)
{
	uint8_t allowed = 0;

	return privsep_call(chan, PRIVSEP_ADMIT, NULL, 0, fd, &allowed, sizeof(allowed), NULL) ==
		       (ssize_t)sizeof(allowed) &&
	       allowed == 1;
}

static const struct privsep_op *find_op(const struct privsep_table *table, uint16_t type)
{
	size_t i;

	for (i = 0; i < table->count; i++)
		if (table->ops[i].type == type)
			return &table->ops[i];
	return NULL;
}

/* A child that breaks the rules is stopped: it is broken or not ours any more. */
static void lose_child(struct privsep *chan, const char *why)
{
	if (why && chan->is_parent) {
		log_err("the network process %s: stopping it", why);
		if (chan->peer > 0) /* never 0 or -1: those would be a whole group */
			kill(chan->peer, SIGKILL);
	} else if (why) {
		log_err("the privileged process %s", why);
	} else if (chan->said_bye) {
		log_debug("told to stop by the privileged process");
	} else {
		log_err("the %s process hung up", chan->is_parent ? "network" : "privileged");
	}
	if (chan->loop)
		ev_watch_remove(chan->loop, &chan->watch);
	chan->loop = NULL;
	if (chan->on_lost)
		chan->on_lost(chan->lost_arg);
}

/*
 * Whether the message ends the channel: the other side hung up, the parent
 * said goodbye, or it does not fit a message at all. The channel is lost then.
 */
static bool message_ends(struct privsep *chan, const struct privsep_header *hdr, ssize_t n, int fd,
			 bool eof)
{
	char why[128];
	int err = errno;

	if (!eof && !chan->is_parent && hdr->type == PRIVSEP_BYE && n == 0 && fd < 0) {
		chan->said_bye = true; /* an end, not a loss */
		lose_child(chan, NULL);
		return true;
	}
	if (!eof && n >= 0)
		return false;
	if (fd >= 0)
		close(fd);
	if (eof) {
		lose_child(chan, NULL);
		return true;
	}
	snprintf(why, sizeof(why), "sent a message that does not fit (%s)", strerror(err));
	lose_child(chan, why);
	return true;
}

/*
 * The runner's own question, asked of the parent only: may the peer on fd
 * come in (TCP wrappers read files the child's empty root has not).
 */
static bool answer_admit(struct privsep *chan, const struct privsep_header *hdr, ssize_t n, int fd,
			 int extra)
{
	uint8_t allowed;

	if (!chan->is_parent || hdr->type != PRIVSEP_ADMIT || n != 0 || fd < 0 || extra)
		return false;
	allowed = tcp_wrappers_allow(fd, chan->name) ? 1 : 0;
	close(fd);
	if (send_message(chan->fd, hdr->type, &allowed, 1, -1, MSG_DONTWAIT) < 0)
		lose_child(chan, "does not take its answer");
	return true;
}

/* A request of the table's: checked against its entry, handled, answered. */
static void answer_op(struct privsep *chan, uint16_t type, ssize_t n, int fd, int extra)
{
	const struct privsep_op *op = find_op(chan->table, type);
	char why[128];
	int reply_fd = -1;
	ssize_t out;

	if (!op || (size_t)n != op->request_size || (fd >= 0) != op->with_fd || extra) {
		if (fd >= 0)
			close(fd);
		snprintf(why, sizeof(why), "sent a malformed request (type %u, %zd bytes, %s)",
			 type, n, fd >= 0 ? "with a descriptor" : "no descriptor");
		lose_child(chan, why);
		return;
	}
	out = op->handle(chan->table->arg, chan->request, fd, chan->reply, &reply_fd);
	if (out < 0 || (size_t)out > op->reply_max) {
		if (reply_fd >= 0)
			close(reply_fd);
		snprintf(why, sizeof(why), "asked %s with fields no sound request has", op->name);
		lose_child(chan, why);
		return;
	}
	if (send_message(chan->fd, type, chan->reply, (size_t)out, reply_fd, MSG_DONTWAIT) < 0)
		lose_child(chan, "does not take its answer");
	if (reply_fd >= 0)
		close(reply_fd);
}

/* One message from the other side: an end, the runner's own question, or a request. */
static void serve_one(struct privsep *chan)
{
	struct privsep_header hdr = { 0 };
	int fd, extra;
	bool eof;
	ssize_t n;

	n = recv_message(chan->fd, &hdr, chan->request, sizeof(chan->request), &fd, &extra, &eof);
	if (n < 0 && errno == EAGAIN)
		return;
	if (message_ends(chan, &hdr, n, fd, eof) || answer_admit(chan, &hdr, n, fd, extra))
		return;
	answer_op(chan, hdr.type, n, fd, extra);
}

static void on_request(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	serve_one(w->data);
}

struct privsep *privsep_adopt(int fd, pid_t child)
{
	struct privsep *chan = channel_new(fd, "adopted");

	if (chan) {
		chan->peer = child;
		chan->is_parent = true;
	}
	return chan;
}

bool privsep_serve_pending(struct privsep *chan)
{
	if (!chan->loop)
		return false;
	serve_one(chan);
	return chan->loop != NULL;
}

int privsep_serve(struct privsep *chan, struct ev_loop *loop, const struct privsep_table *table,
		  void (*on_lost)(void *arg), void *lost_arg)
{
	chan->table = table;
	chan->on_lost = on_lost;
	chan->lost_arg = lost_arg;
	chan->watch = (struct ev_watch){
		.fd = chan->fd, .events = POLLIN, .cb = on_request, .data = chan
	};
	if (ev_watch_add(loop, &chan->watch) != 0)
		return -1;
	chan->loop = loop;
	return 0;
}

void privsep_unserve(struct privsep *chan)
{
	if (!chan || !chan->loop)
		return;
	ev_watch_remove(chan->loop, &chan->watch);
	chan->loop = NULL;
}

void privsep_close_inherited_but(struct privsep *chan, bool (*keep)(int fd, void *arg), void *arg)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int fd, mine;

	if (!dir) {
		log_warn("cannot list the descriptors to close: %s", strerror(errno));
		return;
	}
	mine = dirfd(dir);
	while ((e = readdir(dir)) != NULL) {
		fd = atoi(e->d_name);
		if (fd > 2 && fd != mine && fd != chan->fd && !(keep && keep(fd, arg)))
			close(fd);
	}
	closedir(dir);
}

static bool is_kept(int fd, void *arg)
{
	return fd == *(const int *)arg;
}

void privsep_close_inherited(struct privsep *chan, int keep)
{
	privsep_close_inherited_but(chan, is_kept, &keep);
}

int privsep_fd(const struct privsep *chan)
{
	return chan->fd;
}

void privsep_free(struct privsep *chan)
{
	if (!chan)
		return;
	/* A child that is let go of ends quietly; one whose parent died says so. */
	if (chan->is_parent)
		send_message(chan->fd, PRIVSEP_BYE, NULL, 0, -1, MSG_DONTWAIT);
	if (chan->loop)
		ev_watch_remove(chan->loop, &chan->watch);
	close(chan->fd);
	free(chan);
}

bool privsep_usb_device_ok(const struct usbip_usb_device *u)
{
	return PRIVSEP_STRING_OK(u->path) && PRIVSEP_STRING_OK(u->serial) &&
	       PRIVSEP_STRING_OK(u->busid) && usbip_proto_busid_ok(u->busid) &&
	       u->speed != USBIP_SPEED_UNKNOWN && u->speed <= USBIP_SPEED_SUPER_PLUS;
}

void privsep_release(struct privsep *chan, pid_t child, int wait_ms)
{
	int waited;
	pid_t r;

	privsep_free(chan);
	for (waited = 0; child > 0 && waited < wait_ms; waited += 20) {
		r = waitpid(child, NULL, WNOHANG);
		if (r == child || (r < 0 && errno == ECHILD))
			return;
		poll(NULL, 0, 20);
	}
	if (child > 0) {
		log_warn("process %d did not end when let go: killing it", (int)child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}
