// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP wrappers see the client's numeric address and nothing else: no DNS
 * and no ident lookups, which would stop a daemon's event loop. The rules
 * come from files of our own (libwrap's hosts_allow_table and
 * hosts_deny_table), over real loopback connections.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/tcp_wrappers.h"

#ifdef HAVE_LIBWRAP
#include <tcpd.h>

static char allow_file[] = "/tmp/test_wrap_allow.XXXXXX";
static char deny_file[] = "/tmp/test_wrap_deny.XXXXXX";

static void write_rules(const char *path, const char *rules)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(rules, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * A connection from loopback (family AF_INET or AF_INET6; v4mapped: an
 * IPv6 socket reaching 127.0.0.1 as ::ffff:127.0.0.1). Returns the server
 * side's fd, whose peer the rules are checked for, or -1 where the family
 * is not available.
 */
static int loopback_peer(int family, bool v4mapped, int *client)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int lfd, fd, off = 0;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		if (v4mapped)
			inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
		else
			a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	if (family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (family == AF_INET6 && v4mapped) {
		/* Listen on :: (dual stack), connect from IPv4. */
		struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any };

		if (bind(lfd, (struct sockaddr *)&any, sizeof(any)) != 0)
			goto fail;
	} else if (bind(lfd, (struct sockaddr *)&ss, len) != 0) {
		goto fail;
	}
	if (listen(lfd, 1) != 0 || getsockname(lfd, (struct sockaddr *)&ss, &len) != 0)
		goto fail;
	if (v4mapped) {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		*client = socket(AF_INET, SOCK_STREAM, 0);
		if (*client < 0 || connect(*client, (struct sockaddr *)&to, sizeof(to)) != 0)
			goto fail;
	} else {
		*client = socket(family, SOCK_STREAM, 0);
		if (*client < 0 || connect(*client, (struct sockaddr *)&ss, len) != 0)
			goto fail;
	}
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	return fd;
fail:
	close(lfd);
	return -1;
}

/* Whether a client of family gets in with these rules (deny: ALL: ALL). */
static bool allowed(int family, bool v4mapped, const char *allow)
{
	int client = -1, fd = loopback_peer(family, v4mapped, &client);
	bool ok;

	if (fd < 0) {
		if (client >= 0)
			close(client);
		return false;
	}
	write_rules(allow_file, allow);
	ok = tcp_wrappers_allow(fd, "test");
	close(fd);
	close(client);
	return ok;
}

static int setup(void **state)
{
	int a = mkstemp(allow_file), d = mkstemp(deny_file);

	(void)state;
	if (a < 0 || d < 0)
		return -1;
	close(a);
	close(d);
	write_rules(deny_file, "ALL: ALL\n");
	hosts_allow_table = allow_file;
	hosts_deny_table = deny_file;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(allow_file);
	unlink(deny_file);
	return 0;
}

static void test_addresses(void **state)
{
	(void)state;
	assert_true(allowed(AF_INET, false, "test: 127.0.0.1\n"));
	assert_true(allowed(AF_INET, false, "test: 127.0.0.0/255.0.0.0\n"));
	assert_true(allowed(AF_INET, false, "test: 127.\n"));
	assert_false(allowed(AF_INET, false, "test: 10.0.0.0/255.0.0.0\n"));
	assert_false(allowed(AF_INET, false, "other: 127.0.0.1\n"));
	assert_false(allowed(AF_INET, false, ""));
}

/* An IPv4 client on a dual-stack IPv6 socket is matched as IPv4. */
static void test_v4_mapped(void **state)
{
	int client = -1, fd = loopback_peer(AF_INET6, true, &client);

	(void)state;
	if (fd < 0)
		skip(); /* no IPv6 here */
	close(fd);
	close(client);
	assert_true(allowed(AF_INET6, true, "test: 127.0.0.1\n"));
	assert_false(allowed(AF_INET6, true, "test: [::ffff:127.0.0.1]\n"));
}

static void test_ipv6(void **state)
{
	int client = -1, fd = loopback_peer(AF_INET6, false, &client);

	(void)state;
	if (fd < 0)
		skip();
	close(fd);
	close(client);
	assert_true(allowed(AF_INET6, false, "test: [::1]\n"));
	assert_false(allowed(AF_INET6, false, "test: [2001:db8::]/32\n"));
}

/*
 * Names are never looked up: 127.0.0.1 is "localhost" in /etc/hosts, and a
 * rule naming it would match if the daemon asked the resolver. To a rule
 * the client's name is unknown.
 */
static void test_no_names(void **state)
{
	(void)state;
	assert_false(allowed(AF_INET, false, "test: localhost\n"));
	assert_false(allowed(AF_INET, false, "test: .localdomain\n"));
	assert_false(allowed(AF_INET, false, "test: KNOWN\n"));
	assert_true(allowed(AF_INET, false, "test: UNKNOWN\n"));
	/* No ident query either: the user is unknown to a user@host rule. */
	assert_false(allowed(AF_INET, false, "test: root@127.0.0.1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_no_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
#else
static void test_without_libwrap(void **state)
{
	int fds[2];

	(void)state;
	/* Built without TCP wrappers: every peer is allowed. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_true(tcp_wrappers_allow(fds[0], "test"));
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_libwrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
