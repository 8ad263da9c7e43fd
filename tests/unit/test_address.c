// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Addresses as users type them: HOST, HOST:PORT, [V6], [V6]:PORT, a bare
 * V6, usbip://, ws://, wss://, unix:PATH, vsock:CID:PORT, srv:NAME,
 * mdns:[GLOB,...], and a listener's :PORT and vsock:PORT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "net/address.h"
#include "net/mdns_browse.h"

static void expect(const char *text, const char *host, unsigned port, bool given)
{
	struct net_address a;
	char err[300] = "";

	assert_int_equal(address_parse(text, "3240", &a, err, sizeof(err)), 0);
	assert_int_equal(a.scheme, NET_ADDRESS_TCP);
	assert_string_equal(a.host, host);
	assert_int_equal(a.port, port);
	assert_int_equal(a.port_given, given);
}

static void test_forms(void **state)
{
	(void)state;
	expect("devhost", "devhost", 3240, false);
	expect("devhost.example.net:3241", "devhost.example.net", 3241, true);
	expect("127.0.0.1", "127.0.0.1", 3240, false);
	expect("127.0.0.1:0", "127.0.0.1", 0, true);
	expect("[::1]", "::1", 3240, false);
	expect("[::1]:65535", "::1", 65535, true);
	expect("::1", "::1", 3240, false); /* bare: no port */
	expect("fe80::1%eth0", "fe80::1%eth0", 3240, false);
	expect("[fe80::1%eth0]:3240", "fe80::1%eth0", 3240, true);
	expect("usbip://devhost", "devhost", 3240, false);
	expect("usbip://devhost:3241", "devhost", 3241, true);
	expect("USBIP://[::1]:1", "::1", 1, true);
	/* Names that only start like a scheme are hosts. */
	expect("unix", "unix", 3240, false);
	expect("vsock", "vsock", 3240, false);
	expect("ws:80", "ws", 80, true);
}

static void parse_ok(const char *text, bool listener, struct net_address *a)
{
	char err[300] = "";
	int rc = listener ? address_parse_listener(text, "3240", a, err, sizeof(err))
			  : address_parse(text, "3240", a, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s' refused: %s", text, err);
}

static void expect_ws(const char *text, enum net_address_scheme scheme, const char *host,
		      unsigned port, const char *path)
{
	struct net_address a;

	parse_ok(text, false, &a);
	assert_int_equal(a.scheme, scheme);
	assert_string_equal(a.host, host);
	assert_int_equal(a.port, port);
	assert_string_equal(a.path, path);
}

static void test_websocket(void **state)
{
	(void)state;
	expect_ws("ws://app.test", NET_ADDRESS_WS, "app.test", 80, "/usbip");
	expect_ws("wss://app.test", NET_ADDRESS_WSS, "app.test", 443, "/usbip");
	expect_ws("wss://app.test/", NET_ADDRESS_WSS, "app.test", 443, "/");
	expect_ws("ws://app.test:8080/a/b", NET_ADDRESS_WS, "app.test", 8080, "/a/b");
	expect_ws("WSS://[2001:db8::1]:8443/usbip?t=x%20y", NET_ADDRESS_WSS, "2001:db8::1", 8443,
		  "/usbip?t=x%20y");
}

static void test_unix(void **state)
{
	char path[200];
	struct net_address a;

	(void)state;
	parse_ok("unix:/run/usbip/mtp.sock", false, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_UNIX);
	assert_string_equal(a.path, "/run/usbip/mtp.sock");
	parse_ok("unix:rel/x.sock", false, &a);
	assert_string_equal(a.path, "rel/x.sock");
	parse_ok("unix:a:b c", true, &a); /* any printable byte */
	assert_string_equal(a.path, "a:b c");
	/* 107 bytes fit sun_path with its terminator; 108 do not. */
	memset(path, 'p', sizeof(path));
	memcpy(path, "unix:/", 6);
	path[5 + 107] = '\0';
	parse_ok(path, false, &a);
	assert_int_equal(strlen(a.path), 107);
}

static void expect_vsock(const char *text, bool listener, bool cid_given, unsigned cid,
			 unsigned port)
{
	struct net_address a;

	parse_ok(text, listener, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_VSOCK);
	assert_int_equal(a.cid_given, cid_given);
	assert_int_equal(a.cid, cid);
	assert_int_equal(a.port, port);
}

static void test_vsock(void **state)
{
	(void)state;
	expect_vsock("vsock:1:5000", false, true, 1, 5000);
	expect_vsock("vsock:0:1", false, true, 0, 1);
	expect_vsock("vsock:4294967294:4294967294", false, true, 4294967294U, 4294967294U);
	expect_vsock("vsock:3:3240", true, true, 3, 3240);
	expect_vsock("vsock:5000", true, false, 0, 5000);
	expect_vsock("vsock:0", true, false, 0, 0);
}

/* Every scheme that parses can be dialled, WebSocket included. */
static void test_dialable(void **state)
{
	static const char *const now[] = { "h",	       "usbip://h", "unix:/x", "vsock:2:1",
					   "ws://h/x", "wss://h",   "srv:pool" };
	char err[300] = "";
	struct net_address a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(now) / sizeof(now[0]); i++) {
		parse_ok(now[i], false, &a);
		assert_int_equal(address_dialable(&a, err, sizeof(err)), 0);
	}
	/* mdns: only where the build has Avahi; else one line that says so. */
	parse_ok("mdns:lab-*.local", false, &a);
	if (mdns_browse_available()) {
		assert_int_equal(address_dialable(&a, err, sizeof(err)), 0);
	} else {
		assert_int_equal(address_dialable(&a, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "'mdns:lab-*.local': this build has no mDNS"));
	}
}

