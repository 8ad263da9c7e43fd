// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/tls.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/relay_stats.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "util/file.h"
#include "util/log.h"
#include "util/privdrop.h"
#include "util/io.h"
#include "util/hex.h"

/* TLS 1.2 suites the kernel can take over (AES-GCM), with forward secrecy. */
#define KTLS_CIPHERS                                                                               \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
#define RELAY_BUFFER (64 * 1024)

/*
 * This side's certificate and private key are not loaded into the SSL_CTX:
 * every SSL made from a context would hold the key then, and so would the
 * memory of every relay process forked while one exists. The context keeps
 * them here and hands them to a handshake when it needs them
 * (install_identity); the handshake gives them back when it is done.
 */
struct usbip_tls {
	LIST_ENTRY(usbip_tls) link; /* in all_contexts (first: pmccabe misreads it last) */
	SSL_CTX *ctx;
	bool server;
	struct usbip_tls_options options;
	unsigned char pin[32];
	bool have_pin;
	X509 *cert;		/* NULL: no certificate (a client without --cert) */
	STACK_OF(X509) * chain; /* the certificates after it in --cert's file */
	EVP_PKEY *key;		/* NULL with cert NULL, and in a relay process */
};

struct tls_state {
	LIST_ENTRY(tls_state) link; /* in all_connections */
	SSL *ssl;
	struct usbip_tls *tls;
	const struct usbip_conn_ops *tcp_ops; /* to destroy the TCP part */
	bool handshake_done;
	bool ktls;    /* both directions offloaded to the kernel */
	bool relayed; /* a relay process holds the TLS connection; fd is our socketpair end */
	bool handed_over;
};

/*
 * Every context and every TLS connection of this process, so that a relay
 * process, once forked, can let go of every key it inherited: a context's,
 * and those of connections still in their handshake.
 */
static LIST_HEAD(, usbip_tls) all_contexts = LIST_HEAD_INITIALIZER(all_contexts);
static LIST_HEAD(, tls_state) all_connections = LIST_HEAD_INITIALIZER(all_connections);

/*
 * What OpenSSL frees is wiped first. It wipes session master keys itself,
 * but not an SSL: SSL_free leaves a TLS 1.3 connection's traffic secrets
 * in the freed heap, where every relay forked later would find them. So
 * every block it gives back is cleared here, whatever held it; OpenSSL
 * takes these functions only before its first allocation, hence the
 * constructor.
 */
static bool freed_is_wiped;

static void *wiping_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return malloc(n);
}

static void wiping_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (!p)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	free(p);
}

/* Never realloc: it would leave the old block as it was. */
static void *wiping_realloc(void *p, size_t n, const char *file, int line)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		wiping_free(p, file, line);
		return NULL;
	}
	old = malloc_usable_size(p);
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wiping_free(p, file, line);
	return q;
}

__attribute__((constructor)) static void tls_wipe_what_openssl_frees(void)
{
	freed_is_wiped = CRYPTO_set_mem_functions(wiping_malloc, wiping_realloc, wiping_free) == 1;
}

static void warn_unless_freed_is_wiped(void)
{
	static bool said;

	if (freed_is_wiped || said)
		return;
	said = true;
	log_warn("OpenSSL allocated before usbip could set its allocator: what it frees is not "
		 "wiped, and a TLS relay may inherit other connections' secrets");
}

static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
}

int tls_parse_datapath(const char *text, enum tls_datapath *out)
{
	if (strcmp(text, "auto") == 0)
		*out = USBIP_TLS_AUTO;
	else if (strcmp(text, "ktls") == 0)
		*out = USBIP_TLS_KTLS;
	else if (strcmp(text, "relay") == 0)
		*out = USBIP_TLS_RELAY;
	else
		return -1;
	return 0;
}

