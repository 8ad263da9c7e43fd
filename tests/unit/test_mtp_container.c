// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * MTP containers and datasets: what the responder builds, byte for byte, and
 * a table of malformed inputs that must be refused without reading past
 * them (each is copied into an exactly-sized heap buffer for ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mtp/mtp_container.h"
#include "testutil.h"

static uint8_t *heap_copy(const uint8_t *p, size_t len)
{
	uint8_t *h = malloc(len ? len : 1);

	assert_non_null(h);
	memcpy(h, p, len);
	return h;
}

static void test_command_ok(void **state)
{
	uint8_t buf[64];
	size_t len = hex_to_bytes("18000000 0100 0710 2a000000 ffffffff 00000000 ffffffff", buf,
				  sizeof(buf));
	struct mtp_operation op;
	struct usbip_error err;

	(void)state;
	assert_int_equal(mtp_container_decode_command(buf, len, &op, &err), 0);
	assert_int_equal(op.code, 0x1007);
	assert_int_equal(op.transaction_id, 42);
	assert_int_equal(op.num_params, 3);
	assert_int_equal(op.params[0], 0xffffffff);
	assert_int_equal(op.params[2], 0xffffffff);
}

struct bad_command {
	const char *name, *hex, *message;
};

static const struct bad_command bad_commands[] = {
	{ "empty", "", "header" },
	{ "11 bytes", "0c000000 0100 0110 000000", "header" },
	{ "length below the header", "08000000 0100 0110 00000000", "shorter" },
	{ "length larger than the transfer", "10000000 0100 0110 00000000", "length" },
	{ "length smaller than the transfer", "0c000000 0100 0110 00000000 01000000", "length" },
	{ "a data container", "0c000000 0200 0110 00000000", "command" },
	{ "unknown type 9", "0c000000 0900 0110 00000000", "type" },
	{ "type 0", "0c000000 0000 0110 00000000", "type" },
	{ "half a parameter", "0e000000 0100 0110 00000000 0100", "parameters" },
	{ "six parameters",
	  "24000000 0100 0110 00000000 01000000 02000000 03000000 04000000 05000000 06000000",
	  "parameters" },
};

static void test_command_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_commands) / sizeof(bad_commands[0]); i++) {
		uint8_t buf[64], *h;
		size_t len = hex_to_bytes(bad_commands[i].hex, buf, sizeof(buf));
		struct mtp_operation op;
		struct usbip_error err = { { 0 } };

		h = heap_copy(buf, len);
		if (mtp_container_decode_command(h, len, &op, &err) == 0)
			fail_msg("%s: accepted", bad_commands[i].name);
		if (!strstr(err.msg, bad_commands[i].message))
			fail_msg("%s: message '%s' lacks '%s'", bad_commands[i].name, err.msg,
				 bad_commands[i].message);
		free(h);
	}
}

static void test_response_and_event(void **state)
{
	struct mtp_operation r = {
		.code = 0x2001, .transaction_id = 7, .params = { 1, 2 }, .num_params = 2
	};
	uint8_t out[MTP_COMMAND_MAX], want[64];
	size_t want_len =
		hex_to_bytes("14000000 0300 0120 07000000 01000000 02000000", want, sizeof(want));

	(void)state;
	assert_int_equal(mtp_container_encode_response(out, &r), want_len);
	assert_memory_equal(out, want, want_len);
	r.code = 0x4002;
	r.num_params = 9; /* never more than five on the wire */
	assert_int_equal(mtp_container_encode_event(out, &r), MTP_COMMAND_MAX);
	assert_int_equal(out[4], 4);
}

