// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa's keyboard gate (kernel/keyboard_gate.c) on a fake sysfs tree in
 * a temporary folder: vhci-hcd's ports and root hubs, and the devices on
 * them with their descriptors, serial and "authorized". The hooks stand in
 * for usbipa: which ports it attached, which keyboards a rule names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/keyboard_gate.h"
#include "kernel/sysfs.h"

struct fixture {
	char root[64];
	struct keyboard_gate *gate;
	bool attached_here; /* what the hook says of every port */
	bool named;	    /* whether a rule names every keyboard */
	int refused;	    /* the port refuse was called for, or -1 */
	unsigned refusals;
	uint16_t asked_vendor, asked_product;
	char asked_serial[64];
};

static void put(const struct fixture *fx, const char *rel, const void *data, size_t len)
{
	char path[256], cmd[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", fx->root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_text(const struct fixture *fx, const char *rel, const char *text)
{
	put(fx, rel, text, strlen(text));
}

/* The first line of a file of the tree, "" when it is not there. */
static const char *get(const struct fixture *fx, const char *rel)
{
	static char text[64];
	char path[256];

	snprintf(path, sizeof(path), "%s%s", fx->root, rel);
	if (sysfs_read_attr(path, text, sizeof(text)) != 0)
		text[0] = '\0';
	return text;
}

static const char *authorized(const struct fixture *fx, const char *busid)
{
	char rel[96];

	snprintf(rel, sizeof(rel), "/bus/usb/devices/%s/authorized", busid);
	return get(fx, rel);
}

static const char *held(const struct fixture *fx)
{
	return get(fx, "/devices/platform/vhci_hcd.0/usb3/authorized_default");
}

/* vhci-hcd with 4 ports, two per hub; busids[i] on port i ("0-0": free). */
static void put_vhci(const struct fixture *fx, const char *const busids[4])
{
	char status[512];
	size_t used = 0;
	unsigned i;

	put_text(fx, "/devices/platform/vhci_hcd.0/nports", "4\n");
	used += (size_t)snprintf(status, sizeof(status),
				 "hub port sta spd dev      sockfd local_busid\n");
	for (i = 0; i < 4; i++) {
		bool free_port = strcmp(busids[i], "0-0") == 0;
		unsigned port_status = free_port ? 4u : 6u, speed = free_port ? 0u : 3u;
		unsigned devid = free_port ? 0u : 0x30002u + i;

		used += (size_t)snprintf(status + used, sizeof(status) - used,
					 "%s  %04u %03u %03u %08x %06u %s\n", i < 2 ? "hs" : "ss",
					 i, port_status, speed, devid, 0u, busids[i]);
	}
	put_text(fx, "/devices/platform/vhci_hcd.0/status", status);
}

/* A device arrives unauthorized; with interfaces, it has enumerated (its descriptors). */
static void put_device(const struct fixture *fx, const char *busid, const uint8_t (*intf)[3],
		       unsigned nintf, const char *serial)
{
	uint8_t desc[18 + 9 + 9 * 4] = { 18, 1, 0x00, 0x02, 0, 0, 0, 64, 0xf4, 0x46, 0x01, 0x00 };
	size_t len = 18 + 9 + 9 * nintf;
	char rel[96];
	unsigned i;

	snprintf(rel, sizeof(rel), "/bus/usb/devices/%s/authorized", busid);
	put_text(fx, rel, "0\n");
	if (serial) {
		snprintf(rel, sizeof(rel), "/bus/usb/devices/%s/serial", busid);
		put_text(fx, rel, serial);
	}
	if (!intf)
		return;
	memcpy(desc + 18,
	       (uint8_t[]){ 9, 2, (uint8_t)(9 + 9 * nintf), 0, (uint8_t)nintf, 1, 0, 0x80, 50 }, 9);
	for (i = 0; i < nintf; i++)
		memcpy(desc + 27 + 9 * i,
		       (uint8_t[]){ 9, 4, (uint8_t)i, 0, 1, intf[i][0], intf[i][1], intf[i][2], 0 },
		       9);
	snprintf(rel, sizeof(rel), "/bus/usb/devices/%s/descriptors", busid);
	put(fx, rel, desc, len);
}

static const uint8_t keyboard[][3] = { { 3, 1, 1 } };
static const uint8_t mouse[][3] = { { 3, 1, 2 } };
static const uint8_t storage_and_keyboard[][3] = { { 8, 6, 0x50 }, { 3, 1, 1 } };

static bool hook_attached_here(void *arg, unsigned port)
{
	const struct fixture *fx = arg;

	return port < 4 && fx->attached_here;
}

static bool hook_named(void *arg, uint16_t vendor, uint16_t product, const char *serial)
{
	struct fixture *fx = arg;

	fx->asked_vendor = vendor;
	fx->asked_product = product;
	snprintf(fx->asked_serial, sizeof(fx->asked_serial), "%s", serial);
	return fx->named;
}

/* usbipa detaches the port: vhci-hcd frees it (the tests refuse where it holds the only device). */
static void hook_refuse(void *arg, unsigned port)
{
	static const char *const empty[4] = { "0-0", "0-0", "0-0", "0-0" };
	struct fixture *fx = arg;

	fx->refused = (int)port;
	fx->refusals++;
	put_vhci(fx, empty);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	static const char *const empty[4] = { "0-0", "0-0", "0-0", "0-0" };
	struct keyboard_gate_hooks hooks = { hook_attached_here, hook_named, hook_refuse, NULL };

	assert_non_null(fx);
	snprintf(fx->root, sizeof(fx->root), "/tmp/test_keyboard_gate.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	sysfs_set_root(fx->root);
	put_vhci(fx, empty);
	/* As a usbipa that died with the gate closed left it. */
	put_text(fx, "/devices/platform/vhci_hcd.0/usb3/authorized_default", "0\n");
	put_text(fx, "/devices/platform/vhci_hcd.0/usb4/authorized_default", "0\n");
	fx->attached_here = true;
	fx->refused = -1;
	hooks.arg = fx;
	fx->gate = keyboard_gate_new(4, &hooks);
	assert_non_null(fx->gate);
	/* What usbipa does first. */
	keyboard_gate_open(fx->gate);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	keyboard_gate_free(fx->gate);
	sysfs_set_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Both root hubs of vhci hold new devices while the gate is closed, and only then. */
static void test_close_and_open(void **state)
{
	struct fixture *fx = *state;

	assert_string_equal(held(fx), "1");
	assert_string_equal(get(fx, "/devices/platform/vhci_hcd.0/usb4/authorized_default"), "1");
	keyboard_gate_close(fx->gate);
	assert_string_equal(held(fx), "0");
	assert_string_equal(get(fx, "/devices/platform/vhci_hcd.0/usb4/authorized_default"), "0");
	keyboard_gate_open(fx->gate);
	assert_string_equal(held(fx), "1");
	assert_string_equal(get(fx, "/devices/platform/vhci_hcd.0/usb4/authorized_default"), "1");
}

/* A device still enumerating is looked at again later; once it is there, it is let in. */
static void test_waits_until_enumerated(void **state)
{
	struct fixture *fx = *state;
	static const char *const one[4] = { "3-1", "0-0", "0-0", "0-0" };

	keyboard_gate_close(fx->gate);
	keyboard_gate_wait_for(fx->gate, 0);
	put_vhci(fx, one);
	put_device(fx, "3-1", NULL, 0, NULL);
	keyboard_gate_look_at_waiting(fx->gate);
	assert_true(keyboard_gate_waiting(fx->gate));
	assert_string_equal(authorized(fx, "3-1"), "0");
	assert_string_equal(held(fx), "0");

	put_device(fx, "3-1", mouse, 1, NULL);
	keyboard_gate_look_at_waiting(fx->gate);
	assert_false(keyboard_gate_waiting(fx->gate));
	assert_string_equal(authorized(fx, "3-1"), "1");
	assert_string_equal(held(fx), "1");
	assert_int_equal(fx->refusals, 0);
}

/* A keyboard no rule names, on a port usbipa attached: refused, never authorized. */
static void test_keyboard_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const two[4] = { "0-0", "3-2", "0-0", "0-0" };

	keyboard_gate_close(fx->gate);
	keyboard_gate_wait_for(fx->gate, 1);
	put_vhci(fx, two);
	put_device(fx, "3-2", storage_and_keyboard, 2, "KBD01");
	keyboard_gate_look_at_waiting(fx->gate);
	assert_int_equal(fx->refusals, 1);
	assert_int_equal(fx->refused, 1);
	assert_int_equal(fx->asked_vendor, 0x46f4);
	assert_int_equal(fx->asked_product, 0x0001);
	assert_string_equal(fx->asked_serial, "KBD01");
	assert_string_equal(authorized(fx, "3-2"), "0");
	assert_false(keyboard_gate_waiting(fx->gate));
}

/* A keyboard a rule names is let in; so is one on a port usbipa did not attach. */
static void test_keyboard_named_or_not_ours(void **state)
{
	struct fixture *fx = *state;
	static const char *const two[4] = { "3-1", "3-2", "0-0", "0-0" };

	put_vhci(fx, two);
	put_device(fx, "3-1", keyboard, 1, NULL);
	put_device(fx, "3-2", keyboard, 1, NULL);
	fx->named = true;
	keyboard_gate_look(fx->gate, 0, "3-1");
	assert_string_equal(authorized(fx, "3-1"), "1");
	assert_string_equal(fx->asked_serial, "");
	fx->named = false;
	fx->attached_here = false;
	keyboard_gate_look(fx->gate, 1, "3-2");
	assert_string_equal(authorized(fx, "3-2"), "1");
	assert_int_equal(fx->refusals, 0);
}

/* Opening lets in what was left unauthorized, but not a device still waiting for its look. */
static void test_open_sweeps_leftovers(void **state)
{
	struct fixture *fx = *state;
	static const char *const three[4] = { "3-1", "3-2", "0-0", "4-1" };

	put_vhci(fx, three);
	put_device(fx, "3-1", NULL, 0, NULL);
	put_device(fx, "3-2", mouse, 1, NULL);
	put_device(fx, "4-1", keyboard, 1, NULL);
	keyboard_gate_close(fx->gate);
	keyboard_gate_wait_for(fx->gate, 0);
	keyboard_gate_open(fx->gate);
	assert_string_equal(authorized(fx, "3-1"), "0");
	assert_string_equal(authorized(fx, "3-2"), "1");
	assert_string_equal(authorized(fx, "4-1"), "1");
	assert_true(keyboard_gate_waiting(fx->gate));
	/* A device that never enumerates: the caller gives up, and it is let in. */
	keyboard_gate_give_up(fx->gate);
	assert_false(keyboard_gate_waiting(fx->gate));
	assert_string_equal(authorized(fx, "3-1"), "1");
}

/* A udev event: a device on a vhci port is looked at, any other is not vhci's. */
static void test_device_added(void **state)
{
	struct fixture *fx = *state;
	static const char *const one[4] = { "0-0", "0-0", "4-1", "0-0" };

	put_vhci(fx, one);
	put_device(fx, "4-1", keyboard, 1, NULL);
	put_device(fx, "1-1", keyboard, 1, NULL);
	keyboard_gate_close(fx->gate);
	keyboard_gate_wait_for(fx->gate, 2);
	keyboard_gate_device_added(fx->gate, "1-1");
	assert_int_equal(fx->refusals, 0);
	assert_string_equal(authorized(fx, "1-1"), "0");
	assert_true(keyboard_gate_waiting(fx->gate));
	keyboard_gate_device_added(fx->gate, "4-1");
	assert_int_equal(fx->refused, 2);
	assert_false(keyboard_gate_waiting(fx->gate));
	assert_string_equal(held(fx), "1");
}

static void test_boot_keyboard(void **state)
{
	struct usbip_usb_interface intf[2] = { { 8, 6, 0x50 }, { 3, 1, 1 } };

	(void)state;
	assert_true(keyboard_gate_boot_keyboard(intf, 2));
	assert_false(keyboard_gate_boot_keyboard(intf, 1));
	intf[1].interface_protocol = 2; /* a boot mouse */
	assert_false(keyboard_gate_boot_keyboard(intf, 2));
	intf[1] = (struct usbip_usb_interface){ 3, 0, 1 }; /* HID, not the boot subclass */
	assert_false(keyboard_gate_boot_keyboard(intf, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_close_and_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_until_enumerated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_named_or_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_sweeps_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_added, setup, teardown),
		cmocka_unit_test(test_boot_keyboard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
