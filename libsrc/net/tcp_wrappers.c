// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "net/tcp_wrappers.h"

#ifdef HAVE_LIBWRAP
#include <syslog.h>
#include <tcpd.h>

/* libwrap reads these for its own log lines. */
int allow_severity = LOG_INFO;
int deny_severity = LOG_WARNING;

bool usbip_tcp_wrappers_allow(int fd, const char *daemon_name)
{
	struct request_info request;

	request_init(&request, RQ_DAEMON, daemon_name, RQ_FILE, fd, 0);
	fromhost(&request);
	return hosts_access(&request) != 0;
}
#else
bool usbip_tcp_wrappers_allow(int fd, const char *daemon_name)
{
	(void)fd;
	(void)daemon_name;
	return true;
}
#endif
