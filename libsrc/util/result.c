// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/result.h"

#include <stdarg.h>
#include <stdio.h>

int result_error_set(struct usbip_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}
