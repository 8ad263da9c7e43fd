/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gadgets bound to the usbip-vudc UDC, as a device source: the gadget is
 * the device, already bound, so there is nothing to prepare or give back.
 */
#ifndef USBIP_SOURCE_VUDC_SOURCE_H
#define USBIP_SOURCE_VUDC_SOURCE_H

#include "source/device_source.h"

/* NULL on allocation failure. */
struct device_source *vudc_source_new(void);

#endif
