// SPDX-License-Identifier: MIT
// Parsers for the ACME server's JSON replies (RFC 8555 7.1): directory, order,
// authorization and problem documents, into fixed-size structs. Untrusted input: sizes and
// counts are capped, URLs must be https, tokens base64url; anything else is an error.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define ACME_URL_MAX 1024
#define ACME_MAX_AUTHZ 16
#define ACME_BODY_MAX (256 * 1024)
#define ACME_TOKEN_MAX 128

enum acme_state {
	ACME_S_UNKNOWN, ACME_S_PENDING, ACME_S_READY, ACME_S_PROCESSING, ACME_S_VALID,
	ACME_S_INVALID, ACME_S_DEACTIVATED, ACME_S_EXPIRED, ACME_S_REVOKED,
};

struct acme_dir {
	char new_nonce[ACME_URL_MAX], new_account[ACME_URL_MAX], new_order[ACME_URL_MAX];
};

struct acme_order {
	enum acme_state status;
	char finalize[ACME_URL_MAX];
	char certificate[ACME_URL_MAX];   // "" until valid
	size_t nauthz;
	char authz[ACME_MAX_AUTHZ][ACME_URL_MAX];
	char error[256];                  // the order's problem detail, when it has one
};

struct acme_authz {
	enum acme_state status;
	char identifier[254];
	bool wildcard;
	// The http-01 and dns-01 challenges; url "" when the server offers none.
	char http_url[ACME_URL_MAX];
	char http_token[ACME_TOKEN_MAX + 1];
	char dns_url[ACME_URL_MAX];
	char dns_token[ACME_TOKEN_MAX + 1];
	char error[256];                  // a failed challenge's problem detail
};

struct acme_problem {
	char type[128];
	char detail[256];
};

// Each returns 0, or -1 with err saying what was wrong.
int acme_json_directory(const char *body, size_t len, struct acme_dir *d, char *err, size_t errsz);
int acme_json_order(const char *body, size_t len, struct acme_order *o, char *err, size_t errsz);
int acme_json_authz(const char *body, size_t len, struct acme_authz *a, char *err, size_t errsz);
// 0 when body is a problem document (RFC 7807) with a type.
int acme_json_problem(const char *body, size_t len, struct acme_problem *p);
const char *acme_state_name(enum acme_state s);
