/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the library's operations return when the caller has to tell kinds
 * of failure apart. The programs turn these into their exit statuses in one
 * place (src/exit_status.c); the library never returns exit codes.
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

#endif
