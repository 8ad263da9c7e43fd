// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/vhci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/sysfs.h"
#include "util/log.h"
#include "util/io.h"

/* A status file is one sysfs page; more is never read. */
#define STATUS_FILE_MAX 65536

const char *vhci_status_str(unsigned status)
{
	switch (status) {
	case USBIP_VDEV_NULL:
		return "Port Available";
	case USBIP_VDEV_NOTASSIGNED:
		return "Port Initializing";
	case USBIP_VDEV_USED:
		return "Port in Use";
	case USBIP_VDEV_ERROR:
		return "Port Error";
	}
	return "Unknown Status";
}

/* One row: "hs  0000 004 000 00000000 000000 0-0" (see vhci_parse_status). */
static void parse_row(const char *line, struct usbip_vhci *vhci)
{
	char hub[3], busid[USBIP_BUSID_SIZE];
	unsigned port, status, speed, sockfd;
	uint32_t devid;
	struct usbip_vhci_port *p;

	if (sscanf(line, "%2s %u %u %u %x %u %31s", hub, &port, &status, &speed, &devid, &sockfd,
		   busid) != 7) {
		log_debug("vhci status: cannot parse '%s'", line);
		return;
	}
	if (port >= vhci->nports)
		return;
	p = &vhci->ports[port];
	p->port = port;
	p->superspeed = strcmp(hub, "ss") == 0;
	p->status = status;
	p->speed = speed;
	p->devid = devid;
	snprintf(p->local_busid, sizeof(p->local_busid), "%s", busid);
}

