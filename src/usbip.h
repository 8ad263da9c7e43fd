/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The usbip front end: global options and the subcommands' entry points. */
#ifndef USBIP_FRONTEND_H
#define USBIP_FRONTEND_H

#include <stdbool.h>

#include "exit_status.h"
#include "net/tls.h"

struct usbip_options {
	const char *tcp_port;		      /* --tcp-port, default 3240 */
	struct usbip_tls *tls;		      /* --tls: the client context, or NULL */
	struct usbip_tls_options tls_options; /* for a subcommand that serves (serve-mtp) */
};

extern struct usbip_options usbip_opts;

int usbip_list(int argc, char **argv);
int usbip_bind(int argc, char **argv);
int usbip_unbind(int argc, char **argv);
int usbip_attach(int argc, char **argv);
int usbip_detach(int argc, char **argv);
int usbip_port(int argc, char **argv);
int usbip_connect(int argc, char **argv);
int usbip_disconnect(int argc, char **argv);
int usbip_serve_mtp(int argc, char **argv);

/*
 * Parses the "[-r HOST] [-d] -b BUSID" command line that bind, unbind (host
 * NULL: no -r), attach and disconnect share; -d (a usbip-vudc gadget) only
 * where gadget is not NULL. Returns -1 with the values set to go on, or the
 * exit code to return (help printed, or a usage error).
 */
int usbip_parse_device_args(int argc, char **argv, const char *command, const char *help,
			    const char **host, const char **busid, bool *gadget);

/* "usbip CMD: unknown option '-x'" for getopt's '?'; returns USBIP_EXIT_USAGE. */
int usbip_bad_option(const char *command, char **argv);

/* Prints "usbip CMD: unexpected argument" style errors; returns USBIP_EXIT_USAGE. */
int usbip_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
