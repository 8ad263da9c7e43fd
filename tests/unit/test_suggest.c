// SPDX-License-Identifier: GPL-2.0-or-later
/* "did you mean": the closest command or option, and getopt's '?' in one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "util/suggest.h"

static const char *const commands[] = { "list", "bind",	   "unbind", "attach", "detach",
					"port", "connect", "status", "agent" };
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option opts[] = {
	{ "remote", required_argument, NULL, 'r' },
	{ "busid", required_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ "tcp-port", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static const char *closest(const char *typed)
{
	return suggest_word(typed, strlen(typed), commands, NCOMMANDS);
}

static void test_words(void **state)
{
	(void)state;
	assert_string_equal(closest("lst"), "list");
	assert_string_equal(closest("atach"), "attach");
	assert_string_equal(closest("detatch"), "detach");
	assert_string_equal(closest("conect"), "connect");
	assert_string_equal(closest("stat"), "status"); /* a prefix */
	assert_string_equal(closest("unbnd"), "unbind");
	assert_string_equal(closest("lsit"), "list"); /* two letters swapped */
	assert_string_equal(closest("prot"), "port");
	assert_null(closest("frobnicate"));
	assert_null(closest("x"));
	assert_null(closest(""));
	/* Longer than anything compared: no suggestion, no overflow. */
	assert_null(closest("listlistlistlistlistlistlistlistlistlist"));
}

static void test_options(void **state)
{
	(void)state;
	assert_string_equal(suggest_option("bsuid", 5, opts), "busid");
	assert_string_equal(suggest_option("jsn", 3, opts), "json");
	assert_string_equal(suggest_option("tcp-prt", 7, opts), "tcp-port");
	assert_null(suggest_option("bogus", 5, opts));
}

/* What getopt leaves after '?': optind past the word, optopt the letter or 0. */
static void error_for(const char *word, int letter, char *out, size_t len)
{
	char *argv[] = { "usbip", (char *)word, NULL };

	optind = 2;
	optopt = letter;
	suggest_option_error(argv, opts, out, len);
}

static void test_option_errors(void **state)
{
	char out[200];

	(void)state;
	error_for("--bsuid", 0, out, sizeof(out));
	assert_string_equal(out, "unknown option '--bsuid'; did you mean '--busid'?");
	error_for("--bogus=3", 0, out, sizeof(out));
	assert_string_equal(out, "unknown option '--bogus'");
	error_for("--tcp-port", 't', out, sizeof(out));
	assert_string_equal(out, "'--tcp-port' wants a value");
	error_for("--json=1", 'j', out, sizeof(out));
	assert_string_equal(out, "'--json' takes no value");
	error_for("-r", 'r', out, sizeof(out));
	assert_string_equal(out, "'-r' wants a value");
	error_for("-x", 'x', out, sizeof(out));
	assert_string_equal(out, "unknown option '-x'");
	/* A small buffer: cut, never overrun, always terminated. */
	error_for("--bsuid", 0, out, 8);
	assert_int_equal(strlen(out), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_option_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
