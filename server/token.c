// SPDX-License-Identifier: MIT
// Secret tokens: random generation, storage hashes, constant-time comparison, and the token
// an Authorization header carries.
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "token.h"

// Tokens come from a pool filled by one getrandom call per 128 tokens: a page for a
// logged-out visitor mints one, and a syscall each would cost more than the page. Each byte
// is handed out once and wiped; a forked child refills instead of reusing its parent's pool.
#define TOKEN_POOL (TOKEN_BYTES * 128)
static unsigned char pool[TOKEN_POOL];
static size_t pool_left;
static pid_t pool_pid;

void token_new(char out[TOKEN_HEX_LEN + 1])
{
	if (!pool_left || pool_pid != getpid()) {
		// sodium_init is idempotent and cheap once done; without it there is no safe
		// randomness, and a caller that asked for a secret cannot be handed anything else.
		if (sodium_init() < 0)
			die("token_new: libsodium failed to initialize");
		randombytes_buf(pool, sizeof(pool));
		pool_left = sizeof(pool);
		pool_pid = getpid();
	}
	unsigned char *raw = pool + sizeof(pool) - pool_left;
	sodium_bin2hex(out, TOKEN_HEX_LEN + 1, raw, TOKEN_BYTES);
	sodium_memzero(raw, TOKEN_BYTES);
	pool_left -= TOKEN_BYTES;
}

void token_hash(const char *token, char out[TOKEN_HEX_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	_Static_assert(crypto_hash_sha256_BYTES == TOKEN_BYTES, "hash and token sizes differ");
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, TOKEN_HEX_LEN + 1, h, sizeof(h));
}

int token_valid(const char *s)
{
	if (!s)
		return 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		if (i >= TOKEN_HEX_LEN)
			return 0;
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return i == TOKEN_HEX_LEN;
}

int token_equal(const char *a, const char *b)
{
	// The lengths are not secret (tokens have a fixed length); the contents are.
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}

bool token_from_authorization(const char *auth, char tok[TOKEN_HEX_LEN + 1])
{
	if (!auth)
		return false;
	if (strncasecmp(auth, "Bearer ", 7) == 0) {
		if (!token_valid(auth + 7))
			return false;
		memcpy(tok, auth + 7, TOKEN_HEX_LEN + 1);
		return true;
	}
	if (strncasecmp(auth, "Basic ", 6) != 0)
		return false;
	unsigned char raw[512];
	size_t n = 0;
	const char *b64 = auth + 6;
	if (strlen(b64) > 600 || sodium_base642bin(raw, sizeof(raw) - 1, b64, strlen(b64), NULL, &n,
						   NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	raw[n] = '\0';
	const char *colon = memchr(raw, ':', n);
	bool ok = colon && token_valid(colon + 1);
	if (ok)
		memcpy(tok, colon + 1, TOKEN_HEX_LEN + 1);
	sodium_memzero(raw, sizeof(raw));
	return ok;
}
