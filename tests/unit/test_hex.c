// SPDX-License-Identifier: GPL-2.0-or-later
/* util/hex: the one reader of hex digits (usb.ids, VID:PID, JSON \u escapes, pins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/hex.h"

/* Every byte: a digit exactly when printf's %x or %X writes it for its value. */
static void test_digit_matches_printf(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		int want = -1, v;
		char lower[4], upper[4];

		for (v = 0; v < 16 && want < 0; v++) {
			snprintf(lower, sizeof(lower), "%x", v);
			snprintf(upper, sizeof(upper), "%X", v);
			if ((char)c == lower[0] || (char)c == upper[0])
				want = v;
		}
		assert_int_equal(hex_digit((char)c), want);
	}
}

static void test_number_round_trip(void **state)
{
	static const unsigned long values[] = { 0, 1, 0x9, 0xa, 0xf, 0x10, 0x046d, 0xc52b, 0xffff };
	char text[16];
	unsigned long v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(text, sizeof(text), "%04lx", values[i]);
		assert_int_equal(hex_number(text, 4, &v), 0);
		assert_int_equal(v, values[i]);
		snprintf(text, sizeof(text), "%04lX", values[i]);
		assert_int_equal(hex_number(text, 4, &v), 0);
		assert_int_equal(v, values[i]);
	}
}

static void test_number_stops_at_digits(void **state)
{
	unsigned long v = 7;

	(void)state;
	/* Only the digits asked for are read: what follows does not matter. */
	assert_int_equal(hex_number("12zz", 2, &v), 0);
	assert_int_equal(v, 0x12);
	/* A non-digit inside them refuses the whole, and out stays. */
	v = 7;
	assert_int_equal(hex_number("1g", 2, &v), -1);
	assert_int_equal(v, 7);
	assert_int_equal(hex_number("", 1, &v), -1);
	assert_int_equal(hex_number(" 1", 2, &v), -1);
	assert_int_equal(hex_number("-1", 2, &v), -1);
	assert_int_equal(hex_number("", 0, &v), 0);
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digit_matches_printf),
		cmocka_unit_test(test_number_round_trip),
		cmocka_unit_test(test_number_stops_at_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
