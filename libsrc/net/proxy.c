// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "net/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/file.h"
#include "util/log.h"
#include "util/io.h"

/* ------------------------------------------------------------------ URLs */

/* RFC 3986 reg-name characters a host name can have (no percent-encoding). */
static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static bool is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* Copies host into out ("[v6]" for an IPv6 address); -1 if not a host. */
static int format_host(char *out, size_t len, const char *host, const char *port)
{
	const char *c;
	int n;

	if (!*host)
		return -1;
	if (strchr(host, ':')) {
		if (!is_ipv6(host))
			return -1;
		n = snprintf(out, len, "[%s]:%s", host, port);
	} else {
		for (c = host; *c; c++)
			if (!host_char(*c))
				return -1;
		n = snprintf(out, len, "%s:%s", host, port);
	}
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A credential fits a header: no control characters (RFC 7617 excludes them). */
static bool credential_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Percent-decodes s[0..n) into out (cap bytes); -1 if malformed or too long. */
static int percent_decode(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	/* A %00 would cut the credential short without a word. */
	return strlen(out) == o ? 0 : -1;
}

static int url_error(char *err, size_t err_len, const char *what)
{
	snprintf(err, err_len, "bad proxy URL: %s", what);
	return -1;
}

/* Where the authority of url starts: after "http://", or at once without a scheme. */
static const char *url_authority(const char *url, char *err, size_t err_len)
{
	const char *auth = strstr(url, "://");
	size_t n;

	if (!auth)
		return url;
	n = (size_t)(auth - url);
	if (n == 5 && strncasecmp(url, "https", 5) == 0) {
		url_error(err, err_len,
			  "TLS to the proxy (https://) is not supported; "
			  "give http:// (the tunnel still carries --tls)");
		return NULL;
	}
	if (n != 4 || strncasecmp(url, "http", 4) != 0) {
		url_error(err, err_len, "only http:// proxies are supported");
		return NULL;
	}
	return auth + 3;
}

/* The last '@' in [auth, end): a password with an unencoded '@' still parses. */
static const char *last_at(const char *auth, const char *end)
{
	const char *c, *at = NULL;

	for (c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	return at;
}

/* Decodes USER[:PASSWORD] in [auth, at) into p. */
static int url_userinfo(const char *auth, const char *at, struct usbip_proxy *p, char *err,
			size_t err_len)
{
	const char *colon = memchr(auth, ':', (size_t)(at - auth));

	if (!colon)
		colon = at;
	if (colon == auth ||
	    percent_decode(p->user, sizeof(p->user), auth, (size_t)(colon - auth)) != 0 ||
	    (colon < at && percent_decode(p->password, sizeof(p->password), colon + 1,
					  (size_t)(at - colon - 1)) != 0))
		return url_error(err, err_len, "bad USER:PASSWORD before '@'");
	if (!credential_ok(p->user) || !credential_ok(p->password) || strchr(p->user, ':'))
		return url_error(err, err_len,
				 "control characters in USER:PASSWORD, or ':' "
				 "in USER");
	p->auth = true;
	return 0;
}

/*
 * Reads "[v6]" or a name/IPv4 address from [host, end) into p->host; *port is set
 * to what follows its ':' (NULL without one).
 */
static int url_host(const char *host, const char *end, struct usbip_proxy *p, const char **port,
		    char *err, size_t err_len)
{
	const char *host_end;
	size_t n;

	*port = NULL;
	if (*host == '[') {
		host++;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return url_error(err, err_len, "'[' without ']' around an IPv6 address");
		if ((size_t)(host_end - host) < sizeof(p->host)) {
			memcpy(p->host, host, (size_t)(host_end - host));
			p->host[host_end - host] = '\0';
		}
		if (!is_ipv6(p->host))
			return url_error(err, err_len, "no IPv6 address inside '[...]'");
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return url_error(err, err_len, "junk after ']'");
			*port = host_end + 2;
		}
	} else {
		host_end = memchr(host, ':', (size_t)(end - host));
		if (host_end)
			*port = host_end + 1;
		else
			host_end = end;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof(p->host))
		return url_error(err, err_len, "no proxy host, or a host name too long");
	memcpy(p->host, host, n);
	p->host[n] = '\0';
	return 0;
}

/* Reads the port in [port, end) into p->port: decimal digits, 1 to 65535. */
static int url_port(const char *port, const char *end, struct usbip_proxy *p, char *err,
		    size_t err_len)
{
	unsigned long v = 0;
	const char *c;
	size_t n = (size_t)(end - port);

	if (n == 0 || n > 5)
		return url_error(err, err_len, "the port wants 1 to 65535");
	for (c = port; c < end; c++) {
		if (*c < '0' || *c > '9')
			return url_error(err, err_len, "the port wants 1 to 65535");
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v == 0 || v > 65535)
		return url_error(err, err_len, "the port wants 1 to 65535");
	snprintf(p->port, sizeof(p->port), "%lu", v);
	return 0;
}

int proxy_parse_url(const char *url, struct usbip_proxy *p, char *err, size_t err_len)
{
	const char *auth, *end, *at, *host, *port;

	memset(p, 0, sizeof(*p));
	auth = url_authority(url, err, err_len);
	if (!auth)
		return -1;
	/* Nothing may follow the authority but one "/" (as in https_proxy=http://p:3128/). */
	end = auth + strcspn(auth, "/?#");
	if (*end && strcmp(end, "/") != 0)
		return url_error(err, err_len,
				 "a proxy URL has no path, query or fragment (percent-encode "
				 "'/', '?' and '#' in a password)");
	at = last_at(auth, end);
	host = auth;
	if (at) {
		if (url_userinfo(auth, at, p, err, err_len) != 0)
			return -1;
		host = at + 1;
	}
	if (url_host(host, end, p, &port, err, err_len) != 0)
		return -1;
	if (port) {
		if (url_port(port, end, p, err, err_len) != 0)
			return -1;
	} else {
		snprintf(p->port, sizeof(p->port), "%s", PROXY_DEFAULT_PORT);
	}
	if (format_host(p->name, sizeof(p->name), p->host, p->port) != 0)
		return url_error(err, err_len, "the proxy host is not a host name or address");
	return 0;
}

void proxy_hide_password(char *url)
{
	char *auth = strstr(url, "://"), *colon;
	const char *at;

	auth = auth ? auth + 3 : url;
	at = last_at(auth, auth + strcspn(auth, "/?#"));
	if (!at)
		return;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon)
		memset(colon + 1, '*', (size_t)(at - colon - 1));
}

