// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/json_parse.h"
#include "util/hex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *start, *p, *end;
	const struct json_limits *limits;
	size_t values;
	struct usbip_error *err;
	bool failed;
};

static struct json_value *parse_value(struct parser *ps, unsigned depth);

/* The first failure is the one said: where it is and what was wrong. */
static void fail(struct parser *ps, const char *what)
{
	if (!ps->failed)
		result_error_set(ps->err, "byte %zu: %s", (size_t)(ps->p - ps->start) + 1, what);
	ps->failed = true;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Takes c after white space, if it is there. */
static bool take(struct parser *ps, char c)
{
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return false;
}

static struct json_value *new_value(struct parser *ps, enum json_type type)
{
	struct json_value *v;

	if (++ps->values > ps->limits->max_values) {
		fail(ps, "too many values");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		fail(ps, "out of memory");
	else
		v->type = type;
	return v;
}

/* \uXXXX at p (p at the 'u'): the code unit, or -1. */
static long code_unit(const char *p, const char *end)
{
	unsigned long v;

	if (end - p < 5 || *p != 'u' || hex_number(p + 1, 4, &v) != 0)
		return -1;
	return (long)v;
}

static size_t put_utf8(char *out, unsigned long c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * A \u escape at ps->p (at the 'u'), a surrogate pair taken whole, as
 * UTF-8 into out; its length, or 0 (failed).
 */
static size_t unicode_escape(struct parser *ps, char *out)
{
	long hi = code_unit(ps->p, ps->end), lo;

	if (hi < 0) {
		fail(ps, "\\u wants four hex digits");
		return 0;
	}
	ps->p += 5;
	if (hi == 0) {
		fail(ps, "\\u0000 in a string");
		return 0;
	}
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		fail(ps, "a lone low surrogate");
		return 0;
	}
	if (hi < 0xd800 || hi > 0xdbff)
		return put_utf8(out, (unsigned long)hi);
	lo = ps->end - ps->p >= 2 && ps->p[0] == '\\' ? code_unit(ps->p + 1, ps->end) : -1;
	if (lo < 0xdc00 || lo > 0xdfff) {
		fail(ps, "a high surrogate without its low one");
		return 0;
	}
	ps->p += 6;
	return put_utf8(out, 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
				     ((unsigned long)lo - 0xdc00));
}

/* One escape after a backslash (ps->p past it) into out; its length, or 0. */
static size_t escape(struct parser *ps, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *which;

	if (ps->p >= ps->end) {
		fail(ps, "a string that does not end");
		return 0;
	}
	if (*ps->p == 'u')
		return unicode_escape(ps, out);
	which = *ps->p ? strchr(from, *ps->p) : NULL;
	if (!which) {
		fail(ps, "an unknown escape in a string");
		return 0;
	}
	ps->p++;
	*out = to[which - from];
	return 1;
}

/* Where the string at ps->p (past its '"') ends: at its closing '"', or NULL. */
static const char *string_end(const struct parser *ps)
{
	const char *q;

	for (q = ps->p; q < ps->end; q++) {
		if (*q == '"')
			return q;
		if (*q == '\\')
			q++;
	}
	return NULL;
}

/* A string at ps->p (at its '"'), decoded; NULL (failed). */
static char *parse_string(struct parser *ps)
{
	const char *close;
	char *out;
	size_t n = 0, k;

	ps->p++;
	close = string_end(ps);
	/* Decoded, a string is never longer than as sent. */
	out = close ? malloc((size_t)(close - ps->p) + 1) : NULL;
	if (!out) {
		fail(ps, close ? "out of memory" : "a string that does not end");
		return NULL;
	}
	while (ps->p < close) {
		unsigned char c = (unsigned char)*ps->p;

		if (c < 0x20) {
			fail(ps, "a control character in a string");
			break;
		}
		if (c != '\\') {
			out[n++] = (char)c;
			ps->p++;
			continue;
		}
		ps->p++;
		k = escape(ps, out + n);
		if (!k)
			break;
		n += k;
	}
	if (ps->failed) {
		free(out);
		return NULL;
	}
	ps->p = close + 1;
	out[n] = '\0';
	return out;
}

static size_t digits(const struct parser *ps, const char *q)
{
	const char *s = q;

	while (q < ps->end && *q >= '0' && *q <= '9')
		q++;
	return (size_t)(q - s);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at ps->p; its length, or 0. */
static size_t number_length(const struct parser *ps)
{
	const char *q = ps->p;
	size_t n;

	if (q < ps->end && *q == '-')
		q++;
	n = digits(ps, q);
	if (!n || (n > 1 && *q == '0'))
		return 0;
	q += n;
	if (q < ps->end && *q == '.') {
		n = digits(ps, q + 1);
		if (!n)
			return 0;
		q += n + 1;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		n = digits(ps, q);
		if (!n)
			return 0;
		q += n;
	}
	return (size_t)(q - ps->p);
}

static struct json_value *parse_number(struct parser *ps)
{
	size_t n = number_length(ps);
	struct json_value *v;

	if (!n) {
		fail(ps, "not a JSON value");
		return NULL;
	}
	v = new_value(ps, JSON_NUMBER);
	if (v && !(v->text = strndup(ps->p, n))) {
		fail(ps, "out of memory");
		free(v);
		return NULL;
	}
	ps->p += n;
	return v;
}

static struct json_value *parse_word(struct parser *ps)
{
	static const struct {
		const char *word;
		enum json_type type;
	} words[] = { { "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL } };
	unsigned i;

	for (i = 0; i < 3; i++) {
		size_t n = strlen(words[i].word);

		if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
			ps->p += n;
			return new_value(ps, words[i].type);
		}
	}
	return parse_number(ps);
}

/* One member of an object: "key": value. */
static struct json_value *parse_member(struct parser *ps, unsigned depth)
{
	struct json_value *v;
	char *key;

	if (!take(ps, '"')) {
		fail(ps, "expected a member's name in quotes");
		return NULL;
	}
	ps->p--;
	key = parse_string(ps);
	if (!key)
		return NULL;
	if (!take(ps, ':')) {
		fail(ps, "expected ':'");
		free(key);
		return NULL;
	}
	v = parse_value(ps, depth);
	if (v)
		v->key = key;
	else
		free(key);
	return v;
}

/* An array or an object (ps->p past its opening bracket), up to its closing one. */
static struct json_value *parse_container(struct parser *ps, enum json_type type, unsigned depth)
{
	char close = type == JSON_ARRAY ? ']' : '}';
	struct json_value *v, *m, **tail;

	if (depth > ps->limits->max_depth) {
		fail(ps, "nested too deep");
		return NULL;
	}
	v = new_value(ps, type);
	if (!v || take(ps, close))
		return v;
	tail = &v->first;
	do {
		m = type == JSON_ARRAY ? parse_value(ps, depth) : parse_member(ps, depth);
		if (!m)
			break;
		*tail = m;
		tail = &m->next;
	} while (take(ps, ','));
	if (!ps->failed && !take(ps, close))
		fail(ps, type == JSON_ARRAY ? "expected ',' or ']'" : "expected ',' or '}'");
	if (ps->failed) {
		json_parse_value_free(v);
		return NULL;
	}
	return v;
}

static struct json_value *parse_value(struct parser *ps, unsigned depth)
{
	struct json_value *v;

	skip_space(ps);
	if (ps->p >= ps->end) {
		fail(ps, "the text ends where a value should be");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		ps->p++;
		return parse_container(ps, JSON_OBJECT, depth + 1);
	case '[':
		ps->p++;
		return parse_container(ps, JSON_ARRAY, depth + 1);
	case '"':
		v = new_value(ps, JSON_STRING);
		if (v && !(v->text = parse_string(ps))) {
			free(v);
			v = NULL;
		}
		return v;
	}
	return parse_word(ps);
}

struct json_value *json_parse(const char *text, size_t len, const struct json_limits *limits,
			      struct usbip_error *err)
{
	struct parser ps = {
		.start = text, .p = text, .end = text + len, .limits = limits, .err = err
	};
	struct json_value *v = parse_value(&ps, 0);

	skip_space(&ps);
	if (v && ps.p != ps.end) {
		fail(&ps, ps.p < ps.end && !*ps.p ? "a NUL byte" : "more after the value");
		json_parse_value_free(v);
		v = NULL;
	}
	return v;
}

void json_parse_value_free(struct json_value *v)
{
	struct json_value *next;

	for (; v; v = next) {
		next = v->next;
		json_parse_value_free(v->first);
		free(v->key);
		free(v->text);
		free(v);
	}
}

const struct json_value *json_parse_member(const struct json_value *object, const char *key)
{
	const struct json_value *m;

	if (!object || object->type != JSON_OBJECT)
		return NULL;
	for (m = object->first; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

void json_parse_write_value(struct json_writer *w, const char *key, const struct json_value *v)
{
	const struct json_value *m;

	switch (v->type) {
	case JSON_NULL:
		json_null(w, key);
		break;
	case JSON_FALSE:
	case JSON_TRUE:
		json_bool(w, key, v->type == JSON_TRUE);
		break;
	case JSON_NUMBER:
		json_number_text(w, key, v->text);
		break;
	case JSON_STRING:
		json_string(w, key, v->text);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (v->type == JSON_ARRAY)
			json_array_begin(w, key);
		else
			json_object_begin(w, key);
		for (m = v->first; m; m = m->next)
			json_parse_write_value(w, m->key, m);
		if (v->type == JSON_ARRAY)
			json_array_end(w);
		else
			json_object_end(w);
		break;
	}
}
