// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/address.h"

#include <stdio.h>
#include <string.h>

#include "net/tcp.h"

/*
 * What a host name or an IP literal is made of (with '%' for an IPv6 zone):
 * nothing a log line or a shell would misread.
 */
static bool host_ok(const char *host, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !strchr(".-_:%", c))
			return false;
	}
	return len > 0;
}

/* Splits text into host (bytes [*host, *host + *host_len)) and port (NULL if none). */
static int split(const char *text, const char **host, size_t *host_len, const char **port,
		 struct usbip_error *err)
{
	const char *colon = strchr(text, ':'), *close;

	*port = NULL;
	*host = text;
	if (text[0] == '[') {
		close = strchr(text, ']');
		if (!close || (close[1] && close[1] != ':')) {
			usbip_error_set(err, "'%s': an IPv6 address is [ADDRESS] or [ADDRESS]:PORT",
					text);
			return -1;
		}
		*host = text + 1;
		*host_len = (size_t)(close - text - 1);
		*port = close[1] ? close + 2 : NULL;
		return 0;
	}
	/* Two colons or more: a bare IPv6 literal, which cannot carry a port. */
	if (colon && !strchr(colon + 1, ':')) {
		*host_len = (size_t)(colon - text);
		*port = colon + 1;
	} else {
		*host_len = strlen(text);
	}
	return 0;
}

int net_address_parse(const char *text, const char *default_port, struct net_address *out,
		      struct usbip_error *err)
{
	const char *host, *port;
	size_t host_len;

	memset(out, 0, sizeof(*out));
	out->kind = NET_ADDRESS_TCP;
	if (split(text, &host, &host_len, &port, err) != 0)
		return -1;
	if (host_len >= sizeof(out->host)) {
		usbip_error_set(err, "host name of %zu bytes: at most %zu", host_len,
				sizeof(out->host) - 1);
		return -1;
	}
	if (!host_ok(host, host_len)) {
		usbip_error_set(err, "'%s' is not HOST, HOST:PORT or [IPV6]:PORT", text);
		return -1;
	}
	out->port_given = port != NULL;
	if (!port)
		port = default_port;
	if (!usbip_tcp_port_ok(port) || strlen(port) >= sizeof(out->port)) {
		usbip_error_set(err, "'%s': the port is a number from 0 to 65535", text);
		return -1;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	strcpy(out->port, port);
	return 0;
}

void net_address_format(const struct net_address *a, char *out, size_t len)
{
	bool v6 = strchr(a->host, ':') != NULL;

	snprintf(out, len, "%s%s%s:%s", v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}
