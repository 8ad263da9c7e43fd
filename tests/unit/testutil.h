/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the unit tests. */
#ifndef USBIP_TESTUTIL_H
#define USBIP_TESTUTIL_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parses hex digits, ignoring spaces; returns the byte count. */
static inline size_t hex_to_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		v = isdigit((unsigned char)*hex) ? *hex - '0'
						 : tolower((unsigned char)*hex) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			if (n == max)
				abort();
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

#endif
