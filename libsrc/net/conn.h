/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A connection to a peer, whatever carries it (TCP now; TLS and Unix-domain
 * sockets are further transports behind the same ops). Callers read and write
 * through it and, to start the URB phase, ask it for a file descriptor the
 * kernel drivers can own.
 */
#ifndef USBIP_CONN_H
#define USBIP_CONN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct usbip_conn;

struct usbip_conn_ops {
	const char *name;
	/* Like recv(2)/send(2) on a non-blocking socket: -1 with errno EAGAIN when it would block.
	 */
	ssize_t (*recv)(struct usbip_conn *conn, void *buf, size_t len);
	ssize_t (*send)(struct usbip_conn *conn, const void *buf, size_t len);
	/*
	 * A descriptor to hand to usbip-host or vhci-hcd. The kernel takes its
	 * own reference, so the caller still closes the connection afterwards.
	 */
	int (*kernel_fd)(struct usbip_conn *conn);
	void (*destroy)(struct usbip_conn *conn);
	/*
	 * Bytes already received and decrypted but not yet read, which poll(2)
	 * cannot see (TLS records held in user space). NULL: never any.
	 */
	size_t (*pending)(struct usbip_conn *conn);
};

struct usbip_conn {
	const struct usbip_conn_ops *ops;
	int fd;				   /* the descriptor poll(2) waits on */
	char peer[80];			   /* "host:port" for logs */
	char peer_host[64];		   /* the numeric address alone */
	struct sockaddr_storage peer_addr; /* for access policies */
	socklen_t peer_addr_len;
	void *transport; /* the transport's own state */
	/*
	 * What the last EAGAIN waits for: POLLIN or POLLOUT. A TLS read can
	 * need to write first (and the reverse); 0 means the obvious one.
	 */
	short want;
};

/* Default time a peer gets for each step of the control phase. */
#define USBIP_IO_TIMEOUT_MS 10000

/* Reads or writes exactly len bytes, waiting at most timeout_ms for each step.
 * Returns 0, or -1 with errno set (ETIMEDOUT, ECONNRESET for EOF, ...). */
int conn_read_full(struct usbip_conn *conn, void *buf, size_t len, int timeout_ms);
int conn_write_full(struct usbip_conn *conn, const void *buf, size_t len, int timeout_ms);

static inline int usbip_conn_kernel_fd(struct usbip_conn *conn)
{
	return conn->ops->kernel_fd(conn);
}

static inline size_t usbip_conn_pending(struct usbip_conn *conn)
{
	return conn->ops->pending ? conn->ops->pending(conn) : 0;
}

/* Closes the connection and frees it; NULL is allowed. */
void conn_close(struct usbip_conn *conn);

#endif
