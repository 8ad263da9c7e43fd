// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "daemon/conf.h"
#include "util/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct conf_section_kind conf_sections[] = {
	{ "usbipd", false },   { "usbipa", false }, { "export", true }, { "attach", true },
	{ "serve-mtp", true }, { "agent", false },  { NULL, false },
};

static const char utf8_bom[] = "\xef\xbb\xbf";

struct read_state {
	struct conf_reader *r;
	const char *text; /* the file, its byte-order mark skipped */
	size_t len, pos;  /* its length, and where the next line starts */
	int line;	  /* the line the reader handed out last */
	char header[256]; /* the section being read, as written */
	const struct conf_section_kind *kind;
	char name[128]; /* its NAME, "" if none */
	bool ours, bad_section;
	void *seen; /* tsearch(3) tree of the sections so far, "kind name": duplicates */
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

/* An error about a line as a whole (its bytes), not about a key of its section. */
static void report_line(struct read_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_line(struct read_state *st, const char *fmt, ...)
{
	char header[sizeof(st->header)], what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	memcpy(header, st->header, sizeof(header));
	st->header[0] = '\0';
	report(st, NULL, "%s", what);
	memcpy(st->header, header, sizeof(header));
}

/* An error about the file as a whole: "FILE: WHAT", before any line is read. */
static void report_file(struct conf_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_file(struct conf_reader *r, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->first_error, sizeof(r->first_error), "%s: %s", r->file, what);
	fprintf(stderr, "%s\n", r->first_error);
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

static int compare_sections(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether the section being entered was seen before (1), remembering it (0); -1: no memory. */
static int seen_before(struct read_state *st)
{
	char *id = malloc(strlen(st->kind->name) + strlen(st->name) + 2);
	char **node;

	if (!id)
		return -1;
	sprintf(id, "%s %s", st->kind->name, st->name);
	node = tsearch(id, &st->seen, compare_sections);
	if (node && *node == id)
		return 0;
	free(id);
	return node ? 1 : -1;
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
	switch (seen_before(st)) {
	case 1:
		st->header[0] = '\0';
		report(st, NULL, "section [%s] appears twice", text);
		return;
	case -1:
		report(st, NULL, "out of memory");
		return;
	}
	st->bad_section = false;
	st->r->section_line = st->line;
	for (i = 0; i < 4 && st->r->kinds[i]; i++)
		if (strcmp(st->r->kinds[i], st->kind->name) == 0)
			st->ours = true;
}

/* A line that opens a section: the section is entered before libinih reads its keys. */
static void enter_if_header(struct read_state *st, const char *line)
{
	const char *p, *end;

	for (p = line; isspace((unsigned char)*p); p++)
		;
	if (*p == '[' && (end = strchr(p, ']')) != NULL) {
		char text[256];
		size_t len = (size_t)(end - p - 1);

		snprintf(text, sizeof(text), "%.*s", (int)len, p + 1);
		enter_section(st, text);
	}
}

/* Whether a line's bytes are text within the bounds; says why not. */
static bool line_ok(struct read_state *st, const char *line, size_t len)
{
	const char *nul = memchr(line, '\0', len);

	if (len > CONF_MAX_LINE) {
		report_line(st, "the line has %zu bytes, more than the %d a line may have", len,
			    CONF_MAX_LINE);
		return false;
	}
	if (nul) {
		report_line(st, "a NUL byte (byte %zu of the line): not a text file",
			    (size_t)(nul - line) + 1);
		return false;
	}
	if (st->line == 1 && len >= 3 && memcmp(line, utf8_bom, 3) == 0) {
		report_line(st, "a second byte-order mark");
		return false;
	}
	return true;
}

static bool is_comment(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	return i < len && (line[i] == ';' || line[i] == '#');
}

/*
 * libinih reads lines through here, one whole line of the file per call,
 * so that its count of lines is ours, every key and section has its line
 * number (Debian's libinih is built without them), and section headers are
 * seen even for sections without keys. A comment, or a line that is not
 * text (reported here), reaches it as an empty line.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct read_state *st = stream;
	const char *start, *end;
	size_t len;

	if (st->pos >= st->len || size < 2)
		return NULL;
	start = st->text + st->pos;
	end = memchr(start, '\n', st->len - st->pos);
	len = end ? (size_t)(end - start) : st->len - st->pos;
	st->pos += len + (end ? 1 : 0);
	st->line++;
	strcpy(buf, "\n");
	if (!line_ok(st, start, len) || is_comment(start, len))
		return buf;
	if (len + 2 > (size_t)size) {
		/* Only where libinih's line buffer is fixed, and shorter than CONF_MAX_LINE. */
		report_line(st, "the line has %zu bytes, more than this build's libinih takes (%d)",
			    len, size - 2);
		return buf;
	}
	memcpy(buf, start, len);
	memcpy(buf + len, "\n", 2);
	enter_if_header(st, buf);
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

/*
 * The whole file, or NULL (said why, unless it is missing and that is ok).
 * Only a regular file, read without waiting on it (file_read_regular).
 */
static char *load(struct conf_reader *r, bool missing_ok, size_t *len, bool *others_can_read)
{
	char *text, why[160];
	mode_t mode = 0;
	int open_errno;

	if (file_read_regular(r->file, CONF_MAX_FILE, "configuration file", &text, len, &mode,
			      &open_errno, why, sizeof(why)) != 0) {
		if (!missing_ok || open_errno != ENOENT)
			report_file(r, "%s", why);
		return NULL;
	}
	*others_can_read = (mode & 0044) != 0;
	return text;
}

unsigned conf_read(struct conf_reader *r, bool missing_ok)
{
	struct read_state st = { .r = r };
	char *text;
	int rc;

	r->first_error[0] = '\0';
	text = load(r, missing_ok, &st.len, &st.others_can_read);
	if (!text)
		return r->first_error[0] ? 1 : 0;
	st.text = text;
	if (st.len >= 3 && memcmp(text, utf8_bom, 3) == 0) {
		st.text += 3;
		st.len -= 3;
	}
#if HAVE_DECL_INI_MAX_LINE
	/* Room for a whole line, its "\r\n" and the NUL. */
	ini_max_line = CONF_MAX_LINE + 3;
#endif
	rc = ini_parse_stream(read_line, &st, on_key, &st);
	if (rc < 0) {
		report(&st, NULL, "cannot read the file");
	} else if (rc > 0) {
		/* A line libinih could not parse (no '=', an unclosed '['). */
		st.line = rc;
		st.header[0] = '\0';
		report(&st, NULL, "not a section, a key = value or a comment");
	}
	free(text);
	tdestroy(st.seen, free);
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
