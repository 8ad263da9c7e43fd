// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel/vhci_imports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

struct vhci_imports {
	unsigned nports;
	bool *ours; /* ports this process attached */
	struct vhci_import *port;
};

struct vhci_imports *vhci_imports_new(unsigned nports)
{
	struct vhci_imports *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->nports = nports;
	im->ours = calloc(nports ? nports : 1, sizeof(*im->ours));
	im->port = calloc(nports ? nports : 1, sizeof(*im->port));
	if (!im->ours || !im->port) {
		vhci_imports_free(im);
		return NULL;
	}
	return im;
}

void vhci_imports_free(struct vhci_imports *im)
{
	if (!im)
		return;
	free(im->ours);
	free(im->port);
	free(im);
}

const struct vhci_import *vhci_imports_get(const struct vhci_imports *im, unsigned port)
{
	return port < im->nports && im->ours[port] ? &im->port[port] : NULL;
}

const char *vhci_imports_subject(const struct vhci_imports *im, unsigned port)
{
	return port < im->nports ? im->port[port].subject : "";
}

void vhci_imports_note(struct vhci_imports *im, unsigned port, const struct usbip_usb_device *udev,
		       const struct vhci_import_origin *origin)
{
	struct vhci_import *p;

	if (port >= im->nports)
		return;
	p = &im->port[port];
	im->ours[port] = true;
	p->device = *udev;
	p->since = (long long)time(NULL);
	snprintf(p->subject, sizeof(p->subject), "%s", origin->subject);
	snprintf(p->transport, sizeof(p->transport), "%s", origin->transport);
}

int vhci_imports_attach(struct vhci_imports *im, const struct usbip_usb_device *udev, int sockfd,
			const struct vhci_import_origin *origin)
{
	struct usbip_vhci_record rec;
	int port = vhci_attach(udev, sockfd);

	if (port < 0)
		return port;
	snprintf(rec.host, sizeof(rec.host), "%s", origin->host);
	snprintf(rec.service, sizeof(rec.service), "%s", origin->service);
	snprintf(rec.busid, sizeof(rec.busid), "%s", udev->busid);
	vhci_record_write((unsigned)port, &rec);
	vhci_imports_note(im, (unsigned)port, udev, origin);
	return port;
}

bool vhci_imports_same(const struct vhci_imports *im, unsigned port,
		       const struct usbip_vhci_record *rec, const struct vhci_import_origin *origin,
		       const struct usbip_usb_device *udev)
{
	const struct vhci_import *was = vhci_imports_get(im, port);

	if (strcmp(rec->busid, udev->busid) != 0)
		return false;
	if (vhci_imports_subject(im, port)[0])
		return strcmp(vhci_imports_subject(im, port), origin->subject) == 0;
	if (strcmp(rec->host, origin->host) == 0)
		return true;
	return was && udev->serial[0] && strcmp(was->device.serial, udev->serial) == 0 &&
	       was->device.id_vendor == udev->id_vendor &&
	       was->device.id_product == udev->id_product;
}

void vhci_imports_replace_stale(struct vhci_imports *im, const struct vhci_import_origin *origin,
				const struct usbip_usb_device *udev)
{
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	if (vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports; i++) {
		if (vhci.ports[i].status == USBIP_VDEV_NULL || vhci_record_read(i, &rec) != 0 ||
		    !vhci_imports_same(im, i, &rec, origin, udev))
			continue;
		log_info("%s: %s is still attached on port %u (from %s:%s): replacing that stale "
			 "import",
			 origin->name, udev->busid, i, rec.host, rec.service);
		vhci_imports_detach(im, i);
	}
	vhci_close(&vhci);
}

int vhci_imports_find(const struct vhci_import_origin *origin, const char *busid)
{
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;
	int found = -1;

	if (vhci_open(&vhci) != 0)
		return -1;
	for (i = 0; i < vhci.nports && found < 0; i++)
		if (vhci.ports[i].status != USBIP_VDEV_NULL && vhci_record_read(i, &rec) == 0 &&
		    strcmp(rec.host, origin->host) == 0 && strcmp(rec.busid, busid) == 0)
			found = (int)i;
	vhci_close(&vhci);
	return found;
}

bool vhci_imports_may_withdraw(const struct vhci_imports *im, unsigned port, const char *subject)
{
	const char *by = vhci_imports_subject(im, port);

	return !by[0] || strcmp(subject, by) == 0;
}

int vhci_imports_detach(struct vhci_imports *im, unsigned port)
{
	if (vhci_detach(port) != 0)
		return -1;
	if (port < im->nports)
		im->ours[port] = false;
	return 0;
}

void vhci_imports_detach_all(struct vhci_imports *im)
{
	struct usbip_vhci vhci;
	unsigned i;

	if (vhci_open(&vhci) != 0)
		return;
	for (i = 0; i < vhci.nports && i < im->nports; i++) {
		if (im->ours[i] && vhci.ports[i].status != USBIP_VDEV_NULL) {
			log_info("detaching port %u", i);
			vhci_detach(i);
		}
	}
	vhci_close(&vhci);
}
