// SPDX-License-Identifier: GPL-2.0-or-later
/* usbip list: local exportable devices (-l) or a remote daemon's (-r HOST). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/mdns.h"
#include "kernel/host.h"
#include "kernel/vhci.h"
#include "kernel/vudc.h"
#include "net/dial.h"
#include "net/op_msg.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/json.h"
#include "util/log.h"
#include "util/usb_names.h"
#include "usbip.h"

enum list_format { FORMAT_TEXT, FORMAT_PARSABLE, FORMAT_JSON };

static void usage(FILE *out)
{
	fprintf(out, "usage: usbip list [-l | -d | -r HOST | --discover] [-b BUSID] "
		     "[-i VID:PID[:SERIAL]] [-p | --json]\n\n"
		     "  -l, --local        devices on this machine that can be exported (default)\n"
		     "  -d, --device       gadgets on this machine's usbip-vudc (vUDC mode)\n"
		     "  -r, --remote HOST  devices a usbipd on HOST exports\n"
		     "      --discover     the usbipd announced on the LAN (mDNS/DNS-SD, through\n"
		     "                     avahi-daemon) and the devices each exports (text)\n"
		     "      --discover-time SECONDS  how long to look (1 to 30, default 2)\n"
		     "  -p, --parsable     one line per device: busid=...#usbid=...#\n"
		     "  -b, --busid BUSID  only these devices (a pattern such as '1-1.*' too)\n"
		     "  -i, --hardware-id VID:PID[:SERIAL]  only devices that are this\n"
		     "      --json         machine-readable output\n");
}

static void json_device(struct json_writer *w, const struct usbip_devlist_entry *e)
{
	const struct usbip_usb_device *u = &e->udev;
	char name[512];
	unsigned i;

	json_string(w, "busid", u->busid);
	json_hex(w, "vendor", u->id_vendor, 4);
	json_hex(w, "product", u->id_product, 4);
	usb_names_product(name, sizeof(name), u->id_vendor, u->id_product);
	json_string(w, "name", name);
	json_string(w, "path", u->path);
	json_uint(w, "busnum", u->busnum);
	json_uint(w, "devnum", u->devnum);
	json_string(w, "speed", usbip_proto_speed_str(u->speed));
	json_hex(w, "bcd_device", u->bcd_device, 4);
	json_hex(w, "class", u->device_class, 2);
	json_hex(w, "subclass", u->device_subclass, 2);
	json_hex(w, "protocol", u->device_protocol, 2);
	json_uint(w, "configuration", u->configuration_value);
	json_array_begin(w, "interfaces");
	for (i = 0; i < u->num_interfaces; i++) {
		const struct usbip_usb_interface *intf = &e->interfaces[i];

		json_object_begin(w, NULL);
		json_uint(w, "number", i);
		json_hex(w, "class", intf->interface_class, 2);
		json_hex(w, "subclass", intf->interface_subclass, 2);
		json_hex(w, "protocol", intf->interface_protocol, 2);
		usb_names_class(name, sizeof(name), intf->interface_class, intf->interface_subclass,
				intf->interface_protocol);
		json_string(w, "class_name", name);
		json_object_end(w);
	}
	json_array_end(w);
}

/* -b and -i narrow the list; none: everything. */
static struct usbip_selector filter;

static bool wanted(const struct usbip_usb_device *u, const char *serial)
{
	return selector_empty(&filter) ||
	       selector_matches(&filter, u->busid, u->id_vendor, u->id_product, serial);
}

/* What a local device is doing, as sysfs tells it without asking a daemon. */
static const char *local_state(const struct usbip_local_device *dev)
{
	switch (dev->stub_status) {
	case USBIP_STUB_NOT_BOUND:
		return "local";
	case USBIP_STUB_AVAILABLE:
		return "bound"; /* to usbip-host: offered */
	case USBIP_STUB_USED:
		return "exported"; /* in use by a remote */
	case USBIP_STUB_ERROR:
		break;
	}
	return "error";
}

