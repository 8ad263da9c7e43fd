// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Interfaces read from raw descriptors, as for a device usbip-host unconfigured;
 * the device record's fields from a device descriptor (vudc, virtual devices).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wire/usb_descriptors.h"
#include "testutil.h"

/* A mass-storage device: device descriptor, one configuration, one interface, two endpoints. */
static const char storage[] = "12 01 0003 00 00 00 09 f446 0100 0000 01 02 03 01"
			      "09 02 2c00 01 01 00 c0 00"
			      "09 04 00 00 02 08 06 50 00"
			      "07 05 81 02 0004 00 06 30 0f 00 0000"
			      "07 05 02 02 0004 00 06 30 0f 00 0000";

/* A composite device: interface 0 with two alternate settings, and interface 1. */
static const char composite[] = "12 01 0002 ef 02 01 40 3412 7856 0001 00 00 00 01"
				"09 02 2400 02 02 00 80 32"
				"09 04 00 00 00 01 01 00 00"
				"09 04 00 01 01 01 02 00 00"
				"09 04 01 00 01 03 01 01 00";

static void test_storage(void **state)
{
	struct usbip_usb_interface intf[USBIP_MAX_INTERFACES];
	uint8_t buf[256], cfg = 0, n = 0;
	size_t len = hex_to_bytes(storage, buf, sizeof(buf));

	assert_int_equal(usb_descriptors_interfaces(buf, len, &cfg, &n, intf), 0);
	assert_int_equal(cfg, 1);
	assert_int_equal(n, 1);
	assert_int_equal(intf[0].interface_class, 0x08);
	assert_int_equal(intf[0].interface_subclass, 0x06);
	assert_int_equal(intf[0].interface_protocol, 0x50);
}

static void test_composite_takes_alt_0(void **state)
{
	struct usbip_usb_interface intf[USBIP_MAX_INTERFACES];
	uint8_t buf[256], cfg = 0, n = 0;
	size_t len = hex_to_bytes(composite, buf, sizeof(buf));

	assert_int_equal(usb_descriptors_interfaces(buf, len, &cfg, &n, intf), 0);
	assert_int_equal(cfg, 2);
	assert_int_equal(n, 2);
	assert_int_equal(intf[0].interface_subclass, 0x01); /* alt 0, not alt 1's 0x02 */
	assert_int_equal(intf[1].interface_class, 0x03);
}

static void test_malformed(void **state)
{
	struct usbip_usb_interface intf[USBIP_MAX_INTERFACES];
	uint8_t buf[256], cfg, n;
	size_t len = hex_to_bytes(storage, buf, sizeof(buf));
	size_t cut;

	/* Every truncation either fails or reports what it could read, within bounds. */
	for (cut = 0; cut < len; cut++)
		(void)usb_descriptors_interfaces(buf, cut, &cfg, &n, intf);
	assert_int_equal(usb_descriptors_interfaces(buf, 18, &cfg, &n, intf), -1);
	/* A zero-length descriptor must not loop forever. */
	buf[18 + 9] = 0;
	assert_int_equal(usb_descriptors_interfaces(buf, len, &cfg, &n, intf), -1);
	/* Not a device descriptor. */
	len = hex_to_bytes(storage, buf, sizeof(buf));
	buf[1] = 0x02;
	assert_int_equal(usb_descriptors_interfaces(buf, len, &cfg, &n, intf), -1);
}

/* The device record's fields from the device descriptor (little-endian ids). */
static void test_device_fields(void **state)
{
	struct usbip_usb_device u = { 0 }, untouched;
	uint8_t buf[256];
	size_t len = hex_to_bytes(composite, buf, sizeof(buf));

	assert_int_equal(usb_descriptors_device(buf, len, &u), 0);
	assert_int_equal(u.device_class, 0xef);
	assert_int_equal(u.device_subclass, 0x02);
	assert_int_equal(u.device_protocol, 0x01);
	assert_int_equal(u.id_vendor, 0x1234);
	assert_int_equal(u.id_product, 0x5678);
	assert_int_equal(u.bcd_device, 0x0100);
	assert_int_equal(u.num_configurations, 1);

	/* Short, a short bLength, another type, or none: -1 and u as it was. */
	untouched = u;
	assert_int_equal(usb_descriptors_device(buf, 17, &u), -1);
	assert_int_equal(usb_descriptors_device(NULL, 18, &u), -1);
	buf[0] = 17;
	assert_int_equal(usb_descriptors_device(buf, len, &u), -1);
	buf[0] = 18;
	buf[1] = 0x02;
	assert_int_equal(usb_descriptors_device(buf, len, &u), -1);
	assert_memory_equal(&u, &untouched, sizeof(u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_composite_takes_alt_0),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_device_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
