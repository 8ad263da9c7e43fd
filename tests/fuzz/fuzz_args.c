// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the parsers of what a user types, and the escaping of
 * strings on their way out. The first byte picks one, the rest is split at
 * zero bytes into arguments (at most 32):
 *   0  a daemon's command line (daemon_parse_args, with usbipa's own
 *      --allow-device and --allow-host)
 *   1  -t PORT (tcp_port_ok), against a parser of our own
 *   2  --allow-device and --allow-host values (policy_add_device,
 *      policy_add_network), then matched against a device and addresses
 *   3  serve-mtp's --dir PATH[:NAME[:ro]] and --serial
 *   4  --json strings and log_escape: the output must be valid JSON (a
 *      validator of our own) and one line of printable ASCII that decodes
 *      back to what went in
 *   5  device selectors, -b PATTERN and -i VID:PID[:SERIAL] in turn
 *      (selector_add_option, as every command takes them), then
 *      matched and described (the description must fit its buffer)
 *   6  a usbip.conf: the rest of the input is the file, read by usbipa's
 *      daemon_parse_args through --config (libinih and conf.c)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/daemon.h"
#include "match/policy.h"
#include "match/selector.h"
#include "mtp/mtp_device.h"
#include "net/tcp.h"
#include "util/json.h"
#include "util/log.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

static char conf_dir[64], conf_file[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_make_dir(conf_dir, sizeof(conf_dir), "fuzz_args");
	snprintf(conf_file, sizeof(conf_file), "%s/usbip.conf", conf_dir);
	return 0;
}

static int usbipa_option(int opt, const char *arg, void *ctx, char *err, size_t err_len)
{
	struct usbip_policy *policy = ctx;

	if (opt == 'A' && policy_add_device(policy, arg, err, err_len) != 0)
		return -1;
	if (opt == 'H' && policy_add_network(policy, arg, err, err_len) != 0)
		return -1;
	return opt == 'A' || opt == 'H';
}

static void usage(FILE *out)
{
	fputs("usage\n", out);
}

static bool port_oracle(const char *s)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return false;
	}
	return true;
}

static void check_policy(const struct usbip_policy *policy)
{
	struct usbip_usb_device udev = { .id_vendor = 0x046d, .id_product = 0xc52b };
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc0000201) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	(void)policy_allows_device(policy, &udev);
	(void)policy_allows_peer(policy, (struct sockaddr *)&v4);
	(void)policy_allows_peer(policy, (struct sockaddr *)&v6);
}

