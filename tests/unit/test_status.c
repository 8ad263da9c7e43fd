// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip status's reading of an answer (util/json_parse.c, daemon/
 * status_client.c): what parses, what does not and why, the JSON written
 * again, and the text form with a peer's strings escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/status_client.h"
#include "util/json_parse.h"

static void write_json(FILE *f, const struct json_value *v)
{
	struct json_writer w;

	json_init(&w, f);
	json_parse_write_value(&w, NULL, v);
}

/* The answer parsed, then written by out (the JSON writer or the text form). */
static char *through(const char *text, void (*out)(FILE *f, const struct json_value *v))
{
	struct json_value *v;
	char err[200], *buf = NULL;
	size_t len = 0;
	FILE *f;

	v = status_client_answer_parse(text, strlen(text), err, sizeof(err));
	assert_non_null(v);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	out(f, v);
	fclose(f);
	json_parse_value_free(v);
	return buf;
}

static char *rewrite(const char *text)
{
	return through(text, write_json);
}

static char *render(const char *text)
{
	return through(text, status_client_render);
}

static void table_of(FILE *f, const struct json_value *v)
{
	status_client_table_add(&(struct status_table){ .out = f }, "?", v);
}

static char *table(const char *text)
{
	return through(text, table_of);
}

static void expect(char *(*fn)(const char *text), const char *text, const char *want)
{
	char *out = fn(text);

	assert_string_equal(out, want);
	free(out);
}

static void test_round_trip(void **state)
{
	static const char *const same[] = {
		"{}",
		"{\"schema\":1,\"daemon\":\"usbipd\",\"pid\":42,\"tls\":false,\"x\":null}",
		"{\"a\":[1,-2.5e-3,0,true,[],{}],\"b\":{\"c\":[{\"d\":\"e\"}]}}",
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		expect(rewrite, same[i], same[i]);
	/* White space goes; escapes the writer need not keep are written as UTF-8. */
	expect(rewrite, " {\n\t\"a\" : [ 1 , 2 ] \r\n} ", "{\"a\":[1,2]}");
	expect(rewrite, "{\"s\":\"\\\"\\\\\\u00e9\xc3\xa9\"}",
	       "{\"s\":\"\\\"\\\\\xc3\xa9\xc3\xa9\"}");
	expect(rewrite, "{\"e\":\"\\ud83d\\ude00 \\n \\u001b\"}",
	       "{\"e\":\"\xf0\x9f\x98\x80 \\u000a \\u001b\"}");
}

static void test_what_does_not_parse(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "", "ends where a value should be" },
		{ "{", "expected a member's name" },
		{ "{\"a\":1", "expected ',' or '}'" },
		{ "{\"a\":[}}}]]", "not a JSON value" },
		{ "}}}}{", "not a JSON value" },
		{ "{\"a\" 1}", "expected ':'" },
		{ "{\"a\":1}}", "more after the value" },
		{ "{\"a\":01}", "not a JSON value" },
		{ "{\"a\":1.}", "not a JSON value" },
		{ "{\"a\":-}", "not a JSON value" },
		{ "{\"a\":tru}", "not a JSON value" },
		{ "{\"a\":\"x}", "does not end" },
		{ "{\"a\":\"\x01\"}", "control character" },
		{ "{\"a\":\"\\x\"}", "unknown escape" },
		{ "{\"a\":\"\\u12\"}", "four hex digits" },
		{ "{\"a\":\"\\u0000\"}", "\\u0000" },
		{ "{\"a\":\"\\udc00\"}", "lone low surrogate" },
		{ "{\"a\":\"\\ud800x\"}", "without its low one" },
		{ "[1]", "not a JSON object" },
		{ "\"x\"", "not a JSON object" },
		{ "{\"a\":1,}", "expected a member's name" },
		{ "{\"a\":[1,]}", "not a JSON value" },
	};
	char err[200];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(status_client_answer_parse(bad[i].text, strlen(bad[i].text), err,
						       sizeof(err)));
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': '%s', not '%s'", bad[i].text, err, bad[i].why);
	}
	/* A NUL byte inside the length given, after the value. */
	assert_null(status_client_answer_parse("{}\0{}", 5, err, sizeof(err)));
	assert_non_null(strstr(err, "NUL"));
}

/* "[[[...1...]]]" inside an object, nested n deep. */
static char *nested(unsigned n)
{
	char *text = malloc(2 * n + 16);
	size_t len;

	assert_non_null(text);
	len = (size_t)sprintf(text, "{\"a\":");
	memset(text + len, '[', n);
	len += n;
	text[len++] = '1';
	memset(text + len, ']', n);
	len += n;
	strcpy(text + len, "}");
	return text;
}

