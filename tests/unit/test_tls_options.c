// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tls_new's judgement of the options, before any file matters: which
 * combinations it refuses, with what line, and which make a context.
 * Certificates and handshakes are tests/daemon/tls.sh's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "net/tls.h"

#define PIN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* tls_new refuses o with a line holding want. */
static void refused(const struct usbip_tls_options *o, bool server, const char *want)
{
	char err[256] = "";

	assert_null(tls_new(o, server, err, sizeof(err)));
	if (!strstr(err, want))
		fail_msg("wanted '%s', got '%s'", want, err);
}

/* tls_new makes a context of o. */
static void made(const struct usbip_tls_options *o, bool server)
{
	char err[256] = "";
	struct usbip_tls *tls = tls_new(o, server, err, sizeof(err));

	if (!tls)
		fail_msg("refused: %s", err);
	tls_free(tls);
}

static void test_server_needs_cert_and_key(void **state)
{
	struct usbip_tls_options o = { 0 };

	(void)state;
	refused(&o, true, "a TLS server needs --cert and --key");
	o.cert_file = "/nonexistent/cert.pem";
	refused(&o, true, "a TLS server needs --cert and --key");
	o.cert_file = NULL;
	o.key_file = "/nonexistent/key.pem";
	refused(&o, true, "a TLS server needs --cert and --key");
}

static void test_client_key_needs_cert(void **state)
{
	struct usbip_tls_options o = { .key_file = "/nonexistent/key.pem" };

	(void)state;
	refused(&o, false, "key /nonexistent/key.pem: --key needs the --cert it belongs to");
}

static void test_missing_files_named(void **state)
{
	struct usbip_tls_options o = { .cert_file = "/nonexistent/cert.pem" };

	(void)state;
	refused(&o, false, "/nonexistent/cert.pem");
	o.cert_file = NULL;
	o.ca_file = "/nonexistent/ca.pem";
	refused(&o, false, "/nonexistent/ca.pem");
}

static void test_pin(void **state)
{
	static const char *const bad[] = { "", "xyz", PIN "00", "00112233" };
	struct usbip_tls_options o = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.pin = bad[i];
		refused(&o, false, "--pin wants the server's SHA-256 fingerprint");
	}
	o.pin = PIN;
	made(&o, false);
	/* With ':' between the bytes, as openssl x509 -fingerprint prints it. */
	o.pin = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
	made(&o, false);
}

/* A client without any option verifies against the system's CAs, on every datapath. */
static void test_plain_client(void **state)
{
	struct usbip_tls_options o = { 0 };

	(void)state;
	o.datapath = USBIP_TLS_AUTO;
	made(&o, false);
	o.datapath = USBIP_TLS_KTLS;
	made(&o, false);
	o.datapath = USBIP_TLS_RELAY;
	made(&o, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_needs_cert_and_key),
		cmocka_unit_test(test_client_key_needs_cert),
		cmocka_unit_test(test_missing_files_named),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_plain_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
