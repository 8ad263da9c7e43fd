// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runner's phases (daemon/daemon.c): when one fails, the teardown
 * undoes exactly the phases that were set up, the last first, and what
 * they made is gone (the listening socket, the pid file); a run that ends
 * by SIGTERM undoes every phase, calling the stop hook while the loop is
 * still there. The trace is the runner's own debug lines ("phase X
 * done/failed/undone"), read from stderr, with the hooks' calls between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "util/log.h"

static const uint16_t no_requests[] = { 0 };
static bool stop_called;

static void no_handle(struct op_session *session, const struct op_request *req, void *arg)
{
}

/* A daemon that listens on a port the kernel picks, on the loopback only. */
static struct usbip_daemon listening_daemon(void)
{
	return (struct usbip_daemon){
		.name = "phases",
		.listens = true,
		.address = "127.0.0.1",
		.port = "0",
		.server = { .name = "phases", .requests = no_requests, .handle = no_handle },
	};
}

/* The runner's run with stderr read back: "phase X done" lines, comma-separated. */
static enum usbip_result run_traced(struct usbip_daemon *d, char *trace, size_t cap)
{
	FILE *log = tmpfile();
	char line[512];
	size_t n = 0;
	int saved;
	enum usbip_result rc;

	assert_non_null(log);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(log), STDERR_FILENO) >= 0);
	log_set_debug(true);
	rc = daemon_run(d);
	log_set_debug(false);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(log);
	trace[0] = '\0';
	while (fgets(line, sizeof(line), log)) {
		const char *p = strstr(line, ": phase ");

		line[strcspn(line, "\n")] = '\0';
		if (p)
			n += (size_t)snprintf(trace + n, cap - n, "%s%s", n ? "," : "", p + 8);
		assert_true(n < cap);
	}
	fclose(log);
	return rc;
}

/* Whether something still listens on the loopback at port. */
static bool listening(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool connected;

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connected = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return connected;
}

static void test_pid_file_fails(void **state)
{
	struct usbip_daemon d = listening_daemon();
	char trace[2048];

	d.pid_file = "/dev/null/phases.pid"; /* under a file: cannot be made */
	assert_int_equal(run_traced(&d, trace, sizeof(trace)), USBIP_E_FAILED);
	assert_string_equal(
		trace, "check done,relay counters done,listen done,detach done,pid file failed,"
		       "detach undone,listen undone,relay counters undone,check undone");
	assert_true(d.listen_port != 0);
	assert_false(listening(d.listen_port));
}

static enum usbip_result failing_start(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	assert_ptr_equal(loop, d->loop);
	fprintf(stderr, "test: phase (start hook fails)\n");
	return USBIP_E_REFUSED; /* any result of the hook's: the run's */
}

static void stop_hook(struct usbip_daemon *d, void *arg)
{
	stop_called = true;
	fprintf(stderr, "test: phase (stop hook, loop %s)\n", d->loop ? "there" : "gone");
}

static void test_start_hook_fails(void **state)
{
	struct usbip_daemon d = listening_daemon();
	char dir[] = "/tmp/phases-XXXXXX", pid_file[64], trace[2048];

	assert_non_null(mkdtemp(dir));
	snprintf(pid_file, sizeof(pid_file), "%s/phases.pid", dir);
	d.pid_file = pid_file;
	d.hooks = (struct daemon_hooks){ .start = failing_start, .stop = stop_hook };
	stop_called = false;
	assert_int_equal(run_traced(&d, trace, sizeof(trace)), USBIP_E_REFUSED);
	assert_string_equal(trace,
			    "check done,relay counters done,listen done,detach done,pid file "
			    "done,status socket done,"
			    "privileges done,loop done,(start hook fails),start failed,"
			    "loop undone,privileges undone,status socket undone,pid file undone,"
			    "detach undone,listen undone,relay counters undone,check undone");
	assert_false(stop_called); /* its start failed: nothing of its to undo */
	assert_int_equal(access(pid_file, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(listening(d.listen_port));
	assert_null(d.loop);
	assert_int_equal(rmdir(dir), 0);
}

/* Started: asks for the end as systemd would (the signal waits on the loop's signalfd). */
static enum usbip_result start_then_term(struct usbip_daemon *d, struct ev_loop *loop, void *arg)
{
	assert_int_equal(raise(SIGTERM), 0);
	return USBIP_OK;
}

static void test_sigterm_undoes_all(void **state)
{
	struct usbip_daemon d = listening_daemon();
	char trace[2048];

	d.hooks = (struct daemon_hooks){ .start = start_then_term, .stop = stop_hook };
	stop_called = false;
	assert_int_equal(run_traced(&d, trace, sizeof(trace)), USBIP_OK);
	assert_string_equal(trace,
			    "check done,relay counters done,listen done,detach done,pid file "
			    "done,status socket done,"
			    "privileges done,loop done,start done,channel done,"
			    "metrics done,announce done,status done,server done,serve done,"
			    "serve undone,server undone,status undone,announce undone,"
			    "metrics undone,channel undone,"
			    "(stop hook, loop there),start undone,loop undone,privileges undone,"
			    "status socket undone,pid file undone,detach undone,listen undone,"
			    "relay counters undone,check undone");
	assert_true(stop_called);
	assert_false(listening(d.listen_port));
	assert_null(d.loop);
}

/* A check that refuses: nothing is set up, nothing undone, and the result says usage. */
static int refusing_check(struct usbip_daemon *d, void *arg, char *err, size_t err_len)
{
	snprintf(err, err_len, "refused by the test");
	return -1;
}

static void test_check_fails(void **state)
{
	struct usbip_daemon d = listening_daemon();
	char trace[2048];

	d.hooks = (struct daemon_hooks){ .check = refusing_check, .stop = stop_hook };
	stop_called = false;
	assert_int_equal(run_traced(&d, trace, sizeof(trace)), USBIP_E_CONFIG);
	assert_string_equal(trace, "check failed");
	assert_false(stop_called);
	assert_int_equal(d.listen_port, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_file_fails),
		cmocka_unit_test(test_start_hook_fails),
		cmocka_unit_test(test_sigterm_undoes_all),
		cmocka_unit_test(test_check_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
