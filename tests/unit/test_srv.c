// SPDX-License-Identifier: GPL-2.0-or-later
/* DNS SRV answers as a resolver returns them, and RFC 2782's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

#include "net/srv.h"

/* A DNS answer built by hand: header, one question, then answer records. */
struct msg {
	unsigned char b[16384];
	size_t len;
	unsigned answers;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)(v >> 8);
	m->b[m->len++] = (unsigned char)v;
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		m->b[m->len++] = (unsigned char)n;
		memcpy(m->b + m->len, name, n);
		m->len += n;
		name += n + (dot ? 1 : 0);
	}
	m->b[m->len++] = 0;
}

static void msg_start(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234); /* id */
	put16(m, 0x8180); /* a response, recursion available, no error */
	put16(m, 1);
	put16(m, 0); /* answers: patched by add */
	put16(m, 0);
	put16(m, 0);
	put_name(m, "_usbipa._tcp.example.net");
	put16(m, 33); /* SRV */
	put16(m, 1);  /* IN */
}

/* Adds a record of type with raw data (rdata, rdlen bytes), named by a pointer to the question. */
static void add_raw(struct msg *m, unsigned type, const unsigned char *rdata, size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300); /* ttl */
	put16(m, (unsigned)rdlen);
	memcpy(m->b + m->len, rdata, rdlen);
	m->len += rdlen;
	m->answers++;
	m->b[6] = (unsigned char)(m->answers >> 8);
	m->b[7] = (unsigned char)m->answers;
}

static void add_srv(struct msg *m, unsigned prio, unsigned weight, unsigned port,
		    const char *target)
{
	struct msg rd = { .len = 0 };

	put16(&rd, prio);
	put16(&rd, weight);
	put16(&rd, port);
	put_name(&rd, target);
	add_raw(m, 33, rd.b, rd.len);
}

static int parse(const struct msg *m, struct srv_target *t, size_t cap, struct srv_answer_notes *n)
{
	char err[200] = "";
	int r = srv_parse_answer(m->b, m->len, t, cap, n, err, sizeof(err));

	if (r < 0)
		assert_true(err[0] != '\0');
	return r;
}

static void test_records_read(void **state)
{
	struct srv_target t[4];
	struct srv_answer_notes n;
	struct msg m;
	unsigned char a[4] = { 192, 0, 2, 1 };

	(void)state;
	msg_start(&m);
	add_srv(&m, 10, 60, 3240, "app1.example.net");
	add_raw(&m, 1, a, sizeof(a)); /* an A record beside them: not a target */
	add_srv(&m, 20, 0, 3241, "app2.example.net");
	assert_int_equal(parse(&m, t, 4, &n), 2);
	assert_int_equal(n.records, 2);
	assert_int_equal(t[0].priority, 10);
	assert_int_equal(t[0].weight, 60);
	assert_int_equal(t[0].port, 3240);
	assert_string_equal(t[0].host, "app1.example.net");
	assert_int_equal(t[1].port, 3241);
	assert_string_equal(t[1].host, "app2.example.net");
}

static void test_skipped(void **state)
{
	struct srv_target t[4];
	struct srv_answer_notes n;
	struct msg m;

	(void)state;
	msg_start(&m);
	add_srv(&m, 10, 1, 0, "zero.example.net");
	add_srv(&m, 10, 1, 3240, "ok.example.net");
	assert_int_equal(parse(&m, t, 4, &n), 1);
	assert_int_equal(n.port_zero, 1);
	assert_string_equal(t[0].host, "ok.example.net");

	msg_start(&m);
	add_srv(&m, 0, 0, 0, ""); /* target ".": decidedly not available */
	assert_int_equal(parse(&m, t, 4, &n), 0);
	assert_int_equal(n.none, 1);
}

static void test_bounded(void **state)
{
	struct srv_target t[SRV_TARGETS_MAX];
	struct srv_answer_notes n;
	struct msg m;
	char name[64];
	int i;

	(void)state;
	msg_start(&m);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "h%d.example.net", i);
		add_srv(&m, 1, 1, 3240, name);
	}
	assert_int_equal(parse(&m, t, SRV_TARGETS_MAX, &n), SRV_TARGETS_MAX);
	assert_int_equal(n.records, 300);
	assert_int_equal(n.dropped, 300 - SRV_TARGETS_MAX);
	assert_string_equal(t[SRV_TARGETS_MAX - 1].host, "h63.example.net");
}

