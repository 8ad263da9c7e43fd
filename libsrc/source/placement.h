/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where each device was placed in a pool (a srv: or mdns: remote): the
 * target that last took it. The process that makes the exchanges (the
 * agent's network process, serve-mtp, connect) remembers it, so that a
 * device exported again after its connection dropped goes back to the
 * same usbipa first, while that one is still listed and takes it, instead
 * of wherever the pool's random order would send it: a device stays on
 * its host while the host lives, and moves when the host dies, drains,
 * is full or leaves the pool. One table per process, bounded: the entry
 * used longest ago makes room.
 */
#ifndef USBIP_SOURCE_PLACEMENT_H
#define USBIP_SOURCE_PLACEMENT_H

#include "wire/usbip_proto.h"

#define PLACEMENT_MAX 256

/* The target (a remote) that last took udev from pool, or NULL. */
const char *placement_get(const char *pool, const struct usbip_usb_device *udev);

/* Notes that target (a remote) took udev from pool. */
void placement_set(const char *pool, const struct usbip_usb_device *udev, const char *target);

/* Forgets every placement (tests). */
void placement_clear(void);

#endif
