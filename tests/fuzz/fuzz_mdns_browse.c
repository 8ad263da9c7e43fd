// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: what an mdns: remote picks from what the LAN announced
 * (net/mdns_browse.c). The input's first line is the remote's globs, each
 * further line an announced host name (at most MDNS_BROWSE_MAX of them).
 * Every pick must be a host the globs allow, with a host name of DNS
 * characters only, and picking again from the picks keeps all of them in
 * the same order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/mdns_browse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits text at its newlines into the globs and the services' host names. */
static size_t services_of(char *text, struct mdns_service *found, const char **patterns)
{
	char *line = strchr(text, '\n'), *next;
	size_t n = 0;

	*patterns = text;
	while (line && n < MDNS_BROWSE_MAX) {
		*line++ = '\0';
		next = strchr(line, '\n');
		memset(&found[n], 0, sizeof(found[n]));
		snprintf(found[n].host, sizeof(found[n].host), "%.*s",
			 (int)(next ? (size_t)(next - line) : strlen(line)), line);
		snprintf(found[n].name, sizeof(found[n].name), "s%zu", n);
		snprintf(found[n].address, sizeof(found[n].address), "10.0.0.%zu", n);
		found[n].port = (unsigned)(n * 7919 % 65536);
		n++;
		line = next;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mdns_service found[MDNS_BROWSE_MAX], again[MDNS_BROWSE_MAX];
	char *text = malloc(size + 1);
	const char *patterns;
	size_t n, kept, i;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	n = services_of(text, found, &patterns);
	kept = mdns_browse_select(patterns, found, n);
	if (kept > n)
		abort();
	for (i = 0; i < kept; i++)
		if (!mdns_browse_allowed(patterns, found[i].host) || found[i].port == 0 ||
		    strspn(found[i].host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-_") != strlen(found[i].host))
			abort();
	memcpy(again, found, kept * sizeof(found[0]));
	if (mdns_browse_select(patterns, again, kept) != kept ||
	    memcmp(again, found, kept * sizeof(found[0])) != 0)
		abort();
	free(text);
	return 0;
}
