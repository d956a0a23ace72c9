// SPDX-License-Identifier: MIT
// Server-side TLS in the front: certificates from the parent, SNI, resumption, record I/O.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <sodium.h>

#include "log.h"
#include "parent_client.h"
#include "server.h"
#include "tls.h"
#include "tlscert.h"

// One bundle's certificates and the config that serves them. Connections hold a reference,
// so a reload never pulls a certificate from under a handshake in progress.
struct tls_certs {
	int refs;
	size_t n;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt crt[TLS_MAX_PAIRS];
	mbedtls_pk_context key[TLS_MAX_PAIRS];
	char fp[TLS_MAX_PAIRS][TLSCERT_FP_HEX + 1];
};

struct tls_state {
	struct tls_certs *cur;
	mbedtls_ssl_ticket_context ticket;
	mbedtls_ssl_cache_context cache;
	uint64_t stamp;            // the parent's stamp of the files cur came from
	struct ev_timer check;
	uint32_t asking;           // a request to the parent in flight
};

// mbedtls reads a record in two calls (header, then body); a small read-ahead makes that
// one read(2) for the usual request.
#define READ_AHEAD 4096

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct tls_certs *certs;
	int fd;
	size_t pending;            // length of a record write that returned WANT_WRITE
	size_t ra_off, ra_len;     // unread bytes in ra
	bool drained;              // the last read(2) came back short: the socket is empty
	unsigned char ra[READ_AHEAD];
};

// ECDHE key exchange and AEAD ciphers only: forward secrecy, no CBC padding oracles.
static const int suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	0,
};
static const mbedtls_ecp_group_id curves[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE,
};

static struct tls_state *state(const struct server *s)
{
	return s->tls;
}

void tls_certs_unref(struct tls_certs *c)
{
	if (!c || --c->refs > 0)
		return;
	mbedtls_ssl_config_free(&c->conf);
	for (size_t i = 0; i < c->n; i++) {
		mbedtls_x509_crt_free(&c->crt[i]);
		mbedtls_pk_free(&c->key[i]);
	}
	free(c);
}

// SNI (RFC 6066 3): the first pair whose names cover the host; else the default (first).
static int on_sni(void *arg, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
	struct tls_certs *c = arg;
	char host[TLSCERT_MAX_NAME + 1];
	if (!len || len > TLSCERT_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len; i++)
		host[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	host[len] = '\0';
	for (size_t i = 0; i < c->n; i++)
		if (tlscert_covers(&c->crt[i], host))
			return mbedtls_ssl_set_hs_own_cert(ssl, &c->crt[i], &c->key[i]) ? -1 : 0;
	return 0;
}

// Parses one key followed by its chain (PEM text of length len, not NUL-terminated).
static int parse_pair(struct tls_certs *c, const char *p, size_t len, char *err, size_t errsz)
{
	// The BEGIN line names "PRIVATE KEY-----" once, the END line a second time.
	const char *kend = memmem(p, len, "PRIVATE KEY-----", 16);
	kend = kend ? memmem(kend + 16, len - (size_t)(kend + 16 - p), "PRIVATE KEY-----", 16) : NULL;
	if (!kend) {
		snprintf(err, errsz, "a key without its end line");
		return -1;
	}
	kend += 16;
	size_t klen = (size_t)(kend - p);
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, p, len);
	copy[len] = '\0';
	mbedtls_x509_crt *crt = &c->crt[c->n];
	mbedtls_pk_context *key = &c->key[c->n];
	mbedtls_x509_crt_init(crt);
	mbedtls_pk_init(key);
	char saved = copy[klen];
	copy[klen] = '\0';
	int r = mbedtls_pk_parse_key(key, (unsigned char *)copy, klen + 1, NULL, 0);
	copy[klen] = saved;
	int rc = r ? r : mbedtls_x509_crt_parse(crt, (unsigned char *)copy + klen, len - klen + 1);
	free(copy);
	if (r || rc < 0 || !crt->raw.p) {
		snprintf(err, errsz, r ? "the key does not parse (-0x%04x)"
				       : "the certificate does not parse (-0x%04x)",
			 (unsigned)-(r ? r : rc));
		mbedtls_x509_crt_free(crt);
		mbedtls_pk_free(key);
		return -1;
	}
	if (mbedtls_pk_check_pair(&crt->pk, key) != 0) {
		snprintf(err, errsz, "the key does not belong to the certificate");
		mbedtls_x509_crt_free(crt);
		mbedtls_pk_free(key);
		return -1;
	}
	tlscert_fingerprint(crt, c->fp[c->n]);
	c->n++;
	return 0;
}

