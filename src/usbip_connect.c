// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip connect: the device side dials out and exports a device to a
 * remote usbipa. Waits for a server that is not up yet, and with --persist
 * stays to export again whenever the connection drops or the device is
 * plugged back in.
 */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/process.h"
#include "kernel/host.h"
#include "source/export_client.h"
#include "util/log.h"
#include "usbip.h"

#define ATTEMPT_TIMEOUT_MS 5000
#define MAX_BACKOFF_S	   30
#define DEFAULT_WAIT_S	   30

struct connect_args {
	const char *host, *busid, *pid_file;
	long wait_s; /* --timeout: how long to keep trying; -1 forever */
	bool persist, daemonize;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip connect -r HOST -b BUSID [--timeout SECONDS] [--persist [-D] [--pid "
		"FILE]]\n\n"
		"Binds the device to usbip-host if needed and exports it to the usbipa on\n"
		"HOST, which attaches it there. For nodes that cannot be reached from\n"
		"outside: the connection goes from here to HOST.\n\n"
		"  -r, --remote HOST     the application side (usbipa)\n"
		"  -b, --busid BUSID     the local device\n"
		"      --timeout SECONDS keep trying that long while HOST is unreachable,\n"
		"                        with growing pauses (default %d; 0: one try)\n"
		"      --persist         stay: export again when the connection drops or the\n"
		"                        device comes back; SIGTERM unexports and ends\n"
		"  -D, --daemon          with --persist: run in the background, log to syslog\n"
		"  -P, --pid FILE        with --persist: write a pid file\n\n"
		"Exit status: 0 exported (or, with --persist, ended cleanly), 1 failed,\n"
		"2 bad arguments, 4 HOST unreachable until the timeout, 5 HOST refused.\n",
		DEFAULT_WAIT_S);
}

static long long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * Sleeps up to seconds; returns the signal that ended it early, or 0.
 * Relay processes (TLS without kernel TLS) that ended are reaped here.
 */
static int pause_for(int sigfd, int seconds)
{
	struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
	int sig;

	if (poll(&pfd, 1, seconds * 1000) <= 0)
		return 0;
	sig = process_signalfd_read(sigfd);
	if (sig == SIGCHLD)
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	return sig;
}

static bool stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT;
}

/*
 * Tries to export until it works, the server refuses, or the wait is over.
 * Returns an exit code; USBIP_EXIT_OK when exported.
 */
static int export_with_retry(const struct connect_args *a, int sigfd, int *stop)
{
	long long deadline = a->wait_s < 0 ? -1 : now_s() + a->wait_s;
	int backoff = 1;

	for (;;) {
		enum usbip_export_result r;
		uint32_t status;
		int sig;

		if (usbip_host_bind(a->busid, true) != 0)
			return USBIP_EXIT_FAILURE;
		r = usbip_export_device(a->host, usbip_opts.tcp_port, usbip_opts.tls, a->busid,
					ATTEMPT_TIMEOUT_MS, &status);
		if (r == USBIP_EXPORT_OK) {
			if (a->persist)
				log_info("%s exported to %s", a->busid, a->host);
			return USBIP_EXIT_OK;
		}
		if (r == USBIP_EXPORT_FAILED && !a->persist)
			return USBIP_EXIT_FAILURE;
		if (r == USBIP_EXPORT_REFUSED && !a->persist)
			return USBIP_EXIT_REFUSED;
		if (deadline >= 0 && now_s() + backoff > deadline)
			return r == USBIP_EXPORT_UNREACHABLE ? USBIP_EXIT_UNREACHABLE
							     : USBIP_EXIT_REFUSED;
		log_info("trying %s again in %d s", a->host, backoff);
		sig = pause_for(sigfd, backoff);
		if (stop_signal(sig)) {
			*stop = sig;
			return USBIP_EXIT_FAILURE;
		}
		backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
	}
}

/* The device is gone, or its stub is free again (the connection dropped). */
static bool export_lost(const char *busid, bool *unplugged)
{
	struct usbip_local_device dev;

	*unplugged = false;
	if (access("/sys/bus/usb/devices", F_OK) == 0) {
		char path[128];

		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s", busid);
		if (access(path, F_OK) != 0) {
			*unplugged = true;
			return true;
		}
	}
	if (usbip_host_get(busid, &dev) != 0)
		return true;
	return dev.stub_status != USBIP_STUB_USED;
}

