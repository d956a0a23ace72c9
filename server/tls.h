// SPDX-License-Identifier: MIT
// Server-side TLS in the front (mbedtls): the certificates the parent hands over (a bundle
// of key + chain pairs), SNI, session tickets and a cache, and non-blocking record I/O on a
// connection's socket. TLS 1.2 only, ECDHE with AEAD ciphers only.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_MAX_PAIRS 8
#define TLS_BUNDLE_MAX (256 * 1024)

struct server;
struct tls_conn;
struct tls_certs;

enum tls_io { TLS_DONE = 0, TLS_WANT_READ = -2, TLS_WANT_WRITE = -3, TLS_FAIL = -4 };

// Loads the first bundle (fd from the parent, closed here; stamp: its files' version) and
// starts asking the parent for a newer one every cfg.tls_check_interval seconds. 0 / -1.
int tls_init(struct server *s, int bundle_fd, uint64_t stamp);
void tls_fini(struct server *s);
// Parses a bundle: PEM blocks, each private key followed by its certificate chain.
// NULL when no pair is usable (err says why).
struct tls_certs *tls_certs_parse(const char *text, size_t len, char *err, size_t errsz);
void tls_certs_unref(struct tls_certs *c);
// The SHA-256 fingerprint of the certificate served for host (the default one when
// host is NULL or no certificate covers it), "" without TLS.
const char *tls_fingerprint(const struct server *s, const char *host);

// A server-side session on accepted socket fd; NULL on error.
struct tls_conn *tls_conn_new(struct server *s, int fd);
// The same with a given set of certificates (held by a reference), for tests and fuzzing.
struct tls_conn *tls_conn_with(struct tls_certs *c, int fd);
void tls_conn_free(struct tls_conn *t);
// Drives the handshake: TLS_DONE, TLS_WANT_READ/WRITE, or TLS_FAIL.
int tls_handshake(struct tls_conn *t);
// Reads decrypted bytes: > 0, 0 at the peer's end (close_notify or EOF), or a TLS_ code.
ssize_t tls_read(struct tls_conn *t, void *buf, size_t n);
// Writes: bytes taken (> 0) or a TLS_ code. After TLS_WANT_*, call again with the same
// bytes (at least as many; the pending record is remembered here).
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n);
// Bytes held inside the session (decrypted, or read ahead) that the socket will not
// signal again; reading until TLS_WANT_READ empties them.
size_t tls_pending(struct tls_conn *t);
// true when the socket was read empty and nothing is buffered: another read would only
// say EAGAIN.
bool tls_drained(struct tls_conn *t);
// Best effort close_notify before the socket is shut down.
void tls_close_notify(struct tls_conn *t);
