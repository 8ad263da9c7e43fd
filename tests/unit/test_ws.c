// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The WebSocket upgrade (net/ws.c) as text: the accept key of RFC 6455's
 * own example, a server's reading of requests (path, version, key,
 * subprotocol, header names in any case, Forwarded only from a trusted
 * proxy) and a client's reading of answers; the options' bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "net/ws.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static int request(const char *path, const char *extra, const struct ws_options *o,
		   const char *peer, struct ws_request *req, char *err, size_t len)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf),
			 "GET %s HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			 "Connection: keep-alive, Upgrade\r\n%s\r\n",
			 path, extra);

	return ws_parse_request(buf, (size_t)n, o, peer, req, err, len);
}

#define GOOD_HEADERS "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n"

static void test_accept_key(void **state)
{
	char out[WS_ACCEPT_LEN + 1];

	(void)state;
	assert_int_equal(ws_accept_key(KEY, out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455, 1.3 */
}

static void test_request(void **state)
{
	struct ws_options o = { 0 };
	struct ws_request req;
	char err[200];

	(void)state;
	assert_int_equal(request("/usbip", GOOD_HEADERS, &o, "1.2.3.4", &req, err, sizeof(err)), 0);
	assert_string_equal(req.key, KEY);
	assert_false(req.protocol_offered);
	assert_int_equal(request("/usbip?x=1",
				 "sec-websocket-version: 13\r\nsec-websocket-key: " KEY
				 "\r\nsec-websocket-protocol: chat, USB/IP\r\n",
				 &o, NULL, &req, err, sizeof(err)),
			 0);
	assert_true(req.protocol_offered);
	assert_int_equal(request("/other", GOOD_HEADERS, &o, NULL, &req, err, sizeof(err)), 404);
	assert_non_null(strstr(err, "/other"));
	o.path = "/other";
	assert_int_equal(request("/other", GOOD_HEADERS, &o, NULL, &req, err, sizeof(err)), 0);
	o.path = NULL;
	assert_int_equal(request("/usbip",
				 "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " KEY "\r\n", &o,
				 NULL, &req, err, sizeof(err)),
			 426);
	assert_int_equal(request("/usbip", "Sec-WebSocket-Version: 13\r\n", &o, NULL, &req, err,
				 sizeof(err)),
			 400);
	assert_int_equal(request("/usbip", GOOD_HEADERS "Sec-WebSocket-Protocol: chat\r\n", &o,
				 NULL, &req, err, sizeof(err)),
			 400);
	assert_int_equal(
		ws_parse_request("POST / HTTP/1.1\r\n\r\n", 19, &o, NULL, &req, err, sizeof(err)),
		400);
}

static void test_forwarded(void **state)
{
	struct ws_options o = { .trusted = { "10.0.0.1" }, .ntrusted = 1 };
	struct ws_request req;
	char err[200];

	(void)state;
	assert_int_equal(request("/usbip", GOOD_HEADERS "X-Forwarded-For: 6.6.6.6, 192.0.2.7\r\n",
				 &o, "10.0.0.1", &req, err, sizeof(err)),
			 0);
	assert_string_equal(req.forwarded, "192.0.2.7");
	assert_int_equal(request("/usbip",
				 GOOD_HEADERS
				 "Forwarded: for=6.6.6.6, for=\"[2001:db8::1]:4711\"\r\n",
				 &o, "10.0.0.1", &req, err, sizeof(err)),
			 0);
	assert_string_equal(req.forwarded, "2001:db8::1");
	/* From anyone else, never. */
	assert_int_equal(request("/usbip", GOOD_HEADERS "X-Forwarded-For: 192.0.2.7\r\n", &o,
				 "10.0.0.2", &req, err, sizeof(err)),
			 0);
	assert_string_equal(req.forwarded, "");
}

static int response(const char *text, char *err, size_t len)
{
	return ws_parse_response(text, strlen(text), KEY, err, len);
}

static void test_response(void **state)
{
	char err[200];

	(void)state;
	assert_int_equal(response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Accept: "
				  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
				  err, sizeof(err)),
			 0);
	/* HAProxy lower-cases the names. */
	assert_int_equal(
		response("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
			 "connection: upgrade\r\nsec-websocket-accept: "
			 "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nsec-websocket-protocol: USB/IP\r\n\r\n",
			 err, sizeof(err)),
		0);
	assert_int_equal(response("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				  "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
				  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "Sec-WebSocket-Accept"));
	assert_int_equal(response("HTTP/1.1 404 Not Found\r\n\r\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "404 Not Found"));
	assert_int_equal(response("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				  "Sec-WebSocket-Protocol: chat\r\n\r\n",
				  err, sizeof(err)),
			 -1);
}

static void test_options(void **state)
{
	struct ws_options o = { 0 };
	struct ws_tls_options wt = { 0 };
	char err[200];

	(void)state;
	assert_int_equal(ws_parse_option(WS_OPT_PING, "5", &o, &wt, err, sizeof(err)), 1);
	assert_int_equal(o.ping_s, 5);
	assert_int_equal(ws_parse_option(WS_OPT_PING, "0", &o, &wt, err, sizeof(err)), -1);
	assert_int_equal(ws_parse_option(WS_OPT_PING, "5s", &o, &wt, err, sizeof(err)), -1);
	assert_false(wt.given);
	assert_int_equal(ws_parse_option(WS_OPT_WSS_CA, "ca.pem", &o, &wt, err, sizeof(err)), 1);
	assert_true(wt.given);
	assert_int_equal(ws_parse_option('x', "", &o, &wt, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key), cmocka_unit_test(test_request),
		cmocka_unit_test(test_forwarded),  cmocka_unit_test(test_response),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
