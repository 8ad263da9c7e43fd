// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static const char *log_ident = "usbip";
static bool log_to_syslog;
static bool log_debug_on;

void usbip_log_init(const char *ident, bool use_syslog)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void usbip_log_set_debug(bool on)
{
	log_debug_on = on;
}

bool usbip_log_to_syslog(void)
{
	return log_to_syslog;
}

void usbip_log(enum usbip_log_level level, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if (level == USBIP_LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(syslog_prio[level], fmt, ap);
	} else {
		fprintf(stderr, "%s: %s", log_ident, prefix[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
