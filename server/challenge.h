// SPDX-License-Identifier: MIT
// ACME HTTP-01 answers (RFC 8555 8.3): the front serves
// /.well-known/acme-challenge/<token> from DATA/tls/acme/challenges/<token>, which the ACME
// worker writes while an authorization is pending. Any host, plain HTTP or TLS.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"
#define CHALLENGE_TOKEN_MAX 128
#define CHALLENGE_BODY_MAX 512

struct web_req;
struct http_response;

// true when token is 1..CHALLENGE_TOKEN_MAX base64url characters (no dots, no slashes).
bool challenge_token_ok(const char *token);
// Answers a request whose path starts with CHALLENGE_PREFIX: 200 with the key
// authorization, or 404.
void challenge_serve(const struct web_req *w, struct http_response *r);
