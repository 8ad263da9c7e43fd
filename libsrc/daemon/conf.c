// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct conf_section_kind conf_sections[] = {
	{ "usbipd", false },   { "usbipa", false }, { "export", true }, { "attach", true },
	{ "serve-mtp", true }, { "agent", false },  { NULL, false },
};

/* Sections seen so far in the file, for duplicates: "kind" or "kind name". */
#define MAX_SECTIONS 256

struct read_state {
	struct conf_reader *r;
	FILE *f;
	int line;	  /* the line the reader handed out last */
	char header[256]; /* the section being read, as written */
	const struct conf_section_kind *kind;
	char name[128]; /* its NAME, "" if none */
	bool ours, bad_section;
	char *seen[MAX_SECTIONS];
	unsigned nseen;
	unsigned errors;
	bool others_can_read;
};

/* Every value handed to a program, kept for as long as it runs. */
static char **kept;
static size_t nkept;

static const char *keep(const char *value)
{
	char **bigger = realloc(kept, (nkept + 1) * sizeof(*kept));
	char *copy = strdup(value);

	if (!bigger || !copy) {
		free(copy);
		if (bigger)
			kept = bigger;
		return NULL;
	}
	kept = bigger;
	kept[nkept++] = copy;
	return copy;
}

void conf_release(void)
{
	while (nkept)
		free(kept[--nkept]);
	free(kept);
	kept = NULL;
}

static void report(struct read_state *st, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct read_state *st, const char *key, const char *fmt, ...)
{
	char what[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s:%d: %s%s%s%s%s%s\n", st->r->file, st->line, st->header[0] ? "[" : "",
		st->header, st->header[0] ? "] " : "", key ? key : "", key ? ": " : "", what);
	if (!st->errors) {
		n = snprintf(st->r->first_error, sizeof(st->r->first_error), "%s:%d: %s%s%s%s%s%s",
			     st->r->file, st->line, st->header[0] ? "[" : "", st->header,
			     st->header[0] ? "] " : "", key ? key : "", key ? ": " : "", what);
		/* Cut short for the status report; stderr had it whole. */
		if (n < 0 || (size_t)n >= sizeof(st->r->first_error))
			memcpy(st->r->first_error + sizeof(st->r->first_error) - 4, "...", 4);
	}
	st->errors++;
}

/* Edit distance, for "did you mean" (short words only). */
static unsigned distance(const char *a, const char *b)
{
	unsigned row[64], i, j, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0], next;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned cost =
				a[i - 1] == b[j - 1] || (a[i - 1] == '_' && b[j - 1] == '-');

			next = row[j];
			cost = cost ? diag : diag + 1;
			if (row[j] + 1 < cost)
				cost = row[j] + 1;
			if (row[j - 1] + 1 < cost)
				cost = row[j - 1] + 1;
			row[j] = cost;
			diag = next;
		}
	}
	return row[lb];
}

static bool file_key(const struct option *o)
{
	return strcmp(o->name, "help") != 0 && strcmp(o->name, "version") != 0 &&
	       strcmp(o->name, "config") != 0 && strcmp(o->name, "check") != 0;
}

static const char *closest_key(const struct option *opts, const char *key)
{
	const char *best = NULL;
	unsigned d, best_d = 3;

	for (; opts->name; opts++) {
		if (!file_key(opts))
			continue;
		d = distance(key, opts->name);
		if (d < best_d) {
			best_d = d;
			best = opts->name;
		}
	}
	return best;
}

/* A section header line: which kind, which name, and whether it is new. */
static void enter_section(struct read_state *st, const char *text)
{
	const char *space;
	size_t klen;
	unsigned i;

	snprintf(st->header, sizeof(st->header), "%s", text);
	st->kind = NULL;
	st->name[0] = '\0';
	st->ours = false;
	st->bad_section = true;
	space = strchr(text, ' ');
	klen = space ? (size_t)(space - text) : strlen(text);
	for (i = 0; conf_sections[i].name; i++)
		if (strlen(conf_sections[i].name) == klen &&
		    strncmp(conf_sections[i].name, text, klen) == 0)
			st->kind = &conf_sections[i];
	if (!st->kind) {
		const char *best = NULL;
		unsigned d, best_d = 3;

		for (i = 0; conf_sections[i].name; i++) {
			d = distance(text, conf_sections[i].name);
			if (d < best_d) {
				best_d = d;
				best = conf_sections[i].name;
			}
		}
		st->header[0] = '\0';
		if (best)
			report(st, NULL, "unknown section [%s] (did you mean [%s]?)", text, best);
		else
			report(st, NULL, "unknown section [%s]", text);
		return;
	}
	if (st->kind->named) {
		while (space && *space == ' ')
			space++;
		if (!space || !*space || strlen(space) >= sizeof(st->name)) {
			report(st, NULL, "a [%s NAME] section needs a name (up to 127 bytes)",
			       st->kind->name);
			return;
		}
		snprintf(st->name, sizeof(st->name), "%s", space);
	} else if (space) {
		report(st, NULL, "[%s] takes no name", st->kind->name);
		return;
	}
	for (i = 0; i < st->nseen; i++) {
		if (strcmp(st->seen[i], text) == 0) {
			st->header[0] = '\0';
			report(st, NULL, "section [%s] appears twice", text);
			return;
		}
	}
	if (st->nseen < MAX_SECTIONS)
		st->seen[st->nseen++] = strdup(text);
	st->bad_section = false;
	for (i = 0; i < 4 && st->r->kinds[i]; i++)
		if (strcmp(st->r->kinds[i], st->kind->name) == 0)
			st->ours = true;
}

