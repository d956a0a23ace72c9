// SPDX-License-Identifier: MIT
// Unit tests for token.c: generation, hashing, validation and comparison.
#include <string.h>

#include "test.h"
#include "token.h"

static void test_new(void)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1];
	memset(a, 'x', sizeof(a));
	token_new(a);
	token_new(b);
	CHECK(strlen(a) == TOKEN_HEX_LEN, "token: new is %d characters", TOKEN_HEX_LEN);
	CHECK(token_valid(a) && token_valid(b), "token: new tokens are valid lowercase hex");
	CHECK(strcmp(a, b) != 0, "token: two new tokens differ");
}

static void test_hash(void)
{
	char h[TOKEN_HEX_LEN + 1], t[TOKEN_HEX_LEN + 1], h2[TOKEN_HEX_LEN + 1];
	token_hash("abc", h);
	CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	      "token: hash is hex SHA-256 (FIPS 180-2 'abc' vector)");
	token_hash("", h);
	CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
	      "token: hash of the empty string");
	token_new(t);
	token_hash(t, h);
	token_hash(t, h2);
	CHECK(token_valid(h) && strcmp(h, t) != 0, "token: a hash is token-shaped and not the token");
	CHECK(strcmp(h, h2) == 0, "token: hashing is deterministic");
}

static void test_valid(void)
{
	char t[TOKEN_HEX_LEN + 2];
	memset(t, 'a', TOKEN_HEX_LEN);
	t[TOKEN_HEX_LEN] = '\0';
	CHECK(token_valid(t), "token: 64 hex characters are valid");
	t[TOKEN_HEX_LEN] = 'a';
	t[TOKEN_HEX_LEN + 1] = '\0';
	CHECK(!token_valid(t), "token: 65 characters are not");
	t[TOKEN_HEX_LEN - 1] = '\0';
	CHECK(!token_valid(t), "token: 63 characters are not");
	memset(t, '0', TOKEN_HEX_LEN);
	t[TOKEN_HEX_LEN] = '\0';
	t[10] = 'A';
	CHECK(!token_valid(t), "token: uppercase hex is not");
	t[10] = 'g';
	CHECK(!token_valid(t), "token: a non-hex letter is not");
	t[10] = ' ';
	CHECK(!token_valid(t), "token: a space is not");
	CHECK(!token_valid("") && !token_valid(NULL), "token: empty and NULL are not");
}

static void test_equal(void)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1];
	token_new(a);
	memcpy(b, a, sizeof(a));
	CHECK(token_equal(a, b), "token: equal strings compare equal");
	b[TOKEN_HEX_LEN - 1] = b[TOKEN_HEX_LEN - 1] == '0' ? '1' : '0';
	CHECK(!token_equal(a, b), "token: a difference in the last character is seen");
	b[TOKEN_HEX_LEN - 1] = a[TOKEN_HEX_LEN - 1];
	b[0] = b[0] == '0' ? '1' : '0';
	CHECK(!token_equal(a, b), "token: a difference in the first character is seen");
	CHECK(!token_equal("abc", "abcd") && !token_equal("abcd", "abc"),
	      "token: different lengths are not equal");
	CHECK(token_equal("", ""), "token: two empty strings are equal");
}

int main(void)
{
	test_new();
	test_hash();
	test_valid();
	test_equal();
	return test_done();
}
