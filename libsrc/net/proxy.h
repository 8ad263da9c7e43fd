/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP CONNECT proxies (RFC 9110, section 9.3.6) for the clients: where a
 * network only lets connections out through a proxy, the client connects
 * to the proxy, asks it with "CONNECT HOST:PORT HTTP/1.1" for a tunnel to
 * the server, and once the proxy answers 2xx the socket is a plain TCP
 * connection to the far end: TLS, kernel TLS and the drivers run on it as
 * on a direct one. Configured once per process from the command line and
 * the environment as curl reads it (https_proxy, no_proxy); dial
 * (net/dial.h) uses it for every connection it makes.
 */
#ifndef USBIP_NET_PROXY_H
#define USBIP_NET_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/result.h"

/* The most a proxy's answer (status line and header fields) may take. */
#define PROXY_MAX_HEADER_BYTES 8192
/* A proxy URL without a port means this one, as for curl. */
#define PROXY_DEFAULT_PORT "1080"

struct usbip_proxy {
	char host[256];	    /* a name or an address; IPv6 without brackets */
	char port[6];	    /* decimal, 1 to 65535 */
	char name[264];	    /* "host:port" ("[v6]:port") for messages */
	char user[256];	    /* Basic authorization when auth is set */
	char password[256]; /* (wiped by proxy_free) */
	bool auth;
	char *no_proxy; /* hosts reached directly, curl's syntax; NULL: none */
};

/*
 * Parses http://[USER[:PASSWORD]@]HOST[:PORT][/] into p (no_proxy left
 * NULL). The scheme may be left out; USER and PASSWORD are percent-decoded.
 * Returns 0, or -1 with a one-line reason in err that never repeats the
 * URL (it may hold a password).
 */
int proxy_parse_url(const char *url, struct usbip_proxy *p, char *err, size_t err_len);

/*
 * Overwrites the password in a proxy URL given on the command line with
 * '*', so that ps and /proc show it no longer. url is changed in place.
 */
void proxy_hide_password(char *url);

/*
 * Takes USER:PASSWORD from the first line of path into p. The file must be
 * a regular file that others cannot read or write (as ssh asks of a key).
 * Returns 0, or -1 with a reason in err.
 */
int proxy_read_auth_file(const char *path, struct usbip_proxy *p, char *err, size_t err_len);

/*
 * Whether host is in a no_proxy list as curl matches it: entries separated
 * by commas or blanks; "*" alone matches everything; a name matches itself
 * and every name below it (example.com: www.example.com, not
 * myexample.com), case-insensitively, a leading or trailing dot ignored;
 * an IP address matches an address entry, with an optional /BITS prefix
 * length. Entries name hosts, never ports: one with ":PORT" matches nothing.
 */
bool proxy_no_proxy_match(const char *no_proxy, const char *host);

/*
 * Asks the proxy that fd is connected to for a tunnel to host:port, and
 * reads its answer: the status line and header fields, at most
 * PROXY_MAX_HEADER_BYTES and strictly (CRLF line ends, nothing that is not
 * HTTP/1.x), within timeout_ms for the whole exchange. It reads no byte
 * past the empty line that ends them, so what the far end sends next is
 * still in the socket for TLS or the drivers.
 * Returns USBIP_OK for a 2xx answer; otherwise logs one line naming the
 * proxy and what it said, and returns USBIP_E_REFUSED when the proxy said
 * no (a 4xx: 403 forbidden, 407 authentication needed or refused, or
 * tinyproxy's 401 for wrong credentials) or
 * USBIP_E_UNREACHABLE (5xx: it could not reach host; no answer, a closed
 * connection, garbage, over-long headers).
 */
enum usbip_result proxy_connect(int fd, const struct usbip_proxy *p, const char *host,
				const char *port, int timeout_ms);

/* The proxy options of every program that dials, as getopt_long entries. */
enum {
	USBIP_OPT_PROXY = 0x1101,
	USBIP_OPT_PROXY_AUTH_FILE,
	USBIP_OPT_NO_PROXY,
};
#define USBIP_PROXY_LONG_OPTIONS                                                                   \
	{ "proxy", required_argument, NULL, USBIP_OPT_PROXY },                                     \
		{ "proxy-auth-file", required_argument, NULL, USBIP_OPT_PROXY_AUTH_FILE },         \
	{                                                                                          \
		"no-proxy", no_argument, NULL, USBIP_OPT_NO_PROXY                                  \
	}
#define USBIP_PROXY_OPTIONS_HELP                                                                   \
	"      --proxy URL        connect through the HTTP proxy at\n"                             \
	"                         http://[USER:PASSWORD@]HOST:PORT (else https_proxy or\n"         \
	"                         HTTPS_PROXY; no_proxy names hosts to reach directly)\n"          \
	"      --proxy-auth-file FILE\n"                                                           \
	"                         the proxy's USER:PASSWORD, from a file others cannot\n"          \
	"                         read\n"                                                          \
	"      --no-proxy         connect directly, whatever the environment says\n"

struct proxy_options {
	char *url; /* --proxy: the program's own argument, to hide a password in */
	const char *auth_file;
	bool none; /* --no-proxy */
};

/*
 * Takes one of the options above into o. Returns 1 if it was one, 0 if not,
 * -1 with a message in err if bad.
 */
int proxy_parse_option(int id, char *arg, struct proxy_options *o, char *err, size_t err_len);

/*
 * The proxy the options and the environment ask for: --proxy, else
 * https_proxy, else HTTPS_PROXY (an empty one is none), with no_proxy (else
 * NO_PROXY) and the credentials of --proxy-auth-file, which replace any in
 * the URL. Sets *out to it, or to NULL for direct connections, and returns
 * 0; -1 with a message in err for a bad URL or credentials file.
 */
int proxy_setup(const struct proxy_options *o, struct usbip_proxy **out, char *err, size_t err_len);

/* Frees a proxy from proxy_setup, wiping its credentials; NULL is allowed. */
void proxy_free(struct usbip_proxy *p);

#endif
