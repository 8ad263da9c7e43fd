// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/mdns.h"

#include <stdio.h>
#include <string.h>

#ifdef HAVE_AVAHI

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/timeval.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/privsep.h"
#include "util/log.h"

bool mdns_available(void)
{
	return true;
}

/* ------------------------------------------------------------ announcing */

/* The announcing process's state. */
struct announcement {
	AvahiSimplePoll *poll;
	AvahiEntryGroup *group;
	char *name; /* avahi's: changes on a collision */
	const char *type;
	unsigned port;
	AvahiStringList *txt;
	int parent_fd; /* its end of the channel: readable when the daemon lets go */
	bool quit, said_waiting;
};

static void add_service(struct announcement *a);

/* Another host has the name: the next one avahi proposes ("NAME #2"). */
static void rename_service(struct announcement *a)
{
	char *next = avahi_alternative_service_name(a->name);

	log_info("mdns: the name '%s' is taken; announcing as '%s'", a->name, next);
	avahi_free(a->name);
	a->name = next;
}

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *arg)
{
	struct announcement *a = arg;

	if (state == AVAHI_ENTRY_GROUP_ESTABLISHED) {
		log_info("mdns: announced %s as '%s' on port %u", a->type, a->name, a->port);
	} else if (state == AVAHI_ENTRY_GROUP_COLLISION) {
		rename_service(a);
		avahi_entry_group_reset(g);
		add_service(a);
	} else if (state == AVAHI_ENTRY_GROUP_FAILURE) {
		log_warn("mdns: the announcement failed: %s",
			 avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
	}
}

static void add_service(struct announcement *a)
{
	AvahiClient *client = avahi_entry_group_get_client(a->group);
	int rc, tries;

	for (tries = 0; tries < 10; tries++) {
		rc = avahi_entry_group_add_service_strlst(a->group, AVAHI_IF_UNSPEC,
							  AVAHI_PROTO_UNSPEC, 0, a->name, a->type,
							  NULL, NULL, (uint16_t)a->port, a->txt);
		if (rc != AVAHI_ERR_COLLISION)
			break;
		rename_service(a);
	}
	if (rc >= 0)
		rc = avahi_entry_group_commit(a->group);
	if (rc < 0)
		log_warn("mdns: cannot announce %s: %s", a->type, avahi_strerror(rc));
	(void)client;
}

static void on_client(AvahiClient *client, AvahiClientState state, void *arg)
{
	struct announcement *a = arg;

	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		a->said_waiting = false;
		if (!a->group)
			a->group = avahi_entry_group_new(client, on_group, a);
		if (a->group && avahi_entry_group_is_empty(a->group))
			add_service(a);
		break;
	case AVAHI_CLIENT_S_COLLISION:
	case AVAHI_CLIENT_S_REGISTERING:
		if (a->group)
			avahi_entry_group_reset(a->group);
		break;
	case AVAHI_CLIENT_CONNECTING:
		/* No avahi-daemon (yet, or any more): announced once it is there. */
		if (a->group)
			avahi_entry_group_free(a->group);
		a->group = NULL;
		if (!a->said_waiting)
			log_warn("mdns: avahi-daemon is not running: %s is announced once it is",
				 a->type);
		a->said_waiting = true;
		break;
	case AVAHI_CLIENT_FAILURE:
		log_warn("mdns: avahi: %s: not announcing",
			 avahi_strerror(avahi_client_errno(client)));
		a->quit = true;
		break;
	}
}

/* avahi's poll, also watching the channel: the daemon lets go, this ends. */
static int poll_with_parent(struct pollfd *ufds, unsigned int nfds, int timeout, void *arg)
{
	struct announcement *a = arg;
	struct pollfd *all = calloc(nfds + 1, sizeof(*all));
	int ready;

	if (!all)
		return -1;
	memcpy(all, ufds, nfds * sizeof(*all));
	all[nfds] = (struct pollfd){ .fd = a->parent_fd, .events = POLLIN };
	ready = poll(all, nfds + 1, timeout);
	if (ready > 0 && all[nfds].revents) {
		a->quit = true;
		ready--;
	}
	memcpy(ufds, all, nfds * sizeof(*all));
	free(all);
	return ready;
}

/* The announcing process: until the daemon lets go (or avahi fails for good). */
static void announce_until_released(struct announcement *a)
{
	AvahiClient *client;
	int err;

	a->poll = avahi_simple_poll_new();
	if (!a->poll)
		_exit(1);
	avahi_simple_poll_set_func(a->poll, poll_with_parent, a);
	client = avahi_client_new(avahi_simple_poll_get(a->poll), AVAHI_CLIENT_NO_FAIL, on_client,
				  a, &err);
	if (!client) {
		log_warn("mdns: cannot talk to avahi-daemon: %s: not announcing",
			 avahi_strerror(err));
		_exit(0);
	}
	while (!a->quit && avahi_simple_poll_iterate(a->poll, -1) == 0)
		;
	avahi_client_free(client); /* withdraws the announcement */
	_exit(0);
}

