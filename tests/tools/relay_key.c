// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay_key: the TLS relay holds no private key, and nothing of any
 * other connection's session. Run by tests/daemon/relay_key.sh, which
 * makes the keys; prints TAP.
 *
 * usage: relay_key PKI_DIR
 *   PKI_DIR has ca.pem, server.pem/server.key (make_certs) and the two
 *   identities of the usbip process: lib-ec.pem/lib-ec.key (EC P-256) and
 *   lib-rsa.pem/lib-rsa.key (RSA).
 *
 * Each case is three processes, so that no copy of a key the test made
 * itself can be where the search looks:
 *   the inspector     the TLS peer (plain OpenSSL, its own key) and, once
 *                     the others are forked, the reader of their memory
 *   the usbip process libusbip: two TLS contexts, one per identity, its
 *                     connections with the peer on one of them (enum
 *                     conn_role: one finished and closed, one finished and
 *                     open, on the server side one mid-handshake), and one
 *                     handed to "the kernel" with the relay data path
 *                     (usbip_conn_kernel_fd), as usbipd, usbipa, attach
 *                     and connect do
 *   the relay         what the library forks for that
 * The inspector reads both through /proc/PID/maps and /proc/PID/mem.
 *
 * The private keys: it looks for the secret numbers of both keys (EC: the
 * private scalar; RSA: p, q, d and the CRT values), in big-endian and in
 * the little-endian limb order of OpenSSL's BIGNUMs, whole and as any
 * 16-byte piece, and for the lines of the key files' PEM text. The usbip
 * process must hold both keys (it serves the next handshake: the positive
 * control, so that the search cannot pass by finding nothing anywhere);
 * the relay must hold none of it.
 *
 * The sessions: the peer's key log gives every secret of every connection
 * (TLS 1.2's master secret; TLS 1.3's handshake, traffic and exporter
 * secrets). The usbip process must hold the session keys of its open
 * connection and, as a TLS 1.2 server, of the closed one (its session
 * cache: the peer sent no ticket extension on it); the relay must hold its
 * own connection's (the positive control there) and no piece of any other
 * connection's secrets.
 *
 * The session ticket keys (the usbip process as the server): found from
 * the ticket the peer got, next to the ticket's key name in the usbip
 * process's SSL_CTX, and taken only if they verify the ticket's HMAC and
 * decrypt it to the session's master key; the relay must hold no piece of
 * them.
 *
 * The cases: the usbip process as the server (usbipd, usbipa) and as the
 * client with a client certificate (attach, connect), each key type, TLS
 * 1.2 and 1.3. Ten checks a case (the ticket ones skipped for a client).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "net/conn.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/hex.h"
#include "util/io.h"

#define CHECKS_PER_CASE 10
#define CASE_SECONDS	60 /* a watchdog for each process of a case */
#define IO_TIMEOUT_MS	10000
#define PIECE		16	    /* bytes of a secret that count as found */
#define MAX_MAPPING	(1UL << 30) /* larger: a sanitizer's shadow, reserved, not data */
#define MAX_SECRETS	64
#define MAX_REPORTED	6 /* diagnostic lines per process searched */
#define MAX_WHOLE_AT	8
#define MAX_KEYLOG	64

/* The connections of a case, in the order their handshakes run. */
enum conn_role {
	RELAYED, /* handed to "the kernel": the relay's own */
	CLOSED,	 /* finished and closed before the fork (a server caches its session) */
	OPEN,	 /* finished, still open when the relay is forked */
	MIDWAY,	 /* server side: mid-handshake at the fork */
	AFTER,	 /* made after the fork */
	NCONNS
};
static const char *const role_names[NCONNS] = { "the relayed connection", "a closed connection",
						"an open connection",
						"the connection mid-handshake",
						"a connection after the fork" };

static const char to_peer[] = "from the driver's socket to the peer";
static const char to_kernel[] = "from the peer to the driver's socket";

/* ---- the cases -------------------------------------------------------- */

struct identity {
	const char *name; /* for the report */
	const char *base; /* PKI_DIR/BASE.pem and BASE.key */
};

static const struct identity identities[] = {
	{ "EC", "lib-ec" },
	{ "RSA", "lib-rsa" },
};
#define NIDENTITIES (sizeof(identities) / sizeof(identities[0]))

struct test_case {
	bool usbip_is_server; /* else the usbip process is the client, with a certificate */
	unsigned identity;    /* the one its connection uses; the other is loaded too */
	int version;	      /* TLS1_2_VERSION or TLS1_3_VERSION, the peer's only one */
};

