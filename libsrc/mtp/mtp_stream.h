/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data phases (mtp_stream.c): file data to the host, a piece at a time as
 * its URBs ask, and the host's data into a buffer or a file. They write
 * no response: they say how the phase ended, and the session answers.
 */
#ifndef USBIP_MTP_STREAM_H
#define USBIP_MTP_STREAM_H

#include "mtp/mtp_state.h"

/*
 * count file bytes of fd from offset follow (with_count: the response
 * will carry the count); the data header is the session's to send.
 */
void mtp_stream_start_in(struct mtp_device *m, int fd, uint64_t offset, uint64_t count,
			 bool with_count);
/* Forgets the file data to the host and the response owed after it. */
void mtp_stream_stop_in(struct mtp_device *m);
/* An IN URB waits and nothing is queued: the next piece of the file (NULL: none). */
uint8_t *mtp_stream_refill(struct mtp_device *m, size_t *len, bool *end);
/* The vdev in_direct callback: file data straight into an URB's buffer. */
size_t mtp_stream_direct(struct mtp_device *m, uint8_t *buf, size_t room, bool *end);

/* The host's data phase begins: its payload is dropped and rc (0: none yet) answered ... */
void mtp_stream_begin_out(struct mtp_device *m, uint16_t rc);
/* ... unless the operation says where it goes (a RECEIVE result). */
void mtp_stream_receive(struct mtp_device *m, const struct mtp_result *r);
/* The payload is read and dropped, and rc answered. */
void mtp_stream_refuse(struct mtp_device *m, uint16_t rc);

enum mtp_stream_status {
	MTP_STREAM_MORE,    /* the data phase goes on */
	MTP_STREAM_ENDED,   /* it is over: *rc is 0 (all in, nothing failed) or the answer */
	MTP_STREAM_COMMAND, /* a command came instead: in m->cmd (m->cmd_len; 0: too long) */
};

/* One OUT transfer of the data phase. */
enum mtp_stream_status mtp_stream_out(struct mtp_device *m, const uint8_t *data, size_t len,
				      uint16_t *rc);
/* The data phase ends without an answer (cancel, reset, a new command); true if there was one. */
bool mtp_stream_abandon_out(struct mtp_device *m);

#endif