/* USER:PASSWORD and its newline; user and password each fit in far less. */
#define PROXY_AUTH_FILE_MAX 1023

int proxy_read_auth_file(const char *path, struct usbip_proxy *p, char *err, size_t err_len)
{
	char *buf, *colon, *nl, why[160];
	mode_t mode;
	size_t n;
	int rc = -1;

	/* Never waits on it: a FIFO, a directory or /dev/zero is refused at once. */
	if (file_read_regular(path, PROXY_AUTH_FILE_MAX, "password file", &buf, &n, &mode, NULL,
			      why, sizeof(why)) != 0) {
		snprintf(err, err_len, "%s: %s", path, why);
		return -1;
	}
	/* A password others can read is no secret; one others can write is not ours. */
	if (mode & S_IRWXO) {
		snprintf(err, err_len, "%s: others can read or write it (chmod o-rwx)", path);
		goto wipe;
	}
	/* One line, its end optional; a file edited on Windows ends it with CRLF. */
	nl = strchr(buf, '\n');
	if (memchr(buf, '\0', n) || (nl && nl[1] != '\0')) {
		snprintf(err, err_len, "%s: wants one line, USER:PASSWORD", path);
		goto wipe;
	}
	if (nl) {
		*nl = '\0';
		if (nl > buf && nl[-1] == '\r')
			nl[-1] = '\0';
	}
	colon = strchr(buf, ':');
	if (!colon || colon == buf) {
		snprintf(err, err_len, "%s: wants USER:PASSWORD", path);
		goto wipe;
	}
	*colon = '\0';
	if (!credential_ok(buf) || !credential_ok(colon + 1) || strlen(buf) >= sizeof(p->user) ||
	    strlen(colon + 1) >= sizeof(p->password)) {
		snprintf(err, err_len, "%s: USER:PASSWORD too long or with control characters",
			 path);
		goto wipe;
	}
	strcpy(p->user, buf);
	strcpy(p->password, colon + 1);
	p->auth = true;
	rc = 0;
wipe:
	OPENSSL_cleanse(buf, n);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------- no_proxy */

/* Whether addr is in network/bits (bits: 32 or 128 for the whole address). */
static bool prefix_match(const uint8_t *addr, const uint8_t *net, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(addr, net, (size_t)full) != 0)
		return false;
	return !rest || !((addr[full] ^ net[full]) & (0xff << (8 - rest)));
}