static const struct test_case cases[] = {
	{ true, 0, TLS1_3_VERSION },  { true, 1, TLS1_3_VERSION },  { true, 0, TLS1_2_VERSION },
	{ true, 1, TLS1_2_VERSION },  { false, 0, TLS1_3_VERSION }, { false, 1, TLS1_3_VERSION },
	{ false, 0, TLS1_2_VERSION }, { false, 1, TLS1_2_VERSION },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *pki;

static void path_of(char *buf, size_t len, const char *base, const char *ext)
{
	snprintf(buf, len, "%s/%s.%s", pki, base, ext);
}

/* ---- small helpers ---------------------------------------------------- */

/* A connected pair of TCP sockets over loopback: TLS as the daemons see it. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;

	fds[0] = fds[1] = -1;
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
		goto out;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	fds[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] >= 0)
		rc = 0;
out:
	close(lfd);
	return rc;
}

/* Blocking I/O on a peer's socket, but never for ever. */
static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	return rc > 0;
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		ssize_t n;

		if (!wait_readable(fd, timeout_ms))
			return -1;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Messages between the inspector and the usbip process: a type letter, a
 * length, the bytes. 'E' carries the usbip process's reason for giving up.
 */
struct msg_header {
	char type;
	uint32_t len;
};

static void send_msg(int fd, char type, const void *data, size_t len)
{
	struct msg_header h = { .type = type, .len = (uint32_t)len };

	if (io_write_all(fd, &h, sizeof(h)) != 0 || (len && io_write_all(fd, data, len) != 0))
		_exit(1); /* the other side is gone; it reports that */
}

/* Reads a message of type into buf (NUL-terminated); -1 with why in buf otherwise. */
static int recv_msg(int fd, char type, char *buf, size_t size)
{
	struct msg_header h;

	if (read_all(fd, &h, sizeof(h), 2 * IO_TIMEOUT_MS) != 0) {
		snprintf(buf, size, "the usbip process ended or stalled");
		return -1;
	}
	if (h.len >= size || read_all(fd, buf, h.len, IO_TIMEOUT_MS) != 0) {
		snprintf(buf, size, "a bad message from the usbip process");
		return -1;
	}
	buf[h.len] = '\0';
	if (h.type == type)
		return (int)h.len;
	if (h.type != 'E')
		snprintf(buf, size, "message '%c' where '%c' was due", h.type, type);
	return -1;
}

/* ---- the usbip process ------------------------------------------------ */

struct usbip_side {
	const struct test_case *tc;
	int conn_fd[NCONNS]; /* see enum conn_role */
	int to_inspector, from_inspector;
};

static void give_up(const struct usbip_side *u, const char *why)
{
	send_msg(u->to_inspector, 'E', why, strlen(why));
	_exit(1);
}

/* The only child of this process: the relay. */
static pid_t find_child(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], line[512], *close_paren;
		FILE *f;
		int ppid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "PID (COMM) STATE PPID ...": COMM may hold anything, so from the last ')' */
		if (fgets(line, sizeof(line), f) && (close_paren = strrchr(line, ')')) &&
		    sscanf(close_paren + 1, " %*c %d", &ppid) == 1 && ppid == (int)getpid())
			found = (pid_t)atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

static struct usbip_tls *usbip_context(const struct usbip_side *u, unsigned identity)
{
	struct usbip_tls_options o = { .datapath = USBIP_TLS_RELAY };
	char cert[512], key[512], ca[512], err[256];
	struct usbip_tls *tls;

	path_of(cert, sizeof(cert), identities[identity].base, "pem");
	path_of(key, sizeof(key), identities[identity].base, "key");
	path_of(ca, sizeof(ca), "ca", "pem");
	o.cert_file = cert;
	o.key_file = key;
	if (!u->tc->usbip_is_server)
		o.ca_file = ca; /* a client checks the server: the test CA, name localhost */
	tls = tls_new(&o, u->tc->usbip_is_server, err, sizeof(err));
	if (!tls)
		give_up(u, err);
	return tls;
}

static struct usbip_conn *usbip_connection(const struct usbip_side *u, struct usbip_tls *tls,
					   int fd)
{
	struct usbip_conn *conn = tcp_conn_from_fd(fd);

	if (!conn || tls_wrap(tls, conn, u->tc->usbip_is_server ? NULL : "localhost") != 0)
		give_up(u, "tls_wrap failed");
	return conn;
}

/*
 * Server side: the peer's ClientHello on the second connection is
 * answered (certificate and signature: its SSL has the key now) and the
 * handshake left open. The inspector says when its answer arrived.
 */
static void leave_mid_handshake(const struct usbip_side *u, struct usbip_conn *conn)
{
	char reply[16], byte;
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (!wait_readable(conn->fd, IO_TIMEOUT_MS))
			give_up(u, "no ClientHello on the second connection");
		if (conn->ops->recv(conn, &byte, 1) >= 0 || errno != EAGAIN)
			give_up(u, "the second handshake did not stay open");
		send_msg(u->to_inspector, 'S', NULL, 0);
		if (recv_msg(u->from_inspector, 'G', reply, sizeof(reply)) < 0)
			_exit(1);
		if (strcmp(reply, "go") == 0)
			return;
	}
	give_up(u, "the peer never saw the server's answer on the second connection");
}

/* A connection with its handshake run to the end: the peer does the same. */
static struct usbip_conn *finished_connection(const struct usbip_side *u, struct usbip_tls *tls,
					      enum conn_role role)
{
	struct usbip_conn *conn = usbip_connection(u, tls, u->conn_fd[role]);

	if (tls_handshake(conn, IO_TIMEOUT_MS) != 0)
		give_up(u, "a handshake failed (see the log)");
	return conn;
}

static int usbip_process(const struct usbip_side *u)
{
	struct usbip_tls *used = usbip_context(u, u->tc->identity);
	struct usbip_tls *idle = usbip_context(u, (u->tc->identity + 1) % NIDENTITIES);
	struct usbip_conn *relayed, *open, *midway = NULL, *after;
	char buf[256];
	pid_t relay;
	int kfd, status;

	alarm(CASE_SECONDS);
	relayed = finished_connection(u, used, RELAYED);
	/* Closed with close_notify: a server keeps its session in the context's cache. */
	conn_close(finished_connection(u, used, CLOSED));
	open = finished_connection(u, used, OPEN);
	if (u->tc->usbip_is_server) {
		midway = usbip_connection(u, used, u->conn_fd[MIDWAY]);
		leave_mid_handshake(u, midway);
	}
	kfd = usbip_conn_kernel_fd(relayed);
	if (kfd < 0 || strcmp(tls_datapath(relayed), "relay") != 0)
		give_up(u, "no relay for the connection");
	relay = find_child();
	if (relay < 0)
		give_up(u, "no relay process found");
	send_msg(u->to_inspector, 'P', &relay, sizeof(relay));

	/* Through the relay both ways, as the driver would use its socket. */
	if (io_write_all(kfd, to_peer, sizeof(to_peer)) != 0)
		give_up(u, "cannot write to the relay");
	if (read_all(kfd, buf, sizeof(to_kernel), IO_TIMEOUT_MS) != 0)
		give_up(u, "nothing came through the relay from the peer");
	send_msg(u->to_inspector, 'K', buf, sizeof(to_kernel));

	/* The inspector reads the memory now; then this process must still sign. */
	if (recv_msg(u->from_inspector, 'C', buf, sizeof(buf)) < 0)
		_exit(1);
	if (midway && tls_handshake(midway, IO_TIMEOUT_MS) != 0)
		give_up(u, "the open handshake did not complete after the fork");
	after = usbip_connection(u, used, u->conn_fd[AFTER]);
	if (tls_handshake(after, IO_TIMEOUT_MS) != 0)
		give_up(u, "a new handshake after the fork failed");
	send_msg(u->to_inspector, 'R', "ok", 2);
	/* Every session's secrets are known to the inspector now: it reads again. */
	if (recv_msg(u->from_inspector, 'D', buf, sizeof(buf)) < 0)
		_exit(1);

	conn_close(after);
	conn_close(midway);
	conn_close(open);
	conn_close(relayed); /* the relay sees its socket close and ends */
	if (waitpid(relay, &status, 0) != relay)
		return 1;
	tls_free(used);
	tls_free(idle);
	return 0;
}

