/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging for tools and daemons: stderr by default, syslog on request. */
#ifndef USBIP_LOG_H
#define USBIP_LOG_H

#include <stdbool.h>

enum usbip_log_level { USBIP_LOG_ERR, USBIP_LOG_WARN, USBIP_LOG_INFO, USBIP_LOG_DEBUG };

/* ident names the program in every line; use_syslog sends lines to syslog. */
void usbip_log_init(const char *ident, bool use_syslog);
void usbip_log_set_debug(bool on);
bool usbip_log_to_syslog(void);

void usbip_log(enum usbip_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   usbip_log(USBIP_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  usbip_log(USBIP_LOG_WARN, __VA_ARGS__)
#define log_info(...)  usbip_log(USBIP_LOG_INFO, __VA_ARGS__)
#define log_debug(...) usbip_log(USBIP_LOG_DEBUG, __VA_ARGS__)

#endif