static int conf_setup(struct tls_certs *c)
{
	mbedtls_ssl_config *conf = &c->conf;
	if (mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return -1;
	mbedtls_ssl_conf_rng(conf, tlscert_rng, NULL);
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(conf, suites);
	mbedtls_ssl_conf_curves(conf, curves);
	mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_sni(conf, on_sni, c);
	return mbedtls_ssl_conf_own_cert(conf, &c->crt[0], &c->key[0]) ? -1 : 0;
}

struct tls_certs *tls_certs_parse(const char *text, size_t len, char *err, size_t errsz)
{
	struct tls_certs *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->refs = 1;
	mbedtls_ssl_config_init(&c->conf);
	snprintf(err, errsz, "no private key in the bundle");
	// Each "-----BEGIN ... PRIVATE KEY-----" line starts a pair that runs to the next one.
	const char *starts[TLS_MAX_PAIRS + 1];
	size_t nk = 0;
	const char *end = text + len;
	for (const char *p = text; nk < TLS_MAX_PAIRS && (p = memmem(p, (size_t)(end - p), "-----BEGIN ", 11));
	     p += 11) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *k = memmem(p, (size_t)((eol ? eol : end) - p), "PRIVATE KEY-----", 16);
		if (k)
			starts[nk++] = p;
	}
	starts[nk] = end;
	// One bad pair refuses the whole bundle: a half-replaced file must not take a
	// working certificate away; the next check tries again.
	bool bad = false;
	for (size_t i = 0; i < nk && !bad; i++)
		bad = parse_pair(c, starts[i], (size_t)(starts[i + 1] - starts[i]), err, errsz) < 0;
	if (bad || !c->n || conf_setup(c) < 0) {
		tls_certs_unref(c);
		return NULL;
	}
	return c;
}

