// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/suggest.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Long enough for any command or option name; longer words are not compared. */
#define SUGGEST_MAX_LEN 32

/* Levenshtein distance, one row at a time. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[SUGGEST_MAX_LEN + 1], i, j, diag, up;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* Whether a is b with two neighbouring letters swapped ("dri" for "dir"): one slip. */
static bool swapped(const char *a, const char *b, size_t len)
{
	size_t i = 0;

	while (i < len && a[i] == b[i])
		i++;
	return i + 1 < len && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       memcmp(a + i + 2, b + i + 2, len - i - 2) == 0;
}

/* How far typed is from word: 0 for a prefix of it, SIZE_MAX if not close. */
static size_t distance(const char *typed, size_t len, const char *word)
{
	size_t wl = strlen(word), d, limit = len <= 4 ? 1 : 2;

	if (len == 0 || len > SUGGEST_MAX_LEN || wl > SUGGEST_MAX_LEN)
		return (size_t)-1;
	if (len < wl && strncmp(typed, word, len) == 0)
		return 0;
	if (len == wl && swapped(typed, word, len))
		return 1;
	d = edit_distance(typed, len, word, wl);
	return d <= limit ? d : (size_t)-1;
}

const char *suggest_word(const char *typed, size_t len, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t i, d, best_d = (size_t)-1;

	for (i = 0; i < n; i++) {
		d = distance(typed, len, words[i]);
		if (d < best_d) {
			best_d = d;
			best = words[i];
		}
	}
	return best;
}

const char *suggest_option(const char *typed, size_t len, const struct option *opts)
{
	const char *best = NULL;
	size_t d, best_d = (size_t)-1;

	for (; opts->name; opts++) {
		d = distance(typed, len, opts->name);
		if (d < best_d) {
			best_d = d;
			best = opts->name;
		}
	}
	return best;
}

static const struct option *option_named(const char *name, size_t len, const struct option *opts)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct option *option_of_letter(int letter, const struct option *opts)
{
	for (; opts->name; opts++)
		if (opts->val == letter && !opts->flag)
			return opts;
	return NULL;
}

static void long_option_error(const char *arg, const struct option *opts, char *out, size_t len)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *o = option_named(name, n, opts);
	const char *close;

	if (o && o->has_arg == required_argument && !eq) {
		snprintf(out, len, "'--%s' wants a value", o->name);
		return;
	}
	if (o) {
		snprintf(out, len, "'--%s' takes no value", o->name);
		return;
	}
	close = suggest_option(name, n, opts);
	if (close)
		snprintf(out, len, "unknown option '--%.*s'; did you mean '--%s'?", (int)n, name,
			 close);
	else
		snprintf(out, len, "unknown option '--%.*s'", (int)n, name);
}

void suggest_option_error(char **argv, const struct option *opts, char *out, size_t len)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct option *o;

	/* Name what was typed: a long option by its word, a short one by its letter. */
	if (strncmp(arg, "--", 2) == 0 && arg[2]) {
		long_option_error(arg, opts, out, len);
		return;
	}
	o = optopt ? option_of_letter(optopt, opts) : NULL;
	if (o && o->has_arg == required_argument)
		snprintf(out, len, "'-%c' wants a value", optopt);
	else if (optopt > ' ' && optopt < 127)
		snprintf(out, len, "unknown option '-%c'", optopt);
	else
		snprintf(out, len, "unknown option '%s'", arg);
}
