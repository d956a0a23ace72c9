// SPDX-License-Identifier: MIT
// ES256 JSON Web Signatures for the ACME client.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>
#include <sodium.h>

#include "jws.h"
#include "tlscert.h"

int jws_b64url(const void *p, size_t n, char *out, size_t outsz)
{
	if (outsz < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return -1;
	sodium_bin2base64(out, outsz, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

// The P-256 point's coordinates, 32 bytes each (RFC 7518 6.2.1.2).
static int coords(mbedtls_pk_context *pk, unsigned char x[32], unsigned char y[32])
{
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
		return -1;
	mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
	if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1)
		return -1;
	return mbedtls_mpi_write_binary(&ec->Q.X, x, 32) || mbedtls_mpi_write_binary(&ec->Q.Y, y, 32)
		       ? -1 : 0;
}

int jws_jwk(mbedtls_pk_context *pk, char *out, size_t outsz)
{
	unsigned char x[32], y[32];
	char bx[48], by[48];
	if (coords(pk, x, y) < 0 || jws_b64url(x, 32, bx, sizeof(bx)) < 0 ||
	    jws_b64url(y, 32, by, sizeof(by)) < 0)
		return -1;
	int n = snprintf(out, outsz, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int jws_thumbprint(mbedtls_pk_context *pk, char out[JWS_THUMB_LEN + 1])
{
	char jwk[256];
	unsigned char h[32];
	if (jws_jwk(pk, jwk, sizeof(jwk)) < 0)
		return -1;
	mbedtls_sha256_ret((const unsigned char *)jwk, strlen(jwk), h, 0);
	return jws_b64url(h, sizeof(h), out, JWS_THUMB_LEN + 1);
}

// ECDSA over SHA-256 of the signing input, as the fixed 64-byte r || s (RFC 7518 3.4).
static int sign_es256(mbedtls_pk_context *pk, const char *input, unsigned char sig[64])
{
	unsigned char h[32];
	mbedtls_sha256_ret((const unsigned char *)input, strlen(input), h, 0);
	mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
	mbedtls_mpi r, s;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	int rc = mbedtls_ecdsa_sign(&ec->grp, &r, &s, &ec->d, h, sizeof(h), tlscert_rng, NULL);
	if (!rc)
		rc = mbedtls_mpi_write_binary(&r, sig, 32) || mbedtls_mpi_write_binary(&s, sig + 32, 32);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return rc ? -1 : 0;
}

char *jws_sign(mbedtls_pk_context *pk, const char *kid, const char *nonce, const char *url,
	       const char *payload)
{
	char jwk[256];
	json_t *prot = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "nonce", nonce, "url", url);
	if (!prot)
		return NULL;
	if (kid) {
		json_object_set_new(prot, "kid", json_string(kid));
	} else if (jws_jwk(pk, jwk, sizeof(jwk)) < 0 ||
		   json_object_set_new(prot, "jwk", json_loads(jwk, 0, NULL)) < 0) {
		json_decref(prot);
		return NULL;
	}
	char *ptext = json_dumps(prot, JSON_COMPACT);
	json_decref(prot);
	size_t pl = ptext ? strlen(ptext) : 0, yl = strlen(payload);
	size_t pcap = pl * 4 / 3 + 4, ycap = yl * 4 / 3 + 4;
	char *p64 = malloc(pcap), *y64 = malloc(ycap), *input = malloc(pcap + ycap + 2);
	char *out = NULL;
	unsigned char sig[64];
	char s64[96];
	if (ptext && p64 && y64 && input && jws_b64url(ptext, pl, p64, pcap) == 0 &&
	    jws_b64url(payload, yl, y64, ycap) == 0) {
		snprintf(input, pcap + ycap + 2, "%s.%s", p64, y64);
		if (sign_es256(pk, input, sig) == 0 && jws_b64url(sig, sizeof(sig), s64, sizeof(s64)) == 0) {
			json_t *o = json_pack("{s:s,s:s,s:s}", "protected", p64, "payload", y64,
					      "signature", s64);
			out = o ? json_dumps(o, JSON_COMPACT) : NULL;
			json_decref(o);
		}
	}
	free(ptext);
	free(p64);
	free(y64);
	free(input);
	return out;
}
