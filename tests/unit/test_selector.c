// SPDX-License-Identifier: GPL-2.0-or-later
/* Device selectors: -b BUSID patterns and -i VID:PID[:SERIAL], alone and combined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "match/selector.h"

static struct usbip_selector parse(const char *busid, const char *hwid)
{
	struct usbip_selector sel = { 0 };
	char err[160];

	if (busid)
		assert_int_equal(selector_add_busid(&sel, busid, err, sizeof(err)), 0);
	if (hwid)
		assert_int_equal(selector_add_hwid(&sel, hwid, err, sizeof(err)), 0);
	return sel;
}

static void test_busid_patterns(void **state)
{
	struct usbip_selector hub = parse("1-1.*", NULL), one = parse("2-1", NULL);

	(void)state;
	assert_true(selector_matches(&hub, "1-1.2", 0x46f4, 1, ""));
	assert_true(selector_matches(&hub, "1-1.2.3", 0x46f4, 1, ""));
	assert_false(selector_matches(&hub, "1-1", 0x46f4, 1, ""));
	assert_false(selector_matches(&hub, "1-10.1", 0x46f4, 1, ""));
	assert_false(selector_matches(&hub, "2-1.1", 0x46f4, 1, ""));
	assert_true(selector_matches(&one, "2-1", 0x46f4, 1, ""));
	assert_false(selector_matches(&one, "2-1.1", 0x46f4, 1, ""));
	assert_true(selector_is_one_busid(&one));
	assert_false(selector_is_one_busid(&hub));
}

static void test_hwids(void **state)
{
	struct usbip_selector any = parse(NULL, "46F4:0001"),
			      serial = parse(NULL, "46f4:1:VMTEST0002");

	(void)state;
	assert_true(selector_matches(&any, "2-1", 0x46f4, 0x0001, "VMTEST0001"));
	assert_true(selector_matches(&any, "1-3", 0x46f4, 0x0001, ""));
	assert_false(selector_matches(&any, "2-1", 0x46f4, 0x0002, ""));
	assert_true(selector_matches(&serial, "2-1", 0x46f4, 0x0001, "VMTEST0002"));
	assert_false(selector_matches(&serial, "2-1", 0x46f4, 0x0001, "VMTEST0001"));
	assert_false(selector_matches(&serial, "2-1", 0x46f4, 0x0001, ""));
	assert_false(selector_matches(&serial, "2-1", 0x46f4, 0x0001, NULL));
	assert_false(selector_is_one_busid(&any));
}

static void test_combined_all_must_match(void **state)
{
	struct usbip_selector sel = parse("1-1.*", "46f4:0001");
	char text[128];

	(void)state;
	assert_true(selector_matches(&sel, "1-1.4", 0x46f4, 1, ""));
	assert_false(selector_matches(&sel, "2-1", 0x46f4, 1, ""));
	assert_false(selector_matches(&sel, "1-1.4", 0x0627, 1, ""));
	assert_false(selector_is_one_busid(&sel));
	selector_describe(&sel, text, sizeof(text));
	assert_string_equal(text, "-b 1-1.* -i 46f4:0001");
}

static void test_bad_selectors(void **state)
{
	static const char *const bad_busids[] = {
		"",	"1-1 2", "1-1\n",     "1-1;rm",
		"$(x)", "1-1/2", "a\033[31m", "0123456789012345678901234567890123456789",
	};
	static const char *const bad_hwids[] = {
		"",	      "46f4",	  "46f4:",	":0001",	  "46f41:0001",
		"46f4:00011", "xyz:0001", "46f4:0001:", "46f4:0001:a\nb",
	};
	struct usbip_selector sel = { 0 };
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_busids) / sizeof(bad_busids[0]); i++) {
		err[0] = '\0';
		assert_int_equal(selector_add_busid(&sel, bad_busids[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	for (i = 0; i < sizeof(bad_hwids) / sizeof(bad_hwids[0]); i++) {
		err[0] = '\0';
		assert_int_equal(selector_add_hwid(&sel, bad_hwids[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	assert_true(selector_empty(&sel));
}

/* A -b pattern that no USB device's busid (BUS-PORT[.PORT]...) can ever match. */
/* -b and -i by their option letters, as every command's getopt hands them over. */
static void test_option_letters(void **state)
{
	struct usbip_selector sel = { 0 }, bad = { 0 };
	char err[160], expected[160];

	(void)state;
	assert_int_equal(selector_add_option(&sel, 'b', "1-1.*", err, sizeof(err)), 0);
	assert_int_equal(selector_add_option(&sel, 'i', "46f4:0001", err, sizeof(err)), 0);
	assert_true(selector_matches(&sel, "1-1.3", 0x46f4, 0x0001, ""));
	assert_false(selector_matches(&sel, "1-1.3", 0x46f4, 0x0002, ""));
	assert_false(selector_matches(&sel, "2-1", 0x46f4, 0x0001, ""));
	/* The same message as the function of each kind says. */
	assert_int_equal(selector_add_hwid(&bad, "46f4", expected, sizeof(expected)), -1);
	assert_int_equal(selector_add_option(&bad, 'i', "46f4", err, sizeof(err)), -1);
	assert_string_equal(err, expected);
	assert_int_equal(selector_add_option(&bad, 'r', "host", err, sizeof(err)), -1);
	assert_true(selector_empty(&bad));
}

static void test_patterns_that_never_match(void **state)
{
	static const char *const can[] = { "1-1", "1-1.2.3", "1-1.*",  "*",
					   "?-1", "[0-9]-1", "1-[!a]", "12-3.4" };
	static const char *const never[] = { "zzzz", "1-1:1.0", "usbip-vudc.0", "1-",	   "-1",
					     "1-1.", "1..2",	"z*",		"1-[a-z]", "1-[" };
	struct usbip_selector sel;
	char err[200];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(can) / sizeof(can[0]); i++) {
		sel = parse(can[i], NULL);
		assert_int_equal(selector_check_usb_busids(&sel, err, sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		sel = parse(never[i], NULL);
		assert_int_equal(selector_check_usb_busids(&sel, err, sizeof(err)), -1);
		assert_non_null(strstr(err, never[i]));
	}
	sel = parse(NULL, "046d:c52b");
	assert_int_equal(selector_check_usb_busids(&sel, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busid_patterns),
		cmocka_unit_test(test_hwids),
		cmocka_unit_test(test_combined_all_must_match),
		cmocka_unit_test(test_bad_selectors),
		cmocka_unit_test(test_patterns_that_never_match),
		cmocka_unit_test(test_option_letters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
