/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The responder's limits, for the files of the layer (mtp_state.h) and for
 * its callers (through mtp_device.h): a header of its own, so that the
 * state below the session needs nothing of the device file above it.
 */
#ifndef USBIP_MTP_LIMITS_H
#define USBIP_MTP_LIMITS_H

#define MTP_MAX_STORAGES 8
#define MTP_NAME_ARG_MAX 100 /* bytes of a --name or a storage's NAME */
#define MTP_SERIAL_MAX	 32

#endif