/* ---- reading another process's memory --------------------------------- */

struct secret {
	char what[80];
	unsigned char *bytes;
	size_t len;
	bool whole_only; /* text: the whole line, not pieces */
	/* what a search found */
	unsigned pieces, wholes;
	uintptr_t first_at;
	char first_in[64];
	uintptr_t whole_at[MAX_WHOLE_AT]; /* where the first whole copies are */
	/* whose it is, for the sessions' secrets */
	int owner;	  /* an enum conn_role */
	bool session_key; /* what the connection's records are protected with */
};

struct secrets {
	struct secret s[MAX_SECRETS];
	unsigned n;
	/* every PIECE-byte window of every secret, sorted by its bytes */
	struct window {
		const unsigned char *start;
		unsigned secret;
		size_t offset;
	} * windows;
	size_t nwindows;
	uint8_t *filter; /* a bit per value of a window's first three bytes */
};

static struct secret *add_secret(struct secrets *ss, const char *what, const unsigned char *bytes,
				 size_t len, bool whole_only)
{
	struct secret *s;

	if (ss->n == MAX_SECRETS || len < PIECE)
		return NULL;
	s = &ss->s[ss->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->what, sizeof(s->what), "%s", what);
	s->bytes = malloc(len);
	if (!s->bytes)
		abort();
	memcpy(s->bytes, bytes, len);
	s->len = len;
	s->whole_only = whole_only;
	return s;
}

static void free_secrets(struct secrets *ss)
{
	unsigned k;

	if (!ss)
		return;
	for (k = 0; k < ss->n; k++)
		free(ss->s[k].bytes);
	free(ss->windows);
	free(ss->filter);
	free(ss);
}

/* A number in both byte orders: as written (big-endian) and as BIGNUM limbs hold it here. */
static void add_number(struct secrets *ss, const char *key, const char *name, const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	unsigned char *be = malloc((size_t)len), *le = malloc((size_t)len);
	char what[80];

	if (!be || !le || BN_bn2bin(bn, be) != len || BN_bn2lebinpad(bn, le, len) != len)
		abort();
	snprintf(what, sizeof(what), "%s key, %s (big-endian)", key, name);
	add_secret(ss, what, be, (size_t)len, false);
	snprintf(what, sizeof(what), "%s key, %s (little-endian)", key, name);
	add_secret(ss, what, le, (size_t)len, false);
	free(be);
	free(le);
}

static void add_key_numbers(struct secrets *ss, const struct identity *id)
{
	static const struct {
		const char *param, *name;
	} ec[] = { { OSSL_PKEY_PARAM_PRIV_KEY, "private scalar" } }, rsa[] = {
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, "p" },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, "q" },
		{ OSSL_PKEY_PARAM_RSA_D, "d" },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, "dP" },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, "dQ" },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qInv" },
	};
	char path[512];
	FILE *f;
	EVP_PKEY *pkey;
	bool is_rsa;
	size_t i, n;

	path_of(path, sizeof(path), id->base, "key");
	f = fopen(path, "r");
	pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!pkey) {
		fprintf(stderr, "relay_key: cannot read %s\n", path);
		exit(99);
	}
	is_rsa = EVP_PKEY_is_a(pkey, "RSA");
	n = is_rsa ? sizeof(rsa) / sizeof(rsa[0]) : sizeof(ec) / sizeof(ec[0]);
	for (i = 0; i < n; i++) {
		BIGNUM *bn = NULL;
		const char *param = is_rsa ? rsa[i].param : ec[i].param;

		if (!EVP_PKEY_get_bn_param(pkey, param, &bn)) {
			fprintf(stderr, "relay_key: %s has no %s\n", path, param);
			exit(99);
		}
		add_number(ss, id->name, is_rsa ? rsa[i].name : ec[i].name, bn);
		BN_clear_free(bn);
	}
	EVP_PKEY_free(pkey);
}

/* The key file's base64 lines, but those the certificate file has too. */
static void add_key_text(struct secrets *ss, const struct identity *id)
{
	char key_path[512], cert_path[512], line[256], cert_text[16384], what[80];
	size_t cert_len;
	unsigned lineno = 0;
	FILE *f;

	path_of(cert_path, sizeof(cert_path), id->base, "pem");
	path_of(key_path, sizeof(key_path), id->base, "key");
	f = fopen(cert_path, "r");
	cert_len = f ? fread(cert_text, 1, sizeof(cert_text) - 1, f) : 0;
	if (f)
		fclose(f);
	cert_text[cert_len] = '\0';
	f = fopen(key_path, "r");
	if (!f)
		exit(99);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		lineno++;
		if (line[0] == '-' || strstr(cert_text, line))
			continue;
		snprintf(what, sizeof(what), "%s key file, line %u", id->name, lineno);
		add_secret(ss, what, (const unsigned char *)line, strlen(line), true);
	}
	fclose(f);
}

static int window_cmp(const void *a, const void *b)
{
	return memcmp(((const struct window *)a)->start, ((const struct window *)b)->start, PIECE);
}

static unsigned first3(const unsigned char *p)
{
	return (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];
}