int tls_parse_option(int id, const char *arg, bool *enabled, struct usbip_tls_options *o, char *err,
		     size_t err_len)
{
	switch (id) {
	case USBIP_OPT_TLS:
		*enabled = true;
		return 1;
	case USBIP_OPT_CERT:
		o->cert_file = arg;
		return 1;
	case USBIP_OPT_KEY:
		o->key_file = arg;
		return 1;
	case USBIP_OPT_CA:
		o->ca_file = arg;
		return 1;
	case USBIP_OPT_PIN:
		o->pin = arg;
		return 1;
	case USBIP_OPT_ALLOW_SUBJECT:
		if (o->nsubjects == USBIP_TLS_MAX_SUBJECTS) {
			snprintf(err, err_len, "at most %d --allow-subject",
				 USBIP_TLS_MAX_SUBJECTS);
			return -1;
		}
		o->subjects[o->nsubjects++] = arg;
		return 1;
	case USBIP_OPT_TLS_DATAPATH:
		if (tls_parse_datapath(arg, &o->datapath) != 0) {
			snprintf(err, err_len, "--tls-datapath is auto, ktls or relay, not '%s'",
				 arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

static int parse_pin(const char *text, unsigned char out[32])
{
	size_t n = 0;
	int hi = -1;

	for (; *text; text++) {
		int v;

		if (*text == ':')
			continue;
		v = hex_digit(*text);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == 32)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return n == 32 && hi < 0 ? 0 : -1;
}

static bool subject_allowed(const struct usbip_tls_options *o, X509 *cert, char *subject,
			    size_t slen);

/*
 * Servers with --allow-subject: a client certificate that chains to the CA
 * but names no allowed subject fails the handshake itself, so the client
 * gets an alert instead of a closed connection.
 */
static int verify_subject(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct usbip_tls *tls = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	char subject[256], esc[LOG_ESCAPED_SIZE(256)];

	if (!ok || X509_STORE_CTX_get_error_depth(store) != 0)
		return ok;
	if (subject_allowed(&tls->options, X509_STORE_CTX_get_current_cert(store), subject,
			    sizeof(subject)))
		return 1;
	log_warn("client certificate '%s' is not an allowed subject",
		 log_escape(esc, sizeof(esc), subject));
	X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/*
 * The certificate callback: this side's certificate, chain and key for one
 * handshake, when it needs them (a server on the ClientHello, a client when
 * the server asks for a certificate). handshake_step takes them away again.
 */
static int install_identity(SSL *ssl, void *arg)
{
	const struct usbip_tls *tls = arg;

	if (!tls->cert || !tls->key)
		return 1; /* a client without a certificate: it sends none */
	if (SSL_use_certificate(ssl, tls->cert) != 1 || SSL_use_PrivateKey(ssl, tls->key) != 1 ||
	    SSL_set1_chain(ssl, tls->chain) != 1)
		return 0; /* the handshake fails with an internal error */
	return 1;
}

/* A certificate or key file is far smaller; a CA bundle (Debian's is 200 KiB) too. */
#define TLS_FILE_MAX (1024 * 1024)
#define CA_FILE_MAX  (8 * 1024 * 1024)

/*
 * The bytes of a file named by --cert, --key or --ca, as a memory BIO: read
 * by file_read_regular, never waiting on a FIFO or reading /dev/zero.
 * *text (*len bytes) is what to wipe (a key) and free once the BIO is
 * freed. NULL with why in err (without the path).
 */
static BIO *file_bio(const char *path, size_t max, const char *kind, char **text, size_t *len,
		     char *err, size_t err_len)
{
	BIO *in;

	if (file_read_regular(path, max, kind, text, len, NULL, NULL, err, err_len) != 0)
		return NULL;
	in = BIO_new_mem_buf(*text, (int)*len);
	if (!in) {
		snprintf(err, err_len, "out of memory");
		free(*text);
		*text = NULL;
	}
	return in;
}

/* The certificate (first in the file) and the chain after it, as --cert has them. */
static int load_certificates(struct usbip_tls *tls, const char *path, char *err, size_t err_len)
{
	char reason[160], *text;
	size_t len;
	BIO *in = file_bio(path, TLS_FILE_MAX, "certificate file", &text, &len, reason,
			   sizeof(reason));
	X509 *extra;

	if (!in) {
		snprintf(err, err_len, "certificate %s: %s", path, reason);
		return -1;
	}
	ERR_clear_error();
	tls->cert = PEM_read_bio_X509_AUX(in, NULL, NULL, NULL);
	tls->chain = sk_X509_new_null();
	if (!tls->cert || !tls->chain)
		goto fail;
	while ((extra = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(tls->chain, extra)) {
			X509_free(extra);
			goto fail;
		}
	}
	/* The end of the file ends the chain; anything else is an error. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		goto fail;
	ERR_clear_error();
	BIO_free(in);
	free(text);
	return 0;
fail:
	ssl_reason(reason, sizeof(reason));
	snprintf(err, err_len, "certificate %s: %s", path, reason);
	BIO_free(in);
	free(text);
	return -1;
}

/* The CA certificates (and CRLs) of --ca, into the context's store: all in the file. */
static int load_ca(SSL_CTX *ctx, const char *path, char *err, size_t err_len)
{
	char reason[160], *text;
	size_t len;
	BIO *in = file_bio(path, CA_FILE_MAX, "CA file", &text, &len, reason, sizeof(reason));
	STACK_OF(X509_INFO) * infos;
	int i, added = 0;

	if (!in) {
		snprintf(err, err_len, "CA %s: %s", path, reason);
		return -1;
	}
	ERR_clear_error();
	infos = PEM_X509_INFO_read_bio(in, NULL, NULL, NULL);
	for (i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (info->x509 && X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), info->x509) == 1)
			added++;
		/* CRLs too, as SSL_CTX_load_verify_locations took them. */
		if (info->crl && X509_STORE_add_crl(SSL_CTX_get_cert_store(ctx), info->crl) == 1)
			added++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(in);
	free(text);
	if (added > 0) {
		ERR_clear_error();
		return 0;
	}
	if (ERR_peek_last_error())
		ssl_reason(reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "no certificate in it");
	snprintf(err, err_len, "CA %s: %s", path, reason);
	return -1;
}

/*
 * The private key goes from the helper process to its parent as a stream
 * of parts: its type, each of its parameters (EVP_PKEY_todata's), and an
 * end (or a reason it could not be read). Names and values are padded to 8
 * bytes, so that every value is as aligned as OpenSSL reads it.
 */
enum key_part_kind { KEY_PART_TYPE = 1, KEY_PART_PARAM, KEY_PART_ERROR, KEY_PART_END };

struct key_part {
	uint32_t kind;
	uint32_t data_type; /* of a KEY_PART_PARAM: OSSL_PARAM_INTEGER, ... */
	uint32_t name_len;  /* with its NUL */
	uint32_t data_len;  /* without the NUL that follows it */
};

#define KEY_PARTS_MAX  (64 * 1024) /* an RSA 16384-bit key is about 10 KiB of numbers */
#define KEY_PARAMS_MAX 64	   /* RSA with 10 primes has 31 */
#define PAD8(n)	       (((n) + 7) & ~(size_t)7)

static int send_key_part(int fd, uint32_t kind, uint32_t data_type, const char *name,
			 const void *data, size_t data_len)
{
	static const unsigned char zeros[8];
	size_t name_len = name ? strlen(name) + 1 : 0;
	struct key_part part = { kind, data_type, (uint32_t)name_len, (uint32_t)data_len };

	if (io_write_all(fd, &part, sizeof(part)) != 0 ||
	    (name_len && io_write_all(fd, name, name_len) != 0) ||
	    io_write_all(fd, zeros, PAD8(name_len) - name_len) != 0 ||
	    (data_len && io_write_all(fd, data, data_len) != 0) ||
	    /* at least one zero after the value: a UTF-8 string's NUL */
	    io_write_all(fd, zeros, PAD8(data_len + 1) - data_len) != 0)
		return -1;
	return 0;
}

/* The helper process: decodes the key file and sends its parameters to fd. */
static int send_private_key(int fd, const char *path)
{
	char reason[160], *text = NULL;
	size_t len = 0;
	BIO *in = file_bio(path, TLS_FILE_MAX, "key file", &text, &len, reason, sizeof(reason));
	EVP_PKEY *key = in ? PEM_read_bio_PrivateKey(in, NULL, NULL, NULL) : NULL;
	OSSL_PARAM *params = NULL, *p;
	const char *type;
	int rc = -1;

	BIO_free(in);
	if (text)
		OPENSSL_cleanse(text, len);
	free(text);
	if (in && (!key || EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &params) != 1))
		ssl_reason(reason, sizeof(reason));
	if (!key || !params) {
		rc = send_key_part(fd, KEY_PART_ERROR, 0, NULL, reason, strlen(reason));
		goto out;
	}
	type = EVP_PKEY_get0_type_name(key);
	if (send_key_part(fd, KEY_PART_TYPE, 0, NULL, type, strlen(type)) != 0)
		goto out;
	for (p = params; p->key; p++)
		if (send_key_part(fd, KEY_PART_PARAM, p->data_type, p->key, p->data,
				  p->data_size) != 0)
			goto out;
	rc = send_key_part(fd, KEY_PART_END, 0, NULL, NULL, 0);
out:
	OSSL_PARAM_free(params); /* the helper exits: nothing here to wipe for */
	EVP_PKEY_free(key);
	return rc;
}

/*
 * Builds the key from the parts its helper sent (buf, len): their type and
 * parameters, through EVP_PKEY_fromdata, which copies the numbers into the
 * key's own BIGNUMs. NULL with a reason in err.
 */
static EVP_PKEY *key_from_parts(const unsigned char *buf, size_t len, const char *path, char *err,
				size_t err_len)
{
	OSSL_PARAM params[KEY_PARAMS_MAX + 1];
	const char *type = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	char reason[160];
	unsigned n = 0;
	size_t at = 0;

	for (;;) {
		struct key_part part;
		const char *name, *data;

		if (len - at < sizeof(part))
			goto cut_short;
		memcpy(&part, buf + at, sizeof(part));
		at += sizeof(part);
		if (PAD8(part.name_len) > len - at ||
		    (part.name_len && buf[at + part.name_len - 1] != '\0'))
			goto cut_short;
		name = (const char *)buf + at;
		at += PAD8(part.name_len);
		if (PAD8((size_t)part.data_len + 1) > len - at || buf[at + part.data_len] != '\0')
			goto cut_short;
		data = (const char *)buf + at;
		at += PAD8((size_t)part.data_len + 1);

		if (part.kind == KEY_PART_END)
			break;
		if (part.kind == KEY_PART_ERROR) {
			snprintf(err, err_len, "key %s: %.*s", path, (int)part.data_len, data);
			return NULL;
		}
		if (part.kind == KEY_PART_TYPE) {
			type = data;
		} else if (part.kind == KEY_PART_PARAM && part.name_len && n < KEY_PARAMS_MAX) {
			params[n] = (OSSL_PARAM){ .key = name,
						  .data_type = part.data_type,
						  .data = (void *)data,
						  .data_size = part.data_len,
						  .return_size = OSSL_PARAM_UNMODIFIED };
			n++;
		} else {
			goto cut_short;
		}
	}
	params[n] = OSSL_PARAM_construct_end();
	ERR_clear_error();
	ctx = type ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, err_len, "key %s: %s", path, reason);
	}
	EVP_PKEY_CTX_free(ctx);
	return key;

cut_short:
	snprintf(err, err_len, "key %s: the process reading it failed", path);
	return NULL;
}

/*
 * The private key of --key. It is decoded in a helper process, not here:
 * OpenSSL's decoders free the copies of the key's DER they make without
 * wiping them, and a relay forked later would inherit those. This process
 * only gets the key's numbers through a pipe, into memory wiped after
 * EVP_PKEY_fromdata copied them.
 */
static EVP_PKEY *load_private_key(const char *path, char *err, size_t err_len)
{
	unsigned char *buf = OPENSSL_malloc(KEY_PARTS_MAX);
	EVP_PKEY *key = NULL;
	ssize_t got = 0;
	int fds[2], status;
	pid_t pid;

	if (!buf || pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, err_len, "key %s: %s", path, strerror(errno));
		OPENSSL_free(buf);
		return NULL;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(send_private_key(fds[1], path) == 0 ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0) {
		snprintf(err, err_len, "key %s: fork: %s", path, strerror(errno));
		goto out;
	}
	got = io_read_all(fds[0], buf, KEY_PARTS_MAX);
	if (got == KEY_PARTS_MAX)
		kill(pid, SIGKILL); /* more than any key: it would wait to write the rest */
	/* A SIGCHLD handler of the program's may have reaped it first: the end part decides. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	key = key_from_parts(buf, got > 0 ? (size_t)got : 0, path, err, err_len);
out:
	close(fds[0]);
	OPENSSL_clear_free(buf, KEY_PARTS_MAX);
	return key;
}

/* With a pin, the chain is not judged by a CA: the fingerprint decides. */
static int accept_for_pin(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

/* The SSL_CTX and its protocol floor; kTLS datapaths keep to what the kernel can take. */
static int new_context(struct usbip_tls *tls, const struct usbip_tls_options *o, bool server)
{
	tls->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!tls->ctx)
		return -1;
	SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(tls->ctx, SSL_OP_NO_RENEGOTIATION);
	if (o->datapath != USBIP_TLS_RELAY) {
		/* The kernel takes over TLS 1.2 AES-GCM in both directions. */
		SSL_CTX_set_max_proto_version(tls->ctx, TLS1_2_VERSION);
		if (!SSL_CTX_set_cipher_list(tls->ctx, KTLS_CIPHERS))
			return -1;
		SSL_CTX_set_options(tls->ctx, SSL_OP_ENABLE_KTLS);
	}
	return 0;
}

/* --cert and --key: both for a server, neither or both for a client, and a matching pair. */
static int load_identity(struct usbip_tls *tls, const struct usbip_tls_options *o, bool server,
			 char *err, size_t err_len)
{
	char reason[160];

	if (server && (!o->cert_file || !o->key_file)) {
		snprintf(err, err_len, "a TLS server needs --cert and --key");
		return -1;
	}
	if (o->key_file && !o->cert_file) {
		snprintf(err, err_len, "key %s: --key needs the --cert it belongs to", o->key_file);
		return -1;
	}
	if (o->cert_file && load_certificates(tls, o->cert_file, err, err_len) != 0)
		return -1;
	if (!o->key_file)
		return 0;
	tls->key = load_private_key(o->key_file, err, err_len);
	if (!tls->key)
		return -1;
	ERR_clear_error();
	if (X509_check_private_key(tls->cert, tls->key) != 1) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, err_len, "key %s: %s", o->key_file, reason);
		return -1;
	}
	return 0;
}

/*
 * How the peer is judged: a client with --pin by the fingerprint alone, a server
 * by --ca (and --allow-subject) if given, a client by --ca or the system's CAs.
 */
static int set_peer_verification(struct usbip_tls *tls, const struct usbip_tls_options *o,
				 bool server, char *err, size_t err_len)
{
	if (o->ca_file && load_ca(tls->ctx, o->ca_file, err, err_len) != 0)
		return -1;
	if (o->pin) {
		if (server || parse_pin(o->pin, tls->pin) != 0) {
			snprintf(err, err_len,
				 "--pin wants the server's SHA-256 fingerprint, 64 hex digits");
			return -1;
		}
		tls->have_pin = true;
		SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, accept_for_pin);
	} else if (server) {
		if (o->ca_file)
			SSL_CTX_set_verify(tls->ctx,
					   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
					   o->nsubjects ? verify_subject : NULL);
		SSL_CTX_set_app_data(tls->ctx, tls);
	} else {
		if (!o->ca_file)
			SSL_CTX_set_default_verify_paths(tls->ctx);
		SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, NULL);
	}
	if (server && o->nsubjects && !o->ca_file) {
		snprintf(err, err_len, "--allow-subject needs --ca to verify client certificates");
		return -1;
	}
	return 0;
}