/* Waits for the device to be plugged in again; returns a stop signal or 0. */
static int wait_for_device(const char *busid, int sigfd)
{
	char path[128];
	int sig;

	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s", busid);
	while (access(path, F_OK) != 0) {
		sig = pause_for(sigfd, 1);
		if (stop_signal(sig))
			return sig;
	}
	return 0;
}

static int withdraw(const struct connect_args *a)
{
	uint32_t status;
	enum usbip_export_result r =
		usbip_unexport_device(a->host, usbip_opts.tcp_port, usbip_opts.tls, a->busid,
				      ATTEMPT_TIMEOUT_MS, &status);

	usbip_host_unbind(a->busid);
	return r == USBIP_EXPORT_OK ? USBIP_EXIT_OK : USBIP_EXIT_FAILURE;
}

static int persist(const struct connect_args *a, int sigfd)
{
	int stop = 0, sig, rc;
	bool unplugged;

	for (;;) {
		rc = export_with_retry(a, sigfd, &stop);
		if (stop)
			break;
		if (rc != USBIP_EXIT_OK)
			return rc;
		process_ready();
		/* Watch the export; the kernel owns the connection, its stub tells. */
		for (;;) {
			sig = pause_for(sigfd, 1);
			if (stop_signal(sig)) {
				stop = sig;
				break;
			}
			if (export_lost(a->busid, &unplugged))
				break;
		}
		if (stop)
			break;
		if (unplugged) {
			log_warn("%s was unplugged; waiting for it to come back", a->busid);
			stop = wait_for_device(a->busid, sigfd);
			if (stop)
				break;
			log_info("%s is back", a->busid);
		} else {
			log_warn("the connection of %s to %s dropped; exporting again", a->busid,
				 a->host);
		}
	}
	log_info("signal %d: withdrawing %s from %s", stop, a->busid, a->host);
	return withdraw(a);
}

int usbip_connect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "persist", no_argument, NULL, 'p' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct connect_args a = { .wait_s = DEFAULT_WAIT_S };
	bool was_bound = false;
	struct usbip_local_device dev;
	int c, sigfd, rc, stop = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "r:b:DP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a.host = optarg;
			break;
		case 'b':
			a.busid = optarg;
			break;
		case 'T':
			a.wait_s = strtol(optarg, &end, 10);
			if (!*optarg || *end || a.wait_s < 0)
				return usbip_usage_error(
					"connect", "--timeout wants seconds, not '%s'", optarg);
			break;
		case 'p':
			a.persist = true;
			break;
		case 'D':
			a.daemonize = true;
			break;
		case 'P':
			a.pid_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("connect", argv);
		}
	}
	if (!a.host || !a.busid)
		return usbip_usage_error("connect", "give both -r HOST and -b BUSID");
	if (optind < argc)
		return usbip_usage_error("connect", "unexpected argument '%s'", argv[optind]);
	if ((a.daemonize || a.pid_file) && !a.persist)
		return usbip_usage_error("connect", "-D and --pid go with --persist");
	if (!usbip_host_driver_loaded())
		return USBIP_EXIT_FAILURE;
	if (a.persist)
		a.wait_s = -1;
	if (usbip_host_get(a.busid, &dev) != 0)
		return USBIP_EXIT_FAILURE;
	was_bound = strcmp(dev.driver, "usbip-host") == 0;

	if (a.daemonize) {
		usbip_log_init("usbip", true);
		if (process_daemonize() != 0)
			return USBIP_EXIT_FAILURE;
	}
	if (a.pid_file && process_pidfile_write(a.pid_file) != 0)
		return USBIP_EXIT_FAILURE;
	sigfd = process_signalfd();
	if (sigfd < 0) {
		log_err("cannot set up signal handling");
		return USBIP_EXIT_FAILURE;
	}
	if (a.persist) {
		rc = persist(&a, sigfd);
	} else {
		rc = export_with_retry(&a, sigfd, &stop);
		/* A device we bound for nothing goes back to its driver. */
		if (rc != USBIP_EXIT_OK && !was_bound)
			usbip_host_unbind(a.busid);
		if (rc == USBIP_EXIT_OK)
			printf("exported %s to %s\n", a.busid, a.host);
	}
	close(sigfd);
	process_pidfile_remove(a.pid_file);
	return rc;
}
