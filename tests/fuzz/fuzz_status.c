// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: usbip status's reading of a daemon's answer (daemon/
 * status_client.c over util/json_parse.c). The input is the answer. What
 * does not parse must say why in one line; what parses is written again
 * the way usbip status writes it into its document (two levels down), and
 * that must parse back and write the same; the text form must be printable
 * ASCII lines, whatever the peer sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/status_client.h"
#include "util/json_parse.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* v as usbip status's --json puts it: {"daemons": [v]}. */
static char *as_document(const struct json_value *v, size_t *len)
{
	struct json_writer w;
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	if (!f)
		abort();
	json_init(&w, f);
	json_object_begin(&w, NULL);
	json_array_begin(&w, "daemons");
	json_parse_write_value(&w, NULL, v);
	json_array_end(&w);
	json_object_end(&w);
	fclose(f);
	return out;
}

/* Parses a document written by as_document; its daemon's object (abort if it does not parse). */
static struct json_value *reparse(const char *text, size_t len, struct json_value **doc)
{
	static const struct json_limits loose = { JSON_MAX_DEPTH, (size_t)-1 };
	*doc = json_parse(text, len, &loose, NULL);
	if (!*doc)
		abort(); /* usbip status would print a document that is not JSON */
	return (*doc)->first->first;
}

/*
 * The document must parse; written again from what was parsed, it is the
 * same but for bytes the first writing normalised (invalid UTF-8 becomes
 * U+FFFD), so the second and third writings must be equal.
 */
static void check_document(const struct json_value *v)
{
	struct json_value *doc1, *doc2;
	char *first, *second, *third;
	size_t len1, len2, len3;

	first = as_document(v, &len1);
	second = as_document(reparse(first, len1, &doc1), &len2);
	third = as_document(reparse(second, len2, &doc2), &len3);
	if (len2 != len3 || memcmp(second, third, len2) != 0)
		abort();
	json_parse_value_free(doc1);
	json_parse_value_free(doc2);
	free(first);
	free(second);
	free(third);
}

static void check_text(const struct json_value *v)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	status_client_render(f, v);
	status_client_table_add(&(struct status_table){ .out = f }, "?", v);
	fclose(f);
	for (i = 0; i < len; i++)
		if (out[i] != '\n' && (out[i] < 0x20 || out[i] > 0x7e))
			abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value *v;
	char err[200];

	err[0] = '\0';
	v = status_client_answer_parse((const char *)data, size, err, sizeof(err));
	if (!v) {
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	check_document(v);
	check_text(v);
	json_parse_value_free(v);
	return 0;
}
