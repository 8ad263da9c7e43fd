// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/mdns.h"

#include <stdio.h>
#include <string.h>

#ifdef HAVE_AVAHI

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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

#endif