/* The kernel tools' two lines, then what the device is and who drives it. */
static void print_local_text(const struct usbip_local_device *dev)
{
	const struct usbip_usb_device *u = &dev->info.udev;
	char name[512];
	unsigned i;

	usb_names_product(name, sizeof(name), u->id_vendor, u->id_product);
	printf(" - busid %s (%04x:%04x)\n   %s\n", u->busid, u->id_vendor, u->id_product, name);
	usb_names_class(name, sizeof(name), u->device_class, u->device_subclass,
			u->device_protocol);
	printf("   class: %s\n", name);
	for (i = 0; i < u->num_interfaces; i++) {
		const struct usbip_usb_interface *intf = &dev->info.interfaces[i];

		usb_names_class(name, sizeof(name), intf->interface_class, intf->interface_subclass,
				intf->interface_protocol);
		printf("   %2u - %s\n", i, name);
	}
	printf("   driver: %s, speed %s\n", dev->driver[0] ? dev->driver : "none",
	       usbip_proto_speed_str(u->speed));
	printf("   state: %s\n\n", local_state(dev));
}

static void print_imported(enum list_format format, struct json_writer *w,
			   const struct usbip_local_device *dev,
			   const struct usbip_vhci_record *rec, unsigned port)
{
	const struct usbip_usb_device *u = &dev->info.udev;
	char name[512];

	if (format == FORMAT_JSON) {
		json_object_begin(w, NULL);
		json_device(w, &dev->info);
		json_string(w, "driver", dev->driver);
		json_string(w, "serial", dev->serial);
		json_bool(w, "bound", false);
		json_string(w, "state", "attached");
		json_string(w, "from_host", rec->host);
		json_string(w, "from_busid", rec->busid);
		json_uint(w, "port", port);
		json_object_end(w);
		return;
	}
	usb_names_product(name, sizeof(name), u->id_vendor, u->id_product);
	printf(" - busid %s (%04x:%04x)\n   %s\n   driver: %s, speed %s\n", u->busid, u->id_vendor,
	       u->id_product, name, dev->driver[0] ? dev->driver : "none",
	       usbip_proto_speed_str(u->speed));
	printf("   state: attached here from %s%s%s, vhci port %u\n\n", rec->host,
	       rec->busid[0] ? " busid " : "", rec->busid, port);
}

/*
 * The devices attached here through vhci-hcd, from the records of where
 * they came from (as usbip port shows them). Nothing when vhci-hcd is not
 * loaded: a list is no place to ask for it.
 */
static void list_imported(enum list_format format, struct json_writer *w)
{
	struct usbip_local_device dev;
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	if (format == FORMAT_PARSABLE || access(USBIP_VHCI_SYSFS, F_OK) != 0 ||
	    vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++) {
		const struct usbip_vhci_port *p = &vhci.ports[i];

		if (p->status == USBIP_VDEV_NULL || !p->local_busid[0] ||
		    strcmp(p->local_busid, "0-0") == 0 || host_get(p->local_busid, &dev) != 0 ||
		    !wanted(&dev.info.udev, dev.serial))
			continue;
		if (vhci_record_read(i, &rec) != 0)
			snprintf(rec.host, sizeof(rec.host), "%s", "unknown");
		print_imported(format, w, &dev, &rec, i);
	}
	vhci_close(&vhci);
}

static int list_local(enum list_format format, bool gadgets)
{
	struct usbip_local_device *devs;
	struct json_writer w;
	size_t n, i, k = 0;

	if ((gadgets ? vudc_list(&devs, &n) : host_list(&devs, &n, false)) != 0)
		return USBIP_EXIT_FAILURE;
	for (i = 0; i < n; i++)
		if (wanted(&devs[i].info.udev, devs[i].serial))
			devs[k++] = devs[i];
	n = k;
	if (format == FORMAT_JSON) {
		json_init(&w, stdout);
		json_array_begin(&w, NULL);
	}
	for (i = 0; i < n; i++) {
		const struct usbip_usb_device *u = &devs[i].info.udev;

		switch (format) {
		case FORMAT_JSON:
			json_object_begin(&w, NULL);
			json_device(&w, &devs[i].info);
			json_string(&w, "driver", devs[i].driver);
			json_string(&w, "serial", devs[i].serial);
			json_bool(&w, "bound", devs[i].stub_status != USBIP_STUB_NOT_BOUND);
			json_string(&w, "state", local_state(&devs[i]));
			json_object_end(&w);
			break;
		case FORMAT_PARSABLE:
			printf("busid=%s#usbid=%04x:%04x#\n", u->busid, u->id_vendor,
			       u->id_product);
			break;
		case FORMAT_TEXT:
			print_local_text(&devs[i]);
			break;
		}
	}
	if (!gadgets)
		list_imported(format, &w);
	if (format == FORMAT_JSON) {
		json_array_end(&w);
		json_finish(&w);
	}
	free(devs);
	return USBIP_EXIT_OK;
}

