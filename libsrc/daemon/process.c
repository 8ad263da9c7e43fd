// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

static int ready_fd = -1;
static int pidfile_fd = -1; /* holds the lock */

int process_daemonize(void)
{
	int fds[2], fd;
	char ok;

	if (pipe(fds) != 0) {
		log_err("pipe: %s", strerror(errno));
		return -1;
	}
	switch (fork()) {
	case -1:
		log_err("fork: %s", strerror(errno));
		return -1;
	case 0:
		close(fds[0]);
		ready_fd = fds[1];
		break;
	default:
		/* EOF without a byte means the child failed before it was ready. */
		close(fds[1]);
		_exit(read(fds[0], &ok, 1) == 1 ? 0 : 1);
	}
	if (setsid() < 0)
		return -1;
	if (chdir("/") != 0)
		return -1;
	umask(022);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

void process_ready(void)
{
	/* systemd's Type=notify: a no-op where NOTIFY_SOCKET is not set. */
	sd_notify(0, "READY=1");
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "1", 1) != 1)
		log_warn("cannot tell the parent we are ready: %s", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

int process_pidfile_write(const char *path)
{
	char buf[32];
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("cannot open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	/* The lock lives as long as the process: a second instance fails here. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_err("pid file %s is locked: another instance is running", path);
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)len) != len) {
		log_err("cannot write pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pidfile_fd = fd; /* stays open to hold the lock */
	return 0;
}

void process_forget_parent(void)
{
	if (pidfile_fd >= 0)
		close(pidfile_fd);
	if (ready_fd >= 0)
		close(ready_fd);
	pidfile_fd = ready_fd = -1;
}

void process_pidfile_remove(const char *path)
{
	if (path)
		unlink(path);
}

int process_signalfd(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int process_signalfd_read(int fd)
{
	struct signalfd_siginfo info;

	if (read(fd, &info, sizeof(info)) != (ssize_t)sizeof(info))
		return -1;
	return (int)info.ssi_signo;
}
