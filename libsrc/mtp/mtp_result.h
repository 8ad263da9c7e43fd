/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an MTP operation answers, as a value: the operations (mtp_object.c,
 * mtp_prop.c) fill one in and return, and the session (mtp_session.c), the
 * one writer of responses, sends it. Also the response code of an errno.
 */
#ifndef USBIP_MTP_RESULT_H
#define USBIP_MTP_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "mtp/mtp_container.h"

enum mtp_result_kind {
	MTP_RESULT_RESPONSE, /* a response alone: rc and params */
	MTP_RESULT_DATASET, /* data, then OK: the dataset in data (failed to build: GeneralError) */
	MTP_RESULT_FILE,    /* file data, then OK: in */
	MTP_RESULT_RECEIVE, /* the host's data phase goes to out (else a response refuses it) */
};

/* Where the payload of the host's data phase goes. */
enum mtp_sink {
	MTP_SINK_NONE,	 /* discard (an error is already decided) */
	MTP_SINK_BUFFER, /* a dataset, kept in memory up to MTP_DATASET_MAX */
	MTP_SINK_FILE,	 /* file data, written to out_fd at out_offset */
};

#define MTP_RESULT_EVENTS 2

struct mtp_result {
	enum mtp_result_kind kind;
	uint16_t rc;
	unsigned int num_params;
	uint32_t params[MTP_MAX_PARAMS];
	struct mtp_buf data; /* MTP_RESULT_DATASET; freed by the session */
	struct {
		int fd; /* the session closes it */
		uint64_t offset, count;
		bool with_count; /* the response carries the byte count (GetPartialObject) */
	} in;			 /* MTP_RESULT_FILE */
	struct {
		enum mtp_sink sink;
		int fd;
		uint64_t offset;
		uint64_t limit; /* file data past this offset is an IncompleteTransfer */
		bool owned;	/* fd is closed when the data phase ends */
	} out;			/* MTP_RESULT_RECEIVE */
	/* events for the initiator, sent after the response */
	struct {
		uint16_t code;
		uint32_t handle;
	} events[MTP_RESULT_EVENTS];
	unsigned int num_events;
};

/* A response of rc with n (0..MTP_MAX_PARAMS) parameters. */
void mtp_result_respond(struct mtp_result *r, uint16_t rc, unsigned int n, const uint32_t *params);
/* A response of rc alone; refuses a data phase with rc. */
void mtp_result_rc(struct mtp_result *r, uint16_t rc);
/* A response of rc with one parameter. */
void mtp_result_rc1(struct mtp_result *r, uint16_t rc, uint32_t p0);
/* A data phase of the dataset built in b, then OK; b is taken over (and emptied). */
void mtp_result_dataset(struct mtp_result *r, struct mtp_buf *b);
/* count bytes of fd (the result owns it) from offset, then OK (with_count: the count in it). */
void mtp_result_file(struct mtp_result *r, int fd, uint64_t offset, uint64_t count,
		     bool with_count);
/* The host's data phase, kept as a dataset (bounded). */
void mtp_result_into_buffer(struct mtp_result *r);
/* The host's data phase, file data written to fd at offset (owned: closed at the end). */
void mtp_result_into_file(struct mtp_result *r, int fd, uint64_t offset, bool owned);
/* An event to send after the response. */
void mtp_result_event(struct mtp_result *r, uint16_t code, uint32_t handle);
/* Gives back what an unsent result holds. */
void mtp_result_free(struct mtp_result *r);

uint16_t mtp_result_rc_of_errno(int err);

#endif
