/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How the library says that something failed. There are four ways, and
 * each function uses the one that fits what its caller has to do next:
 *
 * 1. enum usbip_result, for operations whose caller tells kinds of failure
 *    apart (unreachable, refused, bad configuration): attach, connect,
 *    list, bind. What went wrong is logged where it is known.
 *
 * 2. 0 on success, -1 with errno set, for thin wrappers around system
 *    calls (util/io.h, util/file.h, the sysfs writers): the caller decides
 *    from errno (io_would_block(), ENOENT ...). Where the errno has to
 *    travel past further calls that would overwrite it (the MTP store maps
 *    it to a response code later), the function returns it negated
 *    (-ENOENT) instead; that is the same convention carried in the value.
 *
 * 3. 0 on success, -1 with a struct usbip_error filled, for decoders and
 *    parsers of what came from a peer, a file or the command line (the
 *    wire codec, MTP containers, addresses, JSON, configuration values):
 *    the first problem as one line the caller prints or logs with its own
 *    context. The error may be NULL when the caller only needs the verdict.
 *    Not all there yet: the address syntax (net/address.c), conf.c, the
 *    selectors and the policy, the proxy, TCP and TLS option parsers,
 *    status_client.c and file.c still fill a char buffer of a given
 *    length with the same one line; they move to struct usbip_error as
 *    they are next changed.
 *
 * 4. Exit statuses exist only in src/: the programs turn an enum
 *    usbip_result into one in one place (src/exit_status.c). The library
 *    never returns an exit code; where a step of a program may end it
 *    (argument checks), src/ returns -1 to go on or the exit status.
 *
 * Values are not conventions: a count or a length (ssize_t; a negative
 * one is convention 2), an OP status (USBIP_ST_*, the answer a peer is to get), an
 * enum saying which way something went (enum daemon_args).
 */
#ifndef USBIP_UTIL_RESULT_H
#define USBIP_UTIL_RESULT_H

enum usbip_result {
	USBIP_OK = 0,
	USBIP_E_FAILED = -1,	  /* a local or protocol failure (logged) */
	USBIP_E_UNREACHABLE = -2, /* the remote host could not be reached */
	USBIP_E_REFUSED = -3,	  /* the remote host said no (logged with its reason) */
	USBIP_E_CONFIG = -4,	  /* bad options or configuration (said on stderr) */
};

/* A decoder's or parser's reason for saying no, e.g. "busid: no terminating zero". */
struct usbip_error {
	char msg[384]; /* room for a quoted host name of 255 bytes */
};

/* Formats the reason into err (when not NULL) and returns -1: "return result_error_set(...)". */
int result_error_set(struct usbip_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
