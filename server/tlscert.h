// SPDX-License-Identifier: MIT
// Keys, certificates and CSRs with mbedtls: ECDSA P-256 keys, the self-signed certificate,
// subjectAltName encoding and matching, fingerprints, and atomic writes of PEM files.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define TLSCERT_MAX_NAMES 16
#define TLSCERT_MAX_NAME 253
#define TLSCERT_PEM_MAX 16384
#define TLSCERT_FP_HEX 64

// The mbedtls f_rng for every signature and key: libsodium's generator (no extra state).
int tlscert_rng(void *unused, unsigned char *out, size_t n);
// Makes a fresh ECDSA P-256 key in pk (initialised by the caller). 0 / -1.
int tlscert_gen_key(mbedtls_pk_context *pk);
// The names a certificate for host covers: host and *.host, or the address for an IP.
size_t tlscert_host_names(const char *host, char names[][TLSCERT_MAX_NAME + 1], size_t max);
// A self-signed certificate for names (the first is the subject CN), valid for ten years,
// as PEM into out. 0 / -1.
int tlscert_self_signed(mbedtls_pk_context *pk, char names[][TLSCERT_MAX_NAME + 1], size_t n,
			unsigned char *out, size_t outsz);
// A CSR (DER, at the end of out: *der points into out) for names, signed by pk. 0 / -1.
int tlscert_csr(mbedtls_pk_context *pk, char names[][TLSCERT_MAX_NAME + 1], size_t n,
		unsigned char *out, size_t outsz, const unsigned char **der, size_t *derlen);
// SHA-256 of the DER certificate as 64 lowercase hex characters.
void tlscert_fingerprint(const mbedtls_x509_crt *crt, char hex[TLSCERT_FP_HEX + 1]);
// true when pattern (a DNS name, maybe "*.rest") matches host (lowercase, no port).
bool tlscert_name_match(const char *pattern, size_t plen, const char *host);
// true when crt's subjectAltNames (DNS or IP) cover host.
bool tlscert_covers(const mbedtls_x509_crt *crt, const char *host);
// Writes data to path through a temporary file, fsync and rename; mode for the new file.
int tlscert_write_file(const char *path, const void *data, size_t len, unsigned mode);
// Reads a whole small file (at most max bytes) into a NUL-terminated malloc'd buffer.
// NULL on error (errno set; EFBIG when larger than max).
char *tlscert_read_file(const char *path, size_t max, size_t *len);
