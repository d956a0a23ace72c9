// SPDX-License-Identifier: MIT
// The ACME client (RFC 8555) over libcurl, run by the ACME worker process.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mbedtls/sha256.h>

#include "acme.h"
#include "httpc.h"
#include "jws.h"
#include "log.h"
#include "tlscert.h"
#include "util.h"
#include "version.h"

#define POLL_TRIES 60         // a pending authorization or order gets this many looks
#define RETRY_AFTER_MAX 10    // seconds: a longer Retry-After is shortened to this

long long acme_renew_at(long long not_before, long long not_after)
{
	long long life = not_after - not_before;
	long long at = not_before + life * 2 / 3;
	if (life <= 0)
		return not_before;
	return at > not_after - 86400 && life > 2 * 86400 ? not_after - 86400 : at;
}

long acme_backoff(unsigned failures, long max)
{
	long w = 5;
	for (unsigned i = 1; i < failures && w < max; i++)
		w *= 2;
	return w < max ? w : max;
}

// Copies a header's value (trimmed) when name matches.
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if ((size_t)(end - v) >= outsz)
		return false;
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct acme *a = arg;
	char v[32];
	size_t len = size * n;
	header_value(p, len, "Replay-Nonce", a->nonce, sizeof(a->nonce));
	header_value(p, len, "Location", a->location, sizeof(a->location));
	if (header_value(p, len, "Retry-After", v, sizeof(v)))
		a->retry_after = strtol(v, NULL, 10);
	return len;
}

// One HTTPS exchange; body NULL: GET (or HEAD when head). 0 when a response came.
static int http(struct acme *a, const char *url, const char *body, bool head, const char *accept)
{
	CURL *c = a->curl;
	buf_reset(&a->body);
	a->location[0] = '\0';
	a->retry_after = 0;
	a->status = 0;
	curl_easy_reset(c);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/jose+json");
	char acc[96];
	snprintf(acc, sizeof(acc), "Accept: %s", accept ? accept : "application/json");
	h = curl_slist_append(h, acc);
	httpc_setup(c, &(struct httpc){.url = url, .protocols = "https", .timeout = 30,
					.agent = "silo-acme/" SILO_VERSION, .headers = h,
					.body = &a->body, .ca_pem = a->ca_pem, .ca_len = a->ca_len});
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc == CURLE_WRITE_ERROR) {
		snprintf(a->err, sizeof(a->err), "the certificate authority's reply from %.200s is "
			 "larger than %d KiB", url, ACME_BODY_MAX / 1024);
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(a->err, sizeof(a->err), "cannot reach the certificate authority at %.200s: %s",
			 url, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	return 0;
}

// An error reply in words: the problem document's detail when there is one.
static void reply_error(struct acme *a, const char *what)
{
	struct acme_problem p;
	if (acme_json_problem(a->body.data ? a->body.data : "", a->body.len, &p) == 0)
		snprintf(a->err, sizeof(a->err), "%s: the CA refused: %s (%s, HTTP %ld)", what,
			 p.detail[0] ? p.detail : "no detail", p.type, a->status);
	else
		snprintf(a->err, sizeof(a->err), "%s: the CA answered HTTP %ld", what, a->status);
}

static bool is_bad_nonce(struct acme *a)
{
	struct acme_problem p;
	return a->status == 400 &&
	       acme_json_problem(a->body.data ? a->body.data : "", a->body.len, &p) == 0 &&
	       strcmp(p.type, "urn:ietf:params:acme:error:badNonce") == 0;
}

// A signed POST (payload "" is POST-as-GET). A badNonce reply is retried with the fresh
// nonce it carries (RFC 8555 6.5). 0 when the CA answered 2xx.
static int post(struct acme *a, const char *url, const char *payload, const char *what,
		const char *accept)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		if (!a->nonce[0] && (http(a, a->dir.new_nonce, NULL, true, NULL) < 0 || !a->nonce[0])) {
			if (!a->err[0] || a->status)
				snprintf(a->err, sizeof(a->err), "%s: the CA gave no nonce", what);
			return -1;
		}
		char *jws = jws_sign(a->account, a->kid[0] ? a->kid : NULL, a->nonce, url, payload);
		a->nonce[0] = '\0'; // a nonce is good for one request
		if (!jws) {
			snprintf(a->err, sizeof(a->err), "%s: cannot sign the request", what);
			return -1;
		}
		int r = http(a, url, jws, false, accept);
		free(jws);
		if (r < 0)
			return -1;
		if (is_bad_nonce(a))
			continue;
		if (a->status >= 200 && a->status < 300)
			return 0;
		reply_error(a, what);
		return -1;
	}
	snprintf(a->err, sizeof(a->err), "%s: the CA kept rejecting our nonces", what);
	return -1;
}

