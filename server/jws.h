// SPDX-License-Identifier: MIT
// JSON Web Signatures for ACME (RFC 7515, RFC 8555 6.2): ES256 with an ECDSA P-256 key,
// the key as a JWK, its RFC 7638 thumbprint, and base64url.
#pragma once
#include <stddef.h>

#include <mbedtls/pk.h>

#define JWS_THUMB_LEN 43   // base64url of a SHA-256, no padding

// base64url without padding of n bytes into out (NUL-terminated). 0 / -1 when out is small.
int jws_b64url(const void *p, size_t n, char *out, size_t outsz);
// The public key as a JWK object, members in lexicographic order (as the thumbprint needs).
int jws_jwk(mbedtls_pk_context *pk, char *out, size_t outsz);
int jws_thumbprint(mbedtls_pk_context *pk, char out[JWS_THUMB_LEN + 1]);
// A flattened JWS (RFC 7515 7.2.2) over payload ("" for POST-as-GET), its protected header
// naming url and nonce and either kid or, without one, the jwk. malloc'd; NULL on error.
char *jws_sign(mbedtls_pk_context *pk, const char *kid, const char *nonce, const char *url,
	       const char *payload);
