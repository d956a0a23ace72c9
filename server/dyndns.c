// SPDX-License-Identifier: MIT
// The dynamic DNS client (sandcats-style): client-certificate authenticated form POSTs.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <mbedtls/pk.h>
#include <sodium.h>

#include "buf.h"
#include "dyndns.h"
#include "httpc.h"
#include "tlscert.h"
#include "util.h"
#include "version.h"

int dyndns_keys(struct dyndns *d, const char *dir)
{
	util_path(d->key, sizeof(d->key), "%s/dyndns.key", dir);
	util_path(d->cert, sizeof(d->cert), "%s/dyndns.crt", dir);
	mbedtls_pk_context pk;
	mbedtls_pk_init(&pk);
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	int r = mbedtls_pk_parse_keyfile(&pk, d->key, NULL) == 0 &&
			mbedtls_x509_crt_parse_file(&crt, d->cert) == 0 &&
			mbedtls_pk_check_pair(&crt.pk, &pk) == 0 ? 0 : -1;
	mbedtls_x509_crt_free(&crt);
	if (r < 0 && (access(d->key, F_OK) == 0 || access(d->cert, F_OK) == 0)) {
		// The key is what holds the name: never replace one that is there but unusable.
		snprintf(d->err, sizeof(d->err), "the client key or certificate in %.200s cannot be "
			 "used (unreadable or not a pair); move both away to make new ones", dir);
		mbedtls_pk_free(&pk);
		return -1;
	}
	if (r < 0) {
		// The service only ever sees this certificate; the key stays in this file.
		static unsigned char kpem[TLSCERT_PEM_MAX], cpem[TLSCERT_PEM_MAX];
		char names[1][TLSCERT_MAX_NAME + 1];
		snprintf(names[0], sizeof(names[0]), "%s.%s", d->name, d->zone);
		mbedtls_pk_free(&pk);
		mbedtls_pk_init(&pk);
		r = tlscert_gen_key(&pk) == 0 && mbedtls_pk_write_key_pem(&pk, kpem, sizeof(kpem)) == 0 &&
				tlscert_self_signed(&pk, names, 1, cpem, sizeof(cpem)) == 0 &&
				tlscert_write_file(d->key, kpem, strlen((char *)kpem), 0600) == 0 &&
				tlscert_write_file(d->cert, cpem, strlen((char *)cpem), 0644) == 0 ? 0 : -1;
		sodium_memzero(kpem, sizeof(kpem));
		if (r < 0)
			snprintf(d->err, sizeof(d->err), "cannot make the client key in %.200s: %s", dir,
				 strerror(errno));
	}
	mbedtls_pk_free(&pk);
	return r;
}

// POSTs form to path with the client certificate. 0 on 2xx; -1 with d->err naming what
// the service said (or why it could not be reached).
static int call(struct dyndns *d, const char *path, const char *form, const char *what)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(d->err, sizeof(d->err), "cannot start libcurl");
		return -1;
	}
	char url[800];
	snprintf(url, sizeof(url), "%s%s", d->url, path);
	struct buf body;
	buf_init(&body);
	body.max = DYNDNS_REPLY_MAX;
	struct curl_slist *h = curl_slist_append(NULL, "X-Sand: cats");
	h = curl_slist_append(h, "Accept: text/plain");
	httpc_setup(c, &(struct httpc){.url = url, .protocols = "https", .timeout = 30,
					.agent = "silo-dyndns/" SILO_VERSION, .headers = h,
					.body = &body, .ca_pem = d->ca_pem, .ca_len = d->ca_len});
	curl_easy_setopt(c, CURLOPT_SSLCERT, d->cert);
	curl_easy_setopt(c, CURLOPT_SSLKEY, d->key);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	d->status = rc == CURLE_OK ? status : 0;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	char text[256];
	dyndns_reply_text(body.data ? body.data : "", body.len, text, sizeof(text));
	buf_free(&body);
	if (rc != CURLE_OK) {
		snprintf(d->err, sizeof(d->err), "%s: cannot reach the dynamic DNS service at %.200s: %s",
			 what, d->url, rc == CURLE_WRITE_ERROR ? "reply too large" : curl_easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		snprintf(d->err, sizeof(d->err), "%s: the dynamic DNS service refused (HTTP %ld): %s",
			 what, status, text[0] ? text : "no reason given");
		return -1;
	}
	return 0;
}

// POSTs rawHostname=NAME&FIELD=VALUE, the value escaped (an e-mail address, a token).
static int call_with(struct dyndns *d, const char *path, const char *field, const char *value,
		     const char *what)
{
	char *v = curl_easy_escape(NULL, value, 0);
	char form[1024]; // an escaped 255-byte address takes 765
	int n = v ? snprintf(form, sizeof(form), "rawHostname=%s&%s=%s", d->name, field, v) : -1;
	curl_free(v);
	if (n < 0 || (size_t)n >= sizeof(form)) {
		snprintf(d->err, sizeof(d->err), "%s: the %s does not fit in a request", what, field);
		return -1;
	}
	return call(d, path, form, what);
}

int dyndns_register(struct dyndns *d)
{
	return call_with(d, "/register", "email", d->email ? d->email : "", "registering the name");
}

int dyndns_available(struct dyndns *d)
{
	char form[128];
	snprintf(form, sizeof(form), "rawHostname=%s", d->name);
	if (call(d, "/available", form, "checking the name") == 0)
		return 0;
	return d->status == 409 ? 1 : -1;
}

int dyndns_send_recovery(struct dyndns *d)
{
	char form[128];
	snprintf(form, sizeof(form), "rawHostname=%s", d->name);
	return call(d, "/sendrecoverytoken", form, "asking for a recovery token");
}

int dyndns_recover(struct dyndns *d, const char *token)
{
	return call_with(d, "/recover", "recoveryToken", token, "recovering the name");
}

int dyndns_update(struct dyndns *d)
{
	char form[128];
	snprintf(form, sizeof(form), "rawHostname=%s", d->name);
	return call(d, "/update", form, "updating the address");
}

int dyndns_txt(struct dyndns *d, const char *value)
{
	char form[256];
	// The value is base64url (RFC 8555 8.4): nothing in it needs escaping.
	if (value)
		snprintf(form, sizeof(form), "rawHostname=%s&value=%s", d->name, value);
	else
		snprintf(form, sizeof(form), "rawHostname=%s&clear=1", d->name);
	return call(d, "/acme-challenge", form, "publishing the DNS-01 record");
}
