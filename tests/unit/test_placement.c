// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a pool placed each device: kept by pool and device identity (the
 * same busid with other IDs or another serial is another device), replaced
 * when another target takes it, and bounded: the entry used longest ago
 * makes room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "source/placement.h"

static struct usbip_usb_device device(const char *busid, uint16_t vid, uint16_t pid,
				      const char *serial)
{
	struct usbip_usb_device u;

	memset(&u, 0, sizeof(u));
	snprintf(u.busid, sizeof(u.busid), "%s", busid);
	snprintf(u.serial, sizeof(u.serial), "%s", serial);
	u.id_vendor = vid;
	u.id_product = pid;
	return u;
}

static void test_identity(void **state)
{
	struct usbip_usb_device cam = device("1-1", 0x046d, 0x0825, "A1");
	struct usbip_usb_device other_ids = device("1-1", 0x0781, 0x5567, "A1");
	struct usbip_usb_device other_serial = device("1-1", 0x046d, 0x0825, "B2");

	(void)state;
	placement_clear();
	assert_null(placement_get("srv:pool.test", &cam));
	placement_set("srv:pool.test", &cam, "usbip://p2.pool.test:3241");
	assert_string_equal(placement_get("srv:pool.test", &cam), "usbip://p2.pool.test:3241");
	assert_null(placement_get("srv:other.test", &cam));
	assert_null(placement_get("srv:pool.test", &other_ids));
	assert_null(placement_get("srv:pool.test", &other_serial));
	/* Another target took it: that one from now on. */
	placement_set("srv:pool.test", &cam, "usbip://p3.pool.test:3241");
	assert_string_equal(placement_get("srv:pool.test", &cam), "usbip://p3.pool.test:3241");
}

static void test_bounded(void **state)
{
	struct usbip_usb_device first = device("9-0", 1, 1, "");
	struct usbip_usb_device u;
	char busid[16];
	unsigned i;

	(void)state;
	placement_clear();
	placement_set("srv:pool.test", &first, "usbip://p1.pool.test:3241");
	for (i = 1; i < PLACEMENT_MAX; i++) {
		snprintf(busid, sizeof(busid), "9-%u", i);
		u = device(busid, 1, 1, "");
		placement_set("srv:pool.test", &u, "usbip://p2.pool.test:3241");
		/* The first one is used all along: it is not the one to go. */
		assert_non_null(placement_get("srv:pool.test", &first));
	}
	/* Full: one more makes room by dropping 9-1, used longest ago. */
	u = device("9-new", 1, 1, "");
	placement_set("srv:pool.test", &u, "usbip://p3.pool.test:3241");
	assert_string_equal(placement_get("srv:pool.test", &u), "usbip://p3.pool.test:3241");
	assert_non_null(placement_get("srv:pool.test", &first));
	u = device("9-1", 1, 1, "");
	assert_null(placement_get("srv:pool.test", &u));
	u = device("9-2", 1, 1, "");
	assert_non_null(placement_get("srv:pool.test", &u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
