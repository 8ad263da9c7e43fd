// SPDX-License-Identifier: GPL-2.0-or-later
/* /metrics: Prometheus's text format, the requests a scraper sends and those it does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "net/relay_stats.h"
#include "loop_util.h"

static char *render(void (*fn)(struct metrics_text *, void *))
{
	struct metrics_text m;
	char *buf = NULL;
	size_t len = 0;

	m.out = open_memstream(&buf, &len);
	assert_non_null(m.out);
	fn(&m, NULL);
	fclose(m.out);
	return buf;
}

static void families(struct metrics_text *m, void *arg)
{
	(void)arg;
	metrics_family(m, "usbipa_imports", "gauge", "Devices imported, by state.");
	metrics_sample(m, "usbipa_imports", 3, "state", "attached", METRICS_END);
	metrics_sample(m, "usbipa_up", 1, METRICS_END);
	metrics_sample(m, "usbipa_relay_bytes_total", 1.5, "peer", "a\"b\\c\nd", "dir", "in",
		       METRICS_END);
}

static void test_text_format(void **state)
{
	char *text = render(families);

	(void)state;
	assert_string_equal(text,
			    "# HELP usbipa_imports Devices imported, by state.\n"
			    "# TYPE usbipa_imports gauge\n"
			    "usbipa_imports{state=\"attached\"} 3\n"
			    "usbipa_up 1\n"
			    "usbipa_relay_bytes_total{peer=\"a\\\"b\\\\c\\nd\",dir=\"in\"} 1.5\n");
	free(text);
}

static void relay_families(struct metrics_text *m, void *arg)
{
	(void)arg;
	metrics_relays(m, "usbipd");
}

/* A relay process forked now: it moves to_peer and from_peer bytes over t, and ends or not. */
static void relay_child(enum relay_transport t, size_t to_peer, size_t from_peer, bool ends)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		relay_stats_started(t);
		relay_stats_add(t, RELAY_TO_PEER, to_peer);
		relay_stats_add(t, RELAY_FROM_PEER, from_peer);
		if (ends)
			relay_stats_ended(t);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * The relays' families, from what relay processes forked after the page
 * was made counted in it; none before it is made, and a relay forked
 * after it is let go of counts nothing.
 */
static void test_relay_families(void **state)
{
	char *text;

	(void)state;
	relay_child(RELAY_TLS, 5, 5, true); /* no page yet: nowhere to count */
	text = render(relay_families);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(relay_stats_open(), 0);
	assert_int_equal(relay_stats_open(), 0); /* again: the same page */
	relay_child(RELAY_TLS, 100, 4096, true);
	relay_child(RELAY_TLS, 20, 1, true);
	relay_child(RELAY_WS, 7, 3, false); /* still running */
	text = render(relay_families);
	assert_string_equal(
		text,
		"# HELP usbipd_relay_bytes_total bytes of the USB/IP stream the relay processes "
		"carried, by direction\n"
		"# TYPE usbipd_relay_bytes_total counter\n"
		"usbipd_relay_bytes_total{transport=\"tls\",direction=\"to_peer\"} 120\n"
		"usbipd_relay_bytes_total{transport=\"tls\",direction=\"from_peer\"} 4097\n"
		"usbipd_relay_bytes_total{transport=\"ws\",direction=\"to_peer\"} 7\n"
		"usbipd_relay_bytes_total{transport=\"ws\",direction=\"from_peer\"} 3\n"
		"# HELP usbipd_relays_started_total relay processes started\n"
		"# TYPE usbipd_relays_started_total counter\n"
		"usbipd_relays_started_total{transport=\"tls\"} 2\n"
		"usbipd_relays_started_total{transport=\"ws\"} 1\n"
		"# HELP usbipd_relays_running relay processes started and not yet ended\n"
		"# TYPE usbipd_relays_running gauge\n"
		"usbipd_relays_running{transport=\"tls\"} 0\n"
		"usbipd_relays_running{transport=\"ws\"} 1\n");
	free(text);
	relay_stats_close();
	relay_child(RELAY_WS, 1, 1, true);
	assert_false(relay_stats_on());
	text = render(relay_families);
	assert_string_equal(text, "");
	free(text);
}