static void daemon_args(int argc, char **argv, bool config_ok)
{
	static const struct option opts[] = {
		{ "allow-device", required_argument, NULL, 'A' },
		{ "allow-host", required_argument, NULL, 'H' },
		USBIP_DAEMON_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct usbip_daemon d = { .name = "usbipa", .default_pid_file = "/run/usbipa.pid" };
	struct usbip_policy policy = { 0 };
	int i;

	/*
	 * --config FILE would read any file the input names, and --check the
	 * TLS files it names (/dev/zero, a FIFO).
	 */
	for (i = 1; i < argc && !config_ok; i++)
		if (strncmp(argv[i], "--co", 4) == 0 || strcmp(argv[i], "--check") == 0)
			return;

	optind = 0; /* glibc: start over, forgetting the last call's state */
	if (daemon_parse_args(&d, argc, argv, opts, usage, usbipa_option, &policy) ==
		    DAEMON_ARGS_RUN &&
	    d.port && !port_oracle(d.port))
		abort();
	check_policy(&policy);
	policy_free(&policy);
	log_set_debug(false);
}

static void selectors(int argc, char **argv)
{
	struct usbip_selector sel = { 0 };
	char err[200], desc[64];
	int i;

	/* As every command's getopt hands them over (selector_add_option). */
	for (i = 1; i < argc; i++)
		selector_add_option(&sel, i % 2 ? 'b' : 'i', argv[i], err, sizeof(err));
	(void)selector_matches(&sel, "1-1.2", 0x046d, 0xc52b, "SER1");
	(void)selector_matches(&sel, "3-1", 0x1d6b, 0x0100, "");
	(void)selector_is_one_busid(&sel);
	selector_describe(&sel, desc, sizeof(desc));
	if (!memchr(desc, 0, sizeof(desc)))
		abort();
}

/* The input as usbip.conf, read by usbipa's command line with --config. */
static void config_file(const uint8_t *data, size_t size)
{
	char *argv[] = { "usbipa", "--config", conf_file, NULL };
	FILE *f = fopen(conf_file, "we");

	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	daemon_args(3, argv, true);
	conf_release();
}

static bool serial_oracle(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static void mtp_args(int argc, char **argv)
{
	struct mtp_storage_options st;
	char err[200];
	int i;

	for (i = 1; i < argc; i++) {
		char *copy = strdup(argv[i]);

		if (!copy)
			abort();
		if (mtp_device_parse_dir(copy, &st, err, sizeof(err)) == 0 &&
		    (!st.dir || strchr(st.dir, ':')))
			abort();
		free(copy);
		if (mtp_device_serial_ok(argv[i]) != serial_oracle(argv[i]))
			abort();
	}
}

/* RFC 3629's table: the length of the UTF-8 sequence at s, 0 if ill-formed. */
static size_t utf8_len(const unsigned char *s)
{
	static const unsigned char t[][5] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 }, { 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t i, j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (s[0] < t[i][0] || s[0] > t[i][1])
			continue;
		if (s[1] < t[i][2] || s[1] > t[i][3])
			return 0;
		for (j = 2; j < t[i][4]; j++)
			if (s[j] < 0x80 || s[j] > 0xbf)
				return 0;
		return t[i][4];
	}
	return 0;
}

/* Whether s is exactly one valid JSON string (RFC 8259) with no raw DEL. */
static bool json_string_valid(const unsigned char *s, size_t len)
{
	size_t i = 1, j;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	while (i < len - 1) {
		if (s[i] == '\\') {
			if (s[i + 1] && strchr("\"\\/bfnrt", s[i + 1])) {
				i += 2;
				continue;
			}
			if (s[i + 1] != 'u' || i + 6 > len - 1)
				return false;
			for (j = 2; j < 6; j++)
				if (!s[i + j] || !strchr("0123456789abcdefABCDEF", s[i + j]))
					return false;
			i += 6;
		} else if (s[i] == '"' || s[i] < 0x20 || s[i] == 0x7f) {
			return false;
		} else if (s[i] < 0x80) {
			i++;
		} else {
			j = utf8_len(s + i);
			if (!j || i + j > len - 1)
				return false;
			i += j;
		}
	}
	return i == len - 1;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void escapes(int argc, char **argv)
{
	char esc[LOG_ESCAPED_SIZE(256)];
	int i;

	for (i = 1; i < argc; i++) {
		struct json_writer w;
		char *buf = NULL, *p;
		size_t len = 0, k = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			abort();
		json_init(&w, f);
		json_string(&w, NULL, argv[i]);
		fclose(f);
		if (!json_string_valid((const unsigned char *)buf, len))
			abort();
		free(buf);

		/* log_escape: printable ASCII, and it decodes back to a prefix of the input. */
		log_escape(esc, sizeof(esc), argv[i]);
		for (p = esc; *p; k++) {
			int c = (unsigned char)*p;

			if (c < 0x20 || c >= 0x7f)
				abort();
			if (c == '\\') {
				if (p[1] != 'x' || hex_digit(p[2]) < 0 || hex_digit(p[3]) < 0)
					abort();
				c = hex_digit(p[2]) << 4 | hex_digit(p[3]);
				p += 4;
			} else {
				p++;
			}
			if ((unsigned char)argv[i][k] != c)
				abort();
		}
		if (strlen(argv[i]) <= 256 && argv[i][k])
			abort(); /* cut short although it fitted */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *text;
	int argc = 0, i;
	size_t off;

	if (size < 1)
		return 0;
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	argv[argc++] = "fuzz";
	/* "a\0b" is two arguments, "a\0" too (the second empty), "" none. */
	for (off = 0; size > 1 && off <= size - 1 && argc <= MAX_ARGS;
	     off += strlen(text + off) + 1)
		argv[argc++] = text + off;
	argv[argc] = NULL;
	switch (data[0]) {
	case 0:
		daemon_args(argc, argv, false);
		break;
	case 1:
		for (i = 1; i < argc; i++)
			if (tcp_port_ok(argv[i]) != port_oracle(argv[i]))
				abort();
		break;
	case 2: {
		struct usbip_policy policy = { 0 };
		char err[200];

		for (i = 1; i < argc; i++) {
			policy_add_device(&policy, argv[i], err, sizeof(err));
			policy_add_network(&policy, argv[i], err, sizeof(err));
		}
		check_policy(&policy);
		policy_free(&policy);
		break;
	}
	case 3:
		mtp_args(argc, argv);
		break;
	case 4:
		escapes(argc, argv);
		break;
	case 5:
		selectors(argc, argv);
		break;
	case 6:
		config_file(data + 1, size - 1);
		break;
	default:
		break;
	}
	free(text);
	return 0;
}
