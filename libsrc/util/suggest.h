/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One line for a mistyped word on a command line: the closest known word
 * ("did you mean 'list'?") and what getopt's '?' meant (an unknown option,
 * or one whose value is missing).
 */
#ifndef USBIP_UTIL_SUGGEST_H
#define USBIP_UTIL_SUGGEST_H

#include <getopt.h>
#include <stddef.h>

/*
 * The word of words (n of them) closest to the len bytes of typed: one it
 * starts, or one at most two edits away (one for short words). NULL if
 * none is that close.
 */
const char *suggest_word(const char *typed, size_t len, const char *const *words, size_t n);

/* The same among the long options of opts (ended by a NULL name). */
const char *suggest_option(const char *typed, size_t len, const struct option *opts);

/*
 * After getopt_long returned '?' (with opterr 0): what was wrong, in one
 * line without the program's name, into out: "'--tcp-port' wants a value",
 * "unknown option '--bsuid'; did you mean '--busid'?", "unknown option '-x'".
 */
void suggest_option_error(char **argv, const struct option *opts, char *out, size_t len);

#endif
