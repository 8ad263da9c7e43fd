// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Data phases. To the host: file data read from the page cache straight
 * into the IN queue or the host's URB, a piece at a time as URBs come, so a
 * file of any size costs one piece of memory. From the host: the data
 * container's header, then its payload into a bounded buffer (a dataset)
 * or a file, and the answer when the container is complete.
 */
#include "mtp/mtp_stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "vdev/vdev.h"
#include "util/io.h"

#define STREAM_CHUNK (512u << 10) /* file data read per refill of the IN queue */

/* ---- file data to the host ---- */

/* The file data ends; the response (rc) is owed, and asked for by the next IN URB. */
static void end_file(struct mtp_device *m, uint16_t rc)
{
	if (m->in_fd >= 0)
		close(m->in_fd);
	m->in_fd = -1;
	m->streaming = false;
	m->in_rc = rc;
}

void mtp_stream_stop_in(struct mtp_device *m)
{
	end_file(m, 0);
	m->in_owed = false;
}

/* The file shrank (or failed) under us: the data phase ends short, and the answer says so. */
static void read_failed(struct mtp_device *m, ssize_t n)
{
	uint16_t rc = n < 0 ? mtp_result_rc_of_errno(errno) : PTP_RC_GeneralError;

	log_warn("mtp: file changed or failed while being read (%s)",
		 n < 0 ? strerror(errno) : "shorter than announced");
	end_file(m, rc == PTP_RC_OK ? PTP_RC_GeneralError : rc);
}

static ssize_t read_piece(struct mtp_device *m, uint8_t *buf, size_t want)
{
	ssize_t n = 0;

	while (want) {
		n = pread(m->in_fd, buf, want, (off_t)m->in_offset);
		if (n >= 0 || errno != EINTR)
			break;
	}
	return n;
}

/* n bytes more went out; true (and the response owed) when that was the last of them. */
static bool advance(struct mtp_device *m, size_t n)
{
	m->in_offset += n;
	m->in_left -= n;
	m->in_sent += n;
	if (m->in_left)
		return false;
	end_file(m, PTP_RC_OK);
	return true;
}

uint8_t *mtp_stream_refill(struct mtp_device *m, size_t *len, bool *end)
{
	size_t want = m->in_left < STREAM_CHUNK ? (size_t)m->in_left : STREAM_CHUNK;
	uint8_t *buf;
	ssize_t n;

	if (!m->streaming)
		return NULL;
	*len = 0;
	*end = true;
	buf = vdev_in_alloc(want); /* read straight into the IN queue */
	if (!buf) {
		end_file(m, PTP_RC_GeneralError);
		return vdev_in_alloc(0); /* the data phase ends short */
	}
	n = read_piece(m, buf, want);
	if (want && n <= 0) {
		read_failed(m, n);
		return buf;
	}
	*len = (size_t)n;
	*end = advance(m, (size_t)n);
	return buf;
}

size_t mtp_stream_direct(struct mtp_device *m, uint8_t *buf, size_t room, bool *end)
{
	size_t want;
	ssize_t n;

	if (!m->streaming)
		return 0;
	want = m->in_left < room ? (size_t)m->in_left : room;
	n = read_piece(m, buf, want);
	if (n <= 0) {
		*end = true;
		read_failed(m, n);
		return 0;
	}
	if (advance(m, (size_t)n))
		*end = true;
	return (size_t)n;
}

void mtp_stream_start_in(struct mtp_device *m, int fd, uint64_t offset, uint64_t count,
			 bool with_count)
{
	m->in_fd = fd;
	m->in_offset = offset;
	m->in_left = count;
	m->in_sent = 0;
	m->in_param = with_count;
	m->in_op = m->op;
	m->streaming = true;
	m->in_owed = true;
	if (count == 0)
		end_file(m, PTP_RC_OK);
}

/* ---- data from the host ---- */

void mtp_stream_begin_out(struct mtp_device *m, uint16_t rc)
{
	m->in_data_out = true;
	m->sink = MTP_SINK_NONE;
	m->pending_rc = rc;
	m->hdr_got = 0;
	m->expected = 0;
	m->received = 0;
	m->out_errno = 0;
	m->out_fd = -1;
	m->out_owned = false;
	mtp_container_buf_free(&m->dataset);
}

void mtp_stream_receive(struct mtp_device *m, const struct mtp_result *r)
{
	bool file = r->out.sink == MTP_SINK_FILE;

	if (!m->in_data_out) {
		if (file && r->out.owned)
			close(r->out.fd); /* an operation the table gives no data phase */
		return;
	}
	if (file) {
		m->out_fd = r->out.fd;
		m->out_offset = r->out.offset;
		m->out_limit = r->out.limit;
		m->out_owned = r->out.owned;
	}
	if (!m->pending_rc)
		m->sink = r->out.sink;
}

void mtp_stream_refuse(struct mtp_device *m, uint16_t rc)
{
	m->sink = MTP_SINK_NONE;
	if (!m->pending_rc)
		m->pending_rc = rc;
}

static void close_out(struct mtp_device *m)
{
	if (m->out_owned && m->out_fd >= 0)
		close(m->out_fd);
	m->out_fd = -1;
	m->out_owned = false;
}

