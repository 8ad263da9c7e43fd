// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "net/address.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

/* What one parse needs besides the text at hand: for its messages and its rules. */
struct parse_ctx {
	const char *text; /* the whole text, quoted in messages */
	bool listener;	  /* --listen: the host may be empty, vsock:PORT is allowed */
	char *err;
	size_t err_len;
};

/* The URL forms; the port a URL leaves out is its scheme's (NULL: the caller's). */
static const struct url_form {
	const char *prefix;
	enum net_address_scheme scheme;
	const char *default_port;
} url_forms[] = {
	{ "usbip://", NET_ADDRESS_TCP, NULL },
	{ "ws://", NET_ADDRESS_WS, "80" },
	{ "wss://", NET_ADDRESS_WSS, "443" },
};

#define UNIX_PATH_MAX	 (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define VSOCK_NUMBER_MAX 0xfffffffeU /* 0xffffffff is the kernel's "any" */

/*
 * One line saying why, quoting the text as far as it is printable and not
 * too long: what a user typed may hold a newline or be a page long.
 */
static int fail(const struct parse_ctx *p, const char *why)
{
	char quoted[64];
	size_t i;

	for (i = 0; i < sizeof(quoted) - 1 && p->text[i]; i++) {
		unsigned char c = (unsigned char)p->text[i];

		quoted[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	quoted[i] = '\0';
	snprintf(p->err, p->err_len, "'%s%s': %s", quoted, p->text[i] ? "..." : "", why);
	return -1;
}

/* Decimal digits only, at most max_digits of them, at most max. */
static bool parse_number(const char *s, size_t len, size_t max_digits, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > max_digits)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * What a host name or an IP literal is made of (with '%' for an IPv6 zone):
 * nothing a log line or a shell would misread.
 */
/* Whether c is an ASCII letter or digit, or one of extra. */
static bool name_char(unsigned char c, const char *extra)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr(extra, c));
}

static bool host_ok(const char *host, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!name_char((unsigned char)host[i], ".-_:%"))
			return false;
	return len > 0;
}

bool address_is_host_name(const char *name)
{
	size_t len = strnlen(name, NET_ADDRESS_HOST_MAX);

	return len < NET_ADDRESS_HOST_MAX && strchr(name, ':') == NULL &&
	       strchr(name, '%') == NULL && host_ok(name, len);
}

/* What a WebSocket request path is made of (RFC 3986 path and query characters). */
static bool path_ok(const char *path)
{
	for (; *path; path++)
		if (!name_char((unsigned char)*path, "-._~!$&'()*+,;=:@/%?"))
			return false;
	return true;
}

/* Splits s into host (bytes [*host, *host + *host_len)) and port (NULL if none). */
static int split(const struct parse_ctx *p, const char *s, const char **host, size_t *host_len,
		 const char **port)
{
	const char *colon = strchr(s, ':'), *close;

	*port = NULL;
	*host = s;
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':'))
			return fail(p, "an IPv6 address is [ADDRESS] or [ADDRESS]:PORT");
		*host = s + 1;
		*host_len = (size_t)(close - s - 1);
		*port = close[1] ? close + 2 : NULL;
		return 0;
	}
	/* Two colons or more: a bare IPv6 literal, which cannot carry a port. */
	if (colon && !strchr(colon + 1, ':')) {
		*host_len = (size_t)(colon - s);
		*port = colon + 1;
	} else {
		*host_len = strlen(s);
	}
	return 0;
}

/* HOST, HOST:PORT, [V6]:PORT (a listener's ":PORT" too) into out's host and port. */
static int parse_host_port(const struct parse_ctx *p, const char *s, const char *default_port,
			   struct net_address *out)
{
	const char *host, *port;
	size_t host_len = 0;

	if (split(p, s, &host, &host_len, &port) != 0)
		return -1;
	if (host_len >= sizeof(out->host)) {
		snprintf(p->err, p->err_len, "host name of %zu bytes: at most %zu", host_len,
			 sizeof(out->host) - 1);
		return -1;
	}
	/* ":PORT" for a listener: every address. */
	if (!(p->listener && host_len == 0 && s[0] == ':') && !host_ok(host, host_len))
		return fail(p, p->listener ? "not HOST, HOST:PORT, :PORT or [IPV6]:PORT"
					   : "not HOST, HOST:PORT or [IPV6]:PORT");
	out->port_given = port != NULL;
	if (!port)
		port = default_port;
	if (!port || !parse_number(port, strlen(port), 5, 65535, &out->port))
		return fail(p, "the port is a number from 0 to 65535");
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	return 0;
}

