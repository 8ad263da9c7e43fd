/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Devices bound to the kernel's usbip-host stub, as a device source. */
#ifndef USBIP_SOURCE_HOST_SOURCE_H
#define USBIP_SOURCE_HOST_SOURCE_H

#include "source/device_source.h"

/* NULL on allocation failure. */
struct device_source *host_source_new(void);

#endif