int vhci_parse_status(const char *text, size_t len, struct usbip_vhci *vhci)
{
	const char *end = text + len, *nl;
	char line[256];
	bool header = true;

	if (!len)
		return -1;
	for (; text < end; text = nl + 1) {
		size_t n;

		nl = memchr(text, '\n', (size_t)(end - text));
		if (!nl)
			nl = end;
		n = (size_t)(nl - text);
		if (header) {
			header = false; /* "hub port sta spd dev      sockfd local_busid" */
			continue;
		}
		if (n >= sizeof(line) || memchr(text, '\0', n)) {
			log_debug("vhci status: skipping a row of %zu bytes", n);
			continue;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		parse_row(line, vhci);
	}
	return 0;
}

/* The contents of a sysfs file of up to cap - 1 bytes, zero-terminated; -1 if unreadable. */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	len = io_read_all(fd, buf, cap - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	return len > 0 ? len : 0;
}

int vhci_open(struct usbip_vhci *vhci)
{
	char buf[32], path[PATH_MAX], *text;
	unsigned long n;
	int i, parsed = 0;

	vhci->nports = 0;
	vhci->ports = NULL;
	static bool said_missing;

	if (sysfs_path(path, sizeof(path), USBIP_VHCI_SYSFS_DIR "/nports") != 0)
		return -1;
	if (!sysfs_note_driver(sysfs_read_attr(path, buf, sizeof(buf)) == 0, "vhci-hcd", "vhci-hcd",
			       &said_missing))
		return -1;
	n = strtoul(buf, NULL, 10);
	if (n == 0 || n > USBIP_VHCI_MAX_PORTS) {
		log_err("vhci-hcd reports %s ports", buf);
		return -1;
	}
	vhci->nports = (unsigned)n;
	vhci->ports = calloc(n, sizeof(*vhci->ports));
	if (!vhci->ports)
		return -1;
	text = malloc(STATUS_FILE_MAX);
	if (!text) {
		vhci_close(vhci);
		return -1;
	}
	for (i = 0; i < USBIP_VHCI_MAX_PORTS; i++) {
		ssize_t len;

		if (i == 0)
			sysfs_path(path, sizeof(path), USBIP_VHCI_SYSFS_DIR "/status");
		else
			sysfs_path(path, sizeof(path), USBIP_VHCI_SYSFS_DIR "/status.%d", i);
		len = read_file(path, text, STATUS_FILE_MAX);
		if (len < 0)
			break;
		if (vhci_parse_status(text, (size_t)len, vhci) == 0)
			parsed++;
	}
	free(text);
	if (!parsed) {
		log_err("cannot read vhci-hcd's port status");
		vhci_close(vhci);
		return -1;
	}
	return 0;
}

void vhci_close(struct usbip_vhci *vhci)
{
	free(vhci->ports);
	vhci->ports = NULL;
	vhci->nports = 0;
}

/* SuperSpeed and SuperSpeed+ devices go on the USB 3 hub, all others on USB 2. */
static bool wants_superspeed(uint32_t speed)
{
	return speed >= USBIP_SPEED_SUPER;
}

int vhci_free_port(const struct usbip_vhci *vhci, uint32_t speed)
{
	unsigned i;

	for (i = 0; i < vhci->nports; i++) {
		const struct usbip_vhci_port *p = &vhci->ports[i];

		if (p->status == USBIP_VDEV_NULL && p->superspeed == wants_superspeed(speed))
			return (int)i;
	}
	return -1;
}

int vhci_attach(const struct usbip_usb_device *udev, int sockfd)
{
	uint32_t devid = udev->busnum << 16 | (udev->devnum & 0xffff);
	char path[PATH_MAX];
	int attempt;

	if (udev->speed == USBIP_SPEED_UNKNOWN || udev->speed > USBIP_SPEED_SUPER_PLUS) {
		log_err("%s: the device reports an unknown speed (%u)", udev->busid, udev->speed);
		return -1;
	}
	/* Another attach may take the port we picked: re-read and retry. */
	for (attempt = 0; attempt < 16; attempt++) {
		struct usbip_vhci vhci;
		char value[64];
		int port;

		if (vhci_open(&vhci) != 0)
			return -1;
		port = vhci_free_port(&vhci, udev->speed);
		vhci_close(&vhci);
		if (port < 0) {
			log_err("no free vhci port for a %s device",
				wants_superspeed(udev->speed) ? "USB 3" : "USB 2");
			return -2;
		}
		snprintf(value, sizeof(value), "%d %d %u %u", port, sockfd, devid, udev->speed);
		sysfs_path(path, sizeof(path), USBIP_VHCI_SYSFS_DIR "/attach");
		if (sysfs_write_attr(path, value) == 0) {
			log_debug("attached %s to vhci port %d", udev->busid, port);
			return port;
		}
		if (errno != EBUSY) {
			log_err("vhci-hcd refused the device: %s", strerror(errno));
			return -1;
		}
	}
	log_err("vhci-hcd: every free port was taken while attaching");
	return -2;
}

int vhci_detach(unsigned port)
{
	char value[16], path[PATH_MAX];

	snprintf(value, sizeof(value), "%u", port);
	vhci_record_remove(port);
	sysfs_path(path, sizeof(path), USBIP_VHCI_SYSFS_DIR "/detach");
	if (sysfs_write_attr(path, value) != 0) {
		log_err("vhci-hcd could not detach port %u: %s", port, strerror(errno));
		return -1;
	}
	return 0;
}

static void record_path(char *buf, size_t len, unsigned port)
{
	snprintf(buf, len, "%s/port%u", USBIP_VHCI_STATE_DIR, port);
}

int vhci_record_write(unsigned port, const struct usbip_vhci_record *rec)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int fd;

	if (mkdir(USBIP_VHCI_STATE_DIR, 0700) != 0 && errno != EEXIST) {
		log_warn("cannot create %s: %s", USBIP_VHCI_STATE_DIR, strerror(errno));
		return -1;
	}
	/* Written to a temporary file and renamed, so a reader never sees half a line. */
	record_path(path, sizeof(path), port);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		log_warn("cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "%s %s %s\n", rec->host, rec->service, rec->busid);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_warn("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int vhci_record_read(unsigned port, struct usbip_vhci_record *rec)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int ok;

	record_path(path, sizeof(path), port);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fgets(line, sizeof(line), f) && vhci_record_parse(line, rec) == 0;
	fclose(f);
	return ok ? 0 : -1;
}

int vhci_record_parse(const char *line, struct usbip_vhci_record *rec)
{
	return sscanf(line, "%255s %31s %31s", rec->host, rec->service, rec->busid) == 3 ? 0 : -1;
}

void vhci_record_remove(unsigned port)
{
	char path[PATH_MAX];

	record_path(path, sizeof(path), port);
	unlink(path);
	/* Like the kernel tools: the directory goes when the last record does. */
	rmdir(USBIP_VHCI_STATE_DIR);
}

int vhci_gate(bool closed)
{
	char pattern[PATH_MAX];
	glob_t g;
	size_t i;
	int rc = 0;

	/* Every vhci-hcd root hub, USB 2 and USB 3, of every controller. */
	if (sysfs_path(pattern, sizeof(pattern),
		       "/devices/platform/vhci_hcd.*/usb*/authorized_default") != 0 ||
	    glob(pattern, 0, NULL, &g) != 0)
		return -1;
	for (i = 0; i < g.gl_pathc; i++) {
		if (sysfs_write_attr(g.gl_pathv[i], closed ? "0" : "1") != 0) {
			log_warn("%s: %s", g.gl_pathv[i], strerror(errno));
			rc = -1;
		}
	}
	globfree(&g);
	return rc;
}

int vhci_authorize(const char *local_busid)
{
	char path[PATH_MAX];

	if (sysfs_path(path, sizeof(path), "/bus/usb/devices/%s/authorized", local_busid) != 0 ||
	    sysfs_write_attr(path, "1") != 0) {
		log_err("%s: cannot authorize it: %s", local_busid, strerror(errno));
		return -1;
	}
	return 0;
}
