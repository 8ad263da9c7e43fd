// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP CONNECT proxies: the URL, no_proxy as curl matches it, the
 * credentials file, and the exchange against a fake proxy on the other end
 * of a socketpair or a TCP connection on 127.0.0.1.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/proxy.h"

/* ------------------------------------------------------------------ URLs */

static void test_url_good(void **state)
{
	struct usbip_proxy p;
	char err[200];

	assert_int_equal(proxy_parse_url("http://proxy.example.net:3128", &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "proxy.example.net");
	assert_string_equal(p.port, "3128");
	assert_string_equal(p.name, "proxy.example.net:3128");
	assert_false(p.auth);

	/* As https_proxy often is: a trailing slash, upper-case scheme, no port. */
	assert_int_equal(proxy_parse_url("HTTP://10.0.0.1/", &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "10.0.0.1");
	assert_string_equal(p.port, PROXY_DEFAULT_PORT);

	assert_int_equal(proxy_parse_url("proxy:8080", &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "proxy");
	assert_string_equal(p.port, "8080");

	assert_int_equal(proxy_parse_url("http://[2001:db8::1]:3128/", &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "2001:db8::1");
	assert_string_equal(p.name, "[2001:db8::1]:3128");

	assert_int_equal(proxy_parse_url("http://bob:s%40cr%3At@proxy:3128", &p, err, sizeof(err)),
			 0);
	assert_true(p.auth);
	assert_string_equal(p.user, "bob");
	assert_string_equal(p.password, "s@cr:t");
	assert_string_equal(p.host, "proxy");

	/* An unencoded '@' in the password: the last one ends the credentials. */
	assert_int_equal(proxy_parse_url("http://bob:a@b@proxy:3128", &p, err, sizeof(err)), 0);
	assert_string_equal(p.password, "a@b");
	assert_string_equal(p.host, "proxy");

	assert_int_equal(proxy_parse_url("http://bob@proxy:3128", &p, err, sizeof(err)), 0);
	assert_true(p.auth);
	assert_string_equal(p.user, "bob");
	assert_string_equal(p.password, "");

	/* An empty password after ':' is still credentials; "[v6]" without a port. */
	assert_int_equal(proxy_parse_url("http://bob:@[::1]", &p, err, sizeof(err)), 0);
	assert_true(p.auth);
	assert_string_equal(p.password, "");
	assert_string_equal(p.name, "[::1]:" PROXY_DEFAULT_PORT);

	/* The port is read as a number: leading zeros go. */
	assert_int_equal(proxy_parse_url("proxy:03128", &p, err, sizeof(err)), 0);
	assert_string_equal(p.port, "3128");
	assert_string_equal(p.name, "proxy:3128");
}

static void test_url_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"http://",
		"http://:3128",
		"https://proxy:3128",
		"socks5://proxy:1080",
		"ftp://proxy:21",
		"http://proxy:",
		"http://proxy:0",
		"http://proxy:65536",
		"http://proxy:31x8",
		"http://proxy:3128/path",
		"http://proxy:3128?q",
		"http://proxy:3128#f",
		"http://[2001:db8::1:3128",
		"http://[2001:db8::1]x",
		"http://[not-v6]:3128",
		"http://pro xy:3128",
		"http://proxy\r\nX: y:3128",
		"http://:pass@proxy:3128",
		"http://bob:%zz@proxy:3128",
		"http://bob:%4@proxy:3128",
		"http://bob:a%00b@proxy:3128",
		"http://bob:a%0d%0aX:%20y@proxy:3128",
		"http://b%3Ab:pass@proxy:3128",
		"http://[]:3128",
		"http://[2001:db8::1]:",
		"http://bob:pass@",
		"http://bob:pass@:3128",
		"http://proxy:003128",
		"http://proxy:-1",
	};
	struct usbip_proxy p;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (proxy_parse_url(bad[i], &p, err, sizeof(err)) != -1)
			fail_msg("'%s' was taken", bad[i]);
		assert_non_null(strstr(err, "bad proxy URL"));
	}
	/* The reason never repeats the URL: it may hold a password. */
	assert_int_equal(proxy_parse_url("http://bob:hunter2@proxy:99999", &p, err, sizeof(err)),
			 -1);
	assert_null(strstr(err, "hunter2"));
}

static void test_hide_password(void **state)
{
	char a[] = "http://bob:hunter2@proxy:3128", b[] = "http://proxy:3128",
	     c[] = "bob:x@y@proxy:3128/";

	proxy_hide_password(a);
	assert_string_equal(a, "http://bob:*******@proxy:3128");
	proxy_hide_password(b);
	assert_string_equal(b, "http://proxy:3128");
	proxy_hide_password(c);
	assert_string_equal(c, "bob:***@proxy:3128/");
}

/* -------------------------------------------------------------- no_proxy */

static void test_no_proxy(void **state)
{
	/* No list, an empty one: the proxy for everything. */
	assert_false(proxy_no_proxy_match(NULL, "devhost"));
	assert_false(proxy_no_proxy_match("", "devhost"));
	/* "*" alone matches every host; inside a list it is no wildcard (curl). */
	assert_true(proxy_no_proxy_match("*", "devhost"));
	assert_true(proxy_no_proxy_match("*", "192.0.2.1"));
	assert_false(proxy_no_proxy_match("a,*", "devhost"));

	/* Exact names, case-insensitively; a trailing dot on either side ignored. */
	assert_true(proxy_no_proxy_match("devhost", "devhost"));
	assert_true(proxy_no_proxy_match("DevHost", "devhost."));
	assert_true(proxy_no_proxy_match("devhost.", "devhost"));
	assert_false(proxy_no_proxy_match("devhost", "devhost2"));

	/* A domain with or without a leading dot covers itself and names below it. */
	assert_true(proxy_no_proxy_match("example.com", "www.example.com"));
	assert_true(proxy_no_proxy_match("example.com", "example.com"));
	assert_true(proxy_no_proxy_match(".example.com", "www.example.com"));
	assert_true(proxy_no_proxy_match(".example.com", "example.com"));
	assert_true(proxy_no_proxy_match("example.com", "a.b.example.com"));
	assert_false(proxy_no_proxy_match("example.com", "myexample.com"));
	assert_false(proxy_no_proxy_match("example.com", "example.com.evil"));
	assert_false(proxy_no_proxy_match("www.example.com", "example.com"));

	/* Lists: commas and blanks, empty entries skipped. */
	assert_true(proxy_no_proxy_match("localhost, .corp ,,devhost", "devhost"));
	assert_true(proxy_no_proxy_match("localhost\t.corp", "a.corp"));
	assert_false(proxy_no_proxy_match("localhost, .corp", "devhost"));

	/* Ports: entries name hosts; one with a port matches nothing (curl). */
	assert_false(proxy_no_proxy_match("devhost:3240", "devhost"));
	assert_false(proxy_no_proxy_match("192.0.2.1:3240", "192.0.2.1"));

	/* Addresses match addresses, with a prefix length, and never names. */
	assert_true(proxy_no_proxy_match("192.0.2.1", "192.0.2.1"));
	assert_false(proxy_no_proxy_match("192.0.2.1", "192.0.2.10"));
	assert_true(proxy_no_proxy_match("10.0.0.0/8,192.0.2.0/24", "192.0.2.77"));
	assert_false(proxy_no_proxy_match("192.0.2.0/25", "192.0.2.200"));
	assert_true(proxy_no_proxy_match("0.0.0.0/0", "198.51.100.1"));
	assert_false(proxy_no_proxy_match("192.0.2.0/33", "192.0.2.1"));
	assert_false(proxy_no_proxy_match("192.0.2.0/x", "192.0.2.1"));
	assert_false(proxy_no_proxy_match("localhost", "127.0.0.1"));
	assert_false(proxy_no_proxy_match("2.1", "192.0.2.1"));
	assert_true(proxy_no_proxy_match("::1", "::1"));
	assert_true(proxy_no_proxy_match("2001:db8::/32", "2001:db8:ffff::5"));
	assert_false(proxy_no_proxy_match("2001:db8::/33", "2001:db8:ffff::5"));
	assert_false(proxy_no_proxy_match("::1", "::2"));
}

/* ----------------------------------------------------- credentials file */

static char *write_file(const char *text, size_t len, mode_t mode)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_proxy_auth.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static int read_auth_n(const char *text, size_t len, mode_t mode, struct usbip_proxy *p, char *err,
		       size_t err_len)
{
	char *path = write_file(text, len, mode);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = proxy_read_auth_file(path, p, err, err_len);
	unlink(path);
	return rc;
}

static int read_auth(const char *text, mode_t mode, struct usbip_proxy *p, char *err,
		     size_t err_len)
{
	return read_auth_n(text, strlen(text), mode, p, err, err_len);
}

static void test_auth_file(void **state)
{
	static const char *const bad[] = {
		"", "\n", "nocolon\n", ":pass\n", "bob:pa\x01ss\n", "bob:one\nbob:two\n"
	};
	struct usbip_proxy p;
	char err[300];
	size_t i;

	assert_int_equal(read_auth("bob:s3cr:et\n", 0600, &p, err, sizeof(err)), 0);
	assert_true(p.auth);
	assert_string_equal(p.user, "bob");
	assert_string_equal(p.password, "s3cr:et");
	assert_int_equal(read_auth("bob:x\r\n", 0640, &p, err, sizeof(err)), 0);
	assert_string_equal(p.password, "x");
	assert_int_equal(read_auth("bob:nonewline", 0400, &p, err, sizeof(err)), 0);
	assert_string_equal(p.password, "nonewline");

	/* Readable (or writable) by others: refused. */
	assert_int_equal(read_auth("bob:x\n", 0644, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "others can read"));
	assert_false(p.auth);
	assert_int_equal(read_auth("bob:x\n", 0602, &p, err, sizeof(err)), -1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (read_auth(bad[i], 0600, &p, err, sizeof(err)) != -1)
			fail_msg("auth file %zu was taken", i);
		assert_false(p.auth);
	}
	assert_int_equal(read_auth_n("bob:a\0b\n", 8, 0600, &p, err, sizeof(err)), -1);
	assert_int_equal(proxy_read_auth_file("/nonexistent/auth", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

/* What is not a file is refused at once, never waited on or read without end. */
static void test_auth_file_not_a_file(void **state)
{
	char path[] = "/tmp/test_proxy_XXXXXX", big[2048];
	struct usbip_proxy p = { 0 };
	char err[300];

	(void)state;
	assert_non_null(mkdtemp(path));
	assert_int_equal(proxy_read_auth_file(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a directory"));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(proxy_read_auth_file(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a FIFO"));
	unlink(path);
	assert_int_equal(proxy_read_auth_file("/dev/zero", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a device"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[1] = ':';
	assert_int_equal(read_auth(big, 0600, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
	assert_false(p.auth);
}

/* ----------------------------------------------------------- setup */

static void test_setup(void **state)
{
	struct proxy_options o = { 0 };
	char url[] = "http://bob:hunter2@proxy.example.net:3128";
	struct usbip_proxy *p;
	char err[300];

	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_null(p);

	/* The environment as curl reads it: lower case first; no_proxy then NO_PROXY. */
	setenv("HTTPS_PROXY", "http://upper:1", 1);
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_string_equal(p->name, "upper:1");
	proxy_free(p);
	setenv("https_proxy", "http://lower:2", 1);
	setenv("NO_PROXY", "devhost", 1);
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_string_equal(p->name, "lower:2");
	assert_string_equal(p->no_proxy, "devhost");
	proxy_free(p);
	setenv("https_proxy", "", 1); /* empty: none, as for curl */
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_null(p);
	setenv("https_proxy", "socks5://x:1", 1);
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "https_proxy"));

	/* --no-proxy: the environment ignored; not with --proxy. */
	o.none = true;
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_null(p);
	o.url = url;
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), -1);
	o.none = false;

	/* --proxy wins, and its password no longer shows on the command line. */
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), 0);
	assert_string_equal(p->name, "proxy.example.net:3128");
	assert_string_equal(p->password, "hunter2");
	assert_string_equal(url, "http://bob:*******@proxy.example.net:3128");
	proxy_free(p);

	/* --proxy-auth-file without any proxy is a mistake worth a word. */
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	o = (struct proxy_options){ .auth_file = "/nonexistent" };
	assert_int_equal(proxy_setup(&o, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without a proxy"));
	unsetenv("NO_PROXY");
}

/* ------------------------------------------------------- the exchange */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static struct usbip_proxy test_proxy(bool auth)
{
	struct usbip_proxy p;
	char err[200];

	assert_int_equal(
		proxy_parse_url(auth ? "http://bob:secret@127.0.0.1:3128" : "http://127.0.0.1:3128",
				&p, err, sizeof(err)),
		0);
	return p;
}

/* What proxy_connect logged, captured from stderr. */
static char logged[2048];

static enum usbip_result run_connect(int fd, const struct usbip_proxy *p, const char *host,
				     int timeout_ms)
{
	char path[] = "/tmp/test_proxy_log.XXXXXX";
	int log_fd = mkstemp(path), saved = dup(2);
	enum usbip_result r;
	ssize_t n;

	assert_true(log_fd >= 0 && saved >= 0);
	unlink(path);
	dup2(log_fd, 2);
	r = proxy_connect(fd, p, host, "3240", timeout_ms);
	dup2(saved, 2);
	close(saved);
	n = pread(log_fd, logged, sizeof(logged) - 1, 0);
	logged[n > 0 ? n : 0] = '\0';
	close(log_fd);
	return r;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The answer already waiting in the socket: proxy_connect on sv[0]. */
static enum usbip_result answer(const char *reply, size_t len, bool auth, int *sv)
{
	struct usbip_proxy p = test_proxy(auth);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], reply, len), (ssize_t)len);
	return run_connect(sv[0], &p, "devhost", 2000);
}

/* The request the proxy got, from the far end of the pair. */
static void read_request(int fd, char *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
}

static void close_pair(int *sv)
{
	close(sv[0]);
	close(sv[1]);
}

static void test_200_and_the_request(void **state)
{
	static const char reply[] = "HTTP/1.1 200 Connection established\r\n"
				    "Proxy-Agent: test\r\nVia: 1.1 x\r\n\r\n";
	char req[1024];
	int sv[2];

	assert_int_equal(answer(reply, strlen(reply), false, sv), USBIP_OK);
	read_request(sv[1], req, sizeof(req));
	assert_string_equal(req, "CONNECT devhost:3240 HTTP/1.1\r\nHost: devhost:3240\r\n"
				 "User-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION "\r\n\r\n");
	close_pair(sv);

	/* With credentials: Basic, base64 of bob:secret. */
	assert_int_equal(answer("HTTP/1.0 200 OK\r\n\r\n", 19, true, sv), USBIP_OK);
	read_request(sv[1], req, sizeof(req));
	assert_non_null(strstr(req, "\r\nProxy-Authorization: Basic Ym9iOnNlY3JldA==\r\n"));
	close_pair(sv);

	/* No reason phrase at all is HTTP too; so is a 1xx before the answer. */
	assert_int_equal(answer("HTTP/1.1 200\r\n\r\n", 16, false, sv), USBIP_OK);
	close_pair(sv);
	assert_int_equal(
		answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 \r\n\r\n", 43, false, sv),
		USBIP_OK);
	close_pair(sv);
}

static void test_ipv6_target(void **state)
{
	struct usbip_proxy p = test_proxy(false);
	char req[1024];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "HTTP/1.1 200 OK\r\n\r\n", 19), 19);
	assert_int_equal(run_connect(sv[0], &p, "2001:db8::7", 2000), USBIP_OK);
	read_request(sv[1], req, sizeof(req));
	assert_true(strncmp(req, "CONNECT [2001:db8::7]:3240 HTTP/1.1\r\n", 37) == 0);
	close_pair(sv);

	/* A host that would break the request line is never sent. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(run_connect(sv[0], &p, "devhost\r\nX: y", 2000), USBIP_E_UNREACHABLE);
	assert_int_equal(recv(sv[1], req, sizeof(req), MSG_DONTWAIT), -1);
	close_pair(sv);
}

/* The tunnel's first bytes, sent with the answer, are left in the socket. */
static void test_extra_bytes_stay(void **state)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n\x16\x03\x01TUNNEL";
	char buf[64];
	int sv[2];

	assert_int_equal(answer(reply, sizeof(reply) - 1, false, sv), USBIP_OK);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 9);
	assert_memory_equal(buf, "\x16\x03\x01TUNNEL", 9);
	close_pair(sv);
}