static void index_secrets(struct secrets *ss)
{
	size_t total = 0, i, off;
	unsigned k;

	for (k = 0; k < ss->n; k++)
		total += ss->s[k].whole_only ? 1 : ss->s[k].len - PIECE + 1;
	ss->windows = calloc(total, sizeof(*ss->windows));
	ss->filter = calloc(1, 1 << 21);
	if (!ss->windows || !ss->filter)
		abort();
	for (k = 0; k < ss->n; k++) {
		size_t last = ss->s[k].whole_only ? 0 : ss->s[k].len - PIECE;

		for (off = 0; off <= last; off++) {
			struct window *w = &ss->windows[ss->nwindows++];

			w->start = ss->s[k].bytes + off;
			w->secret = k;
			w->offset = off;
		}
	}
	qsort(ss->windows, ss->nwindows, sizeof(*ss->windows), window_cmp);
	for (i = 0; i < ss->nwindows; i++) {
		unsigned v = first3(ss->windows[i].start);

		ss->filter[v >> 3] |= (uint8_t)(1u << (v & 7));
	}
}

static void count_hit(struct secret *s, size_t offset, bool whole, uintptr_t at, const char *in)
{
	if (!s->pieces && !s->wholes) {
		s->first_at = at - offset;
		snprintf(s->first_in, sizeof(s->first_in), "%s", in);
	}
	if (whole && s->wholes < MAX_WHOLE_AT)
		s->whole_at[s->wholes] = at;
	if (whole)
		s->wholes++;
	else
		s->pieces++;
}

/* Looks for every window in buf[0, len), which starts at address base. */
static void search(struct secrets *ss, const unsigned char *buf, size_t len, uintptr_t base,
		   const char *in)
{
	size_t i;

	for (i = 0; i + PIECE <= len; i++) {
		unsigned v = first3(buf + i);
		size_t lo = 0, hi = ss->nwindows;

		if (!(ss->filter[v >> 3] & (1u << (v & 7))))
			continue;
		while (lo < hi) { /* the first window >= buf + i */
			size_t mid = (lo + hi) / 2;

			if (memcmp(ss->windows[mid].start, buf + i, PIECE) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < ss->nwindows && memcmp(ss->windows[lo].start, buf + i, PIECE) == 0;
		     lo++) {
			const struct window *w = &ss->windows[lo];
			struct secret *s = &ss->s[w->secret];
			size_t rest = s->len - w->offset;

			if (s->whole_only) {
				if (rest <= len - i && memcmp(s->bytes, buf + i, s->len) == 0)
					count_hit(s, 0, true, base + i, in);
				continue;
			}
			/* A whole copy counts once, at its start, not as all its pieces. */
			if (w->offset == 0 && s->len <= len - i &&
			    memcmp(s->bytes, buf + i, s->len) == 0)
				count_hit(s, 0, true, base + i, in);
			else if (!(w->offset > 0 && i >= w->offset &&
				   memcmp(s->bytes, buf + i - w->offset, s->len) == 0))
				count_hit(s, w->offset, false, base + i, in);
		}
	}
}

/*
 * Searches every readable mapping of pid. Returns -1 with why in err when
 * the memory cannot be read at all; a mapping that cannot is skipped (the
 * guard pages of OpenSSL's secure heap, [vvar]).
 */
static int search_process(struct secrets *ss, pid_t pid, char *err, size_t err_len)
{
	char path[64], line[512];
	size_t chunk = 1 << 20, overlap = 4096;
	unsigned char *buf = malloc(chunk + overlap);
	unsigned long readable = 0;
	FILE *maps;
	int mem;
	unsigned k;

	for (k = 0; k < ss->n; k++) {
		ss->s[k].pieces = ss->s[k].wholes = 0;
		if (ss->s[k].len > overlap)
			abort();
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || !maps || mem < 0) {
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), maps)) {
		uintptr_t start, end, at;
		char perms[8], name[256] = "";
		size_t carried = 0;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %*s %255[^\n]", &start,
			   &end, perms, name) < 3 ||
		    perms[0] != 'r')
			continue;
		if (name[0] == '\0')
			snprintf(name, sizeof(name), "anonymous");
		if (end - start > MAX_MAPPING || start > (uintptr_t)INT64_MAX) {
			printf("# not searched: %s, %lu MiB at %#" PRIxPTR "\n", name,
			       (unsigned long)((end - start) >> 20), start);
			continue;
		}
		for (at = start; at < end;) {
			size_t want = end - at < chunk ? end - at : chunk;
			ssize_t n = pread(mem, buf + carried, want, (off_t)at);

			if (n <= 0)
				break;
			search(ss, buf, carried + (size_t)n, at - carried, name);
			readable += (unsigned long)n;
			at += (size_t)n;
			/* The last bytes again at the front, for a copy across the boundary. */
			if (carried + (size_t)n > overlap) {
				memmove(buf, buf + carried + (size_t)n - overlap, overlap);
				carried = overlap;
			}
		}
	}
	if (readable == 0)
		snprintf(err, err_len, "nothing of %s could be read", path);
out:
	if (maps)
		fclose(maps);
	if (mem >= 0)
		close(mem);
	free(buf);
	return readable ? 0 : -1;
}

/* Comment lines for what was found; the number of secrets found at all. */
static unsigned report(const struct secrets *ss, const char *who)
{
	unsigned k, hits = 0;

	for (k = 0; k < ss->n; k++) {
		const struct secret *s = &ss->s[k];

		if (!s->pieces && !s->wholes)
			continue;
		if (++hits <= MAX_REPORTED)
			printf("# %s: %s: whole %u times, %u other %d-byte pieces; first at "
			       "%#" PRIxPTR " (%s)\n",
			       who, s->what, s->wholes, s->pieces, PIECE, s->first_at, s->first_in);
	}
	if (hits > MAX_REPORTED)
		printf("# %s: and %u more\n", who, hits - MAX_REPORTED);
	return hits;
}

/* Whether each key's numbers were found whole, in one byte order or the other. */
static bool holds_every_key(const struct secrets *ss, char *missing, size_t len)
{
	unsigned k;

	missing[0] = '\0';
	for (k = 0; k + 1 < ss->n; k += 2) {
		const struct secret *be = &ss->s[k], *le = &ss->s[k + 1];

		if (be->whole_only)
			break; /* the numbers come first, in pairs; then the text */
		if (!be->wholes && !le->wholes)
			snprintf(missing + strlen(missing), len - strlen(missing), "%s%s",
				 missing[0] ? "; " : "", be->what);
	}
	return missing[0] == '\0';
}

