// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip attach: import a device from a remote usbipd onto the local
 * vhci-hcd; with --persist, follow it (libsrc/agent/attach_follower.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/persist.h"
#include "agent/vhci_import.h"
#include "daemon/daemon.h"
#include "util/log.h"
#include "usbip.h"

struct attach_args {
	struct usbip_device_args dev;
	struct usbip_persist_args p;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usbip attach -r HOST (-b BUSID | -i VID:PID[:SERIAL])... [--persist [-D]\n"
		"                    [--pid FILE]]\n\n"
		"Imports the device the usbipd on HOST exports and attaches it to a free\n"
		"vhci-hcd port of the right speed. Prints the port it got.\n\n"
		"  -r, --remote HOST       host name, IPv4 or IPv6 address of the device side;\n"
		"                          HOST:PORT or [IPV6]:PORT for another port\n"
		"  -b, --busid BUSID       the device, as 'usbip list -r HOST' shows it; a\n"
		"                          pattern such as '1-1.*' picks among that hub's\n"
		"  -d, --device BUSID      the same (Debian's form for a gadget on a vUDC)\n"
		"  -i, --hardware-id VID:PID[:SERIAL]  the device by what it is (the serial\n"
		"                          is known when HOST runs this project's usbipd)\n"
		"                          (several -b/-i: the device must match all; if\n"
		"                          several devices match, none is attached)\n"
		"      --persist           stay: attach the device as soon as HOST offers it,\n"
		"                          again after it, the network or usbipd come back;\n"
		"                          ends with 'usbip detach' of its port or SIGTERM;\n"
		"                          SIGUSR1 stops retrying (it ends, exit 1, unless\n"
		"                          attached: then once the connection is lost)\n"
		"      --max-attempts N    with --persist: give up (exit 1) after N failed\n"
		"                          attempts in a row; a busy device does not count\n"
		"  -D, --daemon            with --persist: run in the background, log to syslog\n"
		"  -P, --pid FILE          with --persist: write a pid file\n"
		"      --user USER         with --persist, started as root: talk to HOST as USER\n"
		"                          (default usbip, or nobody where there is none); only\n"
		"                          attaching to vhci-hcd stays root\n"
		"      --json              the result as a JSON object (busid, vendor,\n"
		"                          product, serial, host, "
		"port)\n" USBIP_DEAD_PEER_OPTION_HELP "\n"
		"Exit status: 0 attached (with --persist: ended cleanly), 1 failed, 2 bad\n"
		"arguments, 4 HOST unreachable, 5 HOST refused.\n");
}

static struct vhci_import_target target(const char *host)
{
	return (struct vhci_import_target){ .host = host,
					    .port = usbip_opts.tcp_port,
					    .tls = usbip_opts.tls,
					    .timeout_ms = USBIP_IO_TIMEOUT_MS };
}

/* The one remote device the selector names; candidates listed when it names several. */
static enum usbip_result pick(const struct usbip_device_args *a, char *busid, size_t len)
{
	struct vhci_import_target from = target(a->host);
	struct usbip_devlist found;
	enum usbip_result r;
	char sel[256];
	unsigned i;

	if (selector_is_one_busid(&a->selector)) {
		snprintf(busid, len, "%s", a->selector.busids[0]);
		return USBIP_OK;
	}
	r = vhci_import_find(&from, &a->selector, &found);
	if (r != USBIP_OK)
		return r;
	selector_describe(&a->selector, sel, sizeof(sel));
	if (found.count == 1) {
		snprintf(busid, len, "%s", found.entries[0].udev.busid);
	} else if (found.count == 0) {
		log_err("no device on %s matches %s", a->host, sel);
		r = USBIP_E_FAILED;
	} else {
		log_err("%u devices on %s match %s; choose one:", found.count, a->host, sel);
		for (i = 0; i < found.count; i++) {
			const struct usbip_usb_device *u = &found.entries[i].udev;

			fprintf(stderr, "  -b %s  (%04x:%04x%s%s)\n", u->busid, u->id_vendor,
				u->id_product, u->serial[0] ? " serial " : "", u->serial);
		}
		r = USBIP_E_FAILED;
	}
	usbip_proto_devlist_free(&found);
	return r;
}

/* --json: what the device is, from HOST's list (one more exchange, before the import). */
static enum usbip_result describe(const struct attach_args *a, const char *busid,
				  struct usbip_usb_device *udev)
{
	struct vhci_import_target from = target(a->dev.host);
	struct usbip_selector one = { 0 };
	struct usbip_devlist found;
	enum usbip_result r;
	char err[200];

	if (selector_add_busid(&one, busid, err, sizeof(err)) != 0)
		return USBIP_E_FAILED;
	r = vhci_import_find(&from, &one, &found);
	if (r != USBIP_OK)
		return r;
	if (found.count == 1)
		*udev = found.entries[0].udev;
	else
		snprintf(udev->busid, sizeof(udev->busid), "%s", busid);
	usbip_proto_devlist_free(&found);
	return USBIP_OK;
}

static int attach_once(const struct attach_args *a)
{
	struct vhci_import_target from = target(a->dev.host);
	struct usbip_usb_device udev = { 0 };
	char busid[USBIP_BUSID_SIZE];
	enum usbip_result r = pick(&a->dev, busid, sizeof(busid));
	uint32_t status;
	int port;

	if (r == USBIP_OK && a->dev.json)
		r = describe(a, busid, &udev);
	if (r == USBIP_OK)
		r = vhci_import(&from, busid, &port, NULL, &status);
	if (r == USBIP_OK && a->dev.json)
		usbip_json_result("attached", &udev, udev.serial, a->dev.host, port);
	else if (r == USBIP_OK)
		printf("attached %s from %s to port %d\n", busid, a->dev.host, port);
	return exit_status(r);
}

/*
 * The follower stays root (vhci-hcd); the device lists and imports are
 * asked of the unprivileged network process.
 */
static int attach_persist(const struct attach_args *a)
{
	static struct persist p;

	persist_init(&p, a->p.daemonize, a->p.pid_file, a->p.user);
	p.job.kind = PERSIST_ATTACH;
	p.job.attach = (struct attach_follower_config){ .from = target(a->dev.host),
							.selector = a->dev.selector,
							.max_attempts = a->p.max_attempts };
	return exit_status(persist_run_one(&p, usbip_opts.tls));
}

int usbip_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, 'r' },
		{ "busid", required_argument, NULL, 'b' },
		{ "hardware-id", required_argument, NULL, 'i' },
		/* Debian's form for a gadget exported from a vUDC: a busid by another name. */
		{ "device", required_argument, NULL, 'd' },
		USBIP_PERSIST_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct attach_args a = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "r:b:d:i:DP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (usbip_check_remote("attach", optarg) >= 0)
				return USBIP_EXIT_USAGE;
			a.dev.host = optarg;
			break;
		case 'b':
		case 'd': /* the kernel tools' name for -b */
		case 'i':
			if (usbip_selector_option("attach", c == 'd' ? 'b' : c, optarg,
						  &a.dev.selector) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			rc = usbip_persist_option("attach", c, optarg, &a.p);
			if (rc == USBIP_OPTION_NOT_MINE)
				return usbip_bad_option("attach", argv, opts);
			if (rc >= 0)
				return rc;
		}
	}
	if (!a.dev.host)
		return usbip_usage_error("attach", "which host? give -r HOST");
	if (selector_empty(&a.dev.selector))
		return usbip_usage_error("attach",
					 "which device? give -b BUSID or -i VID:PID[:SERIAL]");
	if (optind < argc)
		return usbip_usage_error("attach", "unexpected argument '%s'", argv[optind]);
	rc = usbip_persist_check("attach", &a.p);
	if (rc >= 0)
		return rc;
	a.dev.json = a.p.json;
	return a.p.persist ? attach_persist(&a) : attach_once(&a);
}