/* A child that writes chunks with pauses between them, then waits. */
static pid_t slow_proxy(int fd, const char *const *chunks, int pause_ms)
{
	pid_t pid = fork();
	char sink[1024];

	assert_true(pid >= 0);
	if (pid)
		return pid;
	/* The request first, as a real proxy reads it. */
	if (recv(fd, sink, sizeof(sink), 0) <= 0)
		_exit(1);
	for (; *chunks; chunks++) {
		usleep((useconds_t)pause_ms * 1000);
		if (write(fd, *chunks, strlen(*chunks)) < 0)
			_exit(1);
	}
	usleep(500 * 1000);
	_exit(0);
}

static void test_split_answer(void **state)
{
	/* Split everywhere that matters: in the version, the status, across CRLFCRLF. */
	static const char *const chunks[] = { "HT", "TP/1.1 2", "00 OK\r\nProxy-Agent: t\r\n\r",
					      "\nAFTER", NULL };
	struct usbip_proxy p = test_proxy(false);
	char buf[16];
	int sv[2], status;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = slow_proxy(sv[1], chunks, 30);
	assert_int_equal(run_connect(sv[0], &p, "devhost", 3000), USBIP_OK);
	usleep(100 * 1000);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "AFTER", 5);
	waitpid(pid, &status, 0);
	close_pair(sv);
}

