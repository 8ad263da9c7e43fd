// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Strings that come from elsewhere (a peer, a device, sysfs) on their way
 * out: --json output is valid JSON whatever the bytes, log_escape keeps
 * log lines one line of printable ASCII, and usbip_proto_busid_ok says which
 * busids go on the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/json.h"
#include "util/log.h"
#include "wire/usbip_proto.h"

/* The JSON document of one string, {"k":VALUE}, into out. */
static void json_of(const char *value, char *out, size_t cap)
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_init(&w, f);
	json_object_begin(&w, NULL);
	json_string(&w, "k", value);
	json_object_end(&w);
	fclose(f);
	assert_true(len < cap);
	memcpy(out, buf, len + 1);
	free(buf);
}

struct json_case {
	const char *in, *out;
};

static const struct json_case json_cases[] = {
	{ "plain", "plain" },
	{ "a\"b\\c", "a\\\"b\\\\c" },
	{ "line\nbreak\ttab\x1b[2J", "line\\u000abreak\\u0009tab\\u001b[2J" },
	{ "del\x7f", "del\\u007f" },
	/* Well-formed UTF-8 stays as it is: 2, 3 and 4 bytes, the largest code points. */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf" },
	{ "\xed\x9f\xbf", "\xed\x9f\xbf" }, /* U+D7FF, just below the surrogates */
	/* Each byte that is not part of well-formed UTF-8 is one U+FFFD. */
	{ "\xff", "\\ufffd" },
	{ "a\x80z", "a\\ufffdz" },				/* a lone continuation byte */
	{ "\xc0\xaf", "\\ufffd\\ufffd" },			/* overlong '/' */
	{ "\xc1\xbf", "\\ufffd\\ufffd" },			/* overlong */
	{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" },		/* overlong, 3 bytes */
	{ "\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* overlong, 4 bytes */
	{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },		/* surrogate U+D800 */
	{ "\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd" },		/* surrogate U+DFFF */
	{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* U+110000 */
	{ "\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* no such lead byte */
	{ "\xe2\x82", "\\ufffd\\ufffd" },			/* cut off at the end */
	{ "\xe2\x82z", "\\ufffd\\ufffdz" },			/* cut off by ASCII */
	{ "\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd" },		/* 3 of 4 bytes */
	{ "\xc3\xc3\xa9", "\\ufffd\xc3\xa9" },			/* a lead byte, then a letter */
	{ "serial=\xfe\xfe\x0d", "serial=\\ufffd\\ufffd\\u000d" },
};

static void test_json_strings(void **state)
{
	char out[512], want[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		json_of(json_cases[i].in, out, sizeof(out));
		snprintf(want, sizeof(want), "{\"k\":\"%s\"}", json_cases[i].out);
		if (strcmp(out, want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, want);
	}
}

/* Keys are escaped the same way. */
static void test_json_keys(void **state)
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	json_init(&w, f);
	json_object_begin(&w, NULL);
	json_uint(&w, "a\xff\n", 1);
	json_object_end(&w);
	fclose(f);
	assert_string_equal(buf, "{\"a\\ufffd\\u000a\":1}");
	free(buf);
}

/*
 * Every string of up to 3 bytes from a set that covers each class of byte
 * gives output of printable ASCII and well-formed UTF-8 only (checked here
 * by a decoder of its own, written from RFC 3629's table, not by the one in
 * json.c), with no raw control character.
 */
static size_t rfc3629_length(const unsigned char *s)
{
	static const struct {
		unsigned char lo1, hi1, lo2, hi2;
		size_t len;
	} table[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 }, { 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t i, j;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (s[0] < table[i].lo1 || s[0] > table[i].hi1)
			continue;
		if (s[1] < table[i].lo2 || s[1] > table[i].hi2)
			return 0;
		for (j = 2; j < table[i].len; j++)
			if (s[j] < 0x80 || s[j] > 0xbf)
				return 0;
		return table[i].len;
	}
	return 0;
}

static void test_json_always_valid(void **state)
{
	static const unsigned char bytes[] = { 0x01, 0x0a, 0x1f, ' ',  '"',  '\\', 'u',	 0x7f,
					       0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0,
					       0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	size_t n = sizeof(bytes), a, b, c;
	char in[4], out[128];

	(void)state;
	for (a = 0; a < n; a++)
		for (b = 0; b <= n; b++)
			for (c = 0; c <= n; c++) {
				const unsigned char *p;

				in[0] = (char)bytes[a];
				in[1] = b < n ? (char)bytes[b] : 0;
				in[2] = b < n && c < n ? (char)bytes[c] : 0;
				in[3] = 0;
				json_of(in, out, sizeof(out));
				for (p = (const unsigned char *)out; *p;) {
					size_t len = *p < 0x80 ? 1 : rfc3629_length(p);

					if (len == 0 || *p < 0x20 || *p == 0x7f)
						fail_msg("%02x %02x %02x gave %s", bytes[a],
							 (unsigned char)in[1], (unsigned char)in[2],
							 out);
					p += len;
				}
			}
}

static void test_log_escape(void **state)
{
	char buf[LOG_ESCAPED_SIZE(32)], small[8];

	(void)state;
	assert_string_equal(log_escape(buf, sizeof(buf), "1-1.4"), "1-1.4");
	assert_string_equal(log_escape(buf, sizeof(buf), "1-1\nerror: forged"),
			    "1-1\\x0aerror: forged");
	assert_string_equal(log_escape(buf, sizeof(buf), "\x1b]0;t\x07"), "\\x1b]0;t\\x07");
	assert_string_equal(log_escape(buf, sizeof(buf), "caf\xc3\xa9\x7f"), "caf\\xc3\\xa9\\x7f");
	/* A backslash is escaped too, so a peer cannot fake an escape. */
	assert_string_equal(log_escape(buf, sizeof(buf), "a\\x41"), "a\\x5cx41");
	assert_string_equal(log_escape(buf, sizeof(buf), ""), "");
	/* Cut short at a whole character. */
	assert_string_equal(log_escape(small, sizeof(small), "abcdefghij"), "abcdefg");
	assert_string_equal(log_escape(small, sizeof(small), "abcd\n"), "abcd");
	assert_string_equal(log_escape(small, sizeof(small), "ab\n\n"), "ab\\x0a");
	/* The size macro fits the worst case exactly. */
	memset(small, 0xff, sizeof(small) - 1);
	small[sizeof(small) - 1] = 0;
	assert_int_equal(strlen(log_escape(buf, LOG_ESCAPED_SIZE(7), small)), 28);
}

/* Whatever reaches a log line unescaped still cannot split it. */
static void test_log_line(void **state)
{
	char path[] = "/tmp/test_escape.XXXXXX", line[256];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	log_init("test", false);
	log_warn("peer said %s", "one\ntwo\x1b[0m");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "test: warning: peer said one\\x0atwo\\x1b[0m\n");
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
}

/* What the decoders refuse, the encoders do not send. */
static void test_busid_ok(void **state)
{
	static const char *const good[] = { "1-1", "1-1.4.2", "usbip-vudc.0", "3-10", "x" };
	static const char *const bad[] = { "",	     "1-1 2",	   "1-1\n",  "\x1b[2J",
					   "1-\x7f", "1-\xc3\xa9", "1-\x9b", "\t1-1" };
	struct usbip_usb_device d = { .path = "/sys/x" };
	uint8_t buf[USBIP_DEVICE_RECORD_SIZE];
	char longest[USBIP_BUSID_SIZE + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(usbip_proto_busid_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(usbip_proto_busid_ok(bad[i]));
		/* What the decoders refuse, the encoders do not send. */
		assert_int_equal(usbip_proto_encode_import_request(buf, bad[i]), -1);
		snprintf(d.busid, sizeof(d.busid), "%s", bad[i]);
		assert_int_equal(usbip_proto_encode_device(buf, &d), -1);
	}
	/* Nor a serial or a path with a control character. */
	snprintf(d.busid, sizeof(d.busid), "1-1");
	assert_int_equal(usbip_proto_encode_device(buf, &d), 0);
	snprintf(d.serial, sizeof(d.serial), "A\nB");
	assert_int_equal(usbip_proto_encode_device(buf, &d), -1);
	snprintf(d.serial, sizeof(d.serial), "caf\xc3\xa9");
	assert_int_equal(usbip_proto_encode_device(buf, &d), 0);
	snprintf(d.path, sizeof(d.path), "/sys/\x1b[2J");
	assert_int_equal(usbip_proto_encode_device(buf, &d), -1);
	memset(longest, '1', sizeof(longest));
	longest[USBIP_BUSID_SIZE - 1] = 0;
	assert_true(usbip_proto_busid_ok(longest));
	longest[USBIP_BUSID_SIZE - 1] = '1';
	longest[USBIP_BUSID_SIZE] = 0;
	assert_false(usbip_proto_busid_ok(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_strings),	  cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_json_always_valid), cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_line),	  cmocka_unit_test(test_busid_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
