/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege separation, in the OpenBSD daemons' manner: a daemon that faces
 * the network splits in two after it listens. The child reads from peers
 * (accepting, TLS handshakes, OP requests) as an unprivileged user with no
 * capabilities, PR_SET_NO_NEW_PRIVS and an empty directory for its root.
 * The parent stays root, reads from nobody but the child, and does only
 * what needs root: the sysfs writes (usbip_sockfd, vhci-hcd's attach) and
 * the reads the child's empty root cannot reach.
 *
 * The child asks; the parent answers. Each daemon gives a table of what may
 * be asked: a type, the exact size of its request (a fixed C struct, as
 * both ends are the same program), whether a descriptor comes with it
 * (SCM_RIGHTS: the connection's socket), and the largest reply. The parent
 * checks every message against that table before a handler sees it and
 * stops the child at the first that does not fit: a child that sends one is
 * broken or taken over. Handlers check the fields they use (strings
 * terminated, busids well formed) as they would a peer's.
 */
#ifndef USBIP_DAEMON_PRIVSEP_H
#define USBIP_DAEMON_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "daemon/ev.h"
#include "wire/usbip_proto.h"

/* The largest request or reply, past its header. */
#define PRIVSEP_MAX_MESSAGE (64u * 1024)

/* What a handler may use of a request's strings: -1 if not terminated in size. */
#define PRIVSEP_STRING_OK(field) (memchr((field), '\0', sizeof(field)) != NULL)

/*
 * A device record the other process sends for vhci-hcd: its strings end in
 * their fields, its busid is well formed (usbip_proto_busid_ok) and its speed is
 * one vhci-hcd takes.
 */
bool privsep_usb_device_ok(const struct usbip_usb_device *udev);

struct privsep_op {
	uint16_t type; /* the daemon's from PRIVSEP_TYPE_DAEMON up */
	const char *name;
	size_t request_size;
	bool with_fd;
	size_t reply_max;
	/*
	 * In the serving process, with a request of exactly request_size
	 * bytes and, with with_fd, the descriptor (the handler's to close).
	 * Writes the reply and returns its length (at most reply_max), or -1
	 * when the request is wrong in a way a sound peer never makes: a child
	 * is then stopped. A descriptor to send with the reply goes in
	 * *reply_fd (closed here once sent).
	 */
	ssize_t (*handle)(void *arg, const void *request, int fd, void *reply, int *reply_fd);
};

/* Types below this are the runner's own (the TCP wrappers' check). */
#define PRIVSEP_TYPE_DAEMON 0x100

struct privsep_table {
	const struct privsep_op *ops;
	size_t count;
	void *arg; /* for the handlers */
};

/* One end of the channel. */
struct privsep;

/*
 * Splits the process: returns the child's pid in the parent and 0 in the
 * child, each with its end of the channel in *chan; -1 (logged) if it cannot.
 * The child, when the process is root, has become user before this
 * returns, with jail inside an empty root (a directory the parent makes,
 * root's own and empty); it dies with its parent.
 */
pid_t privsep_split(const char *name, const char *user, bool jail, struct privsep **chan);

/*
 * Asks the other process and waits for its answer (the caller does
 * nothing else meanwhile, as it did nothing else when it did the work
 * itself). fd is sent with the request if >= 0 (and stays the caller's).
 * A descriptor that comes with the reply goes to *reply_fd (-1 if none;
 * with reply_fd NULL it is closed). Returns the reply's length, or -1
 * (logged) when no answer came (the other side is gone, or ended the
 * channel because of this request). The caller checks the
 * reply as it would a peer's when the other side is the unprivileged one.
 */
ssize_t privsep_call(struct privsep *chan, uint16_t type, const void *request, size_t len, int fd,
		     void *reply, size_t reply_max, int *reply_fd);

/* How long privsep_call waits for an answer (default: 30 s). */
void privsep_set_timeout(struct privsep *chan, int timeout_ms);

/*
 * Serves the other process's requests on loop with table's handlers and,
 * in the parent, the runner's own types. on_lost runs when the other side
 * hangs up or, for a child, breaks the rules (it has been stopped then).
 */
int privsep_serve(struct privsep *chan, struct ev_loop *loop, const struct privsep_table *table,
		  void (*on_lost)(void *arg), void *lost_arg);

/*
 * Stops serving on the loop (before the loop goes) and leaves the channel
 * open: privsep_call still asks through it. Nothing if it does not serve.
 */
void privsep_unserve(struct privsep *chan);

/* In the child: whether the parent lets this peer in (hosts.allow/deny). */
bool privsep_admit(int fd, void *chan);

/*
 * In a child forked from a running daemon: closes every descriptor but
 * stdio, chan's and keep (or -1).
 */
void privsep_close_inherited(struct privsep *chan, int keep);
/* The same, keeping the descriptors keep says yes to. */
void privsep_close_inherited_but(struct privsep *chan, bool (*keep)(int fd, void *arg), void *arg);

/* The channel's socket, for a process that polls it itself (readable at the other's end). */
int privsep_fd(const struct privsep *chan);

void privsep_free(struct privsep *chan);

/*
 * In the parent: lets go of a child that ends when let go (privsep_free),
 * waits up to wait_ms for it to end, then kills it. child 0: reaped
 * already elsewhere, only the channel is freed.
 */
void privsep_release(struct privsep *chan, pid_t child, int wait_ms);

/*
 * For tests and fuzzing: the parent's end of a channel made elsewhere (fd,
 * a SOCK_SEQPACKET socket; child, the pid to kill when it breaks the rules,
 * or 0 for none), and serving the one message waiting on it, now. Returns
 * whether the channel is still served (a broken rule ends it).
 */
struct privsep *privsep_adopt(int fd, pid_t child);
bool privsep_serve_pending(struct privsep *chan);

#endif
