// SPDX-License-Identifier: MIT
// Sandstorm's base32 for app ids.
#include <stdint.h>
#include <string.h>

#include "base32.h"

static const char base32_alphabet[] = "0123456789acdefghjkmnpqrstuvwxyz";

size_t base32_encoded_len(size_t n)
{
	return (n * 8 + 4) / 5;
}

void base32_encode(const void *p, size_t n, char *out)
{
	const unsigned char *b = p;
	uint32_t acc = 0;   // holds at most 12 pending bits
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | b[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = base32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits)
		out[o++] = base32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int base32_value(char c)
{
	const char *q = c ? memchr(base32_alphabet, c, 32) : NULL;
	return q ? (int)(q - base32_alphabet) : -1;
}

int base32_decode(const char *s, size_t len, void *out, size_t outlen)
{
	unsigned char *b = out;
	if (len != base32_encoded_len(outlen))
		return -1;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v = base32_value(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			b[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	// What is left are the padding bits of the last character: they must be zero.
	return acc == 0 && o == outlen ? 0 : -1;
}

void base32_encode_key(const unsigned char key[BASE32_KEY_BYTES], char out[BASE32_KEY_LEN + 1])
{
	base32_encode(key, BASE32_KEY_BYTES, out);
}

int base32_decode_key(const char *s, unsigned char key[BASE32_KEY_BYTES])
{
	size_t n = strnlen(s, BASE32_KEY_LEN + 1);
	return base32_decode(s, n, key, BASE32_KEY_BYTES);
}
