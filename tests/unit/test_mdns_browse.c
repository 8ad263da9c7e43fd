// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What an mdns: remote picks from a browse: only the hosts its globs allow
 * (case ignored, a trailing dot ignored, several globs), never a host name
 * that is not a DNS name, a link-local IPv6 address or port 0, and in the
 * same order every time (host name, port, instance name, address),
 * whatever order the LAN answered in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "net/mdns_browse.h"

static void test_allowed(void **state)
{
	(void)state;
	assert_true(mdns_browse_allowed("", "anything.local"));
	assert_true(mdns_browse_allowed("lab-*.local", "lab-1.local"));
	assert_true(mdns_browse_allowed("lab-*.local", "LAB-12.Local"));
	assert_true(mdns_browse_allowed("lab-*.local", "lab-1.local."));
	assert_false(mdns_browse_allowed("lab-*.local", "lab-1.local.evil.net"));
	assert_false(mdns_browse_allowed("lab-*.local", "evil-lab-1.local"));
	assert_false(mdns_browse_allowed("lab-*.local", "lab-1"));
	/* A wildcard stays within one label. */
	assert_false(mdns_browse_allowed("lab-*.local", "lab-1.evil.local"));
	assert_false(mdns_browse_allowed("lab-?.local", "lab-..local"));
	assert_false(mdns_browse_allowed("lab-[.x].local", "lab-..local"));
	assert_true(mdns_browse_allowed("*.*.local", "a.b.local"));
	assert_true(mdns_browse_allowed("x.local,lab-?.local", "lab-7.local"));
	assert_true(mdns_browse_allowed("x.local,lab-?.local", "x.local"));
	assert_false(mdns_browse_allowed("x.local,lab-?.local", "lab-77.local"));
	assert_true(mdns_browse_allowed("bench-[0-9].local", "bench-3.local"));
	assert_false(mdns_browse_allowed("bench-[0-9].local", "bench-a.local"));
	assert_false(mdns_browse_allowed("lab-*.local", ""));
}

/* A service as a browse would give it. */
static struct mdns_service service(const char *name, const char *host, const char *address,
				   unsigned port)
{
	struct mdns_service s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.host, sizeof(s.host), "%s", host);
	snprintf(s.address, sizeof(s.address), "%s", address);
	s.ipv6 = strchr(address, ':') != NULL;
	s.port = port;
	return s;
}

static void test_select_order(void **state)
{
	struct mdns_service found[6];
	size_t n;

	(void)state;
	found[0] = service("b", "lab-2.local", "10.0.0.2", 3240);
	found[1] = service("z", "Lab-1.local", "10.0.0.1", 3241);
	found[2] = service("a", "lab-1.local", "10.0.0.9", 3241);
	found[3] = service("c", "lab-1.local", "10.0.0.1", 3240);
	found[4] = service("d", "other.local", "10.0.0.5", 1);
	found[5] = service("e", "lab-0.local", "10.0.0.7", 9);
	n = mdns_browse_select("lab-*.local", found, 6);
	assert_int_equal(n, 5);
	assert_string_equal(found[0].host, "lab-0.local");
	assert_string_equal(found[1].name, "c"); /* lab-1, port 3240 */
	assert_string_equal(found[2].name, "a"); /* lab-1, port 3241, name a before z */
	assert_string_equal(found[3].name, "z");
	assert_string_equal(found[4].host, "lab-2.local");
}

static void test_select_same_either_way(void **state)
{
	struct mdns_service one[3], other[3];
	size_t i;

	(void)state;
	one[0] = other[2] = service("x", "h.local", "10.0.0.1", 5);
	one[1] = other[1] = service("x", "h.local", "10.0.0.2", 5);
	one[2] = other[0] = service("y", "g.local", "10.0.0.3", 5);
	assert_int_equal(mdns_browse_select("", one, 3), 3);
	assert_int_equal(mdns_browse_select("", other, 3), 3);
	for (i = 0; i < 3; i++)
		assert_memory_equal(&one[i], &other[i], sizeof(one[i]));
}

static void test_select_refuses(void **state)
{
	struct mdns_service found[6];
	char remote[128];
	size_t n;

	(void)state;
	found[0] = service("ctl", "evil\033[2J.local", "10.0.0.1", 3240);
	found[1] = service("space", "evil host.local", "10.0.0.1", 3240);
	found[2] = service("empty", "", "10.0.0.1", 3240);
	found[3] = service("link-local", "h.local", "fe80::1", 3240);
	found[4] = service("no port", "h.local", "10.0.0.1", 0);
	found[5] = service("\033]0;ok\007", "h.local", "fd00::1", 3240);
	n = mdns_browse_select("", found, 6);
	/* Any host: still none of the first five; the name is only ever shown. */
	assert_int_equal(n, 1);
	assert_string_equal(found[0].address, "fd00::1");
	mdns_browse_remote(&found[0], remote, sizeof(remote));
	assert_string_equal(remote, "usbip://[fd00::1]:3240");
	found[0] = service("v4", "h.local", "192.0.2.1", 1);
	mdns_browse_remote(&found[0], remote, sizeof(remote));
	assert_string_equal(remote, "usbip://192.0.2.1:1");
}

static void test_select_none(void **state)
{
	struct mdns_service found[2];

	(void)state;
	found[0] = service("a", "evil.local", "10.0.0.1", 3240);
	found[1] = service("b", "lab-1.local.evil.local", "10.0.0.2", 3240);
	assert_int_equal(mdns_browse_select("lab-*.local,bench-?.local", found, 2), 0);
	assert_int_equal(mdns_browse_select("", found, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_select_order),
		cmocka_unit_test(test_select_same_either_way),
		cmocka_unit_test(test_select_refuses),
		cmocka_unit_test(test_select_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
