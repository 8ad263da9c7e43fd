// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: a DNS answer to an SRV query (net/srv.c). The input is
 * the message as a resolver would hand it over. What parses must be at most
 * the room given, every target a printable host name with a port, and the
 * order after srv_order must be by ascending priority, holding the same
 * targets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/srv.h"
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

static uint32_t fixed_draw(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1103515245u + 12345u;
	return *s;
}

static unsigned long weight_sum(const struct srv_target *t, int n)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += t[i].weight + 65536ul * t[i].port;
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_target t[8];
	struct srv_answer_notes notes;
	char err[256];
	uint32_t seed = 1;
	unsigned long before;
	int n, i;

	n = srv_parse_answer(data, size, t, 8, &notes, err, sizeof(err));
	if (n < 0) {
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	if (n > 8)
		abort();
	for (i = 0; i < n; i++)
		if (t[i].port == 0 || !t[i].host[0] || strlen(t[i].host) >= sizeof(t[i].host))
			abort();
	before = weight_sum(t, n);
	srv_order(t, (size_t)n, fixed_draw, &seed);
	for (i = 1; i < n; i++)
		if (t[i - 1].priority > t[i].priority)
			abort();
	if (weight_sum(t, n) != before)
		abort();
	return 0;
}
