/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * WebSocket (RFC 6455) as a transport, for reverse proxies and ingresses
 * that pass only HTTP(S): the USB/IP byte stream goes unchanged in binary
 * frames (no header of ours), subprotocol "USB/IP", on path /usbip unless
 * the address names another. The HTTP/1.1 upgrade is parsed and built here;
 * the framing (masking, control frames, fragmentation, the close
 * handshake) is libwslay's.
 *
 * After the upgrade a relay process moves bytes between one end of a
 * socketpair and the WebSocket (over TCP, or over TLS for wss://), as the
 * TLS relay does: whatever runs on top (the OP exchange, TLS inside with
 * --tls, usbip-host or vhci-hcd once the kernel owns it) gets a plain
 * stream socket. The relay pings an idle peer every ping interval; when
 * nothing at all arrives for two intervals it ends the connection, so that
 * agents notice and reconnect.
 */
#ifndef USBIP_NET_WS_H
#define USBIP_NET_WS_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"
#include "net/tls.h"

/* The subprotocol offered and accepted. */
#define WS_PROTOCOL "USB/IP"
/* One upgrade request or answer: at most this many bytes of header. */
#define WS_HEADER_MAX 8192
/* The ping interval when none is set: well below nginx's 60 s proxy_read_timeout. */
#define WS_PING_DEFAULT_S 20
#define WS_MAX_TRUSTED	  16
/*
 * A server's deadline for the outer TLS and the upgrade: shorter than the
 * request server's 10 s for a request, so that a peer that never upgrades
 * is the relay's one log line (the session then just sees the end).
 */
#define WS_UPGRADE_TIMEOUT_MS 5000
/* A Sec-WebSocket-Key (16 random bytes) or -Accept (20 bytes of SHA-1), in base64. */
#define WS_KEY_LEN    24
#define WS_ACCEPT_LEN 28

struct ws_options {
	unsigned ping_s;  /* 0: WS_PING_DEFAULT_S */
	const char *path; /* servers: the path to accept; NULL: /usbip */
	/* servers: peers whose Forwarded / X-Forwarded-For is believed (numeric addresses) */
	const char *trusted[WS_MAX_TRUSTED];
	unsigned ntrusted;
	int timeout_ms; /* servers: the upgrade's deadline; 0: WS_UPGRADE_TIMEOUT_MS */
};

/* A server's reading of a client's upgrade request. */
struct ws_request {
	char key[WS_KEY_LEN + 1];
	bool protocol_offered; /* the client named subprotocols (USB/IP among them) */
	char forwarded[64];    /* the client's address a trusted proxy gave, or "" */
};

/* The getopt_long entries every program takes for WebSocket. */
enum {
	WS_OPT_PING = 0x1180,
	WS_OPT_TRUSTED_PROXY,
	WS_OPT_WSS_CA,
	WS_OPT_WSS_PIN,
	WS_OPT_WSS_CERT,
	WS_OPT_WSS_KEY,
	WS_OPT_WS,  /* daemons: --ws */
	WS_OPT_WSS, /* daemons: --wss */
};
#define WS_LONG_OPTIONS                                                                            \
	{ "ws-ping", required_argument, NULL, WS_OPT_PING },                                       \
		{ "trusted-proxy", required_argument, NULL, WS_OPT_TRUSTED_PROXY },                \
		{ "wss-ca", required_argument, NULL, WS_OPT_WSS_CA },                              \
		{ "wss-pin", required_argument, NULL, WS_OPT_WSS_PIN },                            \
		{ "wss-cert", required_argument, NULL, WS_OPT_WSS_CERT },                          \
	{                                                                                          \
		"wss-key", required_argument, NULL, WS_OPT_WSS_KEY                                 \
	}
#define WS_OPTIONS_HELP                                                                            \
	"      --ws-ping SECONDS  ws://, wss://: ping an idle peer this often (default 20);\n"     \
	"                         nothing heard for twice as long ends the connection\n"           \
	"      --trusted-proxy A  servers: take Forwarded / X-Forwarded-For from this proxy\n"     \
	"                         address only (repeatable); from anyone else, never\n"            \
	"      --wss-ca FILE      the outer TLS of wss:// (what a reverse proxy ends):\n"          \
	"      --wss-pin SHA256   verify it with this CA or pin, show this certificate;\n"         \
	"      --wss-cert FILE    without them wss:// takes --ca/--pin/--cert/--key when\n"        \
	"      --wss-key FILE     --tls is off, the system's CAs when --tls is on (inside)\n"

/* The outer TLS options of wss:// (the --wss-* ones), kept apart from --tls's. */
struct ws_tls_options {
	struct usbip_tls_options tls;
	bool given; /* any --wss-* option */
};

/*
 * Takes one of WS_LONG_OPTIONS into o and wt. Returns 1 if it was one, 0 if
 * not, -1 with a message in err if bad.
 */
int ws_parse_option(int id, const char *arg, struct ws_options *o, struct ws_tls_options *wt,
		    char *err, size_t err_len);

/* base64(SHA-1(key + the RFC's GUID)) into out (WS_ACCEPT_LEN + 1 bytes). 0, or -1. */
int ws_accept_key(const char *key, char *out);

/*
 * Parses an upgrade request (the header, up to and with its blank line) for
 * a server that accepts path (NULL: /usbip); peer_host is the numeric
 * address the request came from, for the trusted proxies of o. Returns 0,
 * or the HTTP status to refuse with (400, 404, 426) and why in err.
 */
int ws_parse_request(const char *buf, size_t len, const struct ws_options *o, const char *peer_host,
		     struct ws_request *out, char *err, size_t err_len);

/* Checks a server's answer to the upgrade sent with key. 0, or -1 with why in err. */
int ws_parse_response(const char *buf, size_t len, const char *key, char *err, size_t err_len);

/*
 * Client: the upgrade for host (the Host header, port included) and path on
 * *conn (TCP, through a proxy, or TLS for wss://), then the relay; *conn
 * becomes the plain stream. 0, or -1 after one log line (*conn closed).
 */
int ws_client_start(struct usbip_conn **conn, const char *host, const char *path,
		    const struct ws_options *o, int timeout_ms);

/*
 * Server: *conn just accepted. A relay process takes it: outer TLS with
 * outer_tls (wss://, else NULL), the upgrade, then the frames; *conn
 * becomes the plain stream at once, so that a peer that never finishes
 * holds no one up (a failed upgrade is one log line of the relay's and an
 * end of file here). 0, or -1 (*conn closed).
 */
int ws_server_start(struct usbip_conn **conn, struct usbip_tls *outer_tls,
		    const struct ws_options *o);

/*
 * The relay itself, in this process, until either side ends: frames on
 * conn (a server's or a client's), the plain stream on pair. What the
 * relay process runs after the upgrade; the fuzz target drives it too.
 */
void ws_relay_run(struct usbip_conn *conn, int pair, bool server, unsigned ping_s);

#endif
