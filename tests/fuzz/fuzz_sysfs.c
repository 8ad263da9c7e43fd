// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: what the tools read from the kernel's sysfs files,
 * parsed from memory as if read from the files. The first byte picks the
 * reader, the rest is the file:
 *   0  a vhci-hcd status file (vhci_parse_status), for a vhci with
 *      (second byte) + 1 ports
 *   1  a vhci port record of /var/run/vhci_hcd (vhci_record_parse)
 *   2  a device's raw "descriptors" (usb_descriptors_interfaces, what
 *      usbip-host's unconfigured devices are listed from)
 *   3  a usbip-host device's "speed" and "usbip_status", and a busid on
 *      its way to a sysfs path (host_busid_valid, against a regular
 *      expression)
 * Checked: rows land only on ports that exist, with a terminated busid, and
 * what was parsed is then used as usbip port and attach use it.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/host.h"
#include "kernel/vhci.h"
#include "wire/usb_descriptors.h"
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static regex_t busid_re;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (regcomp(&busid_re, "^[0-9]+-[0-9]+(\\.[0-9]+)*$", REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	return 0;
}

static void vhci_status(const uint8_t *data, size_t size)
{
	struct usbip_vhci vhci;
	unsigned i;

	if (size < 1)
		return;
	vhci.nports = data[0] + 1u;
	vhci.ports = calloc(vhci.nports, sizeof(*vhci.ports));
	if (!vhci.ports)
		abort();
	/* An exactly-sized copy, not terminated: the parser must not read past it. */
	if (vhci_parse_status((const char *)data + 1, size - 1, &vhci) != 0 && size > 1)
		abort();
	for (i = 0; i < vhci.nports; i++) {
		const struct usbip_vhci_port *p = &vhci.ports[i];

		if (memchr(p->local_busid, 0, sizeof(p->local_busid)) == NULL)
			abort();
		if (p->status && p->port != i)
			abort();
		(void)vhci_status_str(p->status);
	}
	(void)vhci_free_port(&vhci, USBIP_SPEED_HIGH);
	(void)vhci_free_port(&vhci, USBIP_SPEED_SUPER);
	free(vhci.ports);
}

static void vhci_record(const uint8_t *data, size_t size)
{
	struct usbip_vhci_record rec;
	char *line = malloc(size + 1);

	if (!line)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (vhci_record_parse(line, &rec) == 0 &&
	    (!memchr(rec.host, 0, sizeof(rec.host)) ||
	     !memchr(rec.service, 0, sizeof(rec.service)) ||
	     !memchr(rec.busid, 0, sizeof(rec.busid)) || !rec.host[0]))
		abort();
	free(line);
}

static void descriptors(const uint8_t *data, size_t size)
{
	struct usbip_usb_interface intf[USBIP_MAX_INTERFACES];
	uint8_t config = 0, n = 0;

	if (usb_descriptors_interfaces(data, size, &config, &n, intf) == 0 &&
	    n > USBIP_MAX_INTERFACES)
		abort();
}

static void host_attrs(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	size_t len;
	uint32_t speed;
	enum usbip_stub_status st;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	speed = host_parse_speed(text);
	if (speed > USBIP_SPEED_SUPER_PLUS)
		abort();
	st = host_parse_stub_status(text);
	if (st > USBIP_STUB_ERROR)
		abort();
	if (host_busid_valid(text) !=
	    (len < USBIP_BUSID_SIZE && regexec(&busid_re, text, 0, NULL, 0) == 0))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	switch (data[0]) {
	case 0:
		vhci_status(copy, size - 1);
		break;
	case 1:
		vhci_record(copy, size - 1);
		break;
	case 2:
		descriptors(copy, size - 1);
		break;
	case 3:
		host_attrs(copy, size - 1);
		break;
	default:
		break;
	}
	free(copy);
	return 0;
}
