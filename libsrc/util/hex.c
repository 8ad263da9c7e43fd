// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/hex.h"

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_number(const char *p, size_t digits, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < digits; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (unsigned long)d;
	}
	*out = v;
	return 0;
}