static void print_remote_text(const char *host, const struct usbip_devlist *list)
{
	char product[512], cls[512];
	uint32_t i, j;

	if (list->count == 0) {
		printf("no exportable devices found on %s\n", host);
		return;
	}
	printf("Exportable USB devices\n======================\n - %s\n", host);
	for (i = 0; i < list->count; i++) {
		const struct usbip_devlist_entry *e = &list->entries[i];
		const struct usbip_usb_device *u = &e->udev;

		usb_names_product(product, sizeof(product), u->id_vendor, u->id_product);
		usb_names_class(cls, sizeof(cls), u->device_class, u->device_subclass,
				u->device_protocol);
		printf("%11s: %s\n%11s: %s\n%11s: %s\n", u->busid, product, "", u->path, "", cls);
		for (j = 0; j < u->num_interfaces; j++) {
			const struct usbip_usb_interface *intf = &e->interfaces[j];

			usb_names_class(cls, sizeof(cls), intf->interface_class,
					intf->interface_subclass, intf->interface_protocol);
			printf("%11s: %2u - %s\n", "", j, cls);
		}
		printf("\n");
	}
}

static int list_remote(const char *host, enum list_format format)
{
	char shown[NET_ADDRESS_TEXT_MAX + 100];
	struct usbip_devlist list;
	struct usbip_conn *conn;
	struct json_writer w;
	uint32_t i, k;
	int rc;

	rc = dial(host, usbip_opts.tcp_port, USBIP_IO_TIMEOUT_MS, usbip_opts.tls, &conn);
	if (rc != USBIP_OK)
		return exit_status(rc);
	/* A pool (srv:, mdns:) names which of its hosts answered. */
	if (strncmp(host, "srv:", 4) == 0 || strncmp(host, "mdns:", 5) == 0)
		snprintf(shown, sizeof(shown), "%s (%s)", host, conn->peer);
	else
		snprintf(shown, sizeof(shown), "%s", host);
	rc = op_msg_query_devlist(conn, &list);
	conn_close(conn);
	if (rc != 0)
		return USBIP_EXIT_FAILURE;
	for (i = 0, k = 0; i < list.count; i++)
		if (wanted(&list.entries[i].udev, list.entries[i].udev.serial))
			list.entries[k++] = list.entries[i];
	list.count = k;
	switch (format) {
	case FORMAT_JSON:
		json_init(&w, stdout);
		json_array_begin(&w, NULL);
		for (i = 0; i < list.count; i++) {
			json_object_begin(&w, NULL);
			json_string(&w, "host", host);
			json_device(&w, &list.entries[i]);
			json_object_end(&w);
		}
		json_array_end(&w);
		json_finish(&w);
		break;
	case FORMAT_PARSABLE:
		for (i = 0; i < list.count; i++)
			printf("busid=%s#usbid=%04x:%04x#\n", list.entries[i].udev.busid,
			       list.entries[i].udev.id_vendor, list.entries[i].udev.id_product);
		break;
	case FORMAT_TEXT:
		print_remote_text(shown, &list);
		break;
	}
	usbip_proto_devlist_free(&list);
	return USBIP_EXIT_OK;
}

/* "ADDRESS:PORT" of a service found, as -r takes it. */
static void service_remote(const struct mdns_service *s, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s:%u", s->ipv6 ? "[" : "", s->address, s->ipv6 ? "]" : "",
		 s->port);
}

