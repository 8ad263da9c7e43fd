// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The privilege-separation channel (daemon/privsep.c) between two real
 * processes: requests that fit the table are answered, descriptors go
 * both ways, and a child that sends anything else (a wrong size, a type
 * not in the table, a descriptor too many or too few, fields its handler
 * refuses) is killed and reported, its request never handled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/ev.h"
#include "daemon/privsep.h"

enum { OP_ADD = PRIVSEP_TYPE_DAEMON, OP_FSTAT, OP_PIPE };

struct add_request {
	uint32_t a, b;
};

struct add_reply {
	uint32_t sum;
};

struct fstat_reply {
	uint32_t is_fifo;
};

static unsigned handled; /* requests that reached a handler, in the parent */

static ssize_t handle_add(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	const struct add_request *req = request;
	struct add_reply *rep = reply;

	handled++;
	/* The handler's own field check: a sound child never asks for 0 + 0. */
	if (!req->a && !req->b)
		return -1;
	rep->sum = req->a + req->b;
	return sizeof(*rep);
}

static ssize_t handle_fstat(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	struct fstat_reply *rep = reply;
	struct stat st;

	handled++;
	rep->is_fifo = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
	close(fd);
	return sizeof(*rep);
}

/* Answers with the read end of a pipe whose write end got "hi". */
static ssize_t handle_pipe(void *arg, const void *request, int fd, void *reply, int *reply_fd)
{
	int p[2];

	handled++;
	if (pipe(p) != 0 || write(p[1], "hi", 2) != 2)
		return -1;
	close(p[1]);
	*reply_fd = p[0];
	return 0;
}

static const struct privsep_op ops[] = {
	{ OP_ADD, "an addition", sizeof(struct add_request), false, sizeof(struct add_reply),
	  handle_add },
	{ OP_FSTAT, "a look at a descriptor", 0, true, sizeof(struct fstat_reply), handle_fstat },
	{ OP_PIPE, "a pipe", 0, false, 0, handle_pipe },
};
static const struct privsep_table table = { ops, sizeof(ops) / sizeof(ops[0]), NULL };

static bool lost;

static void on_lost(void *arg)
{
	lost = true;
	ev_loop_stop(arg);
}

static void on_deadline(struct ev_loop *loop, struct ev_watch *w, short revents)
{
	ev_loop_stop(loop);
}

/*
 * Runs child_work in a child of privsep_split (as nobody when root) and
 * serves it until it hangs up or is stopped; returns its wait status.
 */
static int run_pair(int (*child_work)(struct privsep *chan))
{
	struct ev_watch deadline = { .fd = -1, .cb = on_deadline };
	struct ev_loop *loop = ev_loop_new();
	struct privsep *chan;
	pid_t pid;
	int status = -1;

	assert_non_null(loop);
	lost = false;
	handled = 0;
	pid = privsep_split("test", "nobody", false, &chan);
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_work(chan));
	assert_int_equal(privsep_serve(chan, loop, &table, on_lost, loop), 0);
	deadline.deadline_ms = ev_now_ms() + 10000;
	assert_int_equal(ev_watch_add(loop, &deadline), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_true(lost); /* not the deadline */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	privsep_free(chan);
	ev_watch_remove(loop, &deadline);
	ev_loop_free(loop);
	return status;
}

static int child_good(struct privsep *chan)
{
	struct add_request req = { 2, 40 };
	struct add_reply rep = { 0 };
	struct fstat_reply st = { 0 };
	char buf[2];
	int p[2], got = -1;

	if (privsep_call(chan, OP_ADD, &req, sizeof(req), -1, &rep, sizeof(rep), NULL) !=
		    sizeof(rep) ||
	    rep.sum != 42)
		return 10;
	if (pipe(p) != 0 ||
	    privsep_call(chan, OP_FSTAT, NULL, 0, p[0], &st, sizeof(st), NULL) != sizeof(st) ||
	    st.is_fifo != 1)
		return 11;
	if (privsep_call(chan, OP_PIPE, NULL, 0, -1, NULL, 0, &got) != 0 || got < 0 ||
	    read(got, buf, 2) != 2 || memcmp(buf, "hi", 2) != 0)
		return 12;
	return 0;
}

