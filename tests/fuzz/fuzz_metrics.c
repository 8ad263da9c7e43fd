// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: what a client sends to /metrics (daemon/metrics.c).
 * The input is the bytes read so far. A request is whole or not, and a
 * whole one gets exactly one HTTP/1.1 answer with a Content-Length that
 * matches its body; METRICS_REQUEST_MAX bytes without an end of header are
 * refused, never waited on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"
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

static void one_family(struct metrics_text *m, void *arg)
{
	(void)arg;
	metrics_family(m, "fuzz_up", "gauge", "Up.");
	metrics_sample(m, "fuzz_up", 1, "k", "v", METRICS_END);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum metrics_request r;
	const char *body;
	size_t len, claimed;
	char *resp;

	if (size > METRICS_REQUEST_MAX)
		size = METRICS_REQUEST_MAX;
	r = metrics_request_parse((const char *)data, size);
	if (r == METRICS_REQ_INCOMPLETE) {
		if (size >= METRICS_REQUEST_MAX)
			abort();
		return 0;
	}
	resp = metrics_response(r, one_family, NULL, &len);
	if (!resp)
		return 0;
	body = strstr(resp, "\r\n\r\n");
	if (strncmp(resp, "HTTP/1.1 ", 9) != 0 || !body ||
	    sscanf(strstr(resp, "Content-Length: ") + 16, "%zu", &claimed) != 1 ||
	    claimed != len - (size_t)(body + 4 - resp))
		abort();
	free(resp);
	return 0;
}
