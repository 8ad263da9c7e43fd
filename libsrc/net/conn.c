// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/conn.h"
#include "util/io.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_ready(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	for (;;) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

int conn_read_full(struct usbip_conn *conn, void *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = conn->ops->recv(conn, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (!io_would_block(errno))
			return -1;
		if (wait_ready(conn->fd, conn->want ? conn->want : POLLIN, deadline))
			return -1;
	}
	return 0;
}

int conn_write_full(struct usbip_conn *conn, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = conn->ops->send(conn, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !io_would_block(errno))
			return -1;
		if (wait_ready(conn->fd, conn->want ? conn->want : POLLOUT, deadline))
			return -1;
	}
	return 0;
}

void conn_close(struct usbip_conn *conn)
{
	if (conn)
		conn->ops->destroy(conn);
}
