// SPDX-License-Identifier: GPL-2.0-or-later
#include "wire/usb_descriptors.h"

#include <string.h>

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int usb_descriptors_device(const uint8_t *desc, size_t len, struct usbip_usb_device *u)
{
	if (!desc || len < USB_DT_DEVICE_SIZE || desc[0] < USB_DT_DEVICE_SIZE ||
	    desc[1] != USB_DT_DEVICE)
		return -1;
	u->device_class = desc[4];
	u->device_subclass = desc[5];
	u->device_protocol = desc[6];
	u->id_vendor = le16(desc + 8);
	u->id_product = le16(desc + 10);
	u->bcd_device = le16(desc + 12);
	u->num_configurations = desc[17];
	return 0;
}

int usb_descriptors_interfaces(const uint8_t *desc, size_t len, uint8_t *configuration_value,
			       uint8_t *num_interfaces,
			       struct usbip_usb_interface interfaces[USBIP_MAX_INTERFACES])
{
	size_t off = USB_DT_DEVICE_SIZE, end;
	uint8_t highest = 0;
	int seen = 0;

	if (len < USB_DT_DEVICE_SIZE + USB_DT_CONFIG_SIZE || desc[1] != USB_DT_DEVICE)
		return -1;
	if (desc[off] < USB_DT_CONFIG_SIZE || desc[off + 1] != USB_DT_CONFIG)
		return -1;
	end = off + le16(desc + off + 2); /* wTotalLength */
	if (end > len)
		end = len;
	*configuration_value = desc[off + 5];
	memset(interfaces, 0, sizeof(*interfaces) * USBIP_MAX_INTERFACES);
	off += desc[off];
	/* Walk the descriptors of this configuration; each starts with its length. */
	while (off + 2 <= end) {
		uint8_t dlen = desc[off];

		if (dlen < 2 || off + dlen > end)
			break;
		if (desc[off + 1] == USB_DT_INTERFACE && dlen >= USB_DT_INTERFACE_SIZE &&
		    desc[off + 3] == 0 && desc[off + 2] < USBIP_MAX_INTERFACES) {
			struct usbip_usb_interface *intf = &interfaces[desc[off + 2]];

			intf->interface_class = desc[off + 5];
			intf->interface_subclass = desc[off + 6];
			intf->interface_protocol = desc[off + 7];
			if (desc[off + 2] + 1 > highest)
				highest = (uint8_t)(desc[off + 2] + 1);
			seen++;
		}
		off += dlen;
	}
	if (!seen)
		return -1;
	*num_interfaces = highest;
	return 0;
}
