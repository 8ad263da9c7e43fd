// SPDX-License-Identifier: GPL-2.0-or-later
/* Addresses as users type them: HOST, HOST:PORT, [V6], [V6]:PORT, a bare V6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "net/address.h"

static void expect(const char *text, const char *host, const char *port, bool given)
{
	struct net_address a;
	struct usbip_error err = { "" };

	assert_int_equal(net_address_parse(text, "3240", &a, &err), 0);
	assert_int_equal(a.kind, NET_ADDRESS_TCP);
	assert_string_equal(a.host, host);
	assert_string_equal(a.port, port);
	assert_int_equal(a.port_given, given);
}

static void test_forms(void **state)
{
	(void)state;
	expect("devhost", "devhost", "3240", false);
	expect("devhost.example.net:3241", "devhost.example.net", "3241", true);
	expect("127.0.0.1", "127.0.0.1", "3240", false);
	expect("127.0.0.1:0", "127.0.0.1", "0", true);
	expect("[::1]", "::1", "3240", false);
	expect("[::1]:65535", "::1", "65535", true);
	expect("::1", "::1", "3240", false); /* bare: no port */
	expect("fe80::1%eth0", "fe80::1%eth0", "3240", false);
	expect("[fe80::1%eth0]:3240", "fe80::1%eth0", "3240", true);
}

static void test_format_round_trip(void **state)
{
	static const char *const texts[] = { "h:1", "[::1]:3240", "10.0.0.1:3240" };
	struct net_address a;
	struct usbip_error err;
	char out[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(net_address_parse(texts[i], "3240", &a, &err), 0);
		net_address_format(&a, out, sizeof(out));
		assert_string_equal(out, texts[i]);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		":3240",
		"[::1",
		"[::1]x",
		"[::1]:",
		"[]:3240",
		"h:",
		"h:65536",
		"h:-1",
		"h:12a",
		"h:0003240",
		"a b",
		"h;rm",
		"h/x:1",
		"[::1]:99999",
		"host\n",
		"\xc3\xa9t\xc3\xa9",
	};
	char long_name[400];
	struct usbip_error err;
	struct net_address a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(net_address_parse(bad[i], "3240", &a, &err), -1);
		assert_true(err.msg[0] != '\0');
	}
	/* A bad default port is refused too. */
	assert_int_equal(net_address_parse("h", "x", &a, &err), -1);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(net_address_parse(long_name, "3240", &a, &err), -1);
	assert_non_null(strstr(err.msg, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