static void test_listener(void **state)
{
	char out[NET_ADDRESS_TEXT_MAX];
	struct net_address a;

	(void)state;
	parse_ok(":3241", true, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_TCP);
	assert_string_equal(a.host, "");
	assert_int_equal(a.port, 3241);
	parse_ok("ws://:8080", true, &a);
	assert_string_equal(a.host, "");
	assert_string_equal(a.path, "/usbip");
	parse_ok("0.0.0.0:0", true, &a);
	assert_int_equal(a.port, 0);
	/* What a listener formats, a listener parses again. */
	parse_ok(":3241", true, &a);
	address_format(&a, out, sizeof(out));
	assert_string_equal(out, ":3241");
	parse_ok("vsock:5000", true, &a);
	address_format(&a, out, sizeof(out));
	assert_string_equal(out, "vsock:5000");
	/* srv: names remotes only. */
	assert_int_equal(address_parse_listener("srv:pool", "3240", &a, out, sizeof(out)), -1);
}

static void test_srv(void **state)
{
	struct net_address a;

	(void)state;
	parse_ok("srv:pool.example.net", false, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_SRV);
	assert_string_equal(a.host, "pool.example.net");
	assert_false(a.port_given);
	assert_string_equal(address_scheme_name(a.scheme), "srv");
}

static void test_mdns(void **state)
{
	static const char *const refused[] = {
		"mdns:lab:1", /* no port: the announcement gives it */
		"mdns:a,,b",  /* an empty glob */
		"mdns:,a",    "mdns:a,",  "mdns:a b",
		"mdns:a\nb",  "mdns:a/b", "mdns:\x1b[2J", /* a control character */
	};
	struct net_address a;
	char err[300], out[300];
	size_t i;

	(void)state;
	parse_ok("mdns:", false, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_MDNS);
	assert_string_equal(a.host, ""); /* any host: the user's explicit choice */
	assert_string_equal(address_scheme_name(a.scheme), "mdns");
	parse_ok("mdns:lab-*.local,bench-[0-9].local,x?.LAN", false, &a);
	assert_string_equal(a.host, "lab-*.local,bench-[0-9].local,x?.LAN");
	assert_false(a.port_given);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(address_parse(refused[i], "3240", &a, err, sizeof(err)), -1);
		assert_null(strchr(err, '\n'));
		assert_null(strchr(err, '\x1b'));
	}
	/* A host name from the network: DNS characters only. */
	assert_true(address_is_host_name("lab-1.local"));
	assert_true(address_is_host_name("_x.example.net"));
	assert_false(address_is_host_name(""));
	assert_false(address_is_host_name("::1"));
	assert_false(address_is_host_name("fe80::1%eth0"));
	assert_false(address_is_host_name("a b"));
	assert_false(address_is_host_name("evil\x1b[2J.local"));
	/* mdns: names remotes only; a host named mdns is still one, as a URL. */
	assert_int_equal(address_parse_listener("mdns:", "3240", &a, out, sizeof(out)), -1);
	parse_ok("usbip://mdns:1", false, &a);
	assert_int_equal(a.scheme, NET_ADDRESS_TCP);
	assert_string_equal(a.host, "mdns");
}