struct usbip_tls *tls_new(const struct usbip_tls_options *o, bool server, char *err, size_t err_len)
{
	struct usbip_tls *tls = calloc(1, sizeof(*tls));
	char reason[160];

	if (!tls) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	warn_unless_freed_is_wiped();
	LIST_INSERT_HEAD(&all_contexts, tls, link);
	tls->server = server;
	tls->options = *o;
	if (new_context(tls, o, server) != 0) {
		ssl_reason(reason, sizeof(reason));
		snprintf(err, err_len, "TLS setup: %s", reason);
		goto fail;
	}
	if (load_identity(tls, o, server, err, err_len) != 0)
		goto fail;
	SSL_CTX_set_cert_cb(tls->ctx, install_identity, tls);
	if (set_peer_verification(tls, o, server, err, err_len) != 0)
		goto fail;
	return tls;

fail:
	tls_free(tls);
	return NULL;
}

void tls_free(struct usbip_tls *tls)
{
	if (!tls)
		return;
	LIST_REMOVE(tls, link);
	SSL_CTX_free(tls->ctx);
	EVP_PKEY_free(tls->key);
	X509_free(tls->cert);
	sk_X509_pop_free(tls->chain, X509_free);
	free(tls);
}

/* "CN=node1,O=Example" and the CN alone, of the peer's certificate. */
static void peer_identity(X509 *cert, char *subject, size_t slen, char *cn, size_t cnlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	subject[0] = cn[0] = '\0';
	if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, subject, (int)slen - 1);
		subject[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, (int)cnlen);
}