static enum metrics_request req(const char *s)
{
	return metrics_request_parse(s, strlen(s));
}

static void test_requests(void **state)
{
	char big[METRICS_REQUEST_MAX];

	(void)state;
	assert_int_equal(req("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_REQ_GET);
	assert_int_equal(req("GET /metrics?name[]=up HTTP/1.0\n\n"), METRICS_REQ_GET);
	assert_int_equal(req("GET /metrics HTTP/1.1\r\nHost: x\r\n"), METRICS_REQ_INCOMPLETE);
	assert_int_equal(req("GET /metricsx HTTP/1.1\r\n\r\n"), METRICS_REQ_NOT_FOUND);
	assert_int_equal(req("GET / HTTP/1.1\r\n\r\n"), METRICS_REQ_NOT_FOUND);
	assert_int_equal(req("POST /metrics HTTP/1.1\r\n\r\n"), METRICS_REQ_METHOD);
	assert_int_equal(req("get /metrics HTTP/1.1\r\n\r\n"), METRICS_REQ_METHOD);
	assert_int_equal(req("GET /metrics\r\n\r\n"), METRICS_REQ_BAD);
	assert_int_equal(req("GET /metrics SPDY/3\r\n\r\n"), METRICS_REQ_BAD);
	assert_int_equal(req("\x16\x03\x01\x02\x05\x01\x07\x01\xfc\r\n\r\n"), METRICS_REQ_BAD);
	memset(big, 'a', sizeof(big));
	assert_int_equal(metrics_request_parse(big, sizeof(big)), METRICS_REQ_TOO_LARGE);
	assert_int_equal(metrics_request_parse(big, sizeof(big) - 1), METRICS_REQ_INCOMPLETE);
}

static int client(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Runs the loop until fd reaches end of file (the server closed); what came, in out. */
static size_t answer(struct ev_loop *loop, int fd, char *out, size_t cap)
{
	long long end = ev_now_ms() + 4000;
	size_t got = 0;

	while (ev_now_ms() < end) {
		ssize_t n = recv(fd, out + got, cap - 1 - got, 0);

		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		else if (errno == EAGAIN)
			run_loop_for(loop, 5);
		else
			break;
	}
	out[got] = '\0';
	return got;
}

static void test_server(void **state)
{
	struct ev_loop *loop = ev_loop_new();
	struct metrics_server *s = metrics_open("127.0.0.1:0", families, NULL);
	char buf[4096], big[METRICS_REQUEST_MAX + 10];
	int idle[METRICS_CONN_MAX], fd, i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(metrics_watch(s, loop), 0);

	fd = client(metrics_port(s));
	send(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n", 35, 0);
	answer(loop, fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "\r\n\r\n# HELP usbipa_imports"));

	fd = client(metrics_port(s));
	send(fd, "DELETE /metrics HTTP/1.1\r\n\r\n", 28, 0);
	answer(loop, fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 405 "));
	assert_non_null(strstr(buf, "Allow: GET\r\n"));

	fd = client(metrics_port(s));
	memset(big, 'A', sizeof(big));
	send(fd, big, sizeof(big), 0);
	answer(loop, fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 431 "));

	/* Every slot held by a client that says nothing: one more is closed at once. */
	for (i = 0; i < METRICS_CONN_MAX; i++)
		idle[i] = client(metrics_port(s));
	fd = client(metrics_port(s));
	assert_int_equal(answer(loop, fd, buf, sizeof(buf)), 0);
	close(fd);
	/* Once they go, a scrape is answered again. */
	for (i = 0; i < METRICS_CONN_MAX; i++)
		close(idle[i]);
	run_loop_for(loop, 20);
	fd = client(metrics_port(s));
	send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25, 0);
	answer(loop, fd, buf, sizeof(buf));
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));

	metrics_close(s);
	ev_loop_free(loop);
}

static void test_bad_address(void **state)
{
	(void)state;
	assert_null(metrics_open("127.0.0.1", families, NULL)); /* no port */
	assert_null(metrics_open(":99999", families, NULL));
	assert_null(metrics_open("[::1", families, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_format), cmocka_unit_test(test_relay_families),
		cmocka_unit_test(test_requests),    cmocka_unit_test(test_server),
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
