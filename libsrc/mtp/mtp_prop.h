/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Object and device properties (mtp_prop.c): operations that fill in a
 * result (mtp_result.h) for the session to answer.
 */
#ifndef USBIP_MTP_PROP_H
#define USBIP_MTP_PROP_H

#include "mtp/mtp_state.h"

/* The device properties this device has. */
size_t mtp_prop_device_codes(const uint16_t **codes);
void mtp_prop_device(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_set_device(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_set_device_done(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_supported(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_desc(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_value(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_list(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_set_value(struct mtp_device *m, struct mtp_result *r);
void mtp_prop_set_value_done(struct mtp_device *m, struct mtp_result *r);

#endif