static void test_data_header(void **state)
{
	uint8_t out[MTP_HEADER_SIZE], want[16];

	(void)state;
	mtp_container_encode_data_header(out, 0x1009, 3, 100);
	hex_to_bytes("70000000 0200 0910 03000000", want, sizeof(want));
	assert_memory_equal(out, want, MTP_HEADER_SIZE);
	/* 4 GiB and more: the length is unknown, a short packet ends the phase */
	mtp_container_encode_data_header(out, 0x1009, 3, 5ull << 30);
	assert_memory_equal(out, "\xff\xff\xff\xff", 4);
	mtp_container_encode_data_header(out, 0x1009, 3, 0xffffffffull - MTP_HEADER_SIZE);
	assert_memory_equal(out, "\xff\xff\xff\xff", 4);
}

static void test_string_round_trip(void **state)
{
	static const char *const names[] = { "", "a", "é ü – ☃.txt", "emoji 😀 end", "new\nline" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct mtp_buf b = { 0 };
		struct mtp_reader r;
		char out[256];

		mtp_container_put_string(&b, names[i]);
		assert_false(b.failed);
		mtp_container_reader_init(&r, b.data, b.len);
		mtp_container_get_string(&r, out, sizeof(out), "s");
		assert_false(r.failed);
		assert_int_equal(r.off, b.len);
		assert_string_equal(out, names[i]);
		mtp_container_buf_free(&b);
	}
}

static void test_string_too_long(void **state)
{
	char long_name[600];
	struct mtp_buf b = { 0 };
	struct mtp_reader r;
	char out[1024];

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	mtp_container_put_string(&b, long_name);
	assert_int_equal(b.data[0], 255); /* cut to 254 characters and the terminator */
	mtp_container_reader_init(&r, b.data, b.len);
	mtp_container_get_string(&r, out, sizeof(out), "s");
	assert_false(r.failed);
	assert_int_equal(strlen(out), 254);
	mtp_container_buf_free(&b);
}

struct bad_string {
	const char *name, *hex;
};

static const struct bad_string bad_strings[] = {
	{ "nothing", "" },
	{ "count without units", "03" },
	{ "truncated units", "03 6100 6200" },
	{ "half a unit", "01 00" },
	{ "no terminator", "02 6100 6200" },
	{ "NUL inside", "03 6100 0000 0000" },
	{ "lone high surrogate", "02 3dd8 0000" },
	{ "lone low surrogate", "02 00de 0000" },
	{ "reversed pair", "03 00de 3dd8 0000" },
};

static void test_string_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_strings) / sizeof(bad_strings[0]); i++) {
		uint8_t buf[64], *h;
		size_t len = hex_to_bytes(bad_strings[i].hex, buf, sizeof(buf));
		struct mtp_reader r;
		char out[64];

		h = heap_copy(buf, len);
		mtp_container_reader_init(&r, h, len);
		mtp_container_get_string(&r, out, sizeof(out), "s");
		if (!r.failed)
			fail_msg("%s: accepted as '%s'", bad_strings[i].name, out);
		assert_string_equal(out, "");
		free(h);
	}
}

static void test_string_small_output(void **state)
{
	struct mtp_buf b = { 0 };
	struct mtp_reader r;
	char out[4];

	(void)state;
	mtp_container_put_string(&b, "abcdef");
	mtp_container_reader_init(&r, b.data, b.len);
	mtp_container_get_string(&r, out, sizeof(out), "s");
	assert_true(r.failed); /* never cut silently */
	mtp_container_buf_free(&b);
}

static void test_object_info(void **state)
{
	struct mtp_object_info in = { .storage_id = 0x10001,
				      .format = 0x3001,
				      .compressed_size = 0xffffffff,
				      .parent = 0xffffffff,
				      .association_type = 1,
				      .filename = "Dir ☃",
				      .modified = "20260102T030405" },
			       out;
	struct usbip_error err;
	struct mtp_buf b = { 0 };
	size_t cut, name_end;

	(void)state;
	mtp_container_encode_object_info(&b, &in);
	assert_int_equal(mtp_container_decode_object_info(b.data, b.len, &out, &err), 0);
	assert_int_equal(out.format, 0x3001);
	assert_int_equal(out.compressed_size, 0xffffffff);
	assert_int_equal(out.parent, 0xffffffff);
	assert_string_equal(out.filename, "Dir ☃");
	assert_string_equal(out.modified, "20260102T030405");
	/* Truncated anywhere before the end of the file name: refused. */
	name_end = 52 + 1 + 2 * 6;
	for (cut = 0; cut < name_end; cut++) {
		uint8_t *h = heap_copy(b.data, cut);

		if (mtp_container_decode_object_info(h, cut, &out, &err) == 0)
			fail_msg("ObjectInfo cut to %zu bytes accepted", cut);
		free(h);
	}
	mtp_container_buf_free(&b);
}

