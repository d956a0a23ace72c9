// SPDX-License-Identifier: MIT
// The ACME client (RFC 8555) over libcurl: directory, nonces (badNonce retried), account,
// order, HTTP-01 authorizations, finalize with a CSR, and the certificate chain. Blocking
// calls: it runs in the ACME worker process, never in the front's event loop.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/pk.h>

#include "acme_json.h"
#include "buf.h"
#include "tlscert.h"

struct acme {
	void *curl;                     // CURL *
	mbedtls_pk_context *account;    // the account key (ES256)
	const char *ca_pem;             // an extra CA for the ACME server, PEM (NULL: system's)
	size_t ca_len;
	const char *challenge_dir;      // where HTTP-01 key authorizations are left for the front
	// DNS-01 (optional): names the hook can publish TXT records for are answered over
	// DNS-01 (wildcards can only be); set publishes _acme-challenge.<identifier>'s value,
	// value NULL clears it. 0 / -1 with err.
	bool (*dns_covers)(void *arg, const char *identifier);
	int (*dns_set)(void *arg, const char *identifier, const char *value, char *err, size_t errsz);
	void *dns_arg;
	struct acme_dir dir;
	char kid[ACME_URL_MAX];         // the account URL, once known
	char nonce[256];
	// The last response.
	long status;
	struct buf body;
	char location[ACME_URL_MAX];
	long retry_after;               // seconds, 0 when absent
	char err[512];                  // what went wrong, for people
};

// Fetches the directory. 0 / -1 (a->err says why).
int acme_open(struct acme *a, const char *directory_url);
void acme_close(struct acme *a);
// Finds or creates the account for a->account (RFC 8555 7.3). 0 / -1.
int acme_account(struct acme *a);
// Orders a certificate for names, answers every authorization (DNS-01 where the hook
// covers the name, else HTTP-01), finalizes
// with a CSR for cert_key and downloads the chain into chain (PEM). 0 / -1.
int acme_issue(struct acme *a, char names[][TLSCERT_MAX_NAME + 1], size_t n,
	       mbedtls_pk_context *cert_key, struct buf *chain);
// When a certificate issued at not_before, expiring at not_after, is renewed: two thirds
// into its lifetime (Sandstorm's rule), never later than a day before expiry.
long long acme_renew_at(long long not_before, long long not_after);
// The wait after the failures-th failure in a row: 5 s doubling, at most max seconds.
long acme_backoff(unsigned failures, long max);