struct mdns_announcer {
	struct privsep *chan;
	pid_t pid;
};

/* The instance's name: "WHAT on HOSTNAME". */
static char *instance_name(const char *what)
{
	char host[256], name[AVAHI_LABEL_MAX];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(name, sizeof(name), "%s on %.40s", what, host);
	return avahi_strdup(name);
}

/* In the announcing process, just forked. */
static void run_announcer(struct privsep *chan, int chan_fd, const char *what, const char *type,
			  unsigned port, const char *const txt[])
{
	struct announcement a = { .type = type, .port = port, .parent_fd = chan_fd };
	size_t n = 0;

	privsep_close_inherited(chan, -1);
	log_reopen();
	while (txt[n])
		n++;
	a.txt = avahi_string_list_new_from_array((const char **)txt, (int)n);
	a.name = instance_name(what);
	announce_until_released(&a);
}

struct mdns_announcer *mdns_announce_start(const char *what, const char *user, const char *type,
					   unsigned port, const char *const txt[])
{
	struct mdns_announcer *m = calloc(1, sizeof(*m));

	if (!m) {
		log_err("out of memory");
		return NULL;
	}
	m->pid = privsep_split("mdns", user, false, &m->chan);
	if (m->pid < 0) {
		free(m);
		return NULL;
	}
	if (m->pid == 0)
		run_announcer(m->chan, privsep_fd(m->chan), what, type, port, txt);
	return m;
}

pid_t mdns_announce_pid(const struct mdns_announcer *m)
{
	return m->pid;
}

void mdns_announce_reaped(struct mdns_announcer *m)
{
	m->pid = 0;
}

void mdns_announce_stop(struct mdns_announcer *m)
{
	if (!m)
		return;
	privsep_release(m->chan, m->pid, 2000); /* it ends when let go */
	free(m);
}

/* ------------------------------------------------------------ browsing */

struct browse {
	AvahiSimplePoll *poll;
	AvahiClient *client;
	struct mdns_service *found;
	size_t max, count;
	unsigned pending;
	char *err;
	size_t err_len;
	bool failed;
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
	if (event == AVAHI_BROWSER_NEW && b->pending < 4 * b->max &&
	    avahi_service_resolver_new(b->client, iface, proto, name, type, domain,
				       AVAHI_PROTO_UNSPEC, 0, on_resolve, b))
		b->pending++;
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

/* Runs the loop until the deadline (and the resolvers under way have had it). */
static void browse_for(struct browse *b, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms, left;

	while (!b->failed && (left = deadline - now_ms()) > 0)
		if (avahi_simple_poll_iterate(b->poll, (int)left) != 0)
			break;
}

int mdns_browse(const char *type, int timeout_ms, struct mdns_service *found, size_t max,
		size_t *count, char *err, size_t err_len)
{
	struct browse b = { .found = found, .max = max, .err = err, .err_len = err_len };
	AvahiServiceBrowser *sb = NULL;
	int error = 0;

	*count = 0;
	b.poll = avahi_simple_poll_new();
	if (!b.poll) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	b.client = avahi_client_new(avahi_simple_poll_get(b.poll), 0, on_browse_client, &b, &error);
	if (!b.client)
		snprintf(err, err_len, "cannot browse: avahi-daemon: %s", avahi_strerror(error));
	else
		sb = avahi_service_browser_new(b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type,
					       NULL, 0, on_browse, &b);
	if (b.client && !sb)
		snprintf(err, err_len, "cannot browse: %s",
			 avahi_strerror(avahi_client_errno(b.client)));
	if (sb)
		browse_for(&b, timeout_ms);
	if (sb)
		avahi_service_browser_free(sb);
	if (b.client)
		avahi_client_free(b.client); /* and the resolvers still under way */
	avahi_simple_poll_free(b.poll);
	*count = b.count;
	return sb && !b.failed ? 0 : -1;
}

#else /* no Avahi in this build */

bool mdns_available(void)
{
	return false;
}

struct mdns_announcer *mdns_announce_start(const char *what, const char *user, const char *type,
					   unsigned port, const char *const txt[])
{
	(void)what, (void)user, (void)type, (void)port, (void)txt;
	return NULL;
}

pid_t mdns_announce_pid(const struct mdns_announcer *a)
{
	(void)a;
	return 0;
}

void mdns_announce_reaped(struct mdns_announcer *a)
{
	(void)a;
}

void mdns_announce_stop(struct mdns_announcer *a)
{
	(void)a;
}

int mdns_browse(const char *type, int timeout_ms, struct mdns_service *found, size_t max,
		size_t *count, char *err, size_t err_len)
{
	(void)type, (void)timeout_ms, (void)found, (void)max;
	*count = 0;
	snprintf(err, err_len, "built without Avahi (configure --with-avahi): no mDNS");
	return -1;
}

#endif