static bool uid_of(pid_t pid, unsigned uids[4])
{
	char path[64], line[256];
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u %u %u", &uids[0], &uids[1], &uids[2], &uids[3]) == 4)
			ok = true;
	fclose(f);
	return ok;
}

/* ---- the checks ------------------------------------------------------- */

struct check {
	const char *name;
	bool done, ok;
	const char *skip; /* ok, but not run: why */
	char diag[1024];
};

/* The check failed: what went wrong, and the detail (may be ""). */
static void fail_check(struct check *c, const char *what, const char *detail)
{
	c->done = true;
	c->ok = false;
	snprintf(c->diag, sizeof(c->diag), "%s%s", what, detail);
}

/* What the inspector holds for a case. */
struct inspection {
	const struct test_case *tc;
	struct check checks[CHECKS_PER_CASE];
	int pairs[NCONNS][2], to_usbip[2], from_usbip[2];
	SSL_CTX *ctx;
	SSL *peer[NCONNS];
	pid_t usbip, relay;
};

/* ---- the sessions' secrets, as the peer's key log gives them ------------- */

/*
 * Each line of the peer's key log (SSLKEYLOGFILE's format): TLS 1.2's
 * master secret (CLIENT_RANDOM), TLS 1.3's handshake, traffic and exporter
 * secrets. The usbip process derived the same ones for its end.
 */
struct keylog_entry {
	const SSL *ssl;
	char label[40];
	unsigned char secret[64];
	size_t len;
};
static struct keylog_entry keylog[MAX_KEYLOG];
static unsigned nkeylog;

/* The bytes of a hex string; 0 if it is not one or does not fit. */
static size_t unhex(const char *hex, unsigned char *out, size_t size)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		int hi = hex_digit(hex[0]), lo = hex_digit(hex[1]);

		if (hi < 0 || lo < 0 || n == size)
			return 0;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return hex[0] ? 0 : n;
}

static void keylog_line(const SSL *ssl, const char *line)
{
	struct keylog_entry *k = &keylog[nkeylog];
	char hex[2 * sizeof(k->secret) + 2];

	if (nkeylog == MAX_KEYLOG || sscanf(line, "%39s %*s %129s", k->label, hex) != 2)
		return;
	k->len = unhex(hex, k->secret, sizeof(k->secret));
	if (k->len) {
		k->ssl = ssl;
		nkeylog++;
	}
}

/* What protects a connection's records: TLS 1.2's master secret, TLS 1.3's traffic secrets. */
static bool is_session_key(const char *label)
{
	return strcmp(label, "CLIENT_RANDOM") == 0 ||
	       strcmp(label, "CLIENT_TRAFFIC_SECRET_0") == 0 ||
	       strcmp(label, "SERVER_TRAFFIC_SECRET_0") == 0;
}

/* Every secret of the connections made before the fork, with whose it is. */
static struct secrets *session_secrets(const struct inspection *in)
{
	struct secrets *ss = calloc(1, sizeof(*ss));
	unsigned k;
	int role;

	if (!ss)
		abort();
	for (k = 0; k < nkeylog; k++) {
		struct secret *s;
		char what[80];

		for (role = 0; role < AFTER && in->peer[role] != keylog[k].ssl; role++)
			;
		if (role == AFTER)
			continue; /* made after the fork: it cannot be in the relay */
		snprintf(what, sizeof(what), "%s: %s", role_names[role], keylog[k].label);
		s = add_secret(ss, what, keylog[k].secret, keylog[k].len, false);
		if (s) {
			s->owner = role;
			s->session_key = is_session_key(keylog[k].label);
		}
	}
	index_secrets(ss);
	return ss;
}

/* Appends "; what" to a list of what is missing or found. */
static void list_add(char *list, size_t len, const char *what)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? "; " : "", what);
}

/*
 * After a search of the usbip process: it holds the session keys of its
 * open connection, and a TLS 1.2 server those of the closed one (its
 * session cache). The positive control for the relay's search.
 */
static void check_usbip_sessions(const struct secrets *ss, const struct test_case *tc,
				 struct check *c)
{
	char missing[sizeof(c->diag) - 16] = "";
	unsigned k, wanted = 0;

	c->done = true;
	for (k = 0; k < ss->n; k++) {
		const struct secret *s = &ss->s[k];
		bool cached =
			s->owner == CLOSED && tc->usbip_is_server && tc->version == TLS1_2_VERSION;

		if (!s->session_key || (s->owner != OPEN && !cached))
			continue;
		wanted++;
		if (!s->wholes)
			list_add(missing, sizeof(missing), s->what);
	}
	c->ok = wanted && !missing[0];
	if (!wanted)
		snprintf(c->diag, sizeof(c->diag), "the peer's key log has no session key");
	else if (!c->ok)
		snprintf(c->diag, sizeof(c->diag), "not found whole: %s", missing);
}

/* After a search of the relay: its own session keys whole (6), nothing of the others' (7). */
static void check_relay_sessions(const struct secrets *ss, struct check *own, struct check *others)
{
	unsigned k, wanted = 0;

	own->done = others->done = true;
	for (k = 0; k < ss->n; k++) {
		const struct secret *s = &ss->s[k];

		if (s->owner == RELAYED) {
			wanted += s->session_key;
			if (s->session_key && !s->wholes)
				list_add(own->diag, sizeof(own->diag), s->what);
		} else if (s->wholes || s->pieces) {
			list_add(others->diag, sizeof(others->diag), s->what);
		}
	}
	own->ok = wanted && !own->diag[0];
	others->ok = !others->diag[0];
	if (!wanted)
		snprintf(own->diag, sizeof(own->diag), "the peer's key log has no session key");
}

/* ---- the session ticket keys ------------------------------------------ */

/*
 * Whether keys (HMAC-SHA256 key, AES-256 key) are those of an OpenSSL
 * ticket (key name, IV, AES-256-CBC of the session, HMAC of all that):
 * the HMAC matches and the session inside holds sess's master key.
 */