static void test_prop_list_element(void **state)
{
	struct mtp_buf b = { 0 };
	struct mtp_value v = { .type = 0x0008, .u = 0x123456789ull };
	uint8_t want[32];
	size_t n = hex_to_bytes("05000000 04dc 0800 8967452301000000", want, sizeof(want));

	(void)state;
	mtp_container_put_prop_element(&b, 5, 0xdc04, &v);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, want, n);
	mtp_container_buf_free(&b);
}

/* A SendObjectPropList dataset as Windows sends it: size, name, format, date, an array. */
static void test_send_prop_list(void **state)
{
	uint8_t buf[256];
	size_t len = hex_to_bytes("05000000"
				  "00000000 04dc 0800 0500000000000000" /* ObjectSize 5 */
				  "00000000 07dc ffff 03 61006200 0000" /* ObjectFileName "ab" */
				  "00000000 02dc 0400 0030"		/* ObjectFormat */
				  "00000000 09dc ffff 02 3100 0000"	/* DateModified "1" */
				  "00000000 46dc 0240 02000000 0102",	/* an AUINT8 of 2 */
				  buf, sizeof(buf));
	struct mtp_prop_list_info info;
	struct usbip_error err;
	uint32_t failed = 99;
	uint8_t *h = heap_copy(buf, len);

	(void)state;
	assert_int_equal(mtp_container_decode_send_prop_list(h, len, &info, &failed, &err), 0);
	assert_string_equal(info.filename, "ab");
	assert_string_equal(info.modified, "1");
	assert_int_equal(info.count, 5);
	free(h);
}

struct bad_prop_list {
	const char *name, *hex;
	uint32_t failed_index;
};

#define NAME_AB "00000000 07dc ffff 03 61006200 0000"
static const struct bad_prop_list bad_prop_lists[] = {
	{ "empty", "", 0 },
	{ "a count and nothing", "01000000", 0 },
	{ "the count says 3, there is 1", "03000000 " NAME_AB, 1 },
	{ "the count says 4 billion", "ffffffff " NAME_AB, 1 },
	{ "the count says 1, there are 2", "01000000 " NAME_AB " " NAME_AB, 0 },
	{ "no file name", "01000000 00000000 04dc 0800 0500000000000000", 0 },
	{ "no elements", "00000000", 0 },
	{ "a file name that is a number", "01000000 00000000 07dc 0600 01000000", 0 },
	{ "a string cut short", "02000000 " NAME_AB " 00000000 44dc ffff 05 6100", 1 },
	{ "a type that does not exist", "02000000 " NAME_AB " 00000000 44dc 0b00 00", 1 },
	{ "an array that lies", "02000000 " NAME_AB " 00000000 46dc 0640 ffffff3f 00000000", 1 },
	{ "an element cut in its header", "02000000 " NAME_AB " 00000000 44", 1 },
	{ "a value cut short", "02000000 " NAME_AB " 00000000 04dc 0800 05000000", 1 },
};

