// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "net/mdns_browse.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/address.h"
#include "util/log.h"

#ifdef HAVE_AVAHI

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <time.h>

bool mdns_browse_available(void)
{
	return true;
}

struct browse {
	AvahiSimplePoll *poll;
	AvahiClient *client;
	struct mdns_service *found;
	size_t max, count;
	unsigned pending;
	char *err;
	size_t err_len;
	bool failed;
	bool until_all_for_now; /* an mdns: remote: done once the cache has answered */
	bool all_for_now;
};

/* TXT key=value into out ("" when not there); bounded by out's size. */
static void txt_value(AvahiStringList *txt, const char *key, char *out, size_t len)
{
	AvahiStringList *item = avahi_string_list_find(txt, key);
	char *k = NULL, *v = NULL;

	out[0] = '\0';
	if (item && avahi_string_list_get_pair(item, &k, &v, NULL) == 0 && v)
		snprintf(out, len, "%s", v);
	avahi_free(k);
	avahi_free(v);
}

/* The entry for name: the one found already, a new one, or NULL when full. */
static struct mdns_service *slot_for(struct browse *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->count; i++)
		if (strncmp(b->found[i].name, name, sizeof(b->found[i].name) - 1) == 0)
			return &b->found[i];
	if (b->count == b->max)
		return NULL;
	memset(&b->found[b->count], 0, sizeof(b->found[0]));
	return &b->found[b->count++];
}

static void on_resolve(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
		       AvahiResolverEvent event, const char *name, const char *type,
		       const char *domain, const char *host, const AvahiAddress *addr,
		       uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags, void *arg)
{
	struct browse *b = arg;
	struct mdns_service *s;
	bool first;

	b->pending--;
	if (event == AVAHI_RESOLVER_FOUND && addr && port) {
		first = true;
		s = slot_for(b, name);
		if (s && s->port)
			first = false;
		/* One per name: IPv4 rather than IPv6 (a link-local one needs its interface). */
		if (s && (first || (s->ipv6 && addr->proto == AVAHI_PROTO_INET))) {
			snprintf(s->name, sizeof(s->name), "%s", name);
			snprintf(s->host, sizeof(s->host), "%s", host);
			avahi_address_snprint(s->address, sizeof(s->address), addr);
			s->ipv6 = addr->proto == AVAHI_PROTO_INET6;
			s->port = port;
			txt_value(txt, "version", s->version, sizeof(s->version));
			txt_value(txt, "tls", s->tls, sizeof(s->tls));
			txt_value(txt, "transports", s->transports, sizeof(s->transports));
		}
	}
	avahi_service_resolver_free(r);
	(void)iface, (void)proto, (void)type, (void)domain, (void)flags;
}

static void on_browse(AvahiServiceBrowser *sb, AvahiIfIndex iface, AvahiProtocol proto,
		      AvahiBrowserEvent event, const char *name, const char *type,
		      const char *domain, AvahiLookupResultFlags flags, void *arg)
{
	struct browse *b = arg;

	(void)sb, (void)flags;
	/*
	 * The address of the protocol it was seen over: with AVAHI_PROTO_UNSPEC
	 * both resolvers may give the IPv6 one, and IPv4 would never be chosen.
	 */
	if (event == AVAHI_BROWSER_NEW && b->pending < 4 * b->max &&
	    avahi_service_resolver_new(b->client, iface, proto, name, type, domain, proto, 0,
				       on_resolve, b))
		b->pending++;
	else if (event == AVAHI_BROWSER_ALL_FOR_NOW)
		b->all_for_now = true;
	else if (event == AVAHI_BROWSER_FAILURE) {
		snprintf(b->err, b->err_len, "cannot browse: %s",
			 avahi_strerror(avahi_client_errno(b->client)));
		b->failed = true;
	}
}