int acme_open(struct acme *a, const char *directory_url)
{
	a->err[0] = '\0';
	buf_init(&a->body);
	a->body.max = ACME_BODY_MAX; // a larger reply ends the transfer
	if (!(a->curl = curl_easy_init())) {
		snprintf(a->err, sizeof(a->err), "cannot start libcurl");
		return -1;
	}
	if (http(a, directory_url, NULL, false, NULL) < 0)
		return -1;
	char err[160];
	if (a->status != 200) {
		reply_error(a, "directory");
		return -1;
	}
	if (acme_json_directory(a->body.data, a->body.len, &a->dir, err, sizeof(err)) < 0) {
		snprintf(a->err, sizeof(a->err), "the directory at %.200s is unusable: %s",
			 directory_url, err);
		return -1;
	}
	return 0;
}

void acme_close(struct acme *a)
{
	if (a->curl)
		curl_easy_cleanup(a->curl);
	a->curl = NULL;
	buf_free(&a->body);
}

int acme_account(struct acme *a)
{
	a->kid[0] = '\0';
	if (post(a, a->dir.new_account, "{\"termsOfServiceAgreed\":true}", "account", NULL) < 0)
		return -1;
	if (!a->location[0] || strncmp(a->location, "https://", 8) != 0) {
		snprintf(a->err, sizeof(a->err), "account: the CA gave no account URL");
		return -1;
	}
	snprintf(a->kid, sizeof(a->kid), "%s", a->location);
	return 0;
}

static void pause_for(struct acme *a)
{
	long s = a->retry_after > 0 ? a->retry_after : 1;
	sleep((unsigned)(s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : s));
}