bool mtp_stream_abandon_out(struct mtp_device *m)
{
	if (!m->in_data_out)
		return false;
	m->in_data_out = false;
	close_out(m);
	mtp_container_buf_free(&m->dataset);
	return true;
}

/* The data phase is over (complete: all announced bytes arrived): 0, or the error to answer. */
static uint16_t finish_out(struct mtp_device *m, bool complete)
{
	uint16_t rc = m->pending_rc;

	m->in_data_out = false;
	if (!rc && m->sink == MTP_SINK_BUFFER && m->dataset.failed)
		rc = MTP_RC_InvalidDataset;
	if (!rc && m->out_errno)
		rc = mtp_result_rc_of_errno(m->out_errno);
	if (!rc && !complete)
		rc = PTP_RC_IncompleteTransfer;
	close_out(m);
	return rc;
}

static void sink_payload(struct mtp_device *m, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	m->received += n;
	if (m->sink == MTP_SINK_BUFFER) {
		if (m->dataset.len + n > MTP_DATASET_MAX) {
			m->dataset.failed = true; /* bounded: the rest is read and dropped */
			return;
		}
		mtp_container_put_bytes(&m->dataset, p, n);
	} else if (m->sink == MTP_SINK_FILE && !m->out_errno) {
		if (m->out_offset + n > m->out_limit) {
			/* more than announced: an error, and not written (the disk stays free) */
			mtp_stream_refuse(m, PTP_RC_IncompleteTransfer);
			return;
		}
		if (io_pwrite_all(m->out_fd, p, n, (off_t)m->out_offset) != 0) {
			m->out_errno = errno;
			return;
		}
		m->out_offset += n;
	}
}

/*
 * A command container where the data container's header was expected: the
 * host gave up. It goes to m->cmd (cmd_len 0: too long to be one).
 */
static bool new_command(struct mtp_device *m, const struct mtp_header *hdr, const uint8_t *rest,
			size_t len, bool short_xfer)
{
	if (hdr->type != MTP_CONTAINER_COMMAND || !short_xfer || len + 12 != hdr->length)
		return false;
	m->cmd_len = 0;
	if (hdr->length <= sizeof(m->cmd)) {
		memcpy(m->cmd, m->hdr, MTP_HEADER_SIZE);
		memcpy(m->cmd + MTP_HEADER_SIZE, rest, len);
		m->cmd_len = hdr->length;
	}
	return true;
}

/* The data container's header is in m->hdr: what follows, or a command in its place. */
static enum mtp_stream_status take_header(struct mtp_device *m, const uint8_t *rest, size_t len,
					  bool short_xfer)
{
	struct mtp_header hdr;
	struct usbip_error err;
	bool hdr_ok = mtp_container_decode_header(m->hdr, MTP_HEADER_SIZE, &hdr, &err) == 0;

	if (hdr_ok && new_command(m, &hdr, rest, len, short_xfer))
		return MTP_STREAM_COMMAND;
	if (!hdr_ok || hdr.type != MTP_CONTAINER_DATA || hdr.code != m->op.code) {
		log_warn("mtp: bad data container for operation 0x%04x", m->op.code);
		if (!m->pending_rc)
			m->pending_rc = PTP_RC_GeneralError;
		m->sink = MTP_SINK_NONE;
		m->expected = UINT64_MAX;
	} else {
		/* Its transaction id is not checked: the command's is answered. */
		m->expected = hdr.length == MTP_LENGTH_UNKNOWN
				      ? UINT64_MAX
				      : (uint64_t)hdr.length - MTP_HEADER_SIZE;
	}
	return MTP_STREAM_MORE;
}

enum mtp_stream_status mtp_stream_out(struct mtp_device *m, const uint8_t *data, size_t len,
				      uint16_t *rc)
{
	bool short_xfer = len % MTP_BULK_MPS != 0 || len == 0;
	size_t take;

	if (m->hdr_got < MTP_HEADER_SIZE) {
		take = MTP_HEADER_SIZE - m->hdr_got;
		if (take > len)
			take = len;
		memcpy(m->hdr + m->hdr_got, data, take);
		m->hdr_got += take;
		data += take;
		len -= take;
		if (m->hdr_got < MTP_HEADER_SIZE) {
			if (!short_xfer)
				return MTP_STREAM_MORE;
			if (!m->pending_rc)
				m->pending_rc = PTP_RC_IncompleteTransfer;
			*rc = finish_out(m, false);
			return MTP_STREAM_ENDED;
		}
		if (take_header(m, data, len, short_xfer) == MTP_STREAM_COMMAND)
			return MTP_STREAM_COMMAND;
	}
	take = len;
	if (m->expected != UINT64_MAX && take > m->expected - m->received)
		take = (size_t)(m->expected - m->received);
	sink_payload(m, data, take);
	/*
	 * With a known length the container ends when its bytes are in: hosts
	 * send the header and the payload as separate transfers (libmtp does),
	 * so a short transfer in between means nothing. A host that gives up
	 * sends the class Cancel request. Over 4 GiB the length is unknown and
	 * a short transfer with payload (or a ZLP) ends it.
	 */
	if (m->expected != UINT64_MAX ? m->received != m->expected
				      : !(short_xfer && (take || len == 0)))
		return MTP_STREAM_MORE;
	*rc = finish_out(m, true);
	return MTP_STREAM_ENDED;
}