/* The rest of a URL: the authority, then (WebSocket only) the path. */
static int parse_url(const struct parse_ctx *p, const struct url_form *form, const char *rest,
		     const char *default_port, struct net_address *out)
{
	const char *slash = strchr(rest, '/');
	size_t auth_len = slash ? (size_t)(slash - rest) : strlen(rest);
	char auth[NET_ADDRESS_HOST_MAX + 16];
	const char *path;

	if (auth_len >= sizeof(auth))
		return fail(p, "the host is too long");
	memcpy(auth, rest, auth_len);
	auth[auth_len] = '\0';
	/* A listener's ws://:PORT is every address; a remote names its host. */
	if (auth_len == 0 || (auth[0] == ':' && !p->listener))
		return fail(p, p->listener ? "a URL names its host or :PORT"
					   : "a URL names its host: SCHEME://HOST[:PORT]");
	out->scheme = form->scheme;
	if (parse_host_port(p, auth, form->default_port ? form->default_port : default_port, out) !=
	    0)
		return -1;
	if (form->scheme == NET_ADDRESS_TCP)
		return slash ? fail(p, "usbip:// takes no path") : 0;
	path = slash ? slash : NET_ADDRESS_WS_PATH;
	if (strlen(path) >= sizeof(out->path))
		return fail(p, "the path is too long");
	if (!path_ok(path))
		return fail(p, "a byte that has no place in a URL's path");
	strcpy(out->path, path);
	return 0;
}

/* unix:PATH, absolute or relative, as long as a socket address holds. */
static int parse_unix(const struct parse_ctx *p, const char *path, struct net_address *out)
{
	size_t len = strlen(path), i;

	if (len == 0)
		return fail(p, "unix: wants the path of a socket");
	if (len > UNIX_PATH_MAX) {
		snprintf(p->err, p->err_len, "a socket's path of %zu bytes: at most %zu", len,
			 (size_t)UNIX_PATH_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return fail(p, "a control character in the path");
	out->scheme = NET_ADDRESS_UNIX;
	memcpy(out->path, path, len + 1);
	return 0;
}

/*
 * srv:NAME: the hosts DNS SRV records list (net/srv.h), looked up when a
 * connection is made; no port (the records give them), not a listener.
 */
static int parse_srv(const struct parse_ctx *p, const char *name, struct net_address *out)
{
	size_t len = strlen(name);

	if (p->listener)
		return fail(p, "srv: names remotes, not a place to listen");
	if (len == 0 || len >= NET_ADDRESS_HOST_MAX || strchr(name, ':') || !host_ok(name, len))
		return fail(p, "srv: wants a DNS name (srv:pool.example.net)");
	out->scheme = NET_ADDRESS_SRV;
	memcpy(out->host, name, len + 1);
	return 0;
}

/*
 * What an mdns: remote's globs are made of: a host name's bytes, the glob
 * characters and the commas between globs; no glob empty.
 */
static bool patterns_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!name_char(c, ".-_*?[]!,"))
			return false;
		if (c == ',' && (i == 0 || i + 1 == len || s[i + 1] == ','))
			return false;
	}
	return true;
}

/*
 * mdns: or mdns:GLOB[,GLOB...]: the hosts announcing the service on the
 * LAN, looked up when a connection is made (net/mdns_browse.h); any host
 * only when no glob is given, which is the user's explicit choice.
 */
static int parse_mdns(const struct parse_ctx *p, const char *patterns, struct net_address *out)
{
	size_t len = strlen(patterns);

	if (p->listener)
		return fail(p, "mdns: names remotes, not a place to listen");
	if (len >= NET_ADDRESS_HOST_MAX || !patterns_ok(patterns, len))
		return fail(p, "mdns: takes host name globs, comma-separated "
			       "(mdns: any, mdns:lab-*.local)");
	out->scheme = NET_ADDRESS_MDNS;
	memcpy(out->host, patterns, len + 1);
	return 0;
}

/* vsock:CID:PORT, or a listener's vsock:PORT. */
static int parse_vsock(const struct parse_ctx *p, const char *s, struct net_address *out)
{
	const char *colon = strchr(s, ':');

	out->scheme = NET_ADDRESS_VSOCK;
	if (colon) {
		if (!parse_number(s, (size_t)(colon - s), 10, VSOCK_NUMBER_MAX, &out->cid))
			return fail(p, "the CID is a number from 0 to 4294967294");
		out->cid_given = true;
		s = colon + 1;
	} else if (!p->listener) {
		return fail(p, "a vsock remote is vsock:CID:PORT");
	}
	if (!parse_number(s, strlen(s), 10, VSOCK_NUMBER_MAX, &out->port))
		return fail(p, "the port is a number from 0 to 4294967294");
	out->port_given = true;
	return 0;
}