// The key authorization for token (RFC 8555 8.1): token "." thumbprint.
static int key_auth(struct acme *a, const char *token, char *out, size_t outsz)
{
	char thumb[JWS_THUMB_LEN + 1];
	if (jws_thumbprint(a->account, thumb) < 0)
		return -1;
	int n = snprintf(out, outsz, "%s.%s", token, thumb);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

// Publishes the answer to z's challenge: the HTTP-01 file the front serves, or through the
// DNS hook the TXT value (base64url of the key authorization's SHA-256, RFC 8555 8.4).
// *dns tells which one was used. 0 / -1.
static int publish(struct acme *a, const struct acme_authz *z, bool *dns, char *path,
		   size_t pathsz)
{
	char ka[ACME_TOKEN_MAX + JWS_THUMB_LEN + 2];
	*dns = a->dns_set && z->dns_url[0] && a->dns_covers(a->dns_arg, z->identifier);
	if (!*dns && !z->http_url[0]) {
		snprintf(a->err, sizeof(a->err), "the CA offers no challenge we can answer for %s%s",
			 z->wildcard ? "*." : "", z->identifier);
		return -1;
	}
	if (key_auth(a, *dns ? z->dns_token : z->http_token, ka, sizeof(ka)) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot make the key authorization");
		return -1;
	}
	if (*dns) {
		unsigned char h[32];
		char value[48];
		mbedtls_sha256_ret((const unsigned char *)ka, strlen(ka), h, 0);
		jws_b64url(h, sizeof(h), value, sizeof(value));
		return a->dns_set(a->dns_arg, z->identifier, value, a->err, sizeof(a->err));
	}
	if (util_path(path, pathsz, "%s/%s", a->challenge_dir, z->http_token) < 0 ||
	    tlscert_write_file(path, ka, strlen(ka), 0644) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot write the challenge file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int authorize(struct acme *a, const char *url)
{
	struct acme_authz z;
	char err[160], path[4200] = "";
	bool dns = false;
	if (post(a, url, "", "authorization", NULL) < 0)
		return -1;
	if (acme_json_authz(a->body.data, a->body.len, &z, err, sizeof(err)) < 0) {
		snprintf(a->err, sizeof(a->err), "authorization: %s", err);
		return -1;
	}
	if (z.status == ACME_S_VALID)
		return 0;
	if (z.status != ACME_S_PENDING) {
		snprintf(a->err, sizeof(a->err), "authorization for %s is %s", z.identifier,
			 acme_state_name(z.status));
		return -1;
	}
	if (publish(a, &z, &dns, path, sizeof(path)) < 0)
		return -1;
	char what[64];
	snprintf(what, sizeof(what), "%s", dns ? "DNS-01" : "HTTP-01");
	int r = post(a, dns ? z.dns_url : z.http_url, "{}", "challenge", NULL);
	for (int i = 0; r == 0 && i < POLL_TRIES; i++) {
		if ((r = post(a, url, "", "authorization", NULL)) < 0)
			break;
		if ((r = acme_json_authz(a->body.data, a->body.len, &z, err, sizeof(err))) < 0) {
			snprintf(a->err, sizeof(a->err), "authorization: %s", err);
			break;
		}
		if (z.status == ACME_S_VALID)
			break;
		if (z.status != ACME_S_PENDING) {
			snprintf(a->err, sizeof(a->err), "the CA could not validate %.100s over %s: %.300s",
				 z.identifier, what, z.error[0] ? z.error : acme_state_name(z.status));
			r = -1;
			break;
		}
		if (i == POLL_TRIES - 1) {
			snprintf(a->err, sizeof(a->err), "authorization for %s stayed pending", z.identifier);
			r = -1;
		}
		pause_for(a);
	}
	if (dns) {
		char e2[128];
		a->dns_set(a->dns_arg, z.identifier, NULL, e2, sizeof(e2)); // best effort
	} else {
		unlink(path);
	}
	return r;
}

// Looks at the order until it leaves pending/processing. 0 with ord updated.
static int order_wait(struct acme *a, const char *url, struct acme_order *ord)
{
	char err[160];
	for (int i = 0; i < POLL_TRIES; i++) {
		if (ord->status != ACME_S_PENDING && ord->status != ACME_S_PROCESSING)
			return 0;
		pause_for(a);
		if (post(a, url, "", "order", NULL) < 0)
			return -1;
		if (acme_json_order(a->body.data, a->body.len, ord, err, sizeof(err)) < 0) {
			snprintf(a->err, sizeof(a->err), "order: %s", err);
			return -1;
		}
	}
	snprintf(a->err, sizeof(a->err), "the order stayed %s", acme_state_name(ord->status));
	return -1;
}

static char *order_payload(char names[][TLSCERT_MAX_NAME + 1], size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"identifiers\":[");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s{\"type\":\"dns\",\"value\":\"%s\"}", i ? "," : "", names[i]);
	buf_puts(&b, "]}");
	const char *s = buf_cstr(&b);
	char *out = s ? strdup(s) : NULL;
	buf_free(&b);
	return out;
}

static int finalize(struct acme *a, const char *order_url, struct acme_order *ord,
		    char names[][TLSCERT_MAX_NAME + 1], size_t n, mbedtls_pk_context *key)
{
	unsigned char csr[4096];
	const unsigned char *der;
	size_t derlen;
	char b64[6000], payload[6100], err[160];
	if (tlscert_csr(key, names, n, csr, sizeof(csr), &der, &derlen) < 0 ||
	    jws_b64url(der, derlen, b64, sizeof(b64)) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot make the certificate request (CSR)");
		return -1;
	}
	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", b64);
	if (post(a, ord->finalize, payload, "finalize", NULL) < 0)
		return -1;
	if (acme_json_order(a->body.data, a->body.len, ord, err, sizeof(err)) < 0) {
		snprintf(a->err, sizeof(a->err), "finalize: %s", err);
		return -1;
	}
	if (order_wait(a, order_url, ord) < 0)
		return -1;
	if (ord->status != ACME_S_VALID || !ord->certificate[0]) {
		snprintf(a->err, sizeof(a->err), "the order ended %s%s%s", acme_state_name(ord->status),
			 ord->error[0] ? ": " : "", ord->error);
		return -1;
	}
	return 0;
}

int acme_issue(struct acme *a, char names[][TLSCERT_MAX_NAME + 1], size_t n,
	       mbedtls_pk_context *cert_key, struct buf *chain)
{
	struct acme_order ord;
	a->err[0] = '\0';
	char order_url[ACME_URL_MAX], err[160];
	char *payload = order_payload(names, n);
	int r = payload ? post(a, a->dir.new_order, payload, "new order", NULL) : -1;
	free(payload);
	if (r < 0)
		return -1;
	if (strncmp(a->location, "https://", 8) != 0) {
		snprintf(a->err, sizeof(a->err), "new order: the CA gave no order URL");
		return -1;
	}
	snprintf(order_url, sizeof(order_url), "%s", a->location);
	if (acme_json_order(a->body.data, a->body.len, &ord, err, sizeof(err)) < 0) {
		snprintf(a->err, sizeof(a->err), "new order: %s", err);
		return -1;
	}
	for (size_t i = 0; i < ord.nauthz; i++)
		if (authorize(a, ord.authz[i]) < 0)
			return -1;
	// All authorizations valid: the order turns ready (maybe after a moment).
	if (post(a, order_url, "", "order", NULL) < 0 ||
	    acme_json_order(a->body.data, a->body.len, &ord, err, sizeof(err)) < 0 ||
	    order_wait(a, order_url, &ord) < 0) {
		if (!a->err[0])
			snprintf(a->err, sizeof(a->err), "order: %s", err);
		return -1;
	}
	if (ord.status != ACME_S_READY && ord.status != ACME_S_VALID) {
		snprintf(a->err, sizeof(a->err), "the order is %s, not ready", acme_state_name(ord.status));
		return -1;
	}
	if (ord.status == ACME_S_READY && finalize(a, order_url, &ord, names, n, cert_key) < 0)
		return -1;
	if (post(a, ord.certificate, "", "certificate download", "application/pem-certificate-chain") < 0)
		return -1;
	buf_reset(chain);
	buf_append(chain, a->body.data, a->body.len);
	return chain->oom ? -1 : 0;
}
