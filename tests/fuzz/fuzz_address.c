// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the address syntax (net/address.c), as a remote and as
 * a listener. The input is the text. What does not parse must say why in
 * one printable line; what parses is formatted, and that must parse again
 * (in the same role) to the same address and format to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*parse_fn)(const char *, const char *, struct net_address *, char *, size_t);

/* The same address: every field but port_given (formatting always writes the port). */
static bool same(const struct net_address *a, const struct net_address *b)
{
	return a->scheme == b->scheme && strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       strcmp(a->path, b->path) == 0 && a->cid == b->cid && a->cid_given == b->cid_given;
}

static void check(parse_fn parse, const char *text)
{
	char err[NET_ADDRESS_HOST_MAX + 80], first[NET_ADDRESS_TEXT_MAX],
		second[NET_ADDRESS_TEXT_MAX];
	struct net_address a, b;
	size_t i;

	err[0] = '\0';
	if (parse(text, "3240", &a, err, sizeof(err)) != 0) {
		if (!err[0])
			abort();
		for (i = 0; err[i]; i++)
			if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
				abort();
		return;
	}
	address_format(&a, first, sizeof(first));
	if (parse(first, "1", &b, err, sizeof(err)) != 0 || !same(&a, &b))
		abort();
	address_format(&b, second, sizeof(second));
	if (strcmp(first, second) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	check(address_parse, text);
	check(address_parse_listener, text);
	free(text);
	return 0;
}