/* One host found: a line saying what it announced, then its devices as -r lists them. */
static int list_one_discovered(const struct mdns_service *s)
{
	char name[LOG_ESCAPED_SIZE(64)], host[LOG_ESCAPED_SIZE(256)], version[LOG_ESCAPED_SIZE(32)];
	char remote[128];

	service_remote(s, remote, sizeof(remote));
	printf("%s: %s (%s; usbipd %s, tls %s)\n", log_escape(name, sizeof(name), s->name),
	       log_escape(host, sizeof(host), s->host), remote,
	       s->version[0] ? log_escape(version, sizeof(version), s->version) : "?",
	       strcmp(s->tls, "yes") == 0 ? "yes" : "no");
	if (s->ipv6 && strncmp(s->address, "fe80:", 5) == 0) {
		printf("  only a link-local IPv6 address: not asked\n\n");
		return USBIP_EXIT_OK;
	}
	if (strcmp(s->tls, "yes") == 0 && !usbip_opts.tls) {
		printf("  it wants TLS: give --tls (and --ca or --pin) to list its devices\n\n");
		return USBIP_EXIT_OK;
	}
	return list_remote(remote, FORMAT_TEXT);
}

/* --discover: browse for seconds, then ask each usbipd found. */
static int list_discovered(int seconds)
{
	struct mdns_service found[MDNS_BROWSE_MAX];
	char err[256];
	size_t n, i;
	int rc = USBIP_EXIT_OK;

	if (mdns_browse(MDNS_TYPE_USBIPD, seconds * 1000, found, MDNS_BROWSE_MAX, &n, err,
			sizeof(err)) != 0) {
		fprintf(stderr, "usbip list: %s\n", err);
		return USBIP_EXIT_FAILURE;
	}
	if (n == 0)
		printf("no usbipd announced on the LAN within %d s\n", seconds);
	for (i = 0; i < n; i++)
		if (list_one_discovered(&found[i]) != USBIP_EXIT_OK)
			rc = USBIP_EXIT_FAILURE;
	return rc;
}

/* --discover-time: whole seconds, 1 to 30. */
static int discover_seconds(const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	return *arg && !*end && n >= 1 && n <= 30 ? (int)n : -1;
}

int usbip_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local", no_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "device", no_argument, NULL, 'd' },
		{ "busid", required_argument, NULL, 'b' },
		{ "hardware-id", required_argument, NULL, 'i' },
		{ "parsable", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "discover", no_argument, NULL, 'D' },
		{ "discover-time", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum list_format format = FORMAT_TEXT;
	const char *remote = NULL;
	bool local = false, gadgets = false, discover = false;
	int c, rc, seconds = 2;

	while ((c = getopt_long(argc, argv, "lr:db:i:ph", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			local = true;
			break;
		case 'd':
			gadgets = true;
			break;
		case 'b':
		case 'i':
			if (usbip_selector_option("list", c, optarg, &filter) >= 0)
				return USBIP_EXIT_USAGE;
			break;
		case 'r':
			if (usbip_check_remote("list", optarg) >= 0)
				return USBIP_EXIT_USAGE;
			remote = optarg;
			break;
		case 'p':
			format = FORMAT_PARSABLE;
			break;
		case 'j':
			format = FORMAT_JSON;
			break;
		case 'D':
			discover = true;
			break;
		case 'T':
			seconds = discover_seconds(optarg);
			if (seconds < 0)
				return usbip_usage_error(
					"list", "--discover-time wants 1 to 30 seconds, not '%s'",
					optarg);
			discover = true;
			break;
		case 'h':
			usage(stdout);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("list", argv, opts);
		}
	}
	if (optind < argc)
		return usbip_usage_error("list", "unexpected argument '%s'", argv[optind]);
	if (local + gadgets + (remote != NULL) + discover > 1)
		return usbip_usage_error("list", "-l, -d, -r and --discover exclude each other");
	if (discover && format != FORMAT_TEXT)
		return usbip_usage_error("list", "--discover prints text only (not -p or --json)");
	if (discover && !mdns_available())
		return usbip_usage_error(
			"list", "--discover: this build has no mDNS (configure --with-avahi)");
	usb_names_load(USBIDS_FILE);
	rc = discover ? list_discovered(seconds)
	     : remote ? list_remote(remote, format)
		      : list_local(format, gadgets);
	usb_names_free();
	return rc;
}
