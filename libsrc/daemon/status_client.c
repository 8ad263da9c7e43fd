// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/status_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/status.h"
#include "util/log.h"
#include "util/io.h"

/* The longest value shown whole in the text form; longer ones are cut. */
#define RENDER_MAX 1024

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Connects without waiting: a daemon whose backlog is full (one that
 * accepts nothing) must not hold us in connect(). -1 with errno.
 */
static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, saved;

	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path) >=
	    (int)sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Reads until the daemon closes, within the deadline and the size bound:
 * the bytes (NUL-terminated, *len of them), or NULL with the reason in err.
 */
static char *read_answer(int fd, long long deadline, size_t *len, char *err, size_t err_len)
{
	size_t cap = 4096;
	char *buf = malloc(cap + 1), *bigger;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left;
	ssize_t n;

	*len = 0;
	while (buf) {
		left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(err, err_len, "no whole answer within %d ms", STATUS_DEADLINE_MS);
			break;
		}
		n = read(fd, buf + *len, cap - *len);
		if (n == 0) {
			buf[*len] = '\0';
			return buf;
		}
		if (n < 0) {
			if (io_try_again(errno))
				continue;
			snprintf(err, err_len, "reading its answer: %s", strerror(errno));
			break;
		}
		*len += (size_t)n;
		if (*len > STATUS_MAX_BYTES) {
			snprintf(err, err_len, "an answer larger than %d bytes", STATUS_MAX_BYTES);
			break;
		}
		if (*len < cap)
			continue;
		cap = cap * 2 > STATUS_MAX_BYTES + 1 ? STATUS_MAX_BYTES + 1 : cap * 2;
		bigger = realloc(buf, cap + 1);
		if (!bigger) {
			snprintf(err, err_len, "out of memory");
			break;
		}
		buf = bigger;
	}
	if (!buf)
		snprintf(err, err_len, "out of memory");
	free(buf);
	return NULL;
}

enum status_asked status_client_ask(const char *path, int deadline_ms, struct json_value **answer,
				    char *err, size_t err_len)
{
	long long deadline = now_ms() + deadline_ms;
	int fd = connect_to(path);
	size_t len;
	char *text;

	*answer = NULL;
	if (fd < 0) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return STATUS_NOBODY;
		snprintf(err, err_len, "%s",
			 errno == EAGAIN ? "it accepts no connection" : strerror(errno));
		return STATUS_FAILED;
	}
	text = read_answer(fd, deadline, &len, err, err_len);
	close(fd);
	if (!text)
		return STATUS_FAILED;
	*answer = status_client_answer_parse(text, len, err, err_len);
	free(text);
	return *answer ? STATUS_ANSWERED : STATUS_FAILED;
}

struct json_value *status_client_answer_parse(const char *text, size_t len, char *err,
					      size_t err_len)
{
	static const struct json_limits limits = { STATUS_MAX_DEPTH, STATUS_MAX_VALUES };
	struct usbip_error why;
	struct json_value *v = json_parse(text, len, &limits, &why);

	if (!v) {
		snprintf(err, err_len, "not a JSON answer: %s", why.msg);
		return NULL;
	}
	if (v->type != JSON_OBJECT) {
		snprintf(err, err_len, "not a JSON object");
		json_parse_value_free(v);
		return NULL;
	}
	return v;
}

/* A scalar as people read it, escaped; times as local times. */
static const char *scalar_text(const struct json_value *v, const char *key, char *buf, size_t cap)
{
	static const char *const words[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "no", [JSON_TRUE] = "yes"
	};
	char cut[RENDER_MAX + 1];

	if (v->type <= JSON_TRUE)
		return words[v->type];
	if (v->type == JSON_NUMBER && key &&
	    (strcmp(key, "since") == 0 || strcmp(key, "started") == 0)) {
		char *end;
		long long when = strtoll(v->text, &end, 10);
		time_t t = (time_t)when;
		struct tm tm;

		if (!*end && when >= 0 && localtime_r(&t, &tm) &&
		    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm) > 0)
			return buf;
	}
	snprintf(cut, sizeof(cut), "%s", v->text);
	return log_escape(buf, cap, cut);
}

static void render_members(FILE *out, const struct json_value *v, int depth)
{
	char key[LOG_ESCAPED_SIZE(128)], value[LOG_ESCAPED_SIZE(RENDER_MAX)], cut[129];
	const struct json_value *m;

	for (m = v->first; m; m = m->next) {
		bool nested = m->type == JSON_ARRAY || m->type == JSON_OBJECT;

		if (m->key) {
			snprintf(cut, sizeof(cut), "%s", m->key);
			fprintf(out, "%*s%s:", depth * 2, "", log_escape(key, sizeof(key), cut));
			if (nested)
				fputc('\n', out);
			else
				fprintf(out, " %s\n", scalar_text(m, m->key, value, sizeof(value)));
		} else if (nested) {
			fprintf(out, "%*s-\n", depth * 2, "");
		} else {
			fprintf(out, "%*s%s\n", depth * 2, "",
				scalar_text(m, NULL, value, sizeof(value)));
		}
		if (nested)
			render_members(out, m, depth + 1);
	}
}

void status_client_render(FILE *out, const struct json_value *object)
{
	render_members(out, object, 0);
}