static bool ticket_opens(const unsigned char *tick, size_t len, const unsigned char keys[64],
			 SSL_SESSION *sess)
{
	unsigned char mac[EVP_MAX_MD_SIZE], master[64], *plain;
	unsigned maclen = 0;
	int n = 0, last = 0;
	size_t mlen = SSL_SESSION_get_master_key(sess, NULL, 0);
	EVP_CIPHER_CTX *c;
	bool ok = false;

	if (mlen == 0 || mlen > sizeof(master) ||
	    SSL_SESSION_get_master_key(sess, master, mlen) != mlen)
		return false;
	if (!HMAC(EVP_sha256(), keys, 32, tick, len - 32, mac, &maclen) || maclen != 32 ||
	    CRYPTO_memcmp(mac, tick + len - 32, 32) != 0)
		return false;
	plain = malloc(len);
	c = EVP_CIPHER_CTX_new();
	if (plain && c && EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, keys + 32, tick + 16) &&
	    EVP_DecryptUpdate(c, plain, &n, tick + 32, (int)(len - 64)) &&
	    EVP_DecryptFinal_ex(c, plain + n, &last))
		ok = memmem(plain, (size_t)(n + last), master, mlen) != NULL;
	EVP_CIPHER_CTX_free(c);
	free(plain);
	return ok;
}

/*
 * The ticket keys of the usbip process's context, found from the ticket
 * the peer got: OpenSSL 3.0 keeps the ticket's key name in the SSL_CTX
 * with, right after it, the pointer to the keys. A place is taken only if
 * the keys there open the ticket, so a wrong guess cannot pass.
 */
static bool find_ticket_keys(pid_t pid, SSL *peer, unsigned char keys[64], char *why, size_t len)
{
	SSL_SESSION *sess = SSL_get_session(peer);
	struct secrets *names = calloc(1, sizeof(*names));
	const unsigned char *tick = NULL;
	char path[64];
	size_t ticklen = 0;
	unsigned k;
	bool found = false;
	int mem;

	if (sess)
		SSL_SESSION_get0_ticket(sess, &tick, &ticklen);
	if (!names || !tick || ticklen < 16 + 16 + 16 + 32) {
		snprintf(why, len, "the peer got no session ticket");
		free_secrets(names);
		return false;
	}
	add_secret(names, "the ticket's key name", tick, 16, true);
	index_secrets(names);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem >= 0 && search_process(names, pid, why, len) == 0) {
		for (k = 0; !found && k < names->s[0].wholes && k < MAX_WHOLE_AT; k++) {
			uintptr_t where;

			found = pread(mem, &where, sizeof(where),
				      (off_t)(names->s[0].whole_at[k] + 16)) == sizeof(where) &&
				where < (uintptr_t)INT64_MAX &&
				pread(mem, keys, 64, (off_t)where) == 64 &&
				ticket_opens(tick, ticklen, keys, sess);
		}
		if (!found)
			snprintf(why, len,
				 "no keys that open the ticket next to its key name (%u copies)",
				 names->s[0].wholes);
	}
	if (mem >= 0)
		close(mem);
	free_secrets(names);
	return found;
}

/* 9 and 10: the usbip process holds the ticket keys, the relay none of them. */
static void check_ticket_keys(const struct test_case *tc, pid_t usbip, pid_t relay, SSL *peer,
			      struct check *held, struct check *gone)
{
	unsigned char keys[64];
	struct secrets *ss;