static void test_malformed(void **state)
{
	struct srv_target t[4];
	struct srv_answer_notes n;
	struct msg m;
	unsigned char short_rd[5] = { 0, 1, 0, 1, 12 };
	unsigned char loop[8] = { 0, 1, 0, 1, 0x0c, 0x90, 0xc0, 0 };
	size_t at;

	(void)state;
	msg_start(&m);
	add_srv(&m, 1, 1, 3240, "ok.example.net");
	m.len -= 5; /* cut in the middle of the record */
	assert_int_equal(parse(&m, t, 4, &n), -1);

	msg_start(&m);
	add_raw(&m, 33, short_rd, sizeof(short_rd));
	assert_int_equal(parse(&m, t, 4, &n), -1);

	/* A target that points at itself: a compression loop. */
	msg_start(&m);
	at = m.len + 12 + 6; /* where the target name will start */
	loop[6] = (unsigned char)(0xc0 | (at >> 8));
	loop[7] = (unsigned char)at;
	add_raw(&m, 33, loop, sizeof(loop));
	assert_int_equal(parse(&m, t, 4, &n), -1);

	msg_start(&m);
	add_srv(&m, 1, 1, 3240, "bad host.example.net");
	assert_int_equal(parse(&m, t, 4, &n), -1);

	assert_int_equal(parse(&(struct msg){ .len = 5 }, t, 4, &n), -1);
}

/* xorshift32: the same draws every run. */
static uint32_t draw(void *arg)
{
	uint32_t *s = arg;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void set(struct srv_target *t, unsigned prio, unsigned weight, const char *host)
{
	t->priority = (uint16_t)prio;
	t->weight = (uint16_t)weight;
	t->port = 3240;
	snprintf(t->host, sizeof(t->host), "%s", host);
}

static void test_priority_first(void **state)
{
	struct srv_target t[4];
	uint32_t seed = 7;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		set(&t[0], 20, 100, "backup-a");
		set(&t[1], 10, 1, "main-a");
		set(&t[2], 30, 5, "last");
		set(&t[3], 10, 1, "main-b");
		srv_order(t, 4, draw, &seed);
		assert_int_equal(t[0].priority, 10);
		assert_int_equal(t[1].priority, 10);
		assert_string_equal(t[2].host, "backup-a");
		assert_string_equal(t[3].host, "last");
	}
}

static void test_weights(void **state)
{
	struct srv_target t[3];
	uint32_t seed = 12345;
	unsigned first_light = 0, first_heavy = 0, zero_not_last = 0, first_one = 0;
	int i, runs = 40000;

	(void)state;
	for (i = 0; i < runs; i++) {
		set(&t[0], 1, 1, "light");
		set(&t[1], 1, 3, "heavy");
		srv_order(t, 2, draw, &seed);
		if (strcmp(t[0].host, "light") == 0)
			first_light++;
		else
			first_heavy++;
	}
	/* 1:3 expected: light first a quarter of the time, give or take 2 %. */
	assert_in_range(first_light, runs / 4 - runs / 50, runs / 4 + runs / 50);
	assert_int_equal(first_light + first_heavy, runs);

	/* Weight 0 goes after every weighted target; 9:1 between the others. */
	for (i = 0; i < runs; i++) {
		set(&t[0], 1, 9, "nine");
		set(&t[1], 1, 0, "zero");
		set(&t[2], 1, 1, "one");
		srv_order(t, 3, draw, &seed);
		zero_not_last += strcmp(t[2].host, "zero") != 0;
		first_one += strcmp(t[0].host, "one") == 0;
	}
	assert_int_equal(zero_not_last, 0);
	assert_in_range(first_one, runs / 10 - runs / 50, runs / 10 + runs / 50);
}

/*
 * srv_try_each against an answer of ours: the resolver's calls are
 * replaced here (the program's definitions come before libresolv's), so
 * that the lookup, its order and the walk over the targets are tested
 * without a DNS server.
 */
static struct msg dns_answer;
static int dns_queries;

int res_ninit(res_state res)
{
	(void)res;
	return 0;
}

void res_nclose(res_state res)
{
	(void)res;
}

int res_nquery(res_state res, const char *name, int class, int type, unsigned char *answer,
	       int anslen)
{
	(void)class;
	(void)type;
	dns_queries++;
	assert_string_equal(name, "_usbipa._tcp.example.net");
	if (!dns_answer.answers) {
		res->res_h_errno = HOST_NOT_FOUND;
		return -1;
	}
	assert_true(dns_answer.len <= (size_t)anslen);
	memcpy(answer, dns_answer.b, dns_answer.len);
	return (int)dns_answer.len;
}

