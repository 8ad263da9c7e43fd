// SPDX-License-Identifier: GPL-2.0-or-later
/* usbipa's allow-lists: parsing and matching of devices and networks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>

#include "match/policy.h"

static struct sockaddr_storage addr_of(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
	}
	return ss;
}

static bool peer_ok(const struct usbip_policy *p, const char *text)
{
	struct sockaddr_storage ss = addr_of(text);

	return policy_allows_peer(p, (struct sockaddr *)&ss);
}

static void test_networks(void **state)
{
	struct usbip_policy p = { 0 };
	char err[128];

	assert_true(peer_ok(&p, "192.0.2.1")); /* empty list: everyone */
	assert_int_equal(policy_add_network(&p, "192.0.2.0/25", err, sizeof(err)), 0);
	assert_int_equal(policy_add_network(&p, "2001:db8::/32", err, sizeof(err)), 0);
	assert_int_equal(policy_add_network(&p, "10.1.2.3", err, sizeof(err)), 0);
	assert_true(peer_ok(&p, "192.0.2.127"));
	assert_false(peer_ok(&p, "192.0.2.128"));
	assert_true(peer_ok(&p, "10.1.2.3"));
	assert_false(peer_ok(&p, "10.1.2.4"));
	assert_true(peer_ok(&p, "2001:db8:ffff::1"));
	assert_false(peer_ok(&p, "2001:db9::1"));
	assert_true(peer_ok(&p, "::ffff:192.0.2.5")); /* IPv4 on a dual-stack socket */
	assert_false(peer_ok(&p, "::ffff:192.0.2.200"));
	policy_free(&p);
}

static void test_bad_networks(void **state)
{
	static const char *const bad[] = { "",	       "/8",	    "1.2.3.4/33",   "::1/129",
					   "1.2.3.4/", "1.2.3.4/x", "host.example", "1.2.3" };
	struct usbip_policy p = { 0 };
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(policy_add_network(&p, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not an address"));
	}
	assert_int_equal(p.nnetworks, 0);
}

static void test_devices(void **state)
{
	struct usbip_usb_device d = { .id_vendor = 0x46f4, .id_product = 0x0001 };
	struct usbip_policy p = { 0 };
	char err[128];

	assert_true(policy_allows_device(&p, &d));
	assert_int_equal(policy_add_device(&p, "046d:C52B", err, sizeof(err)), 0);
	assert_false(policy_allows_device(&p, &d));
	assert_int_equal(policy_add_device(&p, "46f4:0001:VMTEST0001", err, sizeof(err)), 0);
	assert_false(policy_allows_device(&p, &d)); /* the serial is required */
	strcpy(d.serial, "VMTEST0002");
	assert_false(policy_allows_device(&p, &d));
	strcpy(d.serial, "VMTEST0001");
	assert_true(policy_allows_device(&p, &d));
	d.id_vendor = 0x046d;
	d.id_product = 0xc52b;
	assert_true(policy_allows_device(&p, &d));
	policy_free(&p);
}

static void test_bad_devices(void **state)
{
	static const char *const bad[] = { "",		 "046d",      "046d:",	    ":c52b",
					   "0461d:c52b", "046d:c52g", "046d:c52b:", "xyz:0001" };
	struct usbip_policy p = { 0 };
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(policy_add_device(&p, bad[i], err, sizeof(err)), -1);
	assert_int_equal(p.ndevices, 0);
}

/* No rule lets every Unix peer in; a rule lets in its uid or its primary gid, nobody else. */
static void test_creds(void **state)
{
	struct policy_creds c = { 0 };
	char err[128];

	assert_true(policy_allows_cred(NULL, 1000, 1000));
	assert_true(policy_allows_cred(&c, 1000, 1000));
	assert_int_equal(policy_add_uid(&c, "1000", err, sizeof(err)), 0);
	assert_true(policy_allows_cred(&c, 1000, 5));
	assert_false(policy_allows_cred(&c, 1001, 1000));
	assert_false(policy_allows_cred(&c, 0, 0));
	assert_int_equal(policy_add_gid(&c, "27", err, sizeof(err)), 0);
	assert_true(policy_allows_cred(&c, 1001, 27));
	assert_false(policy_allows_cred(&c, 1001, 28));
	/* Names resolve now: root is uid 0 and group 0 everywhere. */
	assert_int_equal(policy_add_uid(&c, "root", err, sizeof(err)), 0);
	assert_true(policy_allows_cred(&c, 0, 99));
}

static void test_bad_creds(void **state)
{
	static const char *const bad[] = { "",		 "-1",		"1x",
					   "4294967295", "99999999999", "no-such-user-here" };
	struct policy_creds c = { 0 };
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(policy_add_uid(&c, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--allow-uid"));
		assert_int_equal(policy_add_gid(&c, bad[i], err, sizeof(err)), -1);
	}
	assert_int_equal(c.nuids + c.ngids, 0);
	for (i = 0; i < POLICY_MAX_IDS; i++)
		assert_int_equal(policy_add_uid(&c, "7", err, sizeof(err)), 0);
	assert_int_equal(policy_add_uid(&c, "7", err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks), cmocka_unit_test(test_bad_networks),
		cmocka_unit_test(test_devices),	 cmocka_unit_test(test_bad_devices),
		cmocka_unit_test(test_creds),	 cmocka_unit_test(test_bad_creds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
