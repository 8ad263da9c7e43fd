// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/srv.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/log.h"

/*
 * Reads one SRV record's data. Returns 1 if t is a usable target, 0 if the
 * record is one to skip (noted), -1 if it is malformed.
 */
static int srv_read_record(const ns_msg *msg, const ns_rr *rr, struct srv_target *t,
			   struct srv_answer_notes *notes)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	char name[NS_MAXDNAME];

	if (ns_rr_rdlen(*rr) < 7 ||
	    ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6, name, sizeof(name)) < 0)
		return -1;
	t->priority = ns_get16(rd);
	t->weight = ns_get16(rd + 2);
	t->port = ns_get16(rd + 4);
	if (strcmp(name, ".") == 0 || name[0] == '\0') {
		notes->none = 1;
		return 0;
	}
	if (t->port == 0) {
		notes->port_zero++;
		return 0;
	}
	if (!address_is_host_name(name)) /* what the address syntax accepts, nothing else */
		return -1;
	snprintf(t->host, sizeof(t->host), "%.*s", (int)sizeof(t->host) - 1, name);
	return 1;
}

int srv_parse_answer(const unsigned char *msg, size_t len, struct srv_target *out, size_t cap,
		     struct srv_answer_notes *notes, char *err, size_t err_len)
{
	ns_msg handle;
	size_t kept = 0;
	int i, count;

	memset(notes, 0, sizeof(*notes));
	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &handle) < 0) {
		snprintf(err, err_len, "the DNS answer is not a well-formed message");
		return -1;
	}
	count = ns_msg_count(handle, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		int r;

		if (ns_parserr(&handle, ns_s_an, i, &rr) < 0) {
			snprintf(err, err_len, "the DNS answer's record %d is cut short", i + 1);
			return -1;
		}
		if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
			continue;
		notes->records++;
		if (kept == cap) {
			notes->dropped++;
			continue;
		}
		r = srv_read_record(&handle, &rr, &out[kept], notes);
		if (r < 0) {
			snprintf(err, err_len, "the DNS answer's SRV record %zu is malformed",
				 notes->records);
			return -1;
		}
		kept += (size_t)r;
	}
	return (int)kept;
}

/* Priority first, then weight 0 before the rest (the RFC's arrangement). */
static int srv_compare(const void *a, const void *b)
{
	const struct srv_target *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return (x->weight != 0) - (y->weight != 0);
}

/*
 * Draws the next of t[0..n) by weight and moves it to t[0], the rest kept
 * in order. The draw is in [0, sum) and a target is taken when the running
 * sum passes it, so that each gets exactly its weight's share; RFC 2782's
 * inclusive [0, sum] would give the first one an extra 1/(sum+1). Weight 0
 * is thus left for when nothing weighted remains.
 */
static void srv_draw_first(struct srv_target *t, size_t n, uint32_t (*draw)(void *), void *arg)
{
	uint64_t sum = 0, running = 0, pick;
	struct srv_target chosen;
	size_t i;

	for (i = 0; i < n; i++)
		sum += t[i].weight;
	if (sum == 0)
		return;
	pick = ((uint64_t)draw(arg) * sum) >> 32;
	for (i = 0; i < n - 1; i++) {
		running += t[i].weight;
		if (running > pick)
			break;
	}
	chosen = t[i];
	memmove(&t[1], &t[0], i * sizeof(*t));
	t[0] = chosen;
}

void srv_order(struct srv_target *t, size_t n, uint32_t (*draw)(void *arg), void *arg)
{
	size_t start = 0, end, i;

	qsort(t, n, sizeof(*t), srv_compare);
	while (start < n) {
		for (end = start; end < n && t[end].priority == t[start].priority; end++)
			;
		for (i = start; i + 1 < end; i++)
			srv_draw_first(&t[i], end - i, draw, arg);
		start = end;
	}
}

static uint32_t srv_system_draw(void *arg)
{
	uint32_t x;

	(void)arg;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = (uint32_t)random();
	return x;
}