static void on_browse_client(AvahiClient *client, AvahiClientState state, void *arg)
{
	struct browse *b = arg;

	if (state == AVAHI_CLIENT_FAILURE) {
		snprintf(b->err, b->err_len, "cannot browse: avahi: %s",
			 avahi_strerror(avahi_client_errno(client)));
		b->failed = true;
	}
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Runs the loop until the deadline (and the resolvers under way have had
 * it), or for a remote until what avahi-daemon knew is resolved.
 */
static void browse_for(struct browse *b, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms, left;

	while (!b->failed && (left = deadline - now_ms()) > 0) {
		if (b->until_all_for_now && b->all_for_now && b->pending == 0)
			break;
		if (avahi_simple_poll_iterate(b->poll, (int)left) != 0)
			break;
	}
}

static int browse_run(struct browse *b, const char *type, int timeout_ms, size_t *count)
{
	AvahiServiceBrowser *sb = NULL;
	int error = 0;

	*count = 0;
	b->poll = avahi_simple_poll_new();
	if (!b->poll) {
		snprintf(b->err, b->err_len, "out of memory");
		return -1;
	}
	b->client =
		avahi_client_new(avahi_simple_poll_get(b->poll), 0, on_browse_client, b, &error);
	if (!b->client)
		snprintf(b->err, b->err_len, "cannot browse: avahi-daemon: %s",
			 avahi_strerror(error));
	else
		sb = avahi_service_browser_new(b->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type,
					       NULL, 0, on_browse, b);
	if (b->client && !sb)
		snprintf(b->err, b->err_len, "cannot browse: %s",
			 avahi_strerror(avahi_client_errno(b->client)));
	if (sb)
		browse_for(b, timeout_ms);
	if (sb)
		avahi_service_browser_free(sb);
	if (b->client)
		avahi_client_free(b->client); /* and the resolvers still under way */
	avahi_simple_poll_free(b->poll);
	*count = b->count;
	return sb && !b->failed ? 0 : -1;
}

int mdns_browse(const char *type, int timeout_ms, struct mdns_service *found, size_t max,
		size_t *count, char *err, size_t err_len)
{
	struct browse b = { .found = found, .max = max, .err = err, .err_len = err_len };

	return browse_run(&b, type, timeout_ms, count);
}

/* A remote's browse: over as soon as avahi-daemon has told what it knows. */
static int browse_for_remote(const char *type, struct mdns_service *found, size_t *count, char *err,
			     size_t err_len)
{
	struct browse b = { .found = found,
			    .max = MDNS_BROWSE_MAX,
			    .err = err,
			    .err_len = err_len,
			    .until_all_for_now = true };

	return browse_run(&b, type, MDNS_BROWSE_TIME_MS, count);
}
#else /* no Avahi in this build */

bool mdns_browse_available(void)
{
	return false;
}

int mdns_browse(const char *type, int timeout_ms, struct mdns_service *found, size_t max,
		size_t *count, char *err, size_t err_len)
{
	(void)type, (void)timeout_ms, (void)found, (void)max;
	*count = 0;
	snprintf(err, err_len, "built without Avahi (configure --with-avahi): no mDNS");
	return -1;
}

static int browse_for_remote(const char *type, struct mdns_service *found, size_t *count, char *err,
			     size_t err_len)
{
	return mdns_browse(type, MDNS_BROWSE_TIME_MS, found, MDNS_BROWSE_MAX, count, err, err_len);
}

#endif

/* ------------------------------------------------------------ choosing */

/* Dots as slashes: with FNM_PATHNAME a glob's * ? [] then stay within one label. */
static void dots_to_slashes(char *s)
{
	for (; *s; s++)
		if (*s == '.')
			*s = '/';
}

bool mdns_browse_allowed(const char *patterns, const char *host)
{
	char name[sizeof(((struct mdns_service *)0)->host)], one[sizeof(name)];
	size_t len;
	const char *p, *comma;

	if (!patterns[0])
		return true;
	len = strlen(host);
	if (len >= sizeof(name) || strchr(host, '/'))
		return false;
	memcpy(name, host, len + 1);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	dots_to_slashes(name);
	for (p = patterns; *p; p = *comma ? comma + 1 : comma) {
		comma = strchrnul(p, ',');
		len = (size_t)(comma - p);
		if (len == 0 || len >= sizeof(one))
			continue;
		memcpy(one, p, len);
		one[len] = '\0';
		dots_to_slashes(one);
		if (fnmatch(one, name, FNM_CASEFOLD | FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

/* Whether s may be tried for patterns; says why not at --debug. */
static bool usable(const char *patterns, const struct mdns_service *s)
{
	char name[LOG_ESCAPED_SIZE(64)], host[LOG_ESCAPED_SIZE(256)];
	const char *why = NULL;

	if (!address_is_host_name(s->host))
		why = "its host name is not a DNS name";
	else if (!mdns_browse_allowed(patterns, s->host))
		why = "its host is not one the remote allows";
	else if (s->ipv6 && strncasecmp(s->address, "fe80:", 5) == 0)
		why = "only a link-local IPv6 address";
	else if (s->port == 0 || s->port > 65535)
		why = "no port";
	if (why)
		log_debug("mdns: '%s' on '%s': %s, not tried",
			  log_escape(name, sizeof(name), s->name),
			  log_escape(host, sizeof(host), s->host), why);
	return why == NULL;
}

/* Host name (case ignored), port, instance name, address: the same order every time. */
static int compare_services(const void *a, const void *b)
{
	const struct mdns_service *x = a, *y = b;
	int c = strcasecmp(x->host, y->host);

	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->address, y->address);
}

size_t mdns_browse_select(const char *patterns, struct mdns_service *found, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++)
		if (usable(patterns, &found[i])) {
			if (kept != i)
				found[kept] = found[i];
			kept++;
		}
	qsort(found, kept, sizeof(*found), compare_services);
	return kept;
}

void mdns_browse_remote(const struct mdns_service *s, char *out, size_t len)
{
	snprintf(out, len, "usbip://%s%s%s:%u", s->ipv6 ? "[" : "", s->address, s->ipv6 ? "]" : "",
		 s->port);
}

/* The services found, as one line for a remote that allowed none of them. */
static void say_none_allowed(const char *patterns, const char *type, size_t found)
{
	char shown[LOG_ESCAPED_SIZE(64)];

	log_escape(shown, sizeof(shown), patterns);
	if (found == 0)
		log_err("'mdns:%s': no %s announced on the LAN within %d s", shown, type,
			MDNS_BROWSE_TIME_MS / 1000);
	else
		log_err("'mdns:%s': %zu %s announced, none by a host the remote allows: "
			"nothing tried",
			shown, found, type);
}

/*
 * One line for a try that failed when another follows (the last one's
 * failure is the caller's to tell): which announced service it was.
 */
static void say_tried(const struct mdns_service *s, const char *remote)
{
	char name[LOG_ESCAPED_SIZE(64)];

	log_warn("mdns: tried '%s' on %s (%s): failed, trying the next",
		 log_escape(name, sizeof(name), s->name), s->host, remote + strlen("usbip://"));
}

/* Moves the service that is prefer (a remote) to the front of found[0..n). */
static void put_first(struct mdns_service *found, size_t n, const char *prefer)
{
	struct mdns_service chosen;
	char remote[128];
	size_t i;

	for (i = 0; prefer && i < n; i++) {
		mdns_browse_remote(&found[i], remote, sizeof(remote));
		if (strcmp(remote, prefer) == 0) {
			chosen = found[i];
			memmove(found + 1, found, i * sizeof(*found));
			found[0] = chosen;
			return;
		}
	}
}

enum usbip_result mdns_browse_try_each(const char *type, const char *patterns, const char *prefer,
				       enum usbip_result (*try_target)(const char *remote,
								       const char *tls_name,
								       void *arg),
				       void *arg)
{
	struct mdns_service *found = calloc(MDNS_BROWSE_MAX, sizeof(*found));
	char remote[128], err[256], shown[LOG_ESCAPED_SIZE(64)];
	enum usbip_result rc = USBIP_E_UNREACHABLE;
	size_t n = 0, kept, i;

	if (!found) {
		log_err("out of memory");
		return rc;
	}
	if (browse_for_remote(type, found, &n, err, sizeof(err)) != 0) {
		log_err("'mdns:%s': %s", log_escape(shown, sizeof(shown), patterns), err);
		free(found);
		return rc;
	}
	kept = mdns_browse_select(patterns, found, n);
	if (kept == 0)
		say_none_allowed(patterns, type, n);
	put_first(found, kept, prefer);
	for (i = 0; i < kept && rc != USBIP_OK; i++) {
		mdns_browse_remote(&found[i], remote, sizeof(remote));
		rc = try_target(remote, found[i].host, arg);
		if (rc != USBIP_OK && i + 1 < kept)
			say_tried(&found[i], remote);
	}
	free(found);
	return rc;
}