	held->done = gone->done = true;
	if (!tc->usbip_is_server) {
		held->ok = gone->ok = true;
		held->skip = gone->skip = "a client's context issues no session tickets";
		return;
	}
	held->ok = find_ticket_keys(usbip, peer, keys, held->diag, sizeof(held->diag));
	if (!held->ok) {
		fail_check(gone, "not searched: the keys were not found", "");
		return;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		abort();
	add_secret(ss, "the ticket HMAC key", keys, 32, false);
	add_secret(ss, "the ticket AES key", keys + 32, 32, false);
	OPENSSL_cleanse(keys, sizeof(keys));
	index_secrets(ss);
	if (search_process(ss, relay, gone->diag, sizeof(gone->diag)) == 0)
		gone->ok = report(ss, "relay") == 0;
	free_secrets(ss);
}

/* ---- the inspector: the TLS peer, then the reader ---------------------- */

static SSL_CTX *peer_context(const struct test_case *tc)
{
	char ca[512], cert[512], key[512];
	SSL_CTX *ctx = SSL_CTX_new(tc->usbip_is_server ? TLS_client_method() : TLS_server_method());

	if (!ctx)
		return NULL;
	path_of(ca, sizeof(ca), "ca", "pem");
	path_of(cert, sizeof(cert), "server", "pem");
	path_of(key, sizeof(key), "server", "key");
	SSL_CTX_set_min_proto_version(ctx, tc->version);
	SSL_CTX_set_max_proto_version(ctx, tc->version);
	SSL_CTX_set_keylog_callback(ctx, keylog_line);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	if (tc->usbip_is_server) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		/* The usbip process must show its certificate, so its key signs. */
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL *peer_connection(SSL_CTX *ctx, const struct test_case *tc, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (tc->usbip_is_server) {
		SSL_set_connect_state(ssl);
		SSL_set1_host(ssl, "localhost");
	} else {
		SSL_set_accept_state(ssl);
	}
	return ssl;
}

static int ssl_read_full(SSL *ssl, char *buf, size_t len)
{
	while (len) {
		int n = SSL_read(ssl, buf, (int)len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The peer's side of the second connection: a ClientHello, then nothing
 * until peer_finishes. The handshake runs on memory BIOs, so that a server
 * quick to answer cannot have it finished already (in TLS 1.3 the client
 * would be done with its first call); the ClientHello goes to the socket
 * by hand.
 */
static bool peer_leaves_open(SSL *ssl, int fd, int to_usbip, int from_usbip, char *why, size_t len)
{
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	char buf[64], *hello;
	long hello_len;
	int tries, rc;

	if (!in || !out) {
		BIO_free(in);
		BIO_free(out);
		snprintf(why, len, "out of memory");
		return false;
	}
	SSL_set_bio(ssl, in, out);
	ERR_clear_error(); /* SSL_get_error looks at the queue first */
	rc = SSL_do_handshake(ssl);
	hello_len = BIO_get_mem_data(out, &hello);
	if (rc == 1 || SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ || hello_len <= 0 ||
	    io_write_all(fd, hello, (size_t)hello_len) != 0) {
		snprintf(why, len, "the second ClientHello was not sent");
		return false;
	}
	for (tries = 0; tries < 50; tries++) {
		bool answered;

		if (recv_msg(from_usbip, 'S', buf, sizeof(buf)) < 0) {
			snprintf(why, len, "%s", buf);
			return false;
		}
		answered = wait_readable(fd, 200);
		send_msg(to_usbip, 'G', answered ? "go" : "again", answered ? 2 : 5);
		if (answered)
			return true;
	}
	snprintf(why, len, "no answer to the second ClientHello");
	return false;
}

/* The rest of that handshake, on the socket, where the server's answer waits. */
static bool peer_finishes(SSL *ssl, int fd)
{
	return SSL_set_fd(ssl, fd) == 1 && SSL_do_handshake(ssl) == 1;
}

/* Forks the usbip process, with its end of each connection and of the pipes. */
static bool start_usbip(struct inspection *in)
{
	struct usbip_side u = { .tc = in->tc };
	unsigned i;

	for (i = 0; i < NCONNS; i++)
		if (tcp_pair(in->pairs[i]) != 0)
			return false;
	if (pipe2(in->to_usbip, O_CLOEXEC) != 0 || pipe2(in->from_usbip, O_CLOEXEC) != 0)
		return false;
	fflush(stdout);
	in->usbip = fork();
	if (in->usbip < 0)
		return false;
	if (in->usbip == 0) {
		for (i = 0; i < NCONNS; i++) {
			close(in->pairs[i][0]);
			u.conn_fd[i] = in->pairs[i][1];
		}
		close(in->to_usbip[1]);
		close(in->from_usbip[0]);
		u.from_inspector = in->to_usbip[0];
		u.to_inspector = in->from_usbip[1];
		_exit(usbip_process(&u));
	}
	for (i = 0; i < NCONNS; i++)
		close(in->pairs[i][1]);
	close(in->to_usbip[0]);
	close(in->from_usbip[1]);
	return true;
}

/* The peer's handshakes, in the usbip process's order, up to the fork. */
static bool peer_handshakes(struct inspection *in, char *buf, size_t len)
{
	static const enum conn_role finished[] = { RELAYED, CLOSED, OPEN };
	struct check *c = &in->checks[0];
	unsigned i;

	in->ctx = peer_context(in->tc);
	for (i = 0; in->ctx && i < NCONNS; i++) {
		set_timeouts(in->pairs[i][0]);
		in->peer[i] = peer_connection(in->ctx, in->tc, in->pairs[i][0]);
		if (!in->peer[i])
			break;
	}
	if (i < NCONNS) {
		fail_check(c, "the peer's TLS setup failed", "");
		return false;
	}
	/* Without tickets a TLS 1.2 server keeps the session in its cache. */
	SSL_set_options(in->peer[CLOSED], SSL_OP_NO_TICKET);
	for (i = 0; i < sizeof(finished) / sizeof(finished[0]); i++) {
		if (SSL_do_handshake(in->peer[finished[i]]) != 1) {
			ERR_error_string_n(ERR_get_error(), buf, len);
			fail_check(c, "the peer's handshake failed: ", buf);
			recv_msg(in->from_usbip[0], 'P', buf, len);
			printf("# usbip process: %s\n", buf);
			return false;
		}
	}
	if (in->tc->usbip_is_server &&
	    !peer_leaves_open(in->peer[MIDWAY], in->pairs[MIDWAY][0], in->to_usbip[1],
			      in->from_usbip[0], buf, len)) {
		fail_check(c, "", buf);
		return false;
	}
	return true;
}

/* 1: the handshakes, the relay forked, bytes through it both ways. */
static void through_the_relay(struct inspection *in)
{
	struct check *c = &in->checks[0];
	char buf[512];

	if (!peer_handshakes(in, buf, sizeof(buf)))
		return;
	if (recv_msg(in->from_usbip[0], 'P', buf, sizeof(buf)) != sizeof(in->relay)) {
		fail_check(c, "", buf);
		return;
	}
	memcpy(&in->relay, buf, sizeof(in->relay));
	if (ssl_read_full(in->peer[RELAYED], buf, sizeof(to_peer)) != 0 ||
	    memcmp(buf, to_peer, sizeof(to_peer)) != 0)
		fail_check(c, "the peer did not get what the driver's side sent", "");
	else if (SSL_write(in->peer[RELAYED], to_kernel, sizeof(to_kernel)) !=
			 (int)sizeof(to_kernel) ||
		 recv_msg(in->from_usbip[0], 'K', buf, sizeof(buf)) != (int)sizeof(to_kernel) ||
		 memcmp(buf, to_kernel, sizeof(to_kernel)) != 0)
		fail_check(c, "the driver's side did not get what the peer sent: ", buf);
	else
		c->done = c->ok = true;
}

/* 2-4: the private keys in memory, while the relay waits in its loop. */
static void check_private_keys(struct inspection *in)
{
	struct secrets *ss = calloc(1, sizeof(*ss));
	struct check *c = in->checks;
	char buf[512], missing[256];
	unsigned i, uids[4];

	if (!ss)
		abort();
	/* The keys are read only now, after the usbip process was forked. */
	for (i = 0; i < NIDENTITIES; i++)
		add_key_numbers(ss, &identities[i]);
	for (i = 0; i < NIDENTITIES; i++)
		add_key_text(ss, &identities[i]);
	index_secrets(ss);
	if (search_process(ss, in->usbip, buf, sizeof(buf)) != 0) {
		fail_check(&c[1], "", buf);
	} else {
		report(ss, "usbip process");
		c[1].done = true;
		c[1].ok = holds_every_key(ss, missing, sizeof(missing));
		if (!c[1].ok)
			snprintf(c[1].diag, sizeof(c[1].diag), "not found whole: %s", missing);
	}
	if (search_process(ss, in->relay, buf, sizeof(buf)) != 0) {
		fail_check(&c[2], "", buf);
	} else {
		c[2].done = true;
		c[2].ok = report(ss, "relay") == 0;
	}
	free_secrets(ss);
	c[3].done = true;
	if (!uid_of(in->relay, uids)) {
		fail_check(&c[3], "no /proc status of the relay", "");
	} else if (geteuid() == 0) {
		c[3].ok = uids[0] && uids[1] && uids[2] && uids[3];
		snprintf(c[3].diag, sizeof(c[3].diag), "uids %u %u %u %u", uids[0], uids[1],
			 uids[2], uids[3]);
	} else {
		/* Not root: nothing to drop, the relay stays this user. */
		c[3].ok = uids[0] == getuid() && uids[1] == geteuid();
		c[3].name = "the relay runs as this (unprivileged) user";
	}
}

/* 5: the open handshake and a new one, signed by the usbip process after the fork. */
static void check_signs_after(struct inspection *in)
{
	struct check *c = &in->checks[4];
	char buf[256];

	send_msg(in->to_usbip[1], 'C', NULL, 0);
	if (in->tc->usbip_is_server && !peer_finishes(in->peer[MIDWAY], in->pairs[MIDWAY][0]))
		fail_check(c, "the open handshake failed", "");
	else if (SSL_do_handshake(in->peer[AFTER]) != 1)
		fail_check(c, "a new handshake failed", "");
	else if (recv_msg(in->from_usbip[0], 'R', buf, sizeof(buf)) < 0)
		fail_check(c, "usbip process: ", buf);
	else
		c->done = c->ok = true;
}

/*
 * 6-10: the sessions' secrets, every one known now (the handshake left
 * open at the fork has finished), and the ticket keys.
 */
static void check_sessions(struct inspection *in)
{
	struct secrets *ss = session_secrets(in);
	struct check *c = in->checks;
	char buf[512];

	if (search_process(ss, in->usbip, buf, sizeof(buf)) != 0) {
		fail_check(&c[5], "", buf);
	} else {
		report(ss, "usbip process");
		check_usbip_sessions(ss, in->tc, &c[5]);
	}
	if (search_process(ss, in->relay, buf, sizeof(buf)) != 0) {
		fail_check(&c[6], "", buf);
		fail_check(&c[7], "", buf);
	} else {
		report(ss, "relay");
		check_relay_sessions(ss, &c[6], &c[7]);
	}
	free_secrets(ss);
	check_ticket_keys(in->tc, in->usbip, in->relay, in->peer[RELAYED], &c[8], &c[9]);
}

static void print_checks(const struct inspection *in, unsigned first_test)
{
	char label[64];
	unsigned i;

	snprintf(label, sizeof(label), "%s %s, TLS %s",
		 in->tc->usbip_is_server ? "server" : "client", identities[in->tc->identity].name,
		 in->tc->version == TLS1_3_VERSION ? "1.3" : "1.2");
	for (i = 0; i < CHECKS_PER_CASE; i++) {
		const struct check *c = &in->checks[i];

		printf("%s %u - %s: %s%s%s%s\n", c->ok ? "ok" : "not ok", first_test + i, label,
		       c->name, c->done ? "" : " # not reached", c->skip ? " # SKIP " : "",
		       c->skip ? c->skip : "");
		if (!c->ok && c->diag[0])
			printf("# %s\n", c->diag);
	}
	fflush(stdout);
}

static int inspector(const struct test_case *tc, unsigned first_test)
{
	struct inspection in = {
		.tc = tc,
		.checks = {
			{ .name = "a handshake, then bytes through the relay both ways" },
			{ .name = "the usbip process holds both keys (the search finds them)" },
			{ .name = "the relay holds no piece of either key, nor of the key files" },
			{ .name = "the relay runs as an unprivileged user" },
			{ .name = "the usbip process still signs after the fork" },
			{ .name = "the usbip process holds its other connections' session keys" },
			{ .name = "the relay holds its own connection's session keys" },
			{ .name = "the relay holds no piece of another connection's secrets" },
			{ .name = "the usbip process holds the ticket keys (they open a ticket)" },
			{ .name = "the relay holds no piece of the ticket keys" },
		},
		.relay = -1,
	};
	unsigned i;
	int status;

	alarm(CASE_SECONDS);
	if (!start_usbip(&in))
		return 0;
	through_the_relay(&in);
	if (in.checks[0].ok) {
		check_private_keys(&in);
		check_signs_after(&in);
	}
	if (in.checks[4].ok) {
		check_sessions(&in);
		send_msg(in.to_usbip[1], 'D', NULL, 0);
	}

	for (i = 0; i < NCONNS; i++) {
		SSL_free(in.peer[i]);
		close(in.pairs[i][0]);
	}
	SSL_CTX_free(in.ctx);
	close(in.to_usbip[1]);
	close(in.from_usbip[0]);
	waitpid(in.usbip, &status, 0);
	print_checks(&in, first_test);
	return CHECKS_PER_CASE;
}

/* ---- the runner: a fresh inspector for each case ----------------------- */

int main(int argc, char **argv)
{
	unsigned c, next = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: relay_key PKI_DIR\n");
		return 2;
	}
	pki = argv[1];
	signal(SIGPIPE, SIG_IGN);
	printf("1..%u\n", (unsigned)(NCASES * CHECKS_PER_CASE));
	for (c = 0; c < NCASES; c++) {
		int status = 0, printed = 0;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(inspector(&cases[c], next));
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			printed = WEXITSTATUS(status);
		for (; printed < CHECKS_PER_CASE; printed++)
			printf("not ok %u - case %u: the inspector ended early (status %#x)\n",
			       next + (unsigned)printed, c + 1, (unsigned)status);
		next += CHECKS_PER_CASE;
	}
	return 0;
}