/* The resolver's answer to name, in buf; its length, 0 if there is no such record, or -1. */
static int srv_query(const char *name, unsigned char *buf, size_t cap, char *err, size_t err_len)
{
	struct __res_state res;
	int len;

	memset(&res, 0, sizeof(res));
	if (res_ninit(&res) < 0) {
		snprintf(err, err_len, "cannot read the resolver's configuration");
		return -1;
	}
	len = res_nquery(&res, name, ns_c_in, ns_t_srv, buf, (int)cap);
	if (len < 0 && (res.res_h_errno == HOST_NOT_FOUND || res.res_h_errno == NO_DATA))
		len = 0;
	else if (len < 0)
		snprintf(err, err_len, "no answer from DNS for %s", name);
	res_nclose(&res);
	if (len > (int)cap)
		len = (int)cap; /* cut: parsing says so */
	return len;
}

/* One line for what an answer held that is not tried. */
static void srv_note(const char *name, const struct srv_answer_notes *notes)
{
	if (notes->dropped)
		log_warn("%s: %zu SRV records, only the first %d are tried", name, notes->records,
			 SRV_TARGETS_MAX);
	if (notes->port_zero)
		log_warn("%s: %zu SRV records name port 0, skipped", name, notes->port_zero);
}

int srv_lookup(const char *name, struct srv_target *out, size_t cap, char *err, size_t err_len)
{
	struct srv_answer_notes notes;
	unsigned char *buf;
	int len, n;

	buf = malloc(NS_MAXMSG);
	if (!buf) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	len = srv_query(name, buf, NS_MAXMSG, err, err_len);
	n = len > 0 ? srv_parse_answer(buf, (size_t)len, out, cap, &notes, err, err_len) : len;
	free(buf);
	if (len > 0 && n >= 0)
		srv_note(name, &notes);
	if (n > 0)
		srv_order(out, (size_t)n, srv_system_draw, NULL);
	else if (n == 0)
		snprintf(err, err_len, "DNS has no usable SRV record for %s", name);
	return n;
}

int srv_resolve(const char *service, const char *name, struct srv_target *out, size_t cap)
{
	char query[NET_ADDRESS_HOST_MAX + 32], err[NET_ADDRESS_HOST_MAX + 80];
	int n;

	if ((size_t)snprintf(query, sizeof(query), "%s.%s", service, name) >= sizeof(query)) {
		log_err("srv:%s: the name is too long for %s", name, service);
		return -1;
	}
	n = srv_lookup(query, out, cap, err, sizeof(err));
	if (n <= 0)
		log_err("srv:%s: %s", name, err);
	return n;
}

/* Moves the target that is prefer (a remote) to the front of t[0..n), keeping the rest's order. */
static void put_first(struct srv_target *t, int n, const char *prefer)
{
	char remote[NET_ADDRESS_TEXT_MAX];
	struct srv_target chosen;
	int i;

	for (i = 0; prefer && i < n; i++) {
		srv_target_remote(&t[i], remote, sizeof(remote));
		if (strcmp(remote, prefer) == 0) {
			chosen = t[i];
			memmove(t + 1, t, (size_t)i * sizeof(*t));
			t[0] = chosen;
			return;
		}
	}
}

enum usbip_result srv_try_each(const char *service, const char *name, const char *prefer,
			       enum usbip_result (*try_target)(const char *remote,
							       const char *tls_name, void *arg),
			       void *arg)
{
	struct srv_target targets[SRV_TARGETS_MAX];
	char remote[NET_ADDRESS_TEXT_MAX];
	enum usbip_result rc = USBIP_E_UNREACHABLE;
	int n = srv_resolve(service, name, targets, SRV_TARGETS_MAX), i;

	put_first(targets, n, prefer);
	for (i = 0; i < n && rc != USBIP_OK; i++) {
		srv_target_remote(&targets[i], remote, sizeof(remote));
		rc = try_target(remote, NULL, arg);
	}
	return rc;
}

void srv_target_remote(const struct srv_target *t, char *out, size_t len)
{
	bool v6 = strchr(t->host, ':') != NULL;

	/* As a URL, so that a target named "unix" or "srv" is still a host. */
	snprintf(out, len, "usbip://%s%s%s:%u", v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
}
