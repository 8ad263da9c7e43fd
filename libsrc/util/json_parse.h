/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounded JSON reader (RFC 8259) for what another process sends (a
 * daemon's status answer): the text becomes a tree, or a one-line reason
 * why it is not JSON. Nothing of the text is trusted: its length, depth and
 * number of values are bounded by the caller, strings are decoded (no NUL
 * in them), numbers kept as written only once they are JSON numbers, so
 * that writing the tree again (json_parse_write_value) is always valid JSON.
 */
#ifndef USBIP_JSON_PARSE_H
#define USBIP_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/json.h"

#include "util/result.h"

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json_value {
	enum json_type type;
	char *key;  /* its name in the object that holds it; NULL elsewhere */
	char *text; /* a string (UTF-8 as sent, escapes decoded), a number as written */
	struct json_value *first; /* an array's or object's members, in order */
	struct json_value *next;  /* the next member of the same array or object */
};

struct json_limits {
	unsigned max_depth; /* arrays and objects inside each other; 1: no nesting */
	size_t max_values;  /* every value counted, members and containers alike */
};

/*
 * Parses one JSON value that is all of text[0..len) but for white space
 * around it. NULL with "byte N: WHAT" in err when it is not, or when it
 * goes past a limit (util/result.h, convention 3).
 */
struct json_value *json_parse(const char *text, size_t len, const struct json_limits *limits,
			      struct usbip_error *err);
void json_parse_value_free(struct json_value *v);

/* The member of an object with that name (the first one), or NULL. */
const struct json_value *json_parse_member(const struct json_value *object, const char *key);

/*
 * Writes v (as key of the object being written, or NULL) through w: the
 * writer escapes every string again. Its depth must fit the writer's
 * (JSON_MAX_DEPTH, counted from where w is).
 */
void json_parse_write_value(struct json_writer *w, const char *key, const struct json_value *v);

#endif