/*
 * libinih reads lines through here, so that every key and every section
 * has its line number (Debian's libinih is built without them), and so
 * that section headers are seen even for sections without keys.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct read_state *st = stream;
	char *p, *end;

	if (!fgets(buf, size, st->f))
		return NULL;
	st->line++;
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (*p == '[' && (end = strchr(p, ']')) != NULL) {
		char text[256];
		size_t len = (size_t)(end - p - 1);

		snprintf(text, sizeof(text), "%.*s", (int)len, p + 1);
		enter_section(st, text);
	}
	return buf;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no",
										       "false",
										       "off", "0" };
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct read_state *st = user;
	const struct option *o;
	const char *kept_value;
	char err[256];
	bool on;

	if (!section[0]) {
		report(st, key,
		       "keys go in a section ([usbipd], [usbipa], [export NAME], [attach "
		       "NAME])");
		return 1;
	}
	if (st->bad_section)
		return 1; /* said once, at the header */
	if (strcmp(key, "key") == 0 && st->others_can_read)
		report(st, key,
		       "this file names a private key but other users can read it (chmod 600 %s)",
		       st->r->file);
	if (!st->ours)
		return 1; /* another program's section: that program reads it */
	for (o = st->r->opts; o->name; o++)
		if (file_key(o) && strcmp(o->name, key) == 0)
			break;
	if (!o->name) {
		const char *best = closest_key(st->r->opts, key);

		if (best)
			report(st, key, "unknown key (did you mean '%s'?)", best);
		else
			report(st, key, "unknown key");
		return 1;
	}
	if (o->has_arg == no_argument) {
		if (!parse_bool(value, &on)) {
			report(st, key, "'%s' is neither yes nor no", value);
			return 1;
		}
		if (!on)
			return 1;
		kept_value = NULL;
	} else {
		if (!*value) {
			report(st, key, "needs a value");
			return 1;
		}
		kept_value = keep(value);
		if (!kept_value) {
			report(st, key, "out of memory");
			return 1;
		}
	}
	err[0] = '\0';
	if (st->r->set(st->r->ctx, st->kind->name, st->name, o->val, kept_value, err,
		       sizeof(err)) != 0)
		report(st, key, "%s", err[0] ? err : "bad value");
	return 1;
}

unsigned conf_read(struct conf_reader *r, bool missing_ok)
{
	struct read_state st = { .r = r };
	struct stat sb;
	unsigned i;
	int rc;

	r->first_error[0] = '\0';
	st.f = fopen(r->file, "re");
	if (!st.f) {
		if (missing_ok && errno == ENOENT)
			return 0;
		snprintf(r->first_error, sizeof(r->first_error), "%s: %s", r->file,
			 strerror(errno));
		fprintf(stderr, "%s\n", r->first_error);
		return 1;
	}
	st.others_can_read = fstat(fileno(st.f), &sb) == 0 && (sb.st_mode & 0044);
	rc = ini_parse_stream(read_line, &st, on_key, &st);
	if (rc < 0) {
		report(&st, NULL, "cannot read the file");
	} else if (rc > 0) {
		/* A line libinih could not parse (no '=', an unclosed '['). */
		st.line = rc;
		st.header[0] = '\0';
		report(&st, NULL, "not a section, a key = value or a comment");
	}
	fclose(st.f);
	for (i = 0; i < st.nseen; i++)
		free(st.seen[i]);
	return st.errors;
}

void conf_scan_args(int argc, char **argv, const char **file, bool *check)
{
	int i;

	*check = false;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--check") == 0)
			*check = true;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			*file = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			*file = argv[i] + 9;
	}
}
