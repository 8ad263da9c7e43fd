/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A streaming JSON writer for machine-readable output (--json). */
#ifndef USBIP_JSON_WRITER_H
#define USBIP_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *out);
/* key is NULL inside arrays and at the top level. */
void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_uint(struct json_writer *w, const char *key, unsigned long long value);
/* A number shown as a fixed-width hex string, e.g. "046d". */
void json_hex(struct json_writer *w, const char *key, unsigned value, int digits);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);
/* A number as written; text must be a JSON number (util/json_parse.h checked it). */
void json_number_text(struct json_writer *w, const char *key, const char *text);
/* Ends the document with a newline. */
void json_finish(struct json_writer *w);

#endif
