// SPDX-License-Identifier: GPL-2.0-or-later
#include "source/placement.h"

#include <stdio.h>
#include <string.h>

#include "net/address.h"

/* A device as a pool sees it: which remote, and the device's identity. */
struct placement {
	char pool[NET_ADDRESS_TEXT_MAX];
	char busid[USBIP_BUSID_SIZE];
	char serial[USBIP_SERIAL_SIZE];
	uint16_t id_vendor, id_product;
	char target[NET_ADDRESS_TEXT_MAX];
	unsigned long long used; /* when last set or read, for making room */
};

static struct placement table[PLACEMENT_MAX];
static unsigned long long clock_ticks;

static bool same_device(const struct placement *p, const char *pool,
			const struct usbip_usb_device *udev)
{
	return p->used && strcmp(p->pool, pool) == 0 && strcmp(p->busid, udev->busid) == 0 &&
	       strcmp(p->serial, udev->serial) == 0 && p->id_vendor == udev->id_vendor &&
	       p->id_product == udev->id_product;
}

static struct placement *find(const char *pool, const struct usbip_usb_device *udev)
{
	size_t i;

	for (i = 0; i < PLACEMENT_MAX; i++)
		if (same_device(&table[i], pool, udev))
			return &table[i];
	return NULL;
}

const char *placement_get(const char *pool, const struct usbip_usb_device *udev)
{
	struct placement *p = find(pool, udev);

	if (!p)
		return NULL;
	p->used = ++clock_ticks;
	return p->target;
}

/* A free entry, or the one used longest ago. */
static struct placement *room(void)
{
	struct placement *oldest = &table[0];
	size_t i;

	for (i = 0; i < PLACEMENT_MAX; i++) {
		if (!table[i].used)
			return &table[i];
		if (table[i].used < oldest->used)
			oldest = &table[i];
	}
	return oldest;
}

void placement_set(const char *pool, const struct usbip_usb_device *udev, const char *target)
{
	struct placement *p = find(pool, udev);

	if (!p) {
		p = room();
		snprintf(p->pool, sizeof(p->pool), "%s", pool);
		snprintf(p->busid, sizeof(p->busid), "%.*s", (int)sizeof(p->busid) - 1,
			 udev->busid);
		snprintf(p->serial, sizeof(p->serial), "%.*s", (int)sizeof(p->serial) - 1,
			 udev->serial);
		p->id_vendor = udev->id_vendor;
		p->id_product = udev->id_product;
	}
	snprintf(p->target, sizeof(p->target), "%s", target);
	p->used = ++clock_ticks;
}

void placement_clear(void)
{
	memset(table, 0, sizeof(table));
	clock_ticks = 0;
}
