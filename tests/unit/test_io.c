// SPDX-License-Identifier: GPL-2.0-or-later
/* The util I/O kit: whole buffers through pipes, short counts, EINTR, the would-block test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/io.h"

#define BIG (256 * 1024) /* many times a pipe's capacity: the writes come out short */

static void fill_pattern(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + i / 251);
}

/*
 * A child that waits for a byte on go[0] (when go), then reads all of
 * data[0] and exits 0 if it matches. It keeps no write end open, so it
 * sees the end when the test gives up.
 */
static pid_t start_reader(const int data[2], const int *go)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *want = malloc(BIG), *got = malloc(BIG), c;
		int fd = data[0];

		close(data[1]);
		if (go)
			close(go[1]);
		if (go && io_read_all(go[0], &c, 1) != 1)
			_exit(3);
		fill_pattern(want, BIG);
		_exit(io_read_all(fd, got, BIG) == BIG && memcmp(want, got, BIG) == 0 ? 0 : 1);
	}
	return pid;
}

static int child_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_write_all_through_short_writes(void **state)
{
	uint8_t *buf = malloc(BIG);
	int fds[2];
	pid_t pid;

	(void)state;
	fill_pattern(buf, BIG);
	assert_int_equal(pipe(fds), 0);
	pid = start_reader(fds, NULL);
	close(fds[0]);
	assert_int_equal(io_write_all(fds[1], buf, BIG), 0);
	close(fds[1]);
	assert_int_equal(child_status(pid), 0);
	free(buf);
}

static volatile sig_atomic_t alarms;
static int go_fd = -1;

/* Lets the reader start only after the writer was interrupted a few times on a full pipe. */
static void on_alarm(int sig)
{
	(void)sig;
	if (++alarms == 3 && write(go_fd, "g", 1) < 0)
		_exit(4);
}

static void test_write_all_goes_on_after_eintr(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: write(2) sees EINTR */
	struct itimerval every_ms = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	uint8_t *buf = malloc(BIG);
	int fds[2], go[2], rc;
	pid_t pid;

	(void)state;
	fill_pattern(buf, BIG);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(go), 0);
	pid = start_reader(fds, go);
	close(fds[0]);
	close(go[0]);
	go_fd = go[1];
	alarms = 0;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &every_ms, NULL), 0);
	rc = io_write_all(fds[1], buf, BIG);
	setitimer(ITIMER_REAL, &off, NULL);
	close(fds[1]);
	close(go[1]);
	free(buf);
	assert_int_equal(rc, 0);
	assert_true(alarms >= 3);
	assert_int_equal(child_status(pid), 0);
}

static int alarm_default(void **state)
{
	(void)state;
	signal(SIGALRM, SIG_DFL);
	return 0;
}

static void test_write_all_reports_a_closed_reader(void **state)
{
	uint8_t buf[64] = { 0 };
	int fds[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	errno = 0;
	assert_int_equal(io_write_all(fds[1], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_read_all_short_at_the_end(void **state)
{
	char buf[16];
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(io_write_all(fds[1], "abcde", 5), 0);
	close(fds[1]);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(io_read_all(fds[0], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "abcde");
	assert_int_equal(io_read_all(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
	errno = 0;
	assert_int_equal(io_read_all(fds[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EBADF);
}

static void test_pwrite_all_at_an_offset(void **state)
{
	char path[] = "/tmp/test_io.XXXXXX", buf[12];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(io_write_all(fd, "0123456789", 10), 0);
	assert_int_equal(io_pwrite_all(fd, "ab", 2, 4), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 10); /* the file offset stays */
	assert_int_equal(io_pwrite_all(fd, "xy", 2, 10), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 12);
	assert_memory_equal(buf, "0123ab6789xy", 12);
	errno = 0;
	assert_int_equal(io_pwrite_all(fd, "x", 1, -1), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	errno = 0;
	assert_int_equal(io_pwrite_all(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EBADF);
}

static void test_would_block_and_try_again(void **state)
{
	(void)state;
	assert_true(io_would_block(EAGAIN));
	assert_true(io_would_block(EWOULDBLOCK));
	assert_false(io_would_block(EINTR));
	assert_false(io_would_block(EPIPE));
	assert_false(io_would_block(0));
	assert_true(io_try_again(EAGAIN));
	assert_true(io_try_again(EINTR));
	assert_false(io_try_again(ECONNRESET));
	assert_false(io_try_again(EBADF));
}

/* A non-blocking pipe that is full says so the way io_would_block knows. */
static void test_full_pipe_would_block(void **state)
{
	uint8_t buf[4096] = { 0 };
	int fds[2];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	do
		n = write(fds[1], buf, sizeof(buf));
	while (n > 0);
	assert_int_equal(n, -1);
	assert_true(io_would_block(errno));
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all_through_short_writes),
		cmocka_unit_test_teardown(test_write_all_goes_on_after_eintr, alarm_default),
		cmocka_unit_test(test_write_all_reports_a_closed_reader),
		cmocka_unit_test(test_read_all_short_at_the_end),
		cmocka_unit_test(test_pwrite_all_at_an_offset),
		cmocka_unit_test(test_would_block_and_try_again),
		cmocka_unit_test(test_full_pipe_would_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