// Loads a bundle from the parent's fd into cur, keeping the old one on failure.
static int load_fd(struct tls_state *t, int fd, uint64_t stamp)
{
	char *text = malloc(TLS_BUNDLE_MAX + 1);
	size_t n = 0;
	while (text && n < TLS_BUNDLE_MAX) {
		ssize_t r = pread(fd, text + n, TLS_BUNDLE_MAX - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!text)
		return -1;
	char err[160];
	struct tls_certs *c = tls_certs_parse(text, n, err, sizeof(err));
	sodium_memzero(text, n); // the bundle holds private keys
	free(text);
	if (!c) {
		log_err("tls: the certificates from the parent are unusable (%s); keeping the old ones", err);
		return -1;
	}
	mbedtls_ssl_conf_session_tickets_cb(&c->conf, mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse, &t->ticket);
	mbedtls_ssl_conf_session_cache(&c->conf, &t->cache, mbedtls_ssl_cache_get,
				       mbedtls_ssl_cache_set);
	if (t->cur)
		log_info("tls: new certificates loaded (sha256 %s)", c->fp[0]);
	tls_certs_unref(t->cur);
	t->cur = c;
	t->stamp = stamp;
	return 0;
}

static void on_check(struct ev_loop *loop, void *arg);

static void on_bundle(void *arg, const struct priv_msg *m, int fd)
{
	struct server *s = arg;
	struct tls_state *t = state(s);
	t->asking = 0;
	if (m->status)
		log_err("tls: the parent cannot read the certificates: %s", m->text);
	else if (fd >= 0)
		load_fd(t, fd, m->value), fd = -1;
	if (fd >= 0)
		close(fd);
	ev_timer_set(s->loop, &t->check, s->cfg.tls_check_interval * 1000, on_check, s);
}

// Asks the parent whether the certificate files changed since the stamp we hold.
static void on_check(struct ev_loop *loop, void *arg)
{
	struct server *s = arg;
	struct tls_state *t = state(s);
	struct priv_msg m = {.type = PRIV_TLS_BUNDLE, .value = t->stamp};
	if (!t->asking && !(t->asking = pc_request(s, &m, -1, on_bundle, s)))
		ev_timer_set(loop, &t->check, s->cfg.tls_check_interval * 1000, on_check, s);
}

int tls_init(struct server *s, int bundle_fd, uint64_t stamp)
{
	struct tls_state *t = calloc(1, sizeof(*t));
	if (!t) {
		close(bundle_fd);
		return -1;
	}
	s->tls = t;
	mbedtls_ssl_ticket_init(&t->ticket);
	mbedtls_ssl_cache_init(&t->cache);
	mbedtls_ssl_cache_set_max_entries(&t->cache, 10000);
	// Tickets live a day; their keys rotate every two days inside mbedtls.
	if (mbedtls_ssl_ticket_setup(&t->ticket, tlscert_rng, NULL, MBEDTLS_CIPHER_AES_256_GCM,
				     86400) != 0) {
		log_err("tls: cannot set up session tickets");
		close(bundle_fd);
		return -1;
	}
	if (load_fd(t, bundle_fd, stamp) < 0)
		return -1;
	ev_timer_set(s->loop, &t->check, s->cfg.tls_check_interval * 1000, on_check, s);
	return 0;
}

void tls_fini(struct server *s)
{
	struct tls_state *t = state(s);
	if (!t)
		return;
	if (t->asking)
		pc_cancel(s, t->asking);
	ev_timer_cancel(s->loop, &t->check);
	tls_certs_unref(t->cur);
	mbedtls_ssl_ticket_free(&t->ticket);
	mbedtls_ssl_cache_free(&t->cache);
	free(t);
	s->tls = NULL;
}

const char *tls_fingerprint(const struct server *s, const char *host)
{
	struct tls_state *t = state(s);
	if (!t || !t->cur)
		return "";
	for (size_t i = 0; host && i < t->cur->n; i++)
		if (tlscert_covers(&t->cur->crt[i], host))
			return t->cur->fp[i];
	return t->cur->fp[0];
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t r = write(t->fd, p, n);
	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE
									 : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	// Buffered bytes first: mbedtls then sees WANT_READ only with the buffer empty, so
	// epoll announces whatever comes next.
	if (t->ra_len) {
		size_t k = n < t->ra_len ? n : t->ra_len;
		memcpy(p, t->ra + t->ra_off, k);
		t->ra_off += k;
		t->ra_len -= k;
		return (int)k;
	}
	ssize_t r;
	if (n >= sizeof(t->ra)) {
		r = read(t->fd, p, n);
	} else if ((r = read(t->fd, t->ra, sizeof(t->ra))) > 0) {
		t->ra_off = 0;
		t->ra_len = (size_t)r;
		t->drained = (size_t)r < sizeof(t->ra);
		return bio_recv(ctx, p, n);
	}
	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
									 : MBEDTLS_ERR_NET_RECV_FAILED;
}

struct tls_conn *tls_conn_new(struct server *s, int fd)
{
	struct tls_state *st = state(s);
	return st && st->cur ? tls_conn_with(st->cur, fd) : NULL;
}

struct tls_conn *tls_conn_with(struct tls_certs *c, int fd)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &c->conf) != 0) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
		return NULL;
	}
	t->fd = fd;
	t->certs = c;
	t->certs->refs++;
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	tls_certs_unref(t->certs);
	free(t);
}

static int code(int r)
{
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	return TLS_FAIL;
}

int tls_handshake(struct tls_conn *t)
{
	int r = mbedtls_ssl_handshake(&t->ssl);
	return r == 0 ? TLS_DONE : code(r);
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t n)
{
	int r = mbedtls_ssl_read(&t->ssl, buf, n);
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	return code(r);
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	// mbedtls wants the same record again after WANT_WRITE; a longer buffer must not
	// make it report bytes it never took.
	if (t->pending && n > t->pending)
		n = t->pending;
	if (n > 16384)
		n = 16384;
	int r = mbedtls_ssl_write(&t->ssl, buf, n);
	if (r >= 0) {
		t->pending = 0;
		return r;
	}
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ)
		t->pending = n;
	return code(r);
}

bool tls_drained(struct tls_conn *t)
{
	return t->drained && !t->ra_len && !mbedtls_ssl_get_bytes_avail(&t->ssl);
}

size_t tls_pending(struct tls_conn *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl) + t->ra_len;
}

void tls_close_notify(struct tls_conn *t)
{
	mbedtls_ssl_close_notify(&t->ssl);
}
