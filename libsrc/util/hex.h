/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hexadecimal digits as people and files write them (usb.ids, VID:PID, JSON \u escapes, pins). */
#ifndef USBIP_UTIL_HEX_H
#define USBIP_UTIL_HEX_H

#include <stddef.h>

/* The value of c as a hex digit (0-9, a-f, A-F), or -1. */
int hex_digit(char c);

/* The number the digits characters at p spell; 0, or -1 if one of them is not a hex digit. */
int hex_number(const char *p, size_t digits, unsigned long *out);

#endif
