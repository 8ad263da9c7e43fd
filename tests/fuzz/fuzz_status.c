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
	json_write_value(&w, NULL, v);
	json_array_end(&w);
	json_object_end(&w);
	fclose(f);
	return out;
}

static void check_document(const struct json_value *v)
{
	static const struct json_limits loose = { JSON_MAX_DEPTH, (size_t)-1 };
	struct json_value *again;
	char err[200], *first, *second;
	size_t len, len2;

	first = as_document(v, &len);
	again = json_parse(first, len, &loose, err, sizeof(err));
	if (!again)
		abort(); /* usbip status would print a document that is not JSON */
	second = as_document(again->first->first, &len2);
	if (len != len2 || memcmp(first, second, len) != 0)
		abort();
	json_value_free(again);
	free(first);
	free(second);
}

static void check_text(const struct json_value *v)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	status_render(f, v);
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
	v = status_answer_parse((const char *)data, size, err, sizeof(err));
	if (!v) {
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	check_document(v);
	check_text(v);
	json_value_free(v);
	return 0;
}