static int parse(const struct parse_ctx *p, const char *default_port, struct net_address *out)
{
	const char *text = p->text;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->scheme = NET_ADDRESS_TCP;
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(p, text + 5, out);
	if (strncmp(text, "vsock:", 6) == 0)
		return parse_vsock(p, text + 6, out);
	if (strncmp(text, "srv:", 4) == 0)
		return parse_srv(p, text + 4, out);
	if (strncmp(text, "mdns:", 5) == 0)
		return parse_mdns(p, text + 5, out);
	for (i = 0; i < sizeof(url_forms) / sizeof(url_forms[0]); i++) {
		size_t n = strlen(url_forms[i].prefix);

		if (strncasecmp(text, url_forms[i].prefix, n) == 0)
			return parse_url(p, &url_forms[i], text + n, default_port, out);
	}
	if (strstr(text, "://"))
		return fail(p, "not a kind of address usbip knows (usbip://, ws://, wss://, "
			       "unix:PATH, vsock:CID:PORT, srv:NAME, mdns:)");
	return parse_host_port(p, text, default_port, out);
}

int address_parse(const char *text, const char *default_port, struct net_address *out, char *err,
		  size_t err_len)
{
	const struct parse_ctx p = { .text = text, .err = err, .err_len = err_len };

	return parse(&p, default_port, out);
}

int address_parse_listener(const char *text, const char *default_port, struct net_address *out,
			   char *err, size_t err_len)
{
	const struct parse_ctx p = {
		.text = text, .listener = true, .err = err, .err_len = err_len
	};

	return parse(&p, default_port, out);
}

/*
 * Whether mdns: remotes can be browsed (net/mdns_browse.c has Avahi): from
 * the build's configuration, so that the syntax stays a file of its own.
 */
#ifdef HAVE_AVAHI
#define MDNS_BUILT true
#else
#define MDNS_BUILT false
#endif

int address_dialable(const struct net_address *a, char *err, size_t err_len)
{
	if (a->scheme == NET_ADDRESS_MDNS && !MDNS_BUILT) {
		snprintf(err, err_len,
			 "'mdns:%.64s': this build has no mDNS (configure --with-avahi)", a->host);
		return -1;
	}
	return 0;
}

const char *address_scheme_name(enum net_address_scheme scheme)
{
	switch (scheme) {
	case NET_ADDRESS_TCP:
		return "tcp";
	case NET_ADDRESS_WS:
		return "ws";
	case NET_ADDRESS_WSS:
		return "wss";
	case NET_ADDRESS_UNIX:
		return "unix";
	case NET_ADDRESS_VSOCK:
		return "vsock";
	case NET_ADDRESS_SRV:
		return "srv";
	case NET_ADDRESS_MDNS:
		return "mdns";
	}
	return "?";
}

void address_format(const struct net_address *a, char *out, size_t len)
{
	bool v6 = strchr(a->host, ':') != NULL;

	switch (a->scheme) {
	case NET_ADDRESS_UNIX:
		snprintf(out, len, "unix:%s", a->path);
		return;
	case NET_ADDRESS_VSOCK:
		if (a->cid_given)
			snprintf(out, len, "vsock:%u:%u", a->cid, a->port);
		else
			snprintf(out, len, "vsock:%u", a->port);
		return;
	case NET_ADDRESS_WS:
	case NET_ADDRESS_WSS:
		snprintf(out, len, "%s://%s%s%s:%u%s", address_scheme_name(a->scheme),
			 v6 ? "[" : "", a->host, v6 ? "]" : "", a->port, a->path);
		return;
	case NET_ADDRESS_SRV:
		snprintf(out, len, "srv:%s", a->host);
		return;
	case NET_ADDRESS_MDNS:
		snprintf(out, len, "mdns:%s", a->host);
		return;
	case NET_ADDRESS_TCP:
		break;
	}
	/* A host named like a prefix ("unix:1") is written as the URL it also is. */
	snprintf(out, len, "%s%s%s%s:%u",
		 strcmp(a->host, "unix") == 0 || strcmp(a->host, "vsock") == 0 ||
				 strcmp(a->host, "srv") == 0 || strcmp(a->host, "mdns") == 0
			 ? "usbip://"
			 : "",
		 v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}
