/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS SRV records (RFC 2782): where the instances of a service are, asked
 * of DNS each time a connection is made, so that a pool of hosts is run
 * with the records a site already serves rather than a registry of ours.
 * The answer is parsed by the resolver library's own message parser
 * (libresolv's ns_parserr), bounded to SRV_TARGETS_MAX targets, and put in
 * the order the RFC asks for: lowest priority first, and within one
 * priority a weighted random draw, so that weights 1:3 get 1:3 of the
 * connections over time.
 */
#ifndef USBIP_NET_SRV_H
#define USBIP_NET_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "net/address.h"
#include "util/result.h"

/* More than any pool needs, few enough to try one by one. */
#define SRV_TARGETS_MAX 64

struct srv_target {
	uint16_t priority;
	uint16_t weight;
	uint16_t port;
	char host[NET_ADDRESS_HOST_MAX]; /* without the trailing dot */
};

/* What an answer held besides the targets kept, for one log line. */
struct srv_answer_notes {
	size_t records;	  /* SRV records in the answer */
	size_t port_zero; /* skipped: port 0 names no service */
	size_t dropped;	  /* skipped: beyond SRV_TARGETS_MAX */
	int none;	  /* the service is decidedly not there (target ".") */
};

/*
 * Reads the SRV records of a DNS answer (msg, len bytes, as the resolver
 * returns it) into out (room for cap targets), in the answer's order.
 * Returns how many were kept, or -1 with why in err when the message is
 * not a well-formed DNS answer.
 */
int srv_parse_answer(const unsigned char *msg, size_t len, struct srv_target *out, size_t cap,
		     struct srv_answer_notes *notes, char *err, size_t err_len);

/*
 * Puts targets in RFC 2782's order: ascending priority, then within each
 * priority a weighted random draw using draw(arg), which returns a number
 * uniform in [0, 2^32).
 */
void srv_order(struct srv_target *t, size_t n, uint32_t (*draw)(void *arg), void *arg);

/*
 * Asks DNS for the SRV records of name (e.g. "_usbipa._tcp.example.net")
 * and returns them ordered, as srv_order with the system's random numbers.
 * Returns the count (0: no such service), or -1 with why in err.
 */
int srv_lookup(const char *name, struct srv_target *out, size_t cap, char *err, size_t err_len);

/* The services a srv: remote names: usbipa's (connect, export) and usbipd's (attach, list). */
#define SRV_SERVICE_USBIPA "_usbipa._tcp"
#define SRV_SERVICE_USBIP  "_usbip._tcp"

/*
 * A srv:NAME remote's targets: srv_lookup of "SERVICE.NAME", in the order
 * to try them. Returns the count, or 0 or -1 after one log line (no such
 * service, no usable record, DNS failing).
 */
int srv_resolve(const char *service, const char *name, struct srv_target *out, size_t cap);

/*
 * The targets of srv_resolve(service, name), each given to try_target
 * with arg as a remote ("usbip://host:port") and tls_name NULL (TLS checks
 * that host; mdns_browse_try_each calls the same shape with a name), in
 * order, until one returns USBIP_OK; but prefer (a remote as srv_target_remote writes it,
 * NULL for none), when DNS still lists it, first: the usbipa a device was
 * on, so that a device coming back after a dropped connection goes back
 * there while that host lives instead of to another one of the pool.
 * Returns that, the last one's result, or USBIP_E_UNREACHABLE when DNS
 * gave none (logged).
 */
enum usbip_result srv_try_each(const char *service, const char *name, const char *prefer,
			       enum usbip_result (*try_target)(const char *remote,
							       const char *tls_name, void *arg),
			       void *arg);

/* A target as a remote address_parse reads: "usbip://host:port". */
void srv_target_remote(const struct srv_target *t, char *out, size_t len);

#endif
