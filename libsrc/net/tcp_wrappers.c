// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "net/tcp_wrappers.h"

#ifdef HAVE_LIBWRAP
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <tcpd.h>

/* libwrap reads these for its own log lines. */
int allow_severity = LOG_INFO;
int deny_severity = LOG_WARNING;

const struct sandbox_path usbip_tcp_wrappers_paths[] = { { "/etc", false } };
const size_t usbip_tcp_wrappers_npaths = 1;

/* The peer's numeric address, an IPv4 peer on an IPv6 socket as IPv4; -1 if none. */
static int peer_address(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	socklen_t sl = sizeof(ss);
	const struct sockaddr *sa = (const struct sockaddr *)&ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)&ss)->sin6_addr)) {
		memcpy(&v4.sin_addr, ((const struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr + 12, 4);
		sa = (const struct sockaddr *)&v4;
		sl = sizeof(v4);
	}
	return getnameinfo(sa, sl, buf, len, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}

/*
 * The rules see the address alone: no name (a DNS lookup, which could take
 * many seconds, would stop the daemon's event loop for every client) and
 * no user (an RFC 931 ident query, the same). To a rule the client's name
 * and user are unknown: a host name never matches, UNKNOWN and PARANOID
 * match every client (see usbipd(8)).
 */
bool tcp_wrappers_allow(int fd, const char *daemon_name)
{
	char addr[64];

	if (peer_address(fd, addr, sizeof(addr)) != 0)
		return false;
	return hosts_ctl((char *)daemon_name, STRING_UNKNOWN, addr, STRING_UNKNOWN) != 0;
}
#else
const struct sandbox_path usbip_tcp_wrappers_paths[] = { { NULL, false } };
const size_t usbip_tcp_wrappers_npaths = 0;

bool tcp_wrappers_allow(int fd, const char *daemon_name)
{
	(void)fd;
	(void)daemon_name;
	return true;
}
#endif
