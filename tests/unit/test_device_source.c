// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Choosing local devices through a device source (device_source_select):
 * among what it lists or among its candidates, by -b and -i, and none as
 * an error. A source of its own stands in for the kernel's drivers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/device_source.h"

/* Two devices bound (listed), one more that prepare could bind. */
static const struct {
	const char *busid;
	uint16_t vendor, product;
	const char *serial;
	bool bound;
} plugged[] = {
	{ "1-1.1", 0x46f4, 0x0001, "VMTEST0001", true },
	{ "1-1.2", 0x46f4, 0x0001, "VMTEST0002", true },
	{ "2-1", 0x1d6b, 0x0104, "", false },
};
#define NPLUGGED (sizeof(plugged) / sizeof(plugged[0]))

static int fake_devices(bool bound_only, struct usbip_local_device **devs, size_t *count)
{
	size_t i, n = 0;

	*devs = calloc(NPLUGGED, sizeof(**devs));
	assert_non_null(*devs);
	for (i = 0; i < NPLUGGED; i++) {
		struct usbip_local_device *d = &(*devs)[n];

		if (bound_only && !plugged[i].bound)
			continue;
		snprintf(d->info.udev.busid, sizeof(d->info.udev.busid), "%s", plugged[i].busid);
		d->info.udev.id_vendor = plugged[i].vendor;
		d->info.udev.id_product = plugged[i].product;
		snprintf(d->serial, sizeof(d->serial), "%s", plugged[i].serial);
		n++;
	}
	*count = n;
	return 0;
}

static int fake_list(struct device_source *src, struct usbip_local_device **devs, size_t *count)
{
	return fake_devices(true, devs, count);
}

static int fake_candidates(struct device_source *src, struct usbip_local_device **devs,
			   size_t *count)
{
	return fake_devices(false, devs, count);
}

static const struct device_source_ops with_candidates = {
	.list = fake_list,
	.candidates = fake_candidates,
	.list_noun = "bound device",
	.candidates_noun = "exportable device",
};
static const struct device_source_ops list_only = { .list = fake_list };

static struct usbip_selector selector(const char *busid, const char *hwid)
{
	struct usbip_selector sel = { 0 };
	char err[160];

	if (busid)
		assert_int_equal(selector_add_busid(&sel, busid, err, sizeof(err)), 0);
	if (hwid)
		assert_int_equal(selector_add_hwid(&sel, hwid, err, sizeof(err)), 0);
	return sel;
}

/* The busids device_source_select gives, joined by spaces; "" on failure. */
static const char *chosen(const struct device_source_ops *ops, const struct usbip_selector *sel,
			  enum device_source_scope scope)
{
	static char text[128];
	struct device_source src;
	struct usbip_local_device *devs = NULL;
	size_t n = 0, i;

	device_source_init(&src, ops, "fake");
	text[0] = '\0';
	if (device_source_select(&src, sel, scope, &devs, &n) != 0) {
		assert_null(devs);
		return text;
	}
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? " " : "",
			 devs[i].info.udev.busid);
	free(devs);
	return text;
}

static void test_scope(void **state)
{
	struct usbip_selector all = selector("*", NULL);

	(void)state;
	assert_string_equal(chosen(&with_candidates, &all, DEVICE_SOURCE_LISTED), "1-1.1 1-1.2");
	assert_string_equal(chosen(&with_candidates, &all, DEVICE_SOURCE_CANDIDATES),
			    "1-1.1 1-1.2 2-1");
	/* A source without candidates offers what it lists. */
	assert_string_equal(chosen(&list_only, &all, DEVICE_SOURCE_CANDIDATES), "1-1.1 1-1.2");
}

static void test_by_busid_and_identity(void **state)
{
	struct usbip_selector hub = selector("1-1.*", NULL),
			      serial = selector(NULL, "46f4:1:VMTEST0002"),
			      both = selector("1-1.*", "46f4:0001"), root = selector("2-1", NULL);

	(void)state;
	assert_string_equal(chosen(&with_candidates, &hub, DEVICE_SOURCE_CANDIDATES),
			    "1-1.1 1-1.2");
	assert_string_equal(chosen(&with_candidates, &serial, DEVICE_SOURCE_CANDIDATES), "1-1.2");
	assert_string_equal(chosen(&with_candidates, &both, DEVICE_SOURCE_LISTED), "1-1.1 1-1.2");
	assert_string_equal(chosen(&with_candidates, &root, DEVICE_SOURCE_CANDIDATES), "2-1");
}

/* Nothing chosen is an error: the unbound device is no bound one. */
static void test_none_is_an_error(void **state)
{
	struct usbip_selector root = selector("2-1", NULL), other = selector(NULL, "1234:5678");

	(void)state;
	assert_string_equal(chosen(&with_candidates, &root, DEVICE_SOURCE_LISTED), "");
	assert_string_equal(chosen(&with_candidates, &other, DEVICE_SOURCE_CANDIDATES), "");
	assert_string_equal(chosen(&list_only, &root, DEVICE_SOURCE_CANDIDATES), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_by_busid_and_identity),
		cmocka_unit_test(test_none_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
