// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa's imports on vhci-hcd (kernel/vhci_imports.c): which earlier
 * import a new export of a device replaces, and who may withdraw one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kernel/vhci_imports.h"

static const struct vhci_import_origin node = { "10.0.0.5:4000", "10.0.0.5", "4000", "", "tcp" },
				       moved = { "10.0.0.9:4100", "10.0.0.9", "4100", "", "tcp" },
				       signed_node = { "10.0.0.5:4000", "10.0.0.5", "4000",
						       "CN=node1", "tls, ktls" },
				       other_cert = { "10.0.0.5:4001", "10.0.0.5", "4001",
						      "CN=node2", "tls, relay" };

static struct usbip_usb_device device(const char *busid, uint16_t product, const char *serial)
{
	struct usbip_usb_device u = { 0 };

	snprintf(u.busid, sizeof(u.busid), "%s", busid);
	snprintf(u.serial, sizeof(u.serial), "%s", serial);
	u.id_vendor = 0x46f4;
	u.id_product = product;
	u.speed = USBIP_SPEED_HIGH;
	return u;
}

static struct usbip_vhci_record record(const struct vhci_import_origin *o, const char *busid)
{
	struct usbip_vhci_record rec;

	snprintf(rec.host, sizeof(rec.host), "%s", o->host);
	snprintf(rec.service, sizeof(rec.service), "%s", o->service);
	snprintf(rec.busid, sizeof(rec.busid), "%s", busid);
	return rec;
}

static void test_note_and_get(void **state)
{
	struct vhci_imports *im = vhci_imports_new(4);
	struct usbip_usb_device u = device("1-1", 1, "S1");
	const struct vhci_import *got;

	(void)state;
	assert_non_null(im);
	assert_null(vhci_imports_get(im, 2));
	vhci_imports_note(im, 2, &u, &signed_node);
	vhci_imports_note(im, 9, &u, &signed_node); /* past the ports: ignored */
	got = vhci_imports_get(im, 2);
	assert_non_null(got);
	assert_string_equal(got->device.serial, "S1");
	assert_string_equal(got->transport, "tls, ktls");
	assert_true(got->since > 0);
	assert_string_equal(vhci_imports_subject(im, 2), "CN=node1");
	assert_null(vhci_imports_get(im, 1));
	assert_null(vhci_imports_get(im, 9));
	assert_string_equal(vhci_imports_subject(im, 9), "");
	vhci_imports_free(im);
}

/* Without a certificate: the same address, or the same device (ids and a serial) from a new one. */
static void test_same_without_certificate(void **state)
{
	struct vhci_imports *im = vhci_imports_new(4);
	struct usbip_usb_device was = device("1-1", 1, "S1"), again = device("1-1", 1, "S1"),
				no_serial = device("1-1", 1, ""), other = device("1-1", 2, "S1");
	struct usbip_vhci_record from_node = record(&node, "1-1");

	(void)state;
	vhci_imports_note(im, 0, &was, &node);
	assert_true(vhci_imports_same(im, 0, &from_node, &node, &again));
	assert_true(vhci_imports_same(im, 0, &from_node, &node, &no_serial));
	assert_true(vhci_imports_same(im, 0, &from_node, &moved, &again));
	assert_false(vhci_imports_same(im, 0, &from_node, &moved, &no_serial));
	assert_false(vhci_imports_same(im, 0, &from_node, &moved, &other));
	/* Another busid is another device, whoever sends it. */
	again.busid[2] = '2';
	assert_false(vhci_imports_same(im, 0, &from_node, &node, &again));
	/* An import this process did not make: only its record's address counts. */
	assert_true(vhci_imports_same(im, 1, &from_node, &node, &was));
	assert_false(vhci_imports_same(im, 1, &from_node, &moved, &was));
	vhci_imports_free(im);
}

/* With a certificate: the same certificate's from anywhere, never another's. */
static void test_same_with_certificate(void **state)
{
	struct vhci_imports *im = vhci_imports_new(4);
	struct usbip_usb_device u = device("1-1", 1, "S1");
	struct usbip_vhci_record from_node = record(&signed_node, "1-1");
	struct vhci_import_origin signed_moved = moved;

	(void)state;
	signed_moved.subject = "CN=node1";
	vhci_imports_note(im, 3, &u, &signed_node);
	assert_true(vhci_imports_same(im, 3, &from_node, &signed_node, &u));
	assert_true(vhci_imports_same(im, 3, &from_node, &signed_moved, &u));
	assert_false(vhci_imports_same(im, 3, &from_node, &other_cert, &u));
	assert_false(vhci_imports_same(im, 3, &from_node, &node, &u));
	vhci_imports_free(im);
}

static void test_may_withdraw(void **state)
{
	struct vhci_imports *im = vhci_imports_new(4);
	struct usbip_usb_device u = device("1-1", 1, "S1");

	(void)state;
	vhci_imports_note(im, 0, &u, &node);
	vhci_imports_note(im, 1, &u, &signed_node);
	assert_true(vhci_imports_may_withdraw(im, 0, ""));
	assert_true(vhci_imports_may_withdraw(im, 0, "CN=node2"));
	assert_true(vhci_imports_may_withdraw(im, 1, "CN=node1"));
	assert_false(vhci_imports_may_withdraw(im, 1, "CN=node2"));
	assert_false(vhci_imports_may_withdraw(im, 1, ""));
	assert_true(vhci_imports_may_withdraw(im, 2, ""));
	vhci_imports_free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_and_get),
		cmocka_unit_test(test_same_without_certificate),
		cmocka_unit_test(test_same_with_certificate),
		cmocka_unit_test(test_may_withdraw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