/* An address entry ("ADDR" or "ADDR/BITS") against a host address of family af. */
static bool address_entry_match(int af, const uint8_t *host, const char *entry, size_t len)
{
	int max = af == AF_INET ? 32 : 128, bits = max;
	char text[INET6_ADDRSTRLEN + 5];
	uint8_t net[16];
	char *slash, *end;

	if (len >= sizeof(text))
		return false;
	memcpy(text, entry, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash) {
		long v;

		*slash = '\0';
		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || v < 0 || v > max)
			return false;
		bits = (int)v;
	}
	if (inet_pton(af, text, net) != 1)
		return false;
	return prefix_match(host, net, bits);
}

/* A name entry: the name itself or a domain above it, dots at its ends ignored. */
static bool name_entry_match(const char *name, size_t name_len, const char *entry, size_t len)
{
	if (len && entry[len - 1] == '.')
		len--;
	if (len && entry[0] == '.') {
		entry++;
		len--;
	}
	if (!len || len > name_len)
		return false;
	if (len == name_len)
		return strncasecmp(name, entry, len) == 0;
	return name[name_len - len - 1] == '.' &&
	       strncasecmp(name + name_len - len, entry, len) == 0;
}

bool proxy_no_proxy_match(const char *no_proxy, const char *host)
{
	uint8_t addr[16];
	size_t name_len;
	const char *p;
	int af = 0;

	if (!no_proxy || !*no_proxy || !host || !*host)
		return false;
	if (strcmp(no_proxy, "*") == 0)
		return true;
	if (inet_pton(AF_INET, host, addr) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		af = AF_INET6;
	name_len = strlen(host);
	if (!af && host[name_len - 1] == '.')
		name_len--;

	for (p = no_proxy; *p;) {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len && (af ? address_entry_match(af, addr, p, len)
			       : name_entry_match(host, name_len, p, len)))
			return true;
		p += len;
	}
	return false;
}

