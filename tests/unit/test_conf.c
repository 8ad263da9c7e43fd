// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip.conf read as written (daemon/conf.c): long lines and comments,
 * a byte-order mark, NUL bytes, CRLF, many sections, paths that are not
 * regular files. Each error must be one stderr line starting FILE:LINE (or
 * FILE: for the file as a whole), and nothing may hang: an alarm ends a
 * test that waits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "util/file.h"

static char dir[64], path[128], errors_path[128];

/* What the reader handed over: the last value of each key, and how many keys. */
struct seen {
	char port[64], address[64];
	size_t remote_len;
	unsigned keys;
};

static int record(void *ctx, const char *kind, const char *name, int opt, const char *value,
		  char *err, size_t err_len)
{
	struct seen *s = ctx;

	(void)kind;
	(void)name;
	(void)err;
	(void)err_len;
	s->keys++;
	if (opt == 't')
		snprintf(s->port, sizeof(s->port), "%s", value);
	else if (opt == 'a')
		snprintf(s->address, sizeof(s->address), "%s", value);
	else if (opt == 'r')
		s->remote_len = strlen(value);
	return 0;
}

static const struct option opts[] = {
	{ "tcp-port", required_argument, NULL, 't' },
	{ "address", required_argument, NULL, 'a' },
	{ "remote", required_argument, NULL, 'r' },
	{ "debug", no_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static void write_file(const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/*
 * Reads file with stderr caught; returns the number of errors, checking
 * that as many lines were printed and that each starts with "FILE:" (and
 * "FILE:LINE: " unless file_level).
 */
static unsigned read_conf(const char *file, struct seen *s, bool file_level)
{
	struct conf_reader r = {
		.file = file, .kinds = { "usbipd" }, .opts = opts, .set = record, .ctx = s
	};
	int saved = dup(2), fd = open(errors_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char line[512];
	unsigned errors, lines = 0;
	size_t flen = strlen(file);
	FILE *f;

	memset(s, 0, sizeof(*s));
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	alarm(10); /* a read that hangs fails the test */
	errors = conf_read(&r, false);
	alarm(0);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		assert_non_null(strchr(line, '\n')); /* one line, and not a cut one */
		assert_int_equal(strncmp(line, file, flen), 0);
		assert_int_equal(line[flen], ':');
		if (!file_level) {
			char *end;

			assert_true(strtol(line + flen + 1, &end, 10) > 0);
			assert_int_equal(strncmp(end, ": ", 2), 0);
		}
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, errors);
	if (errors)
		assert_int_equal(strncmp(r.first_error, file, flen), 0);
	conf_release();
	return errors;
}

/* The line number of the first error, from a read's first_error. */
static long first_error_line(const char *file)
{
	struct seen s;
	struct conf_reader r = {
		.file = file, .kinds = { "usbipd" }, .opts = opts, .set = record, .ctx = &s
	};
	int saved = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	long line;

	dup2(null, 2);
	conf_read(&r, false);
	dup2(saved, 2);
	close(saved);
	close(null);
	conf_release();
	line = strtol(r.first_error + strlen(file) + 1, NULL, 10);
	return line;
}

/* "[usbipd]\n# xxx...(n bytes of comment)...tail\ntcp-port = 7\n" */
static void comment_file(size_t n, const char *tail)
{
	size_t head = strlen("[usbipd]\n# "), tlen = strlen(tail);
	char *text = malloc(head + n + tlen + 64);
	size_t len;

	assert_non_null(text);
	memcpy(text, "[usbipd]\n# ", head);
	memset(text + head, 'x', n);
	memcpy(text + head + n, tail, tlen);
	len = head + n + tlen;
	len += (size_t)sprintf(text + len, "\ntcp-port = 7\n");
	write_file(text, len);
	free(text);
}

static void test_long_comments(void **state)
{
	static const size_t sizes[] = { 200, 10 * 1024, CONF_MAX_LINE - 2 };
	struct seen s;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		comment_file(sizes[i], "");
		assert_int_equal(read_conf(path, &s, false), 0);
		assert_string_equal(s.port, "7");
		assert_int_equal(s.keys, 1);
	}
}

static void test_comment_past_the_bound(void **state)
{
	struct seen s;

	(void)state;
	comment_file(70 * 1024, "");
	assert_int_equal(read_conf(path, &s, false), 1);
	assert_int_equal(first_error_line(path), 2);
	assert_string_equal(s.port, "7"); /* the lines after it are read */
}

static void test_comment_ending_in_a_key(void **state)
{
	struct seen s;

	(void)state;
	comment_file(300, " tcp-port = 1");
	assert_int_equal(read_conf(path, &s, false), 0);
	assert_string_equal(s.port, "7");
	assert_int_equal(s.keys, 1);
}

static void test_long_value(void **state)
{
	size_t n = 20000;
	char *text = malloc(n + 64);
	struct seen s;
	int len;

	(void)state;
	assert_non_null(text);
	len = sprintf(text, "[usbipd]\nremote = ");
	memset(text + len, 'r', n);
	len += (int)n;
	len += sprintf(text + len, "\ntcp-port = 9\n");
	write_file(text, (size_t)len);
	free(text);
	assert_int_equal(read_conf(path, &s, false), 0);
	assert_int_equal(s.remote_len, n);
	assert_string_equal(s.port, "9");
}

static void test_byte_order_mark(void **state)
{
	static const char text[] = "\xef\xbb\xbf[usbipd]\naddress = 127.0.0.1\n";
	static const char twice[] = "\xef\xbb\xbf\xef\xbb\xbf[usbipd]\naddress = 127.0.0.1\n";
	struct seen s;

	(void)state;
	write_file(text, sizeof(text) - 1);
	assert_int_equal(read_conf(path, &s, false), 0);
	assert_string_equal(s.address, "127.0.0.1");
	/* A second one is an error (and the keys after it are in no section). */
	write_file(twice, sizeof(twice) - 1);
	assert_int_equal(read_conf(path, &s, false), 2);
	assert_int_equal(first_error_line(path), 1);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[usbipd]\naddress = 127.0.0.1\ndebug = yes\0tcp-port = 1\n"
				   "tcp-port = 5\n";
	struct seen s;

	(void)state;
	write_file(text, sizeof(text) - 1);
	assert_int_equal(read_conf(path, &s, false), 1);
	assert_int_equal(first_error_line(path), 3);
	assert_string_equal(s.port, "5"); /* not the 1 after the NUL */
}

static void test_crlf(void **state)
{
	static const char text[] = "[usbipd]\r\n; a comment\r\naddress = 127.0.0.1\r\n"
				   "tcp-port = 3\r\nbogus = 1\r\n";
	struct seen s;

	(void)state;
	write_file(text, sizeof(text) - 1);
	assert_int_equal(read_conf(path, &s, false), 1);
	assert_string_equal(s.address, "127.0.0.1");
	assert_string_equal(s.port, "3");
	assert_int_equal(first_error_line(path), 5);
}

static void test_many_sections(void **state)
{
	unsigned n = 10000, i;
	char *text = malloc(n * 40 + 64);
	struct seen s;
	size_t len = 0;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "[export r%u]\nremote = a\n", i);
	len += (size_t)sprintf(text + len, "[export r5000]\nremote = b\n");
	write_file(text, len);
	free(text);
	assert_int_equal(read_conf(path, &s, false), 1);
	assert_int_equal(first_error_line(path), (long)n * 2 + 1);
}

static void test_not_regular_files(void **state)
{
	char fifo[160];
	struct seen s;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(read_conf(dir, &s, true), 1);
	assert_int_equal(read_conf(fifo, &s, true), 1);
	assert_int_equal(read_conf("/dev/zero", &s, true), 1);
	assert_int_equal(read_conf("/dev/null", &s, true), 1);
	unlink(fifo);
}

static void test_missing_file(void **state)
{
	char missing[160];
	struct conf_reader r = { .opts = opts, .set = record };
	struct seen s;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
	assert_int_equal(read_conf(missing, &s, true), 1);
	r.file = missing;
	r.ctx = &s;
	assert_int_equal(conf_read(&r, true), 0);
}

static void test_file_too_large(void **state)
{
	char *text = malloc(CONF_MAX_FILE + 1);
	struct seen s;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', CONF_MAX_FILE + 1);
	write_file(text, CONF_MAX_FILE + 1);
	free(text);
	assert_int_equal(read_conf(path, &s, true), 1);
}

/* The reader usbip.conf, TLS files and the proxy's password file share. */
static void test_read_regular_file(void **state)
{
	char fifo[160], *buf, err[200];
	mode_t mode = 0;
	size_t len;
	int open_errno;

	(void)state;
	write_file("abc\0def", 7);
	assert_int_equal(file_read_regular(path, 7, "test file", &buf, &len, &mode, &open_errno,
					   err, sizeof(err)),
			 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "abc\0def", 8); /* and a NUL after it */
	assert_true(S_ISREG(mode));
	assert_int_equal(open_errno, 0);
	free(buf);

	/* One byte over the bound: refused before a byte is read. */
	assert_int_equal(
		file_read_regular(path, 6, "test file", &buf, &len, NULL, NULL, err, sizeof(err)),
		-1);
	assert_null(buf);
	assert_string_equal(err, "7 bytes, more than the 6 a test file may have");

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(
		file_read_regular(fifo, 100, "test file", &buf, &len, NULL, NULL, err, sizeof(err)),
		-1);
	assert_string_equal(err, "a FIFO, not a test file");
	unlink(fifo);
	assert_int_equal(
		file_read_regular(dir, 100, "test file", &buf, &len, NULL, NULL, err, sizeof(err)),
		-1);
	assert_string_equal(err, "a directory, not a test file");
	assert_int_equal(file_read_regular("/dev/zero", 100, "test file", &buf, &len, NULL, NULL,
					   err, sizeof(err)),
			 -1);
	assert_string_equal(err, "a device, not a test file");
	assert_int_equal(file_read_regular(fifo, 100, "test file", &buf, &len, NULL, &open_errno,
					   err, sizeof(err)),
			 -1);
	assert_int_equal(open_errno, ENOENT);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_conf.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/usbip.conf", dir);
	snprintf(errors_path, sizeof(errors_path), "%s/stderr", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	unlink(errors_path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_comments),
		cmocka_unit_test(test_comment_past_the_bound),
		cmocka_unit_test(test_comment_ending_in_a_key),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_many_sections),
		cmocka_unit_test(test_not_regular_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_file_too_large),
		cmocka_unit_test(test_read_regular_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