static void test_requests_answered(void **state)
{
	int status = run_pair(child_good);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(handled, 3);
}

static int child_short(struct privsep *chan)
{
	uint32_t half = 1;

	privsep_call(chan, OP_ADD, &half, sizeof(half), -1, NULL, 0, NULL);
	return 0;
}

static int child_unknown_type(struct privsep *chan)
{
	struct add_request req = { 1, 1 };

	privsep_call(chan, 0x7777, &req, sizeof(req), -1, NULL, 0, NULL);
	return 0;
}

static int child_fd_too_many(struct privsep *chan)
{
	struct add_request req = { 1, 1 };

	privsep_call(chan, OP_ADD, &req, sizeof(req), 0, NULL, 0, NULL);
	return 0;
}

static int child_fd_missing(struct privsep *chan)
{
	privsep_call(chan, OP_FSTAT, NULL, 0, -1, NULL, 0, NULL);
	return 0;
}

static int child_refused_fields(struct privsep *chan)
{
	struct add_request req = { 0, 0 };
	struct add_reply rep = { 0 };

	privsep_call(chan, OP_ADD, &req, sizeof(req), -1, &rep, sizeof(rep), NULL);
	return 0;
}

/* A child that breaks the table's rules: killed, and its request never handled. */
static void expect_killed(int (*child_work)(struct privsep *chan), unsigned handled_want)
{
	int status = run_pair(child_work);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(handled, handled_want);
}

static void test_wrong_size_kills(void **state)
{
	(void)state;
	expect_killed(child_short, 0);
}

static void test_unknown_type_kills(void **state)
{
	(void)state;
	expect_killed(child_unknown_type, 0);
}

static void test_descriptor_too_many_kills(void **state)
{
	(void)state;
	expect_killed(child_fd_too_many, 0);
}

static void test_descriptor_missing_kills(void **state)
{
	(void)state;
	expect_killed(child_fd_missing, 0);
}

static void test_refused_fields_kill(void **state)
{
	(void)state;
	expect_killed(child_refused_fields, 1); /* the handler saw it and said no */
}

/* As root, a user that does not exist is refused before anything is forked. */
static void test_unknown_user(void **state)
{
	struct privsep *chan = (struct privsep *)1;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(privsep_split("test", "no-such-user-here", false, &chan), -1);
	assert_null(chan);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* A device record for vhci-hcd from the other process: terminated, well formed, a known speed. */
static void test_usb_device_ok(void **state)
{
	struct usbip_usb_device u = { .busid = "1-1.2", .speed = USBIP_SPEED_HIGH }, bad;

	(void)state;
	assert_true(privsep_usb_device_ok(&u));
	bad = u;
	memset(bad.busid, 'x', sizeof(bad.busid));
	assert_false(privsep_usb_device_ok(&bad));
	bad = u;
	memset(bad.serial, 'x', sizeof(bad.serial));
	assert_false(privsep_usb_device_ok(&bad));
	bad = u;
	bad.busid[0] = '\0'; /* an empty busid */
	assert_false(privsep_usb_device_ok(&bad));
	bad.speed = USBIP_SPEED_UNKNOWN;
	strcpy(bad.busid, "1-1");
	assert_false(privsep_usb_device_ok(&bad));
	bad.speed = USBIP_SPEED_SUPER_PLUS + 1;
	assert_false(privsep_usb_device_ok(&bad));
	bad.speed = USBIP_SPEED_SUPER_PLUS;
	assert_true(privsep_usb_device_ok(&bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_answered),
		cmocka_unit_test(test_wrong_size_kills),
		cmocka_unit_test(test_unknown_type_kills),
		cmocka_unit_test(test_descriptor_too_many_kills),
		cmocka_unit_test(test_descriptor_missing_kills),
		cmocka_unit_test(test_refused_fields_kill),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_usb_device_ok),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