/* One cell: a member's text as people read it (escaped, times as local times), or "". */
static void cell(const struct json_value *object, const char *key, char *buf, size_t cap)
{
	const struct json_value *m = json_parse_member(object, key);
	char text[LOG_ESCAPED_SIZE(RENDER_MAX)];

	buf[0] = '\0';
	if (m && m->type != JSON_ARRAY && m->type != JSON_OBJECT)
		snprintf(buf, cap, "%s", scalar_text(m, key, text, sizeof(text)));
}

/* The first of keys the object has, as a cell. */
static void first_cell(const struct json_value *object, const char *const *keys, char *buf,
		       size_t cap)
{
	for (buf[0] = '\0'; *keys && !buf[0]; keys++)
		cell(object, *keys, buf, cap);
}

static void table_print(struct status_table *t, const char *device, const char *peer,
			const char *since, const char *transport, const char *state)
{
	if (!t->rows++)
		fprintf(t->out, "%-12s %-16s %-24s %-19s %-10s %s\n", "DAEMON", "DEVICE", "PEER",
			"SINCE", "TRANSPORT", "STATE");
	fprintf(t->out, "%-12s %-16s %-24s %-19s %-10s %s\n", t->daemon, device[0] ? device : "-",
		peer[0] ? peer : "-", since[0] ? since : "-", transport[0] ? transport : "-",
		state[0] ? state : "-");
}

/* A device or a rule (an object with a busid or a rule member) as one row. */
static void table_row(struct status_table *t, const struct json_value *o)
{
	static const char *const peer_keys[] = { "peer", "from", "remote", NULL };
	char device[STATUS_CELL], peer[STATUS_CELL], since[STATUS_CELL], transport[STATUS_CELL];
	char rule[STATUS_CELL], name[STATUS_CELL], datapath[STATUS_CELL], state[STATUS_CELL];
	char reason[STATUS_CELL], port[STATUS_CELL], shown[4 * STATUS_CELL];

	cell(o, "busid", device, sizeof(device));
	cell(o, "rule", rule, sizeof(rule));
	cell(o, "name", name, sizeof(name));
	if (!device[0])
		snprintf(device, sizeof(device), "[%.30s %.60s]", rule, name);
	first_cell(o, peer_keys, peer, sizeof(peer));
	cell(o, "since", since, sizeof(since));
	cell(o, "transport", transport, sizeof(transport));
	cell(o, "datapath", datapath, sizeof(datapath));
	if (datapath[0] && strlen(transport) + strlen(datapath) + 4 < sizeof(transport))
		snprintf(transport + strlen(transport), sizeof(transport) - strlen(transport),
			 " (%s)", datapath);
	cell(o, "state", state, sizeof(state));
	cell(o, "reason", reason, sizeof(reason));
	cell(o, "port", port, sizeof(port));
	snprintf(shown, sizeof(shown), "%s%s%s%s%s",
		 state[0]  ? state
		 : port[0] ? "attached"
			   : "-",
		 reason[0] ? ": " : "", reason, port[0] ? ", port " : "", port);
	table_print(t, device, peer, since, transport, shown);
}

/* Every row below v, depth first, in the answer's order. */
static void table_rows(struct status_table *t, const struct json_value *v, unsigned depth)
{
	const struct json_value *m;

	if (v->type == JSON_OBJECT && depth > 0 &&
	    (json_parse_member(v, "busid") || json_parse_member(v, "rule"))) {
		table_row(t, v);
		return;
	}
	for (m = v->first; m; m = m->next)
		if (m->type == JSON_ARRAY || m->type == JSON_OBJECT)
			table_rows(t, m, depth + 1);
}

void status_client_table_add(struct status_table *t, const char *daemon,
			     const struct json_value *answer)
{
	unsigned before = t->rows;
	char since[STATUS_CELL], port[STATUS_CELL], listening[STATUS_CELL];
	char state[3 * STATUS_CELL];
	char refused[LOG_ESCAPED_SIZE(RENDER_MAX)];

	cell(answer, "daemon", t->daemon, sizeof(t->daemon));
	if (!t->daemon[0])
		snprintf(t->daemon, sizeof(t->daemon), "%s", daemon);
	table_rows(t, answer, 0);
	if (t->rows == before && json_parse_member(answer, "daemon")) {
		/* A daemon with no device: its start as SINCE, where it listens. */
		cell(answer, "started", since, sizeof(since));
		cell(answer, "port", port, sizeof(port));
		cell(answer, "listening", listening, sizeof(listening));
		if (listening[0])
			snprintf(state, sizeof(state), "running, no device, on %s", listening);
		else
			snprintf(state, sizeof(state), "running, no device%s%s",
				 port[0] ? ", port " : "", port);
		table_print(t, "", "", since, "", state);
	}
	cell(answer, "reload_refused", refused, sizeof(refused));
	if (refused[0])
		fprintf(t->out, "%s: reload refused: %s\n", t->daemon, refused);
	/* usbipa draining (usbipa(8), POOLS): what is left to move. */
	cell(answer, "draining", state, sizeof(state));
	cell(answer, "imports", port, sizeof(port));
	if (strcmp(state, "yes") == 0)
		fprintf(t->out, "%s: draining: yes, imports left: %s\n", t->daemon,
			port[0] ? port : "?");
}
