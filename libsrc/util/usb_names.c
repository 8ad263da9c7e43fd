// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usb.ids lookups. The file is read once into memory; lookups scan its
 * lines, which is fast enough for the handful of devices a listing shows and
 * needs no index structure.
 *
 * Format: vendor lines start with four hex digits, their products follow
 * indented by one tab; the class section has "C cc name" lines with
 * subclasses (one tab) and protocols (two tabs). Other sections start with
 * a keyword at the line start and end the vendor/class context.
 */
#include "util/usb_names.h"
#include "util/hex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *db;

void usb_names_load(const char *path)
{
	FILE *f;
	long size;

	if (db)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && size < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		db = malloc((size_t)size + 1);
		if (db && fread(db, 1, (size_t)size, f) == (size_t)size) {
			db[size] = '\0';
		} else {
			free(db);
			db = NULL;
		}
	}
	fclose(f);
}

void usb_names_free(void)
{
	free(db);
	db = NULL;
}

/* Copies the name after "<id>  " up to the end of line. */
static void copy_name(char *dst, size_t len, const char *p)
{
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/*
 * Walks the lines: level 0 entries start at column 0 (with an optional
 * prefix such as "C "), level 1 entries after one tab, level 2 after two.
 * Finds the chain ids[0] > ids[1] > ids[2] up to depth and copies each name.
 */
static int lookup(const char *prefix, int digits0, int digits, const unsigned *ids, int depth,
		  char names[3][128])
{
	const char *line = db;
	size_t plen = strlen(prefix);
	int level = -1; /* deepest level matched so far */

	while (line && *line) {
		const char *next = strchr(line, '\n');
		unsigned long v;

		if (*line == '#' || *line == '\n') {
			/* comment or blank: keeps the context */
		} else if (line[0] != '\t') {
			if (level >= 0)
				return level; /* left the matched entry */
			if (strncmp(line, prefix, plen) == 0 &&
			    hex_number(line + plen, (size_t)digits0, &v) == 0 && v == ids[0] &&
			    (line[plen + digits0] == ' ')) {
				copy_name(names[0], 128, line + plen + digits0);
				level = 0;
				if (depth == 1)
					return level;
			}
		} else if (level >= 0) {
			int tabs = line[1] == '\t' ? 2 : 1;

			if (tabs == level + 1 && tabs < depth &&
			    hex_number(line + tabs, (size_t)digits, &v) == 0 && v == ids[tabs]) {
				copy_name(names[tabs], 128, line + tabs + digits);
				level = tabs;
				if (level == depth - 1)
					return level;
			} else if (tabs <= level) {
				return level; /* a sibling: the deeper id is not listed */
			}
		}
		line = next ? next + 1 : NULL;
	}
	return level;
}

void usb_names_product(char *buf, size_t len, uint16_t vendor, uint16_t product)
{
	char names[3][128] = { "unknown vendor", "unknown product", "" };
	unsigned ids[2] = { vendor, product };

	if (db)
		lookup("", 4, 4, ids, 2, names);
	snprintf(buf, len, "%s : %s (%04x:%04x)", names[0], names[1], vendor, product);
}

void usb_names_class(char *buf, size_t len, uint8_t cls, uint8_t subclass, uint8_t protocol)
{
	char names[3][128] = { "unknown class", "unknown subclass", "unknown protocol" };
	unsigned ids[3] = { cls, subclass, protocol };

	if (cls == 0 && subclass == 0 && protocol == 0) {
		snprintf(buf, len, "(Defined at Interface level) (00/00/00)");
		return;
	}
	if (db)
		lookup("C ", 2, 2, ids, 3, names);
	snprintf(buf, len, "%s / %s / %s (%02x/%02x/%02x)", names[0], names[1], names[2], cls,
		 subclass, protocol);
}
