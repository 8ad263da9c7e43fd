/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where /metrics is served from (`--metrics ADDRESS`): a process of its
 * own, as the unprivileged user in a sandbox that reaches no file. What a
 * scrape shows lives in the daemon's main process, which stays root in a
 * split daemon (usbipd, usbipa: the parent has the devices; an agent: the
 * parent has the exports), and the network must never talk to root; the
 * network process could hold the text but would then have to be told it
 * (an agent's parent asks its network process, never the other way). So
 * the main process forks this small one: it listens on the socket the
 * main process opened (a port below 1024 works), parses the HTTP
 * requests, and asks the main process for the text over a privsep
 * channel with one message type of no body; the main process answers
 * with the text, at most PRIVSEP_MAX_MESSAGE bytes. Nothing a scraper
 * sends reaches the main process.
 */
#ifndef USBIP_DAEMON_METRICS_PROC_H
#define USBIP_DAEMON_METRICS_PROC_H

#include <sys/types.h>

#include "daemon/ev.h"
#include "daemon/metrics.h"

struct metrics_proc;

/*
 * Listens on address and forks the process that answers there as user
 * (when root); the text comes from fn(arg), called on loop in this
 * process. NULL (logged) when it cannot.
 */
struct metrics_proc *metrics_proc_start(const char *name, const char *address, const char *user,
					struct ev_loop *loop, metrics_fn fn, void *arg);
/* The port it listens on (the kernel's pick for port 0). */
unsigned metrics_proc_port(const struct metrics_proc *p);
/* The answering process. */
pid_t metrics_proc_pid(const struct metrics_proc *p);
/* The answering process ended and was reaped elsewhere: its pid is no longer its. */
void metrics_proc_reaped(struct metrics_proc *p);
/* Ends the answering process. */
void metrics_proc_stop(struct metrics_proc *p);

#endif