static bool subject_allowed(const struct usbip_tls_options *o, X509 *cert, char *subject,
			    size_t slen)
{
	char cn[128];
	unsigned i;

	peer_identity(cert, subject, slen, cn, sizeof(cn));
	for (i = 0; i < o->nsubjects; i++)
		if (strcmp(o->subjects[i], subject) == 0 || strcmp(o->subjects[i], cn) == 0)
			return true;
	return false;
}

/* Checks done once the handshake is through: pin, allowed subjects; logs who. */
static int after_handshake(struct usbip_conn *conn, struct tls_state *st)
{
	const struct usbip_tls_options *o = &st->tls->options;
	X509 *cert = SSL_get1_peer_certificate(st->ssl);
	char subject[256] = "", cn[128] = "", esc[LOG_ESCAPED_SIZE(256)];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool ktls_send, ktls_recv;
	int rc = -1;

	if (cert)
		peer_identity(cert, subject, sizeof(subject), cn, sizeof(cn));
	if (st->tls->have_pin) {
		if (!cert || !X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != 32 ||
		    memcmp(md, st->tls->pin, 32) != 0) {
			log_err("%s: the server certificate does not match --pin", conn->peer);
			goto out;
		}
	}
	/* Also checked in the handshake (verify_subject); kept here as the last word. */
	if (st->tls->server && o->nsubjects &&
	    (!cert || !subject_allowed(o, cert, subject, sizeof(subject)))) {
		log_warn("%s: client certificate '%s' is not an allowed subject", conn->peer,
			 log_escape(esc, sizeof(esc), subject));
		goto out;
	}
	ktls_send = BIO_get_ktls_send(SSL_get_wbio(st->ssl)) == 1;
	ktls_recv = BIO_get_ktls_recv(SSL_get_rbio(st->ssl)) == 1;
	st->ktls = ktls_send && ktls_recv && o->datapath != USBIP_TLS_RELAY;
	if (o->datapath == USBIP_TLS_KTLS && !st->ktls) {
		log_err("%s: kernel TLS is not available for this connection (send %s, receive %s; "
			"is the tls module loaded?)",
			conn->peer, ktls_send ? "yes" : "no", ktls_recv ? "yes" : "no");
		goto out;
	}
	/* Daemons log every peer; an interactive client only with --debug. */
	log_msg(st->tls->server || log_uses_syslog() ? USBIP_LOG_INFO : USBIP_LOG_DEBUG,
		"%s: %s %s, peer %s, data path: %s", conn->peer, SSL_get_version(st->ssl),
		SSL_get_cipher_name(st->ssl),
		cert ? log_escape(esc, sizeof(esc), subject) : "without certificate",
		st->ktls ? "kernel TLS" : "relay");
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

/* One handshake step; 1 done, 0 in progress (errno EAGAIN, conn->want set), -1 failed. */
static int handshake_step(struct usbip_conn *conn, struct tls_state *st)
{
	char reason[200];
	long verify;
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(st->ssl);
	if (rc == 1) {
		/*
		 * Renegotiation is off and clients allow no post-handshake
		 * authentication: the key has nothing more to sign here.
		 */
		SSL_certs_clear(st->ssl);
		if (after_handshake(conn, st) != 0) {
			errno = EACCES;
			return -1;
		}
		st->handshake_done = true;
		return 1;
	}
	e = SSL_get_error(st->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		conn->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		errno = EAGAIN;
		return 0;
	}
	verify = SSL_get_verify_result(st->ssl);
	if (verify != X509_V_OK)
		snprintf(reason, sizeof(reason), "certificate: %s",
			 X509_verify_cert_error_string(verify));
	else
		ssl_reason(reason, sizeof(reason));
	if (e == SSL_ERROR_SYSCALL && !ERR_peek_error() && errno == 0)
		snprintf(reason, sizeof(reason),
			 "the peer closed the connection (does it speak TLS?)");
	log_err("%s: TLS handshake failed: %s", conn->peer, reason);
	errno = EPROTO;
	return -1;
}

static ssize_t io_result(struct usbip_conn *conn, struct tls_state *st, int rc)
{
	int e = SSL_get_error(st->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		conn->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		if (!errno)
			errno = EPROTO;
		ERR_clear_error();
		return -1;
	}
}

/*
 * What a read and a write share: the handshake until it is done, then the
 * socket itself (kTLS, relay) or SSL. Reads into in when receiving, else
 * writes out.
 */
static ssize_t transfer(struct usbip_conn *conn, bool receiving, void *in, const void *out,
			size_t len)
{
	struct tls_state *st = conn->transport;
	int chunk = len > INT32_MAX ? INT32_MAX : (int)len, rc;

	conn->want = 0;
	if (!st->handshake_done && handshake_step(conn, st) != 1)
		return -1;
	/*
	 * With kTLS the kernel decrypts, and keeps what we leave of a record;
	 * with a relay, what is written to our end goes out through it (the
	 * daemon's reply after the stub took the other end).
	 */
	if (st->ktls || st->relayed)
		return receiving ? recv(conn->fd, in, len, MSG_DONTWAIT)
				 : send(conn->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	ERR_clear_error();
	errno = 0;
	rc = receiving ? SSL_read(st->ssl, in, chunk) : SSL_write(st->ssl, out, chunk);
	return rc > 0 ? rc : io_result(conn, st, rc);
}

static ssize_t tls_recv(struct usbip_conn *conn, void *buf, size_t len)
{
	return transfer(conn, true, buf, NULL, len);
}

static ssize_t tls_send(struct usbip_conn *conn, const void *buf, size_t len)
{
	return transfer(conn, false, NULL, buf, len);
}

/* The relay process: TLS on one side, the driver's socketpair end on the other. */
static void relay(SSL *ssl, int tcp_fd, int pair_fd)
{
	unsigned char *buf = malloc(RELAY_BUFFER);
	struct pollfd pfd[2] = { { .fd = tcp_fd, .events = POLLIN },
				 { .fd = pair_fd, .events = POLLIN } };

	if (!buf)
		return;
	fcntl(tcp_fd, F_SETFL, fcntl(tcp_fd, F_GETFL) & ~O_NONBLOCK);
	/*
	 * A record that is not data (TLS 1.3 session tickets not read yet, a
	 * key update) must not leave SSL_read waiting for data the peer may
	 * only send once the driver's bytes reached it: without auto-retry it
	 * returns after such a record, and the loop polls both sides again.
	 */
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	for (;;) {
		int n;

		/* Records OpenSSL already holds come first: poll cannot see them. */
		if (!SSL_pending(ssl) && poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (SSL_pending(ssl) || (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ERR_clear_error(); /* SSL_get_error reads the queue first */
			n = SSL_read(ssl, buf, RELAY_BUFFER);
			if (n > 0) {
				if (io_write_all(pair_fd, buf, (size_t)n) != 0)
					break;
				relay_stats_add(RELAY_TLS, RELAY_FROM_PEER, (size_t)n);
			} else if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) {
				break;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t got = read(pair_fd, buf, RELAY_BUFFER);

			if (got <= 0 || SSL_write(ssl, buf, (int)got) != (int)got)
				break;
			relay_stats_add(RELAY_TLS, RELAY_TO_PEER, (size_t)got);
			pfd[1].revents = 0;
		}
		pfd[0].revents = 0;
	}
	SSL_shutdown(ssl); /* close_notify, so the peer knows it was not cut */
	free(buf);
}

/*
 * In a relay process, just forked: the keys it inherited go, every context's
 * and those of its own connection's SSL (the handshake is over). With the
 * last reference gone OpenSSL frees each key and wipes its numbers.
 */
static void forget_private_keys(SSL *own)
{
	struct usbip_tls *tls;

	SSL_certs_clear(own);
	LIST_FOREACH(tls, &all_contexts, link) {
		EVP_PKEY_free(tls->key);
		tls->key = NULL;
	}
}

/*
 * And nothing of the other connections stays: their SSLs go (an open
 * connection's keys, a handshake's secrets), and from every context the
 * session cache (the TLS 1.2 master secrets of sessions that ended) and
 * the session ticket keys (they open every ticket this process gave out),
 * overwritten where they are. No session is cached and no ticket made from
 * here on. What OpenSSL frees is wiped (wiping_free); the relay's own
 * connection keeps its keys.
 */
static void forget_other_sessions(SSL *own)
{
	unsigned char fresh[80] = { 0 }; /* key name, HMAC key, AES key */
	struct usbip_tls *tls;
	struct tls_state *st;

	LIST_FOREACH(st, &all_connections, link) {
		if (st->ssl != own) {
			SSL_free(st->ssl);
			st->ssl = NULL;
		}
	}
	SSL_set_options(own, SSL_OP_NO_TICKET);
	SSL_set_num_tickets(own, 0);
	LIST_FOREACH(tls, &all_contexts, link) {
		SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_flush_sessions(tls->ctx, 0); /* 0: every session, expired or not */
		SSL_CTX_set_options(tls->ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(tls->ctx, 0);
		/* Zeros if the generator fails: the old keys are gone either way. */
		RAND_priv_bytes(fresh, sizeof(fresh));
		SSL_CTX_set_tlsext_ticket_keys(tls->ctx, fresh, sizeof(fresh));
	}
	OPENSSL_cleanse(fresh, sizeof(fresh));
}

static int start_relay(struct usbip_conn *conn, struct tls_state *st)
{
	sigset_t none;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_err("socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		sock_close_all_but(conn->fd, sp[1]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		setsid();
		/*
		 * The relay only moves bytes between two descriptors: it needs no
		 * private key (the session keys are in the SSL), no other
		 * connection's session, nor root.
		 */
		forget_other_sessions(st->ssl);
		forget_private_keys(st->ssl);
		if (geteuid() == 0 && privdrop_to(privdrop_default_user()) != 0)
			_exit(1);
		relay_stats_started(RELAY_TLS);
		relay(st->ssl, conn->fd, sp[1]);
		relay_stats_ended(RELAY_TLS);
		_exit(0);
	}
	close(sp[1]);
	/* The relay owns the TLS connection now; this process lets go of it. */
	close(conn->fd);
	conn->fd = sp[0];
	st->handed_over = true;
	st->relayed = true;
	log_debug("%s: relay process %d", conn->peer, (int)pid);
	return sp[0];
}

static int tls_kernel_fd(struct usbip_conn *conn)
{
	struct tls_state *st = conn->transport;

	if (!st->ktls)
		return start_relay(conn, st);
	/* The driver reads and writes through the kernel's TLS; blocking, as it expects. */
	fcntl(conn->fd, F_SETFL, fcntl(conn->fd, F_GETFL) & ~O_NONBLOCK);
	st->handed_over = true;
	return conn->fd;
}

static void tls_destroy(struct usbip_conn *conn)
{
	struct tls_state *st = conn->transport;

	/* A connection still ours ends with close_notify; one the kernel owns does not. */
	if (!st->handed_over && st->handshake_done)
		SSL_shutdown(st->ssl);
	LIST_REMOVE(st, link);
	SSL_free(st->ssl);
	conn->transport = NULL;
	conn->ops = st->tcp_ops;
	free(st);
	conn->ops->destroy(conn);
}

static size_t tls_pending(struct usbip_conn *conn)
{
	struct tls_state *st = conn->transport;

	if (!st->handshake_done || st->ktls || st->relayed)
		return 0;
	return (size_t)SSL_pending(st->ssl);
}

static const struct usbip_conn_ops tls_ops = {
	.name = "tls",
	.recv = tls_recv,
	.send = tls_send,
	.kernel_fd = tls_kernel_fd,
	.destroy = tls_destroy,
	.pending = tls_pending,
};

int tls_wrap(struct usbip_tls *tls, struct usbip_conn *conn, const char *server_name)
{
	struct tls_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	st->ssl = SSL_new(tls->ctx);
	if (!st->ssl || SSL_set_fd(st->ssl, conn->fd) != 1) {
		SSL_free(st->ssl);
		free(st);
		return -1;
	}
	fcntl(conn->fd, F_SETFL, fcntl(conn->fd, F_GETFL) | O_NONBLOCK);
	if (tls->server) {
		SSL_set_accept_state(st->ssl);
	} else {
		SSL_set_connect_state(st->ssl);
		if (server_name && !tls->have_pin) {
			SSL_set_tlsext_host_name(st->ssl, server_name);
			if (SSL_set1_host(st->ssl, server_name) != 1) {
				SSL_free(st->ssl);
				free(st);
				return -1;
			}
		}
	}
	st->tls = tls;
	st->tcp_ops = conn->ops;
	LIST_INSERT_HEAD(&all_connections, st, link);
	conn->transport = st;
	conn->ops = &tls_ops;
	return 0;
}

int tls_handshake(struct usbip_conn *conn, int timeout_ms)
{
	struct tls_state *st = conn->transport;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = conn->fd };
		long elapsed;
		int rc = handshake_step(conn, st);

		if (rc == 1)
			return 0;
		if (rc < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 +
			  (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms) {
			log_err("%s: TLS handshake timed out", conn->peer);
			return -1;
		}
		pfd.events = conn->want;
		poll(&pfd, 1, (int)(timeout_ms - elapsed));
	}
}

const char *tls_datapath(const struct usbip_conn *conn)
{
	const struct tls_state *st = conn->transport;

	if (conn->ops != &tls_ops || !st || !st->handshake_done)
		return NULL;
	return st->ktls ? "ktls" : "relay";
}

int tls_peer_subject(const struct usbip_conn *conn, char *buf, size_t len)
{
	const struct tls_state *st = conn->transport;
	char cn[128];
	X509 *cert;

	buf[0] = '\0';
	if (conn->ops != &tls_ops || !st || !st->handshake_done)
		return -1;
	cert = SSL_get1_peer_certificate(st->ssl);
	if (!cert)
		return -1;
	peer_identity(cert, buf, len, cn, sizeof(cn));
	X509_free(cert);
	return buf[0] ? 0 : -1;
}

void tls_let_go(struct usbip_conn *conn)
{
	struct tls_state *st = conn->transport;

	if (conn->ops == &tls_ops && st)
		st->handed_over = true;
}

void tls_keep_only(struct usbip_conn *conn)
{
	struct tls_state *st = conn->transport;

	if (conn->ops != &tls_ops || !st)
		return;
	forget_other_sessions(st->ssl);
	forget_private_keys(st->ssl);
}
