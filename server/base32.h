// SPDX-License-Identifier: MIT
// Sandstorm's base32 (alphabet 0123456789acdefghjkmnpqrstuvwxyz, most significant bit first,
// no padding), used for app ids: the 32-byte signing key as 52 characters.
#pragma once
#include <stddef.h>

#define BASE32_KEY_BYTES 32
#define BASE32_KEY_LEN 52   // characters for BASE32_KEY_BYTES, without the NUL

// Characters needed for n bytes: ceil(n * 8 / 5).
size_t base32_encoded_len(size_t n);
// Writes base32_encoded_len(n) characters and a NUL to out.
void base32_encode(const void *p, size_t n, char *out);
// Decodes exactly len characters into exactly outlen bytes. Only the canonical form is
// accepted: lowercase alphabet characters, len == base32_encoded_len(outlen), and zero
// padding bits, so each key has one spelling. 0 / -1.
int base32_decode(const char *s, size_t len, void *out, size_t outlen);

// The app id of a public key, and back (0 / -1 for anything not a canonical app id).
void base32_encode_key(const unsigned char key[BASE32_KEY_BYTES], char out[BASE32_KEY_LEN + 1]);
int base32_decode_key(const char *s, unsigned char key[BASE32_KEY_BYTES]);