/* What the walk asked: the remotes in order, and the results to give back. */
struct walk {
	char tried[8][NET_ADDRESS_TEXT_MAX];
	size_t n;
	enum usbip_result results[8];
};

static enum usbip_result try_target(const char *remote, const char *tls_name, void *arg)
{
	struct walk *w = arg;

	assert_null(tls_name); /* TLS checks the target's own host name */
	assert_true(w->n < 8);
	snprintf(w->tried[w->n], sizeof(w->tried[0]), "%s", remote);
	return w->results[w->n++];
}

/* Priority first; a refusal (a full usbipa's status 2) goes on to the next at once. */
static void test_try_each(void **state)
{
	struct walk w = { .results = { USBIP_E_REFUSED, USBIP_OK } };

	(void)state;
	msg_start(&dns_answer);
	add_srv(&dns_answer, 20, 1, 3242, "late.example.net");
	add_srv(&dns_answer, 10, 1, 3241, "first.example.net");
	add_srv(&dns_answer, 30, 1, 3243, "never.example.net");
	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net", NULL, try_target, &w),
			 USBIP_OK);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.tried[0], "usbip://first.example.net:3241");
	assert_string_equal(w.tried[1], "usbip://late.example.net:3242");
}

/*
 * The target a device was on goes first while DNS lists it; when it refuses
 * (full, draining), the rest in their order, it not asked twice; one no
 * longer listed changes nothing.
 */
static void test_try_each_prefer(void **state)
{
	struct walk first = { .results = { USBIP_OK } };
	struct walk refused = { .results = { USBIP_E_REFUSED, USBIP_E_REFUSED, USBIP_OK } };
	struct walk gone = { .results = { USBIP_OK } };

	(void)state;
	msg_start(&dns_answer);
	add_srv(&dns_answer, 10, 1, 3241, "a.example.net");
	add_srv(&dns_answer, 20, 1, 3242, "b.example.net");
	add_srv(&dns_answer, 30, 1, 3243, "c.example.net");
	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net",
				      "usbip://c.example.net:3243", try_target, &first),
			 USBIP_OK);
	assert_int_equal(first.n, 1);
	assert_string_equal(first.tried[0], "usbip://c.example.net:3243");

	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net",
				      "usbip://b.example.net:3242", try_target, &refused),
			 USBIP_OK);
	assert_int_equal(refused.n, 3);
	assert_string_equal(refused.tried[0], "usbip://b.example.net:3242");
	assert_string_equal(refused.tried[1], "usbip://a.example.net:3241");
	assert_string_equal(refused.tried[2], "usbip://c.example.net:3243");

	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net",
				      "usbip://gone.example.net:3241", try_target, &gone),
			 USBIP_OK);
	assert_string_equal(gone.tried[0], "usbip://a.example.net:3241");
}

/* Every one refused: the last result, every target tried once. */
static void test_try_each_all_refuse(void **state)
{
	struct walk w = { .results = { USBIP_E_UNREACHABLE, USBIP_E_REFUSED } };

	(void)state;
	msg_start(&dns_answer);
	add_srv(&dns_answer, 10, 1, 3241, "a.example.net");
	add_srv(&dns_answer, 10, 1, 3241, "b.example.net");
	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net", NULL, try_target, &w),
			 USBIP_E_REFUSED);
	assert_int_equal(w.n, 2);
}

/* No such service, or only port 0: nothing tried, unreachable. */
static void test_try_each_none(void **state)
{
	struct walk w = { .results = { USBIP_OK } };

	(void)state;
	msg_start(&dns_answer);
	dns_queries = 0;
	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net", NULL, try_target, &w),
			 USBIP_E_UNREACHABLE);
	add_srv(&dns_answer, 10, 1, 0, "zero.example.net");
	assert_int_equal(srv_try_each(SRV_SERVICE_USBIPA, "example.net", NULL, try_target, &w),
			 USBIP_E_UNREACHABLE);
	assert_int_equal(w.n, 0);
	/* Asked each time: a pool's records may change between connections. */
	assert_int_equal(dns_queries, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_read),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_priority_first),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_try_each),
		cmocka_unit_test(test_try_each_prefer),
		cmocka_unit_test(test_try_each_all_refuse),
		cmocka_unit_test(test_try_each_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
