/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging for tools and daemons: stderr by default, syslog on request. */
#ifndef USBIP_LOG_H
#define USBIP_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum usbip_log_level { USBIP_LOG_ERR, USBIP_LOG_WARN, USBIP_LOG_INFO, USBIP_LOG_DEBUG };

/* ident names the program in every line; use_syslog sends lines to syslog. */
void log_init(const char *ident, bool use_syslog);
/* After the syslog connection was closed (a forked child that closed what it inherited). */
void log_reopen(void);
void log_set_debug(bool on);
bool log_uses_syslog(void);
/* Whether debug lines are printed (-d, --debug). */
bool log_debugging(void);

void log_msg(enum usbip_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Room log_escape needs to keep all of a string of n bytes. */
#define LOG_ESCAPED_SIZE(n) (4 * (n) + 1)

/*
 * Copies s into buf (cap bytes) for a log line: printable ASCII as it is,
 * every other byte and the backslash as \xNN, so that a string a peer gave
 * (a busid, a path, a serial, a certificate's subject) cannot break a line,
 * forge another, or reach a terminal as a control sequence. Cut short at a
 * whole character to fit. Returns buf.
 */
const char *log_escape(char *buf, size_t cap, const char *s);

#define log_err(...)   log_msg(USBIP_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(USBIP_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(USBIP_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(USBIP_LOG_DEBUG, __VA_ARGS__)

#endif