/* -------------------------------------------------------- the exchange */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t n;
	int rc;

	while (len) {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && !io_try_again(errno))
			return -1;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc <= 0) {
			if (rc == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* What the proxy answered, as far as it matters here. */
struct proxy_reply {
	int status;
	char reason[128];  /* the reason phrase, as sent (bounded) */
	char schemes[128]; /* Proxy-Authenticate: the first scheme of each */
	char first[64];	   /* the start of the answer, for a message on garbage */
};

enum read_outcome {
	READ_OK,
	READ_TIMEOUT,
	READ_CLOSED,
	READ_ERROR,
	READ_GARBAGE,
	READ_TOO_LONG,
};

/* RFC 9110 tchar: what a field name is made of. */
static bool tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field value bytes: VCHAR, obs-text, SP and HTAB. */
static bool value_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u == ' ' || u == '\t' || (u > 0x20 && u != 0x7f);
}

/*
 * The bytes of an answer that can never be HTTP, checked as they arrive so
 * that a peer speaking something else fails at once and not at the
 * deadline: the start must be "HTTP/1.", and CR and LF only come as CRLF.
 */
static bool plausible(const char *buf, size_t from, size_t len)
{
	static const char prefix[] = "HTTP/1.";
	size_t i;

	for (i = from; i < len; i++) {
		char c = buf[i];

		if (i < sizeof(prefix) - 1 && c != prefix[i])
			return false;
		if (c == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return false;
		if (i > 0 && buf[i - 1] == '\r' && c != '\n')
			return false;
		if (c != '\r' && c != '\n' && !value_char(c))
			return false;
	}
	return true;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] (RFC 9112, 4), n bytes without its CRLF. */
static int parse_status_line(const char *line, size_t n, struct proxy_reply *r)
{
	const char *c;

	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ')
		return -1;
	for (c = line + 9; c < line + 12; c++)
		if (!isdigit((unsigned char)*c))
			return -1;
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (r->status < 100)
		return -1;
	if (n > 12) {
		size_t rn = n - 13;

		if (line[12] != ' ')
			return -1;
		if (rn >= sizeof(r->reason))
			rn = sizeof(r->reason) - 1;
		memcpy(r->reason, line + 13, rn);
		r->reason[rn] = '\0';
	}
	return 0;
}

/* Adds the auth-scheme at the start of a Proxy-Authenticate value [value, eol) to r->schemes. */
static void add_auth_scheme(const char *value, const char *eol, struct proxy_reply *r)
{
	size_t have = strlen(r->schemes), sl;
	const char *c;

	for (c = value; c < eol && (*c == ' ' || *c == '\t'); c++)
		;
	for (sl = 0; c + sl < eol && tchar(c[sl]); sl++)
		;
	if (sl && have + sl + 3 < sizeof(r->schemes))
		snprintf(r->schemes + have, sizeof(r->schemes) - have, "%s%.*s", have ? ", " : "",
			 (int)sl, c);
}

/* One "name: value" field line of n bytes (without its CRLF at eol). */
static int parse_field(const char *line, size_t n, const char *eol, struct proxy_reply *r)
{
	const char *colon = memchr(line, ':', n), *c;

	if (!colon || colon == line)
		return -1;
	/* No space before the colon (RFC 9112, 5.1). */
	for (c = line; c < colon; c++)
		if (!tchar(*c))
			return -1;
	if (colon - line == 18 && strncasecmp(line, "Proxy-Authenticate", 18) == 0)
		add_auth_scheme(colon + 1, eol, r);
	return 0;
}

/* Parses one header block (status line to the empty line, CRLFs included). */
static int parse_block(const char *buf, size_t len, struct proxy_reply *r)
{
	const char *line = buf, *end = buf + len, *eol;
	bool any_field = false;

	r->status = 0;
	r->reason[0] = '\0';
	while (line < end) {
		size_t n;

		eol = memchr(line, '\r', (size_t)(end - line));
		if (!eol || eol + 1 >= end || eol[1] != '\n')
			return -1;
		n = (size_t)(eol - line);
		if (line == buf) {
			if (parse_status_line(line, n, r) != 0)
				return -1;
		} else if (n == 0) {
			return eol + 2 == end ? 0 : -1;
		} else if (line[0] == ' ' || line[0] == '\t') {
			/* obs-fold: a continuation of the previous field (RFC 9112, 5.2) */
			if (!any_field)
				return -1;
		} else {
			if (parse_field(line, n, eol, r) != 0)
				return -1;
			any_field = true;
		}
		line = eol + 2;
	}
	return -1;
}

/*
 * Reads header blocks until a final (not 1xx) answer. It peeks and then
 * takes only up to the end of the block, so no tunnel byte is consumed.
 */
static enum read_outcome read_reply(int fd, long long deadline, struct proxy_reply *r)
{
	static const char crlf2[] = "\r\n\r\n";
	char buf[PROXY_MAX_HEADER_BYTES];
	size_t len = 0, total = 0;
	ssize_t n, took;

	memset(r, 0, sizeof(*r));
	for (;;) {
		size_t scan, take, i;
		bool found = false;
		int rc;

		n = recv(fd, buf + len, sizeof(buf) - len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0) {
			if (!io_try_again(errno))
				return READ_ERROR;
			rc = wait_fd(fd, POLLIN, deadline);
			if (rc < 0)
				return READ_ERROR;
			if (rc == 0)
				return READ_TIMEOUT;
			continue;
		}
		if (n == 0)
			return READ_CLOSED;
		/* The end of the block may straddle what was read before. */
		scan = len > 3 ? len - 3 : 0;
		take = (size_t)n;
		for (i = scan; i + 4 <= len + (size_t)n; i++) {
			if (memcmp(buf + i, crlf2, 4) == 0) {
				take = i + 4 - len;
				found = true;
				break;
			}
		}
		took = recv(fd, buf + len, take, MSG_DONTWAIT);
		if (took < 0)
			return READ_ERROR;
		if (!len && !total)
			snprintf(r->first, sizeof(r->first), "%.*s",
				 (int)((size_t)took < sizeof(r->first) - 1 ? (size_t)took
									   : sizeof(r->first) - 1),
				 buf);
		if (!plausible(buf, len, len + (size_t)took))
			return READ_GARBAGE;
		len += (size_t)took;
		if ((size_t)took != take)
			continue;
		if (!found) {
			if (total + len >= sizeof(buf))
				return READ_TOO_LONG;
			continue;
		}
		if (parse_block(buf, len, r) != 0)
			return READ_GARBAGE;
		if (r->status >= 200)
			return READ_OK;
		/* 1xx: an interim answer; the final one follows (RFC 9110, 15.2). */
		total += len;
		len = 0;
		if (total >= sizeof(buf))
			return READ_TOO_LONG;
	}
}

/* The request: CONNECT in authority form, Host as RFC 9110 asks for, Basic credentials. */
static int format_request(char *req, size_t cap, const struct usbip_proxy *p, const char *authority)
{
	unsigned char creds[sizeof(p->user) + sizeof(p->password) + 1];
	unsigned char b64[((sizeof(creds) + 2) / 3) * 4 + 1];
	char auth_line[sizeof(b64) + 40];
	int n, clen;

	auth_line[0] = '\0';
	if (p->auth) {
		clen = snprintf((char *)creds, sizeof(creds), "%s:%s", p->user, p->password);
		EVP_EncodeBlock(b64, creds, clen);
		snprintf(auth_line, sizeof(auth_line), "Proxy-Authorization: Basic %s\r\n", b64);
		OPENSSL_cleanse(creds, sizeof(creds));
		OPENSSL_cleanse(b64, sizeof(b64));
	}
	n = snprintf(req, cap,
		     "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%sUser-Agent: " PACKAGE_NAME
		     "/" PACKAGE_VERSION "\r\n\r\n",
		     authority, authority, auth_line);
	OPENSSL_cleanse(auth_line, sizeof(auth_line));
	return n > 0 && (size_t)n < cap ? n : -1;
}

/* Whether a "Basic, Negotiate" list of schemes has Basic. */
static bool offers_basic(const char *schemes)
{
	const char *s = schemes;

	while (*s) {
		size_t n = strcspn(s, ", ");

		if (n == 5 && strncasecmp(s, "basic", 5) == 0)
			return true;
		s += n;
		s += strspn(s, ", ");
	}
	return false;
}

static enum usbip_result refused(const struct usbip_proxy *p, const char *authority,
				 const struct proxy_reply *r)
{
	char reason[LOG_ESCAPED_SIZE(sizeof(r->reason))];
	char schemes[LOG_ESCAPED_SIZE(sizeof(r->schemes))];
	char user[LOG_ESCAPED_SIZE(64)];

	log_escape(reason, sizeof(reason), r->reason);
	log_escape(schemes, sizeof(schemes), r->schemes);
	log_escape(user, sizeof(user), p->user);
	/* tinyproxy answers wrong credentials with 401, not 407. */
	if ((r->status == 407 || r->status == 401) && p->auth)
		log_err("proxy %s refused the credentials of '%s' for CONNECT %s: %d %s", p->name,
			user, authority, r->status, reason);
	else if (r->status == 407 && *r->schemes && !offers_basic(r->schemes))
		log_err("proxy %s wants authentication other than Basic (%s) for CONNECT %s: %d "
			"%s",
			p->name, schemes, authority, r->status, reason);
	else if (r->status == 407)
		log_err("proxy %s wants a user and password for CONNECT %s (--proxy-auth-file): "
			"%d %s",
			p->name, authority, r->status, reason);
	else
		log_err("proxy %s refused CONNECT %s: %d %s", p->name, authority, r->status,
			reason);
	return USBIP_E_REFUSED;
}

enum usbip_result proxy_connect(int fd, const struct usbip_proxy *p, const char *host,
				const char *port, int timeout_ms)
{
	char authority[300], req[1200],
		said[LOG_ESCAPED_SIZE(sizeof(((struct proxy_reply *)0)->first))];
	long long deadline = now_ms() + timeout_ms;
	struct proxy_reply r;
	int len;

	if (format_host(authority, sizeof(authority), host, port) != 0) {
		log_escape(said, sizeof(said), host);
		log_err("cannot ask proxy %s for '%s': not a host name or address", p->name, said);
		return USBIP_E_UNREACHABLE;
	}
	len = format_request(req, sizeof(req), p, authority);
	if (len < 0) {
		log_err("proxy %s: the CONNECT request does not fit", p->name);
		return USBIP_E_FAILED;
	}
	log_debug("asking proxy %s for CONNECT %s", p->name, authority);
	if (send_all(fd, req, (size_t)len, deadline) != 0) {
		OPENSSL_cleanse(req, sizeof(req));
		log_err("proxy %s: sending CONNECT %s: %s", p->name, authority, strerror(errno));
		return USBIP_E_UNREACHABLE;
	}
	OPENSSL_cleanse(req, sizeof(req));

	switch (read_reply(fd, deadline, &r)) {
	case READ_OK:
		break;
	case READ_TIMEOUT:
		log_err("proxy %s did not answer CONNECT %s within %d ms", p->name, authority,
			timeout_ms);
		return USBIP_E_UNREACHABLE;
	case READ_CLOSED:
		log_err("proxy %s closed the connection before it answered CONNECT %s", p->name,
			authority);
		return USBIP_E_UNREACHABLE;
	case READ_ERROR:
		log_err("proxy %s: reading its answer to CONNECT %s: %s", p->name, authority,
			strerror(errno));
		return USBIP_E_UNREACHABLE;
	case READ_GARBAGE:
		log_escape(said, sizeof(said), r.first);
		log_err("proxy %s answered CONNECT %s with something not HTTP: \"%s\"", p->name,
			authority, said);
		return USBIP_E_UNREACHABLE;
	case READ_TOO_LONG:
		log_err("proxy %s answered CONNECT %s with more than %d bytes of header", p->name,
			authority, PROXY_MAX_HEADER_BYTES);
		return USBIP_E_UNREACHABLE;
	}
	if (r.status >= 200 && r.status < 300) {
		log_debug("proxy %s: tunnel to %s: %d", p->name, authority, r.status);
		return USBIP_OK;
	}
	if (r.status >= 500) {
		log_escape(said, sizeof(said), r.reason);
		log_err("proxy %s could not reach %s: %d %s", p->name, authority, r.status, said);
		return USBIP_E_UNREACHABLE;
	}
	return refused(p, authority, &r);
}

/* ------------------------------------------------------------- options */

int proxy_parse_option(int id, char *arg, struct proxy_options *o, char *err, size_t err_len)
{
	switch (id) {
	case USBIP_OPT_PROXY:
		o->url = arg;
		return 1;
	case USBIP_OPT_PROXY_AUTH_FILE:
		o->auth_file = arg;
		return 1;
	case USBIP_OPT_NO_PROXY:
		o->none = true;
		return 1;
	}
	(void)err;
	(void)err_len;
	return 0;
}

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	return v ? v : getenv(b);
}

int proxy_setup(const struct proxy_options *o, struct usbip_proxy **out, char *err, size_t err_len)
{
	const char *url = o->url, *from = "--proxy", *no_proxy;
	struct usbip_proxy *p;
	char why[200];
	int rc;

	*out = NULL;
	if (o->none && (o->url || o->auth_file)) {
		snprintf(err, err_len,
			 "--no-proxy goes with neither --proxy nor --proxy-auth-file");
		return -1;
	}
	if (o->none)
		return 0;
	if (!url) {
		/* curl reads the lower-case name first. */
		from = getenv("https_proxy") ? "https_proxy" : "HTTPS_PROXY";
		url = env_first("https_proxy", "HTTPS_PROXY");
	}
	if (!url || !*url) {
		if (o->auth_file) {
			snprintf(err, err_len,
				 "--proxy-auth-file without a proxy (--proxy or https_proxy)");
			return -1;
		}
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	rc = proxy_parse_url(url, p, why, sizeof(why));
	if (o->url)
		proxy_hide_password(o->url);
	if (rc != 0) {
		snprintf(err, err_len, "%s: %s", from, why);
		proxy_free(p);
		return -1;
	}
	if (o->auth_file && proxy_read_auth_file(o->auth_file, p, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "--proxy-auth-file: %s", why);
		proxy_free(p);
		return -1;
	}
	no_proxy = env_first("no_proxy", "NO_PROXY");
	if (no_proxy && *no_proxy) {
		p->no_proxy = strdup(no_proxy);
		if (!p->no_proxy) {
			snprintf(err, err_len, "out of memory");
			proxy_free(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

void proxy_free(struct usbip_proxy *p)
{
	if (!p)
		return;
	free(p->no_proxy);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}