static void test_send_prop_list_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_prop_lists) / sizeof(bad_prop_lists[0]); i++) {
		uint8_t buf[256], *h;
		size_t len = hex_to_bytes(bad_prop_lists[i].hex, buf, sizeof(buf));
		struct mtp_prop_list_info info;
		struct usbip_error err = { "" };
		uint32_t failed = 99;

		h = heap_copy(buf, len);
		if (mtp_container_decode_send_prop_list(h, len, &info, &failed, &err) == 0)
			fail_msg("%s: accepted", bad_prop_lists[i].name);
		if (failed != bad_prop_lists[i].failed_index)
			fail_msg("%s: failed index %u, want %u", bad_prop_lists[i].name, failed,
				 bad_prop_lists[i].failed_index);
		assert_true(strstr(err.msg, "ObjectPropList") != NULL);
		free(h);
	}
}

static void test_u32_array(void **state)
{
	uint8_t buf[32];
	uint32_t n = 9;
	struct usbip_error err;

	(void)state;
	assert_int_equal(
		mtp_container_decode_u32_array(buf, hex_to_bytes("00000000", buf, 32), &n, &err),
		0);
	assert_int_equal(n, 0);
	assert_int_equal(
		mtp_container_decode_u32_array(
			buf, hex_to_bytes("02000000 01000000 02000000", buf, 32), &n, &err),
		0);
	assert_int_equal(n, 2);
	assert_int_equal(mtp_container_decode_u32_array(
				 buf, hex_to_bytes("03000000 01000000", buf, 32), &n, &err),
			 -1);
	assert_int_equal(mtp_container_decode_u32_array(
				 buf, hex_to_bytes("01000000 010000", buf, 32), &n, &err),
			 -1);
	assert_int_equal(
		mtp_container_decode_u32_array(buf, hex_to_bytes("ffffffff", buf, 32), &n, &err),
		-1);
	assert_int_equal(mtp_container_decode_u32_array(buf, 2, &n, &err), -1);
}

/* Microsoft OS Descriptors 1.0, "Extended Compat ID OS Feature Descriptor": header, one function.
 */
static void test_ms_compat_id(void **state)
{
	struct mtp_buf b = { 0 };
	uint8_t want[64];
	size_t n = hex_to_bytes("28000000 0001 0400 01 00000000000000" /* header: 40 bytes, 1.00 */
				"00 01 4d545000 00000000"	       /* interface 0, "MTP" */
				"0000000000000000 000000000000",       /* no sub-ID, reserved */
				want, sizeof(want));

	(void)state;
	assert_int_equal(n, 40);
	mtp_container_encode_ms_compat_id(&b, 0, "MTP");
	assert_false(b.failed);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, want, n);
	mtp_container_buf_free(&b);
	/* an ID of eight characters fills the field and has no terminator */
	mtp_container_encode_ms_compat_id(&b, 2, "ABCDEFGHIJ");
	assert_int_equal(b.len, 40);
	assert_int_equal(b.data[16], 2);
	assert_memory_equal(b.data + 18, "ABCDEFGH\0", 9);
	mtp_container_buf_free(&b);
}

/* "Extended Properties OS Feature Descriptor" with no custom properties: the header alone. */
static void test_ms_ext_props(void **state)
{
	struct mtp_buf b = { 0 };
	uint8_t want[16];
	size_t n = hex_to_bytes("0a000000 0001 0500 0000", want, sizeof(want));

	(void)state;
	mtp_container_encode_ms_ext_props(&b);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, want, n);
	mtp_container_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_ok),
		cmocka_unit_test(test_command_malformed),
		cmocka_unit_test(test_response_and_event),
		cmocka_unit_test(test_data_header),
		cmocka_unit_test(test_string_round_trip),
		cmocka_unit_test(test_string_too_long),
		cmocka_unit_test(test_string_malformed),
		cmocka_unit_test(test_string_small_output),
		cmocka_unit_test(test_object_info),
		cmocka_unit_test(test_prop_list_element),
		cmocka_unit_test(test_send_prop_list),
		cmocka_unit_test(test_send_prop_list_malformed),
		cmocka_unit_test(test_u32_array),
		cmocka_unit_test(test_ms_compat_id),
		cmocka_unit_test(test_ms_ext_props),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
