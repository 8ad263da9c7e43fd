/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one configuration file, usbip.conf (INI syntax, read with libinih).
 * A key of the file is the long command-line option of the same name, and
 * it is set by the same code: the reader hands each key to the program's
 * option handler as the option's code, so the file and the command line
 * cannot disagree on what a value means. Sections: [usbipd], [usbipa],
 * [export NAME], [attach NAME], [serve-mtp NAME], [agent]; each program
 * reads its own and checks that the others are known. Every error is one
 * line, FILE:LINE: [SECTION] KEY: WHAT, and they are all reported before
 * the program gives up.
 *
 * The file is read as written: it must be a regular file of at most
 * CONF_MAX_FILE bytes (a directory, a FIFO or a device is refused at once),
 * a line may have up to CONF_MAX_LINE bytes, a UTF-8 byte-order mark at the
 * start is skipped, and a NUL byte is an error naming its line. libinih
 * parses the lines; conf.c hands them over one whole line at a time.
 */
#ifndef USBIP_DAEMON_CONF_H
#define USBIP_DAEMON_CONF_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define CONF_MAX_LINE (64 * 1024) /* bytes in a line, its end not counted */
#define CONF_MAX_FILE (1024 * 1024)

/* The section kinds of usbip.conf, and whether each takes a NAME. */
struct conf_section_kind {
	const char *name; /* "usbipd", "export" */
	bool named;	  /* [export NAME] */
};

extern const struct conf_section_kind conf_sections[];

/*
 * Called once per key of a section the program reads, with the option code
 * that key stands for (from its struct option) and the value (NULL for an
 * option without argument set to true). name is the section's NAME ("" for
 * unnamed sections). Returns 0, or -1 with a message in err.
 */
typedef int (*conf_set_fn)(void *ctx, const char *kind, const char *name, int opt,
			   const char *value, char *err, size_t err_len);

struct conf_reader {
	const char *file;
	const char *kinds[4];	   /* the section kinds this program reads */
	const struct option *opts; /* their keys: long options (not help, version, config) */
	conf_set_fn set;
	void *ctx;
	char first_error[256]; /* out: the first error's line, for a status report */
	int section_line;      /* while set runs: the line of its section's header */
};

/*
 * Reads the file. Values stay valid until conf_release. Returns the
 * number of errors (each printed on stderr), 0 when the file is good; a
 * file that does not exist is one error unless missing_ok.
 */
unsigned conf_read(struct conf_reader *r, bool missing_ok);

/* Frees the values of every file read so far. */
void conf_release(void);

/*
 * Finds --config FILE (or --config=FILE) and --check in argv before the
 * options are parsed, so that the file is read first and the command line
 * overrides it. file is left as it is when there is no --config.
 */
void conf_scan_args(int argc, char **argv, const char **file, bool *check);

#endif
