/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every daemon does at start: detach, pid file, signals as events. */
#ifndef USBIP_DAEMON_PROCESS_H
#define USBIP_DAEMON_PROCESS_H

/*
 * Forks into the background (-D). The parent waits until the child calls
 * process_ready (or exits) and exits with 0 or 1 accordingly, so that
 * whoever started the daemon knows it is serving, pid file written.
 */
int process_daemonize(void);
void process_ready(void);

/* Writes and locks the pid file; -1 (logged) if another instance holds it. */
int process_pidfile_write(const char *path);
void process_pidfile_remove(const char *path);

/*
 * In a child that is not the daemon (the network process of privilege
 * separation): lets go of the pid file's lock and of -D's readiness pipe,
 * which are its parent's to hold and to write.
 */
void process_forget_parent(void);

/*
 * Blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD and returns a signalfd that
 * reports them, so the event loop handles signals like any other input.
 * SIGPIPE is ignored: a peer that goes away is an error return, not a death.
 */
int process_signalfd(void);
/* Reads one signal number from the signalfd, or -1. */
int process_signalfd_read(int fd);

#endif
