/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS over a TCP connection, with OpenSSL. After the handshake the URB
 * traffic must reach usbip-host or vhci-hcd, which only take a socket:
 * - kernel TLS (kTLS): with TLS 1.2 and AES-GCM, OpenSSL hands the keys to
 *   the kernel for both directions, and the TCP socket itself goes to the
 *   driver; the kernel encrypts, nothing passes through user space.
 * - relay: the driver gets one end of a socketpair and a relay process
 *   moves bytes between it and the TLS connection, where kTLS is missing.
 *   It holds that connection and nothing else: no private key, none of
 *   the other connections' sessions, no session ticket key (tls.c).
 * The control phase before it runs over the same connection either way.
 *
 * Renegotiation is off, and kernel TLS is only used with TLS 1.2 (no key
 * updates), so no handshake record follows the handshake. The one non-data
 * record a driver can meet is a peer's close_notify or alert when the
 * other side ends: the kernel then fails the driver's read (-EIO) and the
 * driver tears the connection down, as it does on a TCP reset.
 */
#ifndef USBIP_TRANSPORT_TLS_H
#define USBIP_TRANSPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"

enum tls_datapath {
	USBIP_TLS_AUTO,	 /* kTLS where the kernel offers it, else the relay */
	USBIP_TLS_KTLS,	 /* kTLS or fail */
	USBIP_TLS_RELAY, /* always the relay (allows TLS 1.3) */
};

#define USBIP_TLS_MAX_SUBJECTS 32

struct usbip_tls_options {
	const char *cert_file; /* PEM certificate (chain); required for servers */
	const char *key_file;  /* PEM private key */
	const char *ca_file;   /* clients: verify the server with it (else the
				  system's CAs); servers: require client
				  certificates signed by it */
	const char *pin;       /* clients: the server certificate's SHA-256
				  fingerprint (hex, ':' allowed), instead of a CA */
	const char *subjects[USBIP_TLS_MAX_SUBJECTS]; /* servers: allowed client
							 subjects or CNs */
	unsigned nsubjects;
	enum tls_datapath datapath;
};

struct usbip_tls;

/*
 * A TLS context for a client or a server. Returns NULL and a one-line
 * reason in err when a file cannot be used.
 */
struct usbip_tls *tls_new(const struct usbip_tls_options *options, bool server, char *err,
			  size_t err_len);
void tls_free(struct usbip_tls *tls);

/* Parses "auto", "ktls" or "relay"; -1 if none of them. */
int tls_parse_datapath(const char *text, enum tls_datapath *out);

/* The same TLS options for every program, as getopt_long entries. */
enum {
	USBIP_OPT_TLS = 0x1001,
	USBIP_OPT_CERT,
	USBIP_OPT_KEY,
	USBIP_OPT_CA,
	USBIP_OPT_PIN,
	USBIP_OPT_ALLOW_SUBJECT,
	USBIP_OPT_TLS_DATAPATH,
};
#define USBIP_TLS_LONG_OPTIONS                                                                     \
	{ "tls", no_argument, NULL, USBIP_OPT_TLS },                                               \
		{ "cert", required_argument, NULL, USBIP_OPT_CERT },                               \
		{ "key", required_argument, NULL, USBIP_OPT_KEY },                                 \
		{ "ca", required_argument, NULL, USBIP_OPT_CA },                                   \
		{ "pin", required_argument, NULL, USBIP_OPT_PIN },                                 \
		{ "allow-subject", required_argument, NULL, USBIP_OPT_ALLOW_SUBJECT },             \
	{                                                                                          \
		"tls-datapath", required_argument, NULL, USBIP_OPT_TLS_DATAPATH                    \
	}
#define USBIP_TLS_OPTIONS_HELP                                                                     \
	"      --tls              TLS on every connection: TLS 1.2 (AES-GCM, so that the\n"        \
	"                         kernel can carry it), or 1.3 with --tls-datapath relay\n"        \
	"      --cert FILE        this side's certificate (PEM; a server needs one)\n"             \
	"      --key FILE         its private key (PEM)\n"                                         \
	"      --ca FILE          clients: verify the server against this CA (else the\n"          \
	"                         system's); servers: require client certificates from it\n"       \
	"      --pin SHA256       clients: accept the server certificate with this\n"              \
	"                         fingerprint instead of checking a CA\n"                          \
	"      --allow-subject S  servers: accept only clients whose certificate subject\n"        \
	"                         (RFC 2253) or CN is S (repeatable; needs --ca)\n"                \
	"      --tls-datapath M   auto (kernel TLS when available, else a relay), ktls,\n"         \
	"                         or relay\n"

/*
 * Takes one of the options above into o (setting *enabled for --tls).
 * Returns 1 if it was one, 0 if not, -1 with a message in err if bad.
 */
int tls_parse_option(int id, const char *arg, bool *enabled, struct usbip_tls_options *o, char *err,
		     size_t err_len);

/*
 * Puts TLS on an established TCP connection (conn keeps its fd and peer).
 * The handshake then runs as the connection is read or written; clients
 * call tls_handshake to run it at once. server_name is what a
 * client checks the certificate against (NULL on servers).
 */
int tls_wrap(struct usbip_tls *tls, struct usbip_conn *conn, const char *server_name);

/*
 * Which data path a TLS connection takes once the kernel gets it: "ktls"
 * or "relay"; NULL for a connection that is not TLS (or not yet).
 */
const char *tls_datapath(const struct usbip_conn *conn);

/*
 * The subject (RFC 2253) of the certificate the peer of a TLS connection
 * showed; -1 (buf "") for no certificate or no TLS.
 */
int tls_peer_subject(const struct usbip_conn *conn, char *buf, size_t len);

/* Runs the handshake to its end (blocking, bounded); logs one line on failure. */
int tls_handshake(struct usbip_conn *conn, int timeout_ms);

/*
 * For a process that gave the connection to another (a WebSocket relay):
 * closing it here then sends no close_notify on the socket they share.
 */
void tls_let_go(struct usbip_conn *conn);

/*
 * In a relay process that holds conn and nothing else: every private key,
 * every other connection's session and the ticket keys go, as in the TLS
 * relay. No-op for a connection that is not TLS.
 */
void tls_keep_only(struct usbip_conn *conn);

#endif
