// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Words sysfs writes and what they stand for: the table lookup both speed
 * attributes use (the usb device's "speed", the UDC's "current_speed").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/host.h"
#include "kernel/sysfs.h"
#include "wire/usbip_proto.h"

static void test_word_value(void **state)
{
	static const struct sysfs_word words[] = { { "a", 1 }, { "bb", 2 }, { "a", 3 } };
	const size_t n = sizeof(words) / sizeof(words[0]);

	(void)state;
	assert_int_equal(sysfs_word_value(words, n, "a", 99), 1); /* the first one wins */
	assert_int_equal(sysfs_word_value(words, n, "bb", 99), 2);
	assert_int_equal(sysfs_word_value(words, n, "b", 99), 99); /* whole words only */
	assert_int_equal(sysfs_word_value(words, n, "bb\n", 99), 99);
	assert_int_equal(sysfs_word_value(words, n, "", 99), 99);
	assert_int_equal(sysfs_word_value(words, n, NULL, 99), 99);
	assert_int_equal(sysfs_word_value(words, 0, "a", 7), 7);
}

/* The usb device's speed attribute, in Mbit/s as the kernel prints it. */
static void test_host_speed(void **state)
{
	(void)state;
	assert_int_equal(host_parse_speed("1.5"), USBIP_SPEED_LOW);
	assert_int_equal(host_parse_speed("12"), USBIP_SPEED_FULL);
	assert_int_equal(host_parse_speed("480"), USBIP_SPEED_HIGH);
	assert_int_equal(host_parse_speed("53.3-480"), USBIP_SPEED_WIRELESS);
	assert_int_equal(host_parse_speed("5000"), USBIP_SPEED_SUPER);
	assert_int_equal(host_parse_speed("10000"), USBIP_SPEED_SUPER_PLUS);
	assert_int_equal(host_parse_speed("20000"), USBIP_SPEED_SUPER_PLUS);
	assert_int_equal(host_parse_speed("40000"), USBIP_SPEED_UNKNOWN);
	assert_int_equal(host_parse_speed("high-speed"), USBIP_SPEED_UNKNOWN);
	assert_int_equal(host_parse_speed(NULL), USBIP_SPEED_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word_value),
		cmocka_unit_test(test_host_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
