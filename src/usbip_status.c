// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip status: what this machine's daemons and agent are doing, read from
 * their status sockets (libsrc/daemon/status.h), and what it has imported.
 * --json prints one document: {"schema": 1, "daemons": [...], "imported":
 * [...]}, each daemon's object as it sent it; the text form shows the same
 * fields, indented.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/status.h"
#include "kernel/vhci.h"
#include "util/json.h"
#include "util/log.h"
#include "usbip.h"

#define READ_TIMEOUT_MS 2000

/* One daemon's answer, whole, or NULL (said why). */
static char *ask(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	struct pollfd pfd;
	ssize_t n;
	int fd;

	if (!buf || snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path) >=
			    (int)sizeof(addr.sun_path)) {
		free(buf);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		/* A socket left by a daemon that died: nothing runs there. */
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (poll(&pfd, 1, READ_TIMEOUT_MS) > 0) {
		if (len + 1 >= cap) {
			char *bigger = cap >= STATUS_MAX_BYTES ? NULL : realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!len || buf[0] != '{' || buf[len - 1] != '}') {
		log_warn("%s: no status object in its answer", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The text form, for people: a table as usbip port's, one row per device
 * (or rule) a daemon reports, from the fields of its JSON answer. The
 * answer was checked to be one object; this reads only what a row shows,
 * each value cut to its column's size.
 */
enum status_column { COL_DAEMON, COL_DEVICE, COL_PEER, COL_SINCE, COL_TRANSPORT, COL_STATE, NCOLS };

struct status_row {
	char col[NCOLS][96];
	char port[16], rule[64], name[64], reason[160], datapath[24];
	bool is_row; /* has a busid or a rule: worth a row */
};

#define TABLE_DEPTH 8

struct status_table {
	struct status_row rows[TABLE_DEPTH]; /* the objects being read, outermost first */
	int depth, nrows;
	bool named; /* the answer said which daemon it is */
	char key[32], daemon[48], refused[256];
};

/* A JSON string from just past its opening quote into out; returns what follows it. */
static const char *json_text(const char *p, char *out, size_t len)
{
	size_t n = 0;

	while (*p && *p != '"') {
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 < len && (unsigned char)*p >= ' ')
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	return *p ? p + 1 : p;
}

static void set_since(char *out, size_t len, const char *seconds)
{
	time_t t = (time_t)strtoll(seconds, NULL, 10);
	struct tm tm;

	if (t <= 0 || !localtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, len, "%s", seconds);
}

/* One "key": value of the object being read, kept when a row shows it. */
static void table_field(struct status_table *t, const char *key, const char *value)
{
	struct status_row *r = &t->rows[t->depth - 1];
	static const struct {
		const char *key;
		enum status_column col;
	} cols[] = {
		{ "busid", COL_DEVICE }, { "peer", COL_PEER },		 { "from", COL_PEER },
		{ "remote", COL_PEER },	 { "transport", COL_TRANSPORT }, { "state", COL_STATE }
	};
	size_t i;

	if (t->depth == 1 && strcmp(key, "daemon") == 0) {
		snprintf(t->daemon, sizeof(t->daemon), "%s", value);
		t->named = true;
	} else if (t->depth == 1 && strcmp(key, "started") == 0) {
		set_since(r->col[COL_SINCE], sizeof(r->col[COL_SINCE]), value);
	}
	if (t->depth == 1 && strcmp(key, "reload_refused") == 0)
		snprintf(t->refused, sizeof(t->refused), "%s", value);
	else if (strcmp(key, "since") == 0)
		set_since(r->col[COL_SINCE], sizeof(r->col[COL_SINCE]), value);
	else if (strcmp(key, "port") == 0)
		snprintf(r->port, sizeof(r->port), "%s", value);
	else if (strcmp(key, "rule") == 0 || strcmp(key, "name") == 0)
		snprintf(key[0] == 'r' ? r->rule : r->name, sizeof(r->rule), "%s", value);
	else if (strcmp(key, "reason") == 0)
		snprintf(r->reason, sizeof(r->reason), "%s", value);
	else if (strcmp(key, "datapath") == 0)
		snprintf(r->datapath, sizeof(r->datapath), "%s", value);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(key, cols[i].key) == 0)
			snprintf(r->col[cols[i].col], sizeof(r->col[0]), "%s", value);
	r->is_row |= strcmp(key, "busid") == 0 || strcmp(key, "rule") == 0;
}

static void table_print_row(struct status_table *t, struct status_row *r)
{
	char state[sizeof(r->col[0]) + sizeof(r->reason) + sizeof(r->port) + 16];

	if (!t->nrows++)
		printf("%-12s %-16s %-24s %-19s %-10s %s\n", "DAEMON", "DEVICE", "PEER", "SINCE",
		       "TRANSPORT", "STATE");
	if (!r->col[COL_DEVICE][0] && r->rule[0])
		snprintf(r->col[COL_DEVICE], sizeof(r->col[0]), "[%.30s %.60s]", r->rule, r->name);
	if (r->datapath[0] &&
	    strlen(r->col[COL_TRANSPORT]) + strlen(r->datapath) + 4 < sizeof(r->col[0]))
		snprintf(r->col[COL_TRANSPORT] + strlen(r->col[COL_TRANSPORT]),
			 sizeof(r->col[0]) - strlen(r->col[COL_TRANSPORT]), " (%s)", r->datapath);
	snprintf(state, sizeof(state), "%s%s%s%s%s",
		 r->col[COL_STATE][0] ? r->col[COL_STATE]
		 : r->port[0]	      ? "attached"
				      : "-",
		 r->reason[0] ? ": " : "", r->reason, r->port[0] ? ", port " : "", r->port);
	printf("%-12s %-16s %-24s %-19s %-10s %s\n", t->daemon,
	       r->col[COL_DEVICE][0] ? r->col[COL_DEVICE] : "-",
	       r->col[COL_PEER][0] ? r->col[COL_PEER] : "-",
	       r->col[COL_SINCE][0] ? r->col[COL_SINCE] : "-",
	       r->col[COL_TRANSPORT][0] ? r->col[COL_TRANSPORT] : "-", state);
}

/* An object ends: a device or a rule is a row; a daemon with none, one of its own. */
static void table_close(struct status_table *t, int rows_before)
{
	struct status_row *r = &t->rows[t->depth - 1];

	if (r->is_row) {
		table_print_row(t, r);
	} else if (t->depth == 1 && t->nrows == rows_before && t->named) {
		/* Its start as SINCE, the port it listens on in STATE. */
		snprintf(r->col[COL_STATE], sizeof(r->col[0]), "running, no device");
		table_print_row(t, r);
	}
	if (t->depth == 1 && t->refused[0])
		printf("%s: reload refused: %s\n", t->daemon, t->refused);
}

/* One daemon's answer (or the local part) as rows of the table. */
static void render_table(struct status_table *t, const char *daemon, const char *p)
{
	int rows_before = t->nrows;
	char value[256];

	t->depth = 0;
	t->named = false;
	t->key[0] = t->refused[0] = '\0';
	snprintf(t->daemon, sizeof(t->daemon), "%s", daemon);
	while (*p) {
		if (*p == '{') {
			if (t->depth == TABLE_DEPTH)
				return; /* deeper than any answer: not ours to show */
			memset(&t->rows[t->depth++], 0, sizeof(t->rows[0]));
			t->key[0] = '\0';
			p++;
		} else if (*p == '}') {
			if (t->depth > 0)
				table_close(t, rows_before);
			t->depth--;
			p++;
		} else if (*p == '"' || (t->key[0] && !strchr(",[]: \n", *p))) {
			size_t n = 0;

			if (*p == '"') {
				p = json_text(p + 1, value, sizeof(value));
			} else {
				while (*p && !strchr(",}] \n", *p) && n + 1 < sizeof(value))
					value[n++] = *p++;
				value[n] = '\0';
			}
			while (*p == ' ')
				p++;
			if (*p == ':') {
				snprintf(t->key, sizeof(t->key), "%s", value);
				p++;
			} else if (t->key[0] && t->depth > 0) {
				table_field(t, t->key, value);
				t->key[0] = '\0';
			}
		} else {
			if (*p == '[')
				t->key[0] = '\0';
			p++;
		}
	}
}

/*
 * Whether this user may ask the daemons: connecting to a status socket
 * takes write permission on it, and it is root's (0600) unless the admin
 * gave it to a group (usbip(8), STATUS). Says so in one line, with what
 * gives access, rather than that nothing runs. 0 when every socket is
 * reachable (or there is none), -1 after saying which one is not.
 */
static int check_status_access(void)
{
	char path[512];
	struct dirent *e;
	DIR *dir = opendir(STATUS_DIR);
	int rc = 0;

	if (!dir) {
		if (errno != EACCES)
			return 0; /* no folder: nothing has run here */
		snprintf(path, sizeof(path), "%s", STATUS_DIR);
		rc = -1;
	}
	while (rc == 0 && (e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", STATUS_DIR, e->d_name);
		if (access(path, W_OK) != 0 && errno == EACCES)
			rc = -1;
	}
	if (dir)
		closedir(dir);
	if (rc != 0)
		fprintf(stderr,
			"usbip status: no permission to read %s: run 'sudo usbip status', or be in "
			"the group usbip once the admin lets it read the status (usbip(8), "
			"STATUS)\n",
			path);
	return rc;
}

/* What is imported here (usbip port's view), as part of the document. */
static void imported(struct json_writer *w)
{
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	json_array_begin(w, "imported");
	/* No vhci-hcd loaded: nothing imported, and nothing to complain about. */
	if (access(USBIP_VHCI_SYSFS, F_OK) == 0 && usbip_vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports; i++) {
			if (vhci.ports[i].status == USBIP_VDEV_NULL)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			if (usbip_vhci_record_read(i, &rec) == 0) {
				json_string(w, "from", rec.host);
				json_string(w, "busid", rec.busid);
			}
			json_object_end(w);
		}
		usbip_vhci_close(&vhci);
	}
	json_array_end(w);
}

int usbip_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct status_table table;
	struct json_writer w;
	struct dirent *e;
	bool json = false;
	char *text = NULL;
	size_t len = 0;
	FILE *local;
	DIR *dir;
	int c, ndaemons = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: usbip status [--json]\n\n"
			       "What usbipd, usbipa and the agent on this machine are doing (from\n"
			       "their sockets in %s), and what is imported here.\n",
			       STATUS_DIR);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("status", argv, opts);
		}
	}
	if (optind < argc)
		return usbip_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (check_status_access() != 0)
		return USBIP_EXIT_FAILURE;
	if (json)
		printf("{\"schema\": %d, \"daemons\": [", STATUS_SCHEMA);
	dir = opendir(STATUS_DIR);
	while (dir && (e = readdir(dir)) != NULL) {
		char path[512], *answer;
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", STATUS_DIR, e->d_name);
		answer = ask(path);
		if (!answer)
			continue;
		if (json)
			printf("%s%s", ndaemons ? ", " : "", answer);
		else
			render_table(&table, "?", answer);
		ndaemons++;
		free(answer);
	}
	if (dir)
		closedir(dir);
	/* The local part through the same writer, so both forms show the same fields. */
	local = open_memstream(&text, &len);
	if (!local)
		return USBIP_EXIT_FAILURE;
	json_init(&w, local);
	json_object_begin(&w, NULL);
	imported(&w);
	json_object_end(&w);
	fclose(local);
	if (json) {
		/* Splice the "imported" member into the document. */
		char *body = strchr(text, '{');
		size_t blen = body ? strlen(body) : 0;

		while (blen && (body[blen - 1] == '\n' || body[blen - 1] == '}'))
			body[--blen] = '\0';
		printf("], %s}\n", body ? body + 1 : "\"imported\": []");
	} else {
		if (!ndaemons)
			printf("no usbipd, usbipa or agent answers here (%s)\n", STATUS_DIR);
		render_table(&table, "here", text);
	}
	free(text);
	return USBIP_EXIT_OK;
}