static void test_limits(void **state)
{
	struct json_value *v;
	char err[200], *text;
	size_t n = STATUS_MAX_VALUES + 1, len, i;

	(void)state;
	text = nested(STATUS_MAX_DEPTH - 1);
	v = status_client_answer_parse(text, strlen(text), err, sizeof(err));
	assert_non_null(v);
	json_parse_value_free(v);
	free(text);
	text = nested(STATUS_MAX_DEPTH);
	assert_null(status_client_answer_parse(text, strlen(text), err, sizeof(err)));
	assert_non_null(strstr(err, "nested too deep"));
	free(text);
	/* More values than the bound: [0,0,0,...]. */
	text = malloc(2 * n + 16);
	assert_non_null(text);
	len = (size_t)sprintf(text, "{\"a\":[");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "0,");
	strcpy(text + len - 1, "]}");
	assert_null(status_client_answer_parse(text, strlen(text), err, sizeof(err)));
	assert_non_null(strstr(err, "too many values"));
	free(text);
}

static void test_text_form(void **state)
{
	char *out, text[2000];
	size_t i;

	(void)state;
	expect(render,
	       "{\"daemon\":\"usbipd\",\"tls\":false,\"devices\":[{\"busid\":\"1-1\"}],"
	       "\"ids\":[1,2]}",
	       "daemon: usbipd\ntls: no\ndevices:\n  -\n    busid: 1-1\n"
	       "ids:\n  1\n  2\n");
	/* A peer's control characters and bytes past ASCII, escaped; a key's too. */
	expect(render, "{\"d\\u001b[2J\":\"a\\u001b]0;x\\u0007\\nb\xc3\xa9\"}",
	       "d\\x1b[2J: a\\x1b]0;x\\x07\\x0ab\\xc3\\xa9\n");
	/* Times that are not times stay as they were sent. */
	expect(render, "{\"started\":-5,\"since\":\"yesterday\",\"pid\":1e999}",
	       "started: -5\nsince: yesterday\npid: 1e999\n");
	/* A long value is cut. */
	memset(text, '.', sizeof(text));
	memcpy(text, "{\"s\":\"", 6);
	strcpy(text + sizeof(text) - 3, "\"}");
	out = render(text);
	for (i = 0; out[i]; i++)
		assert_true(out[i] == '\n' || (out[i] >= 0x20 && out[i] < 0x7f));
	assert_true(strlen(out) <= 1024 + 4);
	free(out);
}

/* The table for people: a row per device or rule, one for a daemon with none. */
static void test_table_form(void **state)
{
	static const char header[] = "DAEMON       DEVICE           PEER                     "
				     "SINCE               TRANSPORT  STATE\n";
	char *out;

	(void)state;
	out = table("{\"daemon\":\"usbipa\",\"imports\":[{\"busid\":\"1-1\",\"peer\":"
		    "\"10.0.0.2:40000\",\"transport\":\"tls\",\"datapath\":\"ktls\",\"port\":3}]}");
	assert_non_null(strstr(out, header));
	assert_non_null(strstr(out, "usbipa       1-1              10.0.0.2:40000           -   "));
	assert_non_null(strstr(out, "tls (ktls) attached, port 3\n"));
	free(out);
	out = table("{\"daemon\":\"agent\",\"rules\":[{\"rule\":\"export\",\"name\":\"cam\","
		    "\"state\":\"waiting\",\"reason\":\"no device\"}]}");
	assert_non_null(strstr(out, "agent        [export cam]"));
	assert_non_null(strstr(out, "waiting: no device\n"));
	free(out);
	/* A daemon with no device; a peer's control characters escaped in every cell. */
	out = table("{\"daemon\":\"usbipd\",\"port\":3240}");
	assert_non_null(strstr(out, "running, no device, port 3240\n"));
	free(out);
	/* Where it listens, in the address syntax, when the daemon says so. */
	out = table("{\"daemon\":\"usbipd\",\"port\":0,\"listening\":\"unix:/run/u.sock\"}");
	assert_non_null(strstr(out, "running, no device, on unix:/run/u.sock\n"));
	free(out);
	out = table("{\"daemon\":\"\\u001b[2J\",\"x\":[{\"busid\":\"\\u0007\"}]}");
	assert_non_null(strstr(out, "\\x1b[2J"));
	assert_non_null(strstr(out, "\\x07"));
	assert_null(strchr(out, '\x1b'));
	free(out);
	/* Nothing of a row: nothing printed, not even the header. */
	out = table("{\"x\":1}");
	assert_string_equal(out, "");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_what_does_not_parse),
		cmocka_unit_test(test_limits),	   cmocka_unit_test(test_text_form),
		cmocka_unit_test(test_table_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
