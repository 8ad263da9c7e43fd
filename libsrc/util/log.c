// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

/* The longest log line; more is cut off. */
#define LOG_LINE_MAX 2048

static const char *log_ident = "usbip";
static bool log_to_syslog;
static bool log_debug_on;

void log_init(const char *ident, bool use_syslog)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	/* Connected now, so that a process that later has an empty root still logs. */
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_reopen(void)
{
	if (!log_to_syslog)
		return;
	closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_debug(bool on)
{
	log_debug_on = on;
}

bool log_debugging(void)
{
	return log_debug_on;
}

bool log_uses_syslog(void)
{
	return log_to_syslog;
}

/*
 * The last line of defence for whatever reaches a log line unescaped: a
 * control character becomes \xNN, so that no line can be split in two or
 * carry a terminal's escape sequence. Strings a peer gave go through
 * log_escape first, which also escapes bytes past ASCII.
 */
static void escape_controls(char *line, size_t cap)
{
	char copy[LOG_LINE_MAX];
	size_t i, n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (i = 0; copy[i] && n + 5 < cap; i++) {
		unsigned char c = (unsigned char)copy[i];

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(line + n, cap - n, "\\x%02x", c);
		else
			line[n++] = (char)c;
	}
	line[n] = '\0';
}

void log_msg(enum usbip_log_level level, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	char line[LOG_LINE_MAX];
	va_list ap;
	size_t i;

	if (level == USBIP_LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			break;
	if (line[i])
		escape_controls(line, sizeof(line));
	if (log_to_syslog)
		syslog(syslog_prio[level], "%s", line);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, prefix[level], line);
}

const char *log_escape(char *buf, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!cap)
		return buf;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (n + 1 >= cap)
				break;
			buf[n++] = (char)c;
		} else {
			if (n + 4 >= cap)
				break;
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 0xf];
		}
	}
	buf[n] = '\0';
	return buf;
}
