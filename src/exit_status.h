/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exit statuses of usbip, usbipd and usbipa (documented in their man
 * pages), and the one mapping from the library's results to them.
 */
#ifndef USBIP_EXIT_STATUS_H
#define USBIP_EXIT_STATUS_H

#include "daemon/daemon.h"
#include "util/result.h"

enum usbip_exit {
	USBIP_EXIT_OK = 0,
	USBIP_EXIT_FAILURE = 1,	    /* the operation failed */
	USBIP_EXIT_USAGE = 2,	    /* bad command line or configuration */
	USBIP_EXIT_UNREACHABLE = 4, /* the remote host could not be reached */
	USBIP_EXIT_REFUSED = 5,	    /* the remote host refused the request */
};

int exit_status(enum usbip_result result);

/*
 * For usbipd and usbipa after daemon_parse_args: -1 to go on, or the exit
 * status (0 after --help or --version, 2 after a usage error).
 */
int exit_status_for_args(enum daemon_args args);

#endif