static void test_refusals(void **state)
{
	static const char r407[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
				   "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n<html>";
	static const char r407_ntlm[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
					"Proxy-Authenticate: NTLM\r\n"
					"Proxy-Authenticate: Negotiate\r\n\r\n";
	static const char r403[] = "HTTP/1.0 403 Access violation\r\n\r\n";
	static const char r400[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	int sv[2];

	assert_int_equal(answer(r407, strlen(r407), false, sv), USBIP_E_REFUSED);
	assert_non_null(strstr(logged, "proxy 127.0.0.1:3128 wants a user and password"));
	assert_non_null(strstr(logged, "407 Proxy Authentication Required"));
	assert_int_equal(lines(logged), 1);
	close_pair(sv);

	assert_int_equal(answer(r407, strlen(r407), true, sv), USBIP_E_REFUSED);
	assert_non_null(strstr(logged, "refused the credentials of 'bob'"));
	assert_null(strstr(logged, "secret"));
	close_pair(sv);

	assert_int_equal(answer(r407_ntlm, strlen(r407_ntlm), false, sv), USBIP_E_REFUSED);
	assert_non_null(strstr(logged, "other than Basic (NTLM, Negotiate)"));
	close_pair(sv);

	assert_int_equal(answer(r403, strlen(r403), false, sv), USBIP_E_REFUSED);
	assert_non_null(strstr(logged, "proxy 127.0.0.1:3128 refused CONNECT devhost:3240: 403 "
				       "Access violation"));
	close_pair(sv);

	assert_int_equal(answer(r400, strlen(r400), false, sv), USBIP_E_REFUSED);
	close_pair(sv);
}

/* Odd but HTTP: a folded field; a field name in lower case, spaces before the scheme. */
static void test_reply_shapes(void **state)
{
	static const char folded[] = "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n";
	static const char r407[] = "HTTP/1.1 407 Who\r\n"
				   "proxy-authenticate: \t Negotiate abc\r\n"
				   "Proxy-Authenticate-Info: NotAScheme\r\n\r\n";
	int sv[2];

	assert_int_equal(answer(folded, strlen(folded), false, sv), USBIP_OK);
	close_pair(sv);
	assert_int_equal(answer(r407, strlen(r407), false, sv), USBIP_E_REFUSED);
	assert_non_null(strstr(logged, "other than Basic (Negotiate)"));
	assert_non_null(strstr(logged, "407 Who"));
	close_pair(sv);
}

static void test_server_errors(void **state)
{
	static const char r502[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
	static const char r503[] = "HTTP/1.0 503 Service Unavailable\r\n\r\n";
	int sv[2];

	assert_int_equal(answer(r502, strlen(r502), false, sv), USBIP_E_UNREACHABLE);
	assert_non_null(strstr(logged, "proxy 127.0.0.1:3128 could not reach devhost:3240: 502 "
				       "Bad Gateway"));
	close_pair(sv);
	assert_int_equal(answer(r503, strlen(r503), false, sv), USBIP_E_UNREACHABLE);
	close_pair(sv);
}

static void test_garbage(void **state)
{
	static const char *const garbage[] = {
		"SSH-2.0-OpenSSH_9.2\r\n",
		"\x00\x00\x00\x05\x00\x00\x00\x00",
		"HTTP/2 200\r\n\r\n",
		"HTTP/1.1 200 OK\n\n",
		"HTTP/1.1 200 OK\r\nX: y\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nSpace : before colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded first\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n",
		"HTTP/1.1 200X\r\n\r\n",
	};
	size_t i;
	int sv[2];

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		size_t len = i == 1 ? 8 : strlen(garbage[i]);

		if (answer(garbage[i], len, false, sv) != USBIP_E_UNREACHABLE)
			fail_msg("garbage %zu was taken", i);
		if (!strstr(logged, "with something not HTTP"))
			fail_msg("garbage %zu: %s", i, logged);
		close_pair(sv);
	}
	/* What it said is in the line, escaped. */
	assert_int_equal(answer(garbage[0], strlen(garbage[0]), false, sv), USBIP_E_UNREACHABLE);
	assert_non_null(strstr(logged, "\"SSH-2.0-OpenSSH_9.2\\x0d\\x0a\""));
	close_pair(sv);

	/* An obs-fold after a field is HTTP (RFC 9112, 5.2). */
	assert_int_equal(answer("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 29, false, sv), USBIP_OK);
	close_pair(sv);
}

static void test_too_long(void **state)
{
	struct usbip_proxy p = test_proxy(false);
	char *reply = malloc(PROXY_MAX_HEADER_BYTES + 64);
	size_t len;
	int sv[2], status;
	pid_t pid;

	/* Header fields that never end: refused at the bound, not at the deadline. */
	len = (size_t)snprintf(reply, 64, "HTTP/1.1 200 OK\r\n");
	while (len < PROXY_MAX_HEADER_BYTES + 32)
		len += (size_t)snprintf(reply + len, PROXY_MAX_HEADER_BYTES + 64 - len,
					"X-Pad: 0123456789\r\n");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (write(sv[1], reply, len) < 0)
			_exit(1);
		usleep(3000 * 1000);
		_exit(0);
	}
	assert_int_equal(run_connect(sv[0], &p, "devhost", 2000), USBIP_E_UNREACHABLE);
	assert_non_null(strstr(logged, "more than 8192 bytes of header"));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close_pair(sv);

	/* A block of exactly the bound is still an answer. */
	len = (size_t)snprintf(reply, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(reply + len, 'a', PROXY_MAX_HEADER_BYTES - len - 4);
	memcpy(reply + PROXY_MAX_HEADER_BYTES - 4, "\r\n\r\n", 4);
	assert_int_equal(answer(reply, PROXY_MAX_HEADER_BYTES, false, sv), USBIP_OK);
	close_pair(sv);
	free(reply);
}

static void test_deadline_and_close(void **state)
{
	struct usbip_proxy p = test_proxy(false);
	long long t0;
	int sv[2];

	/* A proxy that takes the request and never answers. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t0 = now_ms();
	assert_int_equal(run_connect(sv[0], &p, "devhost", 300), USBIP_E_UNREACHABLE);
	assert_true(now_ms() - t0 >= 300);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(strstr(logged, "did not answer CONNECT devhost:3240 within 300 ms"));
	close_pair(sv);

	/* ... or sends half a line and stops: the deadline is for the whole answer. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "HTTP/1.1 200 OK\r\nX", 18), 18);
	t0 = now_ms();
	assert_int_equal(run_connect(sv[0], &p, "devhost", 300), USBIP_E_UNREACHABLE);
	assert_true(now_ms() - t0 < 2000);
	close_pair(sv);

	/* ... or hangs up. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "HTTP/1.1 2", 10), 10);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(run_connect(sv[0], &p, "devhost", 2000), USBIP_E_UNREACHABLE);
	assert_non_null(strstr(logged, "closed the connection before it answered"));
	close_pair(sv);
}

/* The same over a real TCP connection, where the peeking reads happen. */
static void test_over_tcp(void **state)
{
	static const char reply[] = "HTTP/1.1 200 Connection established\r\n\r\nUSBIP";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct usbip_proxy p = test_proxy(true);
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s;
	char buf[512];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(write(s, reply, sizeof(reply) - 1), (ssize_t)sizeof(reply) - 1);
	assert_int_equal(run_connect(c, &p, "devhost", 2000), USBIP_OK);
	assert_int_equal(recv(c, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "USBIP", 5);
	assert_true(recv(s, buf, sizeof(buf), 0) > 0);
	assert_true(strncmp(buf, "CONNECT devhost:3240 HTTP/1.1\r\n", 31) == 0);
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_hide_password),
		cmocka_unit_test(test_no_proxy),
		cmocka_unit_test(test_auth_file),
		cmocka_unit_test(test_auth_file_not_a_file),
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_200_and_the_request),
		cmocka_unit_test(test_ipv6_target),
		cmocka_unit_test(test_extra_bytes_stay),
		cmocka_unit_test(test_split_answer),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_reply_shapes),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_deadline_and_close),
		cmocka_unit_test(test_over_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
