// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agents' pauses between attempts (full jitter within a doubling,
 * capped window) and the keepalive derived from --dead-peer-timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agent/backoff.h"
#include "net/tcp.h"

/* The window doubles from the first to the cap and stays there. */
static void test_window_grows_to_cap(void **state)
{
	struct backoff b = { 0 };
	long long expected = BACKOFF_FIRST_MS;
	unsigned i;

	(void)state;
	for (i = 0; i < 40; i++) {
		assert_int_equal(backoff_window_ms(&b), expected);
		backoff_pause_ms(&b, 0);
		expected = expected * 2 < BACKOFF_CAP_MS ? expected * 2 : BACKOFF_CAP_MS;
	}
	backoff_reset(&b);
	assert_int_equal(backoff_window_ms(&b), BACKOFF_FIRST_MS);
}

/* The extremes of the random draw land on the window's ends. */
static void test_pause_bounds(void **state)
{
	struct backoff low = { 0 }, high = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < 10; i++) {
		long long window = backoff_window_ms(&high);

		assert_int_equal(backoff_pause_ms(&low, 0), BACKOFF_FLOOR_MS);
		assert_int_equal(backoff_pause_ms(&high, UINT32_MAX), window);
	}
	assert_int_equal(backoff_after_close_ms(0), 0);
	assert_int_equal(backoff_after_close_ms(UINT32_MAX), BACKOFF_CLOSE_MS);
}

/*
 * Real random draws at the cap: all within [floor, cap], and spread over
 * it: each fifth of the window gets a fair share (10000 draws, each fifth
 * expects 2000; fewer than 1500 would mean the draw is not uniform).
 */
static void test_pause_spread(void **state)
{
	unsigned fifths[5] = { 0 }, i;
	long long lo = BACKOFF_CAP_MS, hi = 0;

	(void)state;
	for (i = 0; i < 10000; i++) {
		struct backoff b = { .failures = 10 };
		long long p = backoff_pause_ms(&b, backoff_random());

		assert_in_range(p, BACKOFF_FLOOR_MS, BACKOFF_CAP_MS);
		lo = p < lo ? p : lo;
		hi = p > hi ? p : hi;
		fifths[(p - BACKOFF_FLOOR_MS) * 5 / (BACKOFF_CAP_MS - BACKOFF_FLOOR_MS + 1)]++;
	}
	for (i = 0; i < 5; i++)
		assert_true(fifths[i] > 1500);
	assert_true(lo < BACKOFF_FLOOR_MS + 50);
	assert_true(hi > BACKOFF_CAP_MS - 50);
}

/* Two processes' draws differ: the source is not a fixed seed. */
static void test_random_differs(void **state)
{
	uint32_t a = backoff_random(), b = backoff_random(), c = backoff_random();

	(void)state;
	assert_false(a == b && b == c);
}

/*
 * Every timeout in the range: an idle dead peer is found by the last of
 * the probes, due when the timeout runs out, never later.
 */
static void test_keepalive_within_timeout(void **state)
{
	unsigned t;

	(void)state;
	for (t = USBIP_DEAD_PEER_MIN_S; t <= USBIP_DEAD_PEER_MAX_S; t++) {
		struct usbip_keepalive k = tcp_keepalive_for(t);

		assert_true(k.idle_s >= 1 && k.interval_s >= 1 && k.count >= 1);
		assert_true((unsigned)(k.idle_s + k.interval_s * k.count) <= t);
		/* Not much earlier either: probes that early would be wasted. */
		assert_true((unsigned)(k.idle_s + k.interval_s * k.count) + 4 >= t);
	}
}

static void test_dead_peer_parse(void **state)
{
	char err[160];

	(void)state;
	assert_int_equal(tcp_parse_dead_peer("15", err, sizeof(err)), 15);
	assert_int_equal(tcp_parse_dead_peer("5", err, sizeof(err)), 5);
	assert_int_equal(tcp_parse_dead_peer("3600", err, sizeof(err)), 3600);
	assert_int_equal(tcp_parse_dead_peer("4", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("0", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("-15", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("3601", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("99999999999999999999", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("", err, sizeof(err)), -1);
	assert_int_equal(tcp_parse_dead_peer("10s", err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_grows_to_cap),
		cmocka_unit_test(test_pause_bounds),
		cmocka_unit_test(test_pause_spread),
		cmocka_unit_test(test_random_differs),
		cmocka_unit_test(test_keepalive_within_timeout),
		cmocka_unit_test(test_dead_peer_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
