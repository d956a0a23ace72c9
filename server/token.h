// SPDX-License-Identifier: MIT
// Secret tokens: 256-bit random values shown to users in hex and stored only as SHA-256 hashes.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TOKEN_BYTES 32
#define TOKEN_HEX_LEN (TOKEN_BYTES * 2)   // characters, without the NUL

// Fills out (TOKEN_HEX_LEN + 1 bytes) with a fresh random token in lowercase hex.
void token_new(char out[TOKEN_HEX_LEN + 1]);
// Hash of a presented token for storage and lookup: hex SHA-256 of its bytes.
void token_hash(const char *token, char out[TOKEN_HEX_LEN + 1]);
// 1 when s is exactly TOKEN_HEX_LEN lowercase hex characters.
int token_valid(const char *s);
// Constant-time comparison of two NUL-terminated strings of equal length; 1 when equal.
int token_equal(const char *a, const char *b);
// The token of an Authorization header: "Bearer <token>", or "Basic base64(<any name>:<token>)"
// (a client that only knows user name and password). false when absent or malformed.
bool token_from_authorization(const char *auth, char tok[TOKEN_HEX_LEN + 1]);