static void test_format_round_trip(void **state)
{
	static const char *const texts[] = {
		"h:1",
		"[::1]:3240",
		"10.0.0.1:3240",
		"ws://h:80/usbip",
		"wss://[::1]:443/x?y",
		"unix:/run/a.sock",
		"unix:rel",
		"vsock:2:3240",
		"usbip://vsock:1", /* a host named like a prefix */
		"usbip://unix:3240",
		"srv:pool.example.net",
		"usbip://srv:3240", /* a host named srv */
		"mdns:",
		"mdns:lab-*.local,x?",
		"usbip://mdns:3240", /* a host named mdns */
	};
	struct net_address a;
	char err[300], out[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(address_parse(texts[i], "3240", &a, err, sizeof(err)), 0);
		address_format(&a, out, sizeof(out));
		assert_string_equal(out, texts[i]);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		":3240",
		"[::1",
		"[::1]x",
		"[::1]:",
		"[]:3240",
		"h:",
		"h:65536",
		"h:-1",
		"h:12a",
		"h:0003240",
		"a b",
		"h;rm",
		"h/x:1",
		"[::1]:99999",
		"host\n",
		"\xc3\xa9t\xc3\xa9",
		/* URLs */
		"usbip://",
		"usbip://:3240",
		"usbip://h/",
		"usbip://h:65536",
		"ws://",
		"ws:///usbip",
		"ws://h:/usbip",
		"ws://h/a b",
		"ws://h/a#frag",
		"wss://h:0x10/",
		"http://h:80",
		"tcp://h",
		/* unix: */
		"unix:",
		"unix:/tmp/a\nb",
		"unix:/tmp/\x7f",
		/* vsock: */
		"vsock:",
		"vsock:5000", /* a remote needs its CID */
		"vsock:1:",
		"vsock::5000",
		"vsock:1:5000:1",
		"vsock:-1:5000",
		"vsock:0x2:5000",
		"vsock:4294967295:1",
		"vsock:1:4294967295",
		"vsock:99999999999:1",
		"vsock:a:1",
		"vsock:1:5000 ",
		/* srv: */
		"srv:",
		"srv:pool:3240", /* the records give the port */
		"srv:a b",
		"srv:[::1]",
		"srv:pool/x",
	};
	char long_name[400], err[300];
	struct net_address a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(address_parse(bad[i], "3240", &a, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
	/* A URL without its host says that, not which host forms there are. */
	assert_int_equal(address_parse("ws://", "3240", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a URL names its host"));
	assert_int_equal(address_parse("wss://:443/usbip", "3240", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a URL names its host"));
	/* A bad default port is refused too. */
	assert_int_equal(address_parse("h", "x", &a, err, sizeof(err)), -1);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(address_parse(long_name, "3240", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));
	/* The message is one printable line, however long and odd the text. */
	assert_int_equal(address_parse("h\n:1", "3240", &a, err, sizeof(err)), -1);
	assert_null(strchr(err, '\n'));
	/* A unix path of 108 bytes does not fit sun_path. */
	memcpy(long_name, "unix:/", 6);
	long_name[5 + 108] = '\0';
	assert_int_equal(address_parse(long_name, "3240", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 107"));
	/* A remote's empty host is refused; a listener's is every address. */
	assert_int_equal(address_parse(":3240", "3240", &a, err, sizeof(err)), -1);
	assert_int_equal(address_parse_listener(":", "3240", &a, err, sizeof(err)), -1);
	assert_int_equal(address_parse_listener("[]:1", "3240", &a, err, sizeof(err)), -1);
	assert_int_equal(address_parse_listener("::/x", "3240", &a, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),	 cmocka_unit_test(test_websocket),
		cmocka_unit_test(test_unix),	 cmocka_unit_test(test_vsock),
		cmocka_unit_test(test_dialable), cmocka_unit_test(test_listener),
		cmocka_unit_test(test_srv),	 cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_refused),	 cmocka_unit_test(test_mdns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
