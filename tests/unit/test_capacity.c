// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbipa's capacity rules: which refusal an export gets (each one status 2
 * on the wire, counted by reason), and a drain's sequence: one device at
 * a time, the next when the one before has moved on or its bound passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/capacity.h"
#include "util/log.h"

static void test_verdicts(void **state)
{
	struct capacity c;

	(void)state;
	capacity_init(&c, 2, false);
	assert_int_equal(capacity_check(&c, 0, true, "1-1", "10.0.0.1", 0), CAPACITY_ROOM);
	assert_int_equal(capacity_check(&c, 1, true, "1-1", "10.0.0.1", 0), CAPACITY_ROOM);
	assert_int_equal(capacity_check(&c, 2, true, "1-1", "10.0.0.1", 0), CAPACITY_MAX_IMPORTS);
	assert_int_equal(capacity_check(&c, 1, false, "1-1", "10.0.0.1", 0), CAPACITY_NO_VHCI_PORT);
	capacity_set_draining(&c, true);
	assert_int_equal(capacity_check(&c, 0, true, "1-1", "10.0.0.1", 0), CAPACITY_DRAINING);
	assert_int_equal(c.refused[CAPACITY_MAX_IMPORTS], 1);
	assert_int_equal(c.refused[CAPACITY_NO_VHCI_PORT], 1);
	assert_int_equal(c.refused[CAPACITY_DRAINING], 1);
	assert_int_equal(c.refused[CAPACITY_ROOM], 0);
	/* No limit: only the ports count. */
	capacity_init(&c, 0, false);
	assert_int_equal(capacity_check(&c, 1000, true, "1-1", "h", 0), CAPACITY_ROOM);
	assert_string_equal(capacity_verdict_str(CAPACITY_DRAINING), "draining");
}

/* Nothing moves unless draining, and nothing when nothing is left. */
static void test_drain_idle(void **state)
{
	struct capacity c;

	(void)state;
	capacity_init(&c, 0, false);
	assert_false(capacity_drain_due(&c, 5, 0));
	capacity_set_draining(&c, true);
	assert_false(capacity_drain_due(&c, 0, 0));
	assert_true(capacity_drain_due(&c, 5, 0));
	capacity_set_draining(&c, false);
	assert_false(capacity_drain_due(&c, 5, 0));
}

/* One at a time: the next waits for the bound when the moving one is not seen again. */
static void test_drain_bound(void **state)
{
	struct capacity c;

	(void)state;
	capacity_init(&c, 0, true);
	assert_true(capacity_drain_due(&c, 3, 1000));
	capacity_drain_moving(&c, "1-1", "10.0.0.1", 1000);
	assert_false(capacity_drain_due(&c, 2, 1001));
	assert_false(capacity_drain_due(&c, 2, 1000 + CAPACITY_DRAIN_STEP_MS - 1));
	assert_true(capacity_drain_due(&c, 2, 1000 + CAPACITY_DRAIN_STEP_MS));
}

/* The moving device refused here again: its node is on its way; the next soon after. */
static void test_drain_moved_on(void **state)
{
	struct capacity c;

	(void)state;
	capacity_init(&c, 0, true);
	capacity_drain_moving(&c, "1-1", "10.0.0.1", 1000);
	/* Another device, or the same bus id from another node: no sign. */
	capacity_check(&c, 2, true, "1-2", "10.0.0.1", 1200);
	capacity_check(&c, 2, true, "1-1", "10.0.0.2", 1200);
	assert_false(capacity_drain_due(&c, 2, 1200 + CAPACITY_DRAIN_SETTLE_MS));
	assert_int_equal(capacity_check(&c, 2, true, "1-1", "10.0.0.1", 1300), CAPACITY_DRAINING);
	assert_false(capacity_drain_due(&c, 2, 1300 + CAPACITY_DRAIN_SETTLE_MS - 1));
	assert_true(capacity_drain_due(&c, 2, 1300 + CAPACITY_DRAIN_SETTLE_MS));
	/* A later refusal does not put the next off again. */
	capacity_check(&c, 2, true, "1-1", "10.0.0.1", 1300 + CAPACITY_DRAIN_SETTLE_MS);
	assert_true(capacity_drain_due(&c, 2, 1300 + CAPACITY_DRAIN_SETTLE_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_drain_idle),
		cmocka_unit_test(test_drain_bound),
		cmocka_unit_test(test_drain_moved_on),
	};

	log_init("test_capacity", false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
