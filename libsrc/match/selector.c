// SPDX-License-Identifier: GPL-2.0-or-later
#include "match/selector.h"
#include "util/hex.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

static int parse_hex16(const char *s, size_t len, uint16_t *out)
{
	unsigned long v;

	if (len == 0 || len > 4 || hex_number(s, len, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int selector_parse_hwid(const char *spec, struct usbip_hwid *id, char *err, size_t err_len)
{
	const char *colon = strchr(spec, ':'), *serial;
	size_t pid_len, i;

	memset(id, 0, sizeof(*id));
	/* Refused before anything quotes it: a message must stay one line. */
	for (i = 0; spec[i]; i++) {
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f) {
			snprintf(err, err_len,
				 "VID:PID[:SERIAL]: byte %zu (0x%02x) is a control character",
				 i + 1, (unsigned char)spec[i]);
			return -1;
		}
	}
	serial = colon ? strchr(colon + 1, ':') : NULL;
	pid_len = colon ? (serial ? (size_t)(serial - colon - 1) : strlen(colon + 1)) : 0;
	if (!colon || parse_hex16(spec, (size_t)(colon - spec), &id->vendor) ||
	    parse_hex16(colon + 1, pid_len, &id->product)) {
		snprintf(err, err_len, "'%s' is not VID:PID[:SERIAL] (hex IDs, e.g. 046d:c52b)",
			 spec);
		return -1;
	}
	if (!serial)
		return 0;
	serial++;
	if (!*serial || strlen(serial) >= sizeof(id->serial)) {
		snprintf(err, err_len, "'%s': the serial must have 1 to %zu characters", spec,
			 sizeof(id->serial) - 1);
		return -1;
	}
	strcpy(id->serial, serial);
	return 0;
}

bool selector_hwid_matches(const struct usbip_hwid *id, uint16_t vendor, uint16_t product,
			   const char *serial)
{
	return id->vendor == vendor && id->product == product &&
	       (!id->serial[0] || (serial && strcmp(id->serial, serial) == 0));
}

int selector_add_busid(struct usbip_selector *sel, const char *pattern, char *err, size_t err_len)
{
	size_t i, len = strlen(pattern);

	if (sel->nbusids == SELECTOR_MAX_CRITERIA) {
		snprintf(err, err_len, "at most %d -b selectors", SELECTOR_MAX_CRITERIA);
		return -1;
	}
	/*
	 * What busids are made of, and the pattern characters: nothing a shell
	 * or a log fears. Checked first, so that the messages below may quote it.
	 */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !strchr(".-_:*?[]!", c)) {
			snprintf(
				err, err_len,
				"busid: byte %zu (0x%02x) is neither part of a busid nor a pattern "
				"(e.g. 1-1.2 or '1-1.*')",
				i + 1, c);
			return -1;
		}
	}
	if (len == 0 || len >= USBIP_BUSID_SIZE) {
		snprintf(err, err_len, "busid '%s' must have 1 to %d characters", pattern,
			 USBIP_BUSID_SIZE - 1);
		return -1;
	}
	strcpy(sel->busids[sel->nbusids++], pattern);
	return 0;
}

int selector_add_hwid(struct usbip_selector *sel, const char *spec, char *err, size_t err_len)
{
	if (sel->nhwids == SELECTOR_MAX_CRITERIA) {
		snprintf(err, err_len, "at most %d -i selectors", SELECTOR_MAX_CRITERIA);
		return -1;
	}
	if (selector_parse_hwid(spec, &sel->hwids[sel->nhwids], err, err_len) != 0)
		return -1;
	sel->nhwids++;
	return 0;
}

int selector_add_option(struct usbip_selector *sel, int opt, const char *arg, char *err,
			size_t err_len)
{
	if (opt == 'b')
		return selector_add_busid(sel, arg, err, err_len);
	if (opt == 'i')
		return selector_add_hwid(sel, arg, err, err_len);
	snprintf(err, err_len, "-%c does not choose a device", opt);
	return -1;
}

#define BUSID_CHARS "0123456789-."

/* BUS-PORT[.PORT]...: what the kernel names a USB device. */
static bool is_usb_busid(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (!n || s[n] != '-')
		return false;
	s += n + 1;
	for (;;) {
		n = strspn(s, "0123456789");
		if (!n)
			return false;
		s += n;
		if (!*s)
			return true;
		if (*s++ != '.')
			return false;
	}
}

/*
 * Whether the bracket expression at p ("[...]", *len set to its length)
 * takes any character of a busid; a '[' that opens none is a literal.
 */
static bool bracket_takes_busid_char(const char *p, size_t *len)
{
	const char *end = p + 1, *c;
	char expr[USBIP_BUSID_SIZE], one[2] = "";

	if (*end == '!')
		end++;
	if (*end == ']')
		end++;
	end = strchr(end, ']');
	if (!end) {
		*len = 1;
		return false; /* a literal '[': no busid has one */
	}
	*len = (size_t)(end - p) + 1;
	snprintf(expr, sizeof(expr), "%.*s", (int)*len, p);
	for (c = BUSID_CHARS; *c; c++) {
		one[0] = *c;
		if (fnmatch(expr, one, 0) == 0)
			return true;
	}
	return false;
}

/* Whether each part of a pattern can match a part of some busid. */
static bool pattern_can_match_usb(const char *p)
{
	size_t len;

	if (!strpbrk(p, "*?["))
		return is_usb_busid(p);
	for (; *p; p += len) {
		len = 1;
		if (*p == '*' || *p == '?')
			continue;
		if (*p == '[' ? !bracket_takes_busid_char(p, &len) : !strchr(BUSID_CHARS, *p))
			return false;
	}
	return true;
}

int selector_check_usb_busids(const struct usbip_selector *sel, char *err, size_t err_len)
{
	unsigned i;

	for (i = 0; i < sel->nbusids; i++) {
		if (pattern_can_match_usb(sel->busids[i]))
			continue;
		snprintf(err, err_len,
			 "busid '%s' can never match: a USB device's busid is BUS-PORT[.PORT]... "
			 "(e.g. 1-1.2 or '1-1.*')",
			 sel->busids[i]);
		return -1;
	}
	return 0;
}

bool selector_empty(const struct usbip_selector *sel)
{
	return !sel->nbusids && !sel->nhwids;
}

bool selector_is_one_busid(const struct usbip_selector *sel)
{
	return sel->nbusids == 1 && !sel->nhwids && !strpbrk(sel->busids[0], "*?[");
}

bool selector_matches(const struct usbip_selector *sel, const char *busid, uint16_t vendor,
		      uint16_t product, const char *serial)
{
	unsigned i;

	for (i = 0; i < sel->nbusids; i++)
		if (fnmatch(sel->busids[i], busid, 0) != 0)
			return false;
	for (i = 0; i < sel->nhwids; i++)
		if (!selector_hwid_matches(&sel->hwids[i], vendor, product, serial))
			return false;
	return true;
}

void selector_describe(const struct usbip_selector *sel, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;
	int n;

	buf[0] = '\0';
	for (i = 0; i < sel->nbusids && used < len; i++) {
		n = snprintf(buf + used, len - used, "%s-b %s", used ? " " : "", sel->busids[i]);
		used += n > 0 ? (size_t)n : 0;
	}
	for (i = 0; i < sel->nhwids && used < len; i++) {
		const struct usbip_hwid *id = &sel->hwids[i];

		n = snprintf(buf + used, len - used, "%s-i %04x:%04x%s%s", used ? " " : "",
			     id->vendor, id->product, id->serial[0] ? ":" : "", id->serial);
		used += n > 0 ? (size_t)n : 0;
	}
}
