/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session (mtp_session.c): the one writer of responses and events.
 * It takes what the host sends on the bulk OUT pipe, runs the operations
 * and answers the results they return; mtp_device.c calls it from the
 * virtual device's callbacks.
 */
#ifndef USBIP_MTP_SESSION_H
#define USBIP_MTP_SESSION_H

#include "mtp/mtp_state.h"

/* One OUT transfer on the bulk OUT pipe: part of a command, or of a data phase. */
void mtp_session_out(struct mtp_device *m, const uint8_t *data, size_t len);
/* The vdev in_next callback on the bulk IN pipe: file data, then the response owed after it. */
uint8_t *mtp_session_in_next(struct mtp_device *m, size_t *len, bool *end);
/* The vdev in_direct callback on the bulk IN pipe. */
size_t mtp_session_in_direct(struct mtp_device *m, uint8_t *buf, size_t room, bool *end);
/* Forgets the transaction in progress, in whatever phase it is. */
void mtp_session_reset(struct mtp_device *m);
/* An event for the initiator on the interrupt pipe (in a session only; bounded). */
void mtp_session_event(struct mtp_device *m, uint16_t code, uint32_t handle);

#endif
