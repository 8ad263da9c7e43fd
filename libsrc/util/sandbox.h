/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Confining what a process can reach of the file system, with Landlock
 * (Linux 5.13 and later, where the kernel has it enabled): after
 * sandbox_restrict, the process and its children open, make and remove
 * files only beneath the paths given, each read-only or read-write. For
 * the processes that read from peers, once they dropped root: a bug in
 * them reaches no file they do not serve.
 */
#ifndef USBIP_UTIL_SANDBOX_H
#define USBIP_UTIL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Built with AddressSanitizer: its LeakSanitizer reads /proc/self when
 * the process exits, so a sanitizer build leaves /proc readable and an
 * empty root out (daemon/privsep.c). Production builds are not affected.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

struct sandbox_path {
	const char *path;
	bool writable;
};

/* The paths a process that resolves host names reads (resolv.conf, NSS, ...). */
extern const struct sandbox_path sandbox_resolver_paths[];
extern const size_t sandbox_resolver_npaths;

/* What sandbox_prepare gives where the kernel has no Landlock. */
#define SANDBOX_NONE (-2)

/*
 * The rules for reaching only paths (and, with extra, those too), each
 * opened now, with the caller's rights (before it drops root: a folder
 * only root could get to is reached through what is opened here). Paths
 * that do not exist are left out. Returns the rule set to enter, or
 * SANDBOX_NONE where the kernel has no Landlock (said once: the process
 * will go on as it is), or -1 (logged).
 */
int sandbox_prepare(const struct sandbox_path *paths, size_t n, const struct sandbox_path *extra,
		    size_t nextra);

/*
 * From now on this process and its children reach only what ruleset
 * allows (it is closed). Sets PR_SET_NO_NEW_PRIVS. 0, or -1 (logged).
 */
int sandbox_enter(int ruleset);

/* A prepared rule set not entered (in a parent that forked the one to enter it). */
void sandbox_discard(int ruleset);

#endif
