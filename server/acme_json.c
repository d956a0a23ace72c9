// SPDX-License-Identifier: MIT
// Parsers for the ACME server's JSON replies.
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "acme_json.h"
#include "challenge.h"

static const char *const states[] = {
	[ACME_S_UNKNOWN] = "unknown", [ACME_S_PENDING] = "pending", [ACME_S_READY] = "ready",
	[ACME_S_PROCESSING] = "processing", [ACME_S_VALID] = "valid", [ACME_S_INVALID] = "invalid",
	[ACME_S_DEACTIVATED] = "deactivated", [ACME_S_EXPIRED] = "expired",
	[ACME_S_REVOKED] = "revoked",
};

const char *acme_state_name(enum acme_state s)
{
	return (size_t)s < sizeof(states) / sizeof(states[0]) ? states[s] : "unknown";
}

static enum acme_state state_of(json_t *v)
{
	const char *s = json_string_value(v);
	for (size_t i = 1; s && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(s, states[i]) == 0)
			return (enum acme_state)i;
	return ACME_S_UNKNOWN;
}

static json_t *load(const char *body, size_t len, char *err, size_t errsz)
{
	if (len > ACME_BODY_MAX) {
		snprintf(err, errsz, "reply larger than %d bytes", ACME_BODY_MAX);
		return NULL;
	}
	json_error_t je;
	// Depth is bounded by jansson; duplicates would let two readers disagree.
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		snprintf(err, errsz, "reply is not a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

// An https URL without control characters or spaces that fits out.
static int url(json_t *o, const char *key, bool need, char out[ACME_URL_MAX], char *err,
	       size_t errsz)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	out[0] = '\0';
	if (!v && !need)
		return 0;
	size_t n = s ? strlen(s) : 0;
	bool ok = s && n < ACME_URL_MAX && n == json_string_length(v) && strncmp(s, "https://", 8) == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] > 0x20 && s[i] != 0x7f;
	if (!ok) {
		snprintf(err, errsz, "\"%s\" is missing or not an https URL", key);
		return -1;
	}
	memcpy(out, s, n + 1);
	return 0;
}

// A printable one-line copy of a string (problem details end up on the admin page).
static void text(json_t *v, char *out, size_t outsz)
{
	const char *s = json_string_value(v);
	size_t j = 0;
	for (size_t i = 0; s && s[i] && j + 1 < outsz; i++)
		out[j++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[j] = '\0';
}

int acme_json_directory(const char *body, size_t len, struct acme_dir *d, char *err, size_t errsz)
{
	json_t *o = load(body, len, err, errsz);
	if (!o)
		return -1;
	int r = url(o, "newNonce", true, d->new_nonce, err, errsz) ||
		url(o, "newAccount", true, d->new_account, err, errsz) ||
		url(o, "newOrder", true, d->new_order, err, errsz) ? -1 : 0;
	json_decref(o);
	return r;
}

int acme_json_order(const char *body, size_t len, struct acme_order *ord, char *err, size_t errsz)
{
	memset(ord, 0, sizeof(*ord));
	json_t *o = load(body, len, err, errsz);
	if (!o)
		return -1;
	int r = -1;
	json_t *az = json_object_get(o, "authorizations");
	ord->status = state_of(json_object_get(o, "status"));
	if (ord->status == ACME_S_UNKNOWN)
		snprintf(err, errsz, "the order has no known status");
	else if (url(o, "finalize", true, ord->finalize, err, errsz) == 0 &&
		 url(o, "certificate", false, ord->certificate, err, errsz) == 0) {
		if (!json_is_array(az) || json_array_size(az) > ACME_MAX_AUTHZ) {
			snprintf(err, errsz, "\"authorizations\" is not an array of at most %d URLs",
				 ACME_MAX_AUTHZ);
		} else {
			r = 0;
			for (size_t i = 0; r == 0 && i < json_array_size(az); i++) {
				json_t *w = json_pack("{sO}", "u", json_array_get(az, i));
				r = url(w, "u", true, ord->authz[i], err, errsz);
				json_decref(w);
			}
			ord->nauthz = r == 0 ? json_array_size(az) : 0;
		}
	}
	text(json_object_get(json_object_get(o, "error"), "detail"), ord->error, sizeof(ord->error));
	json_decref(o);
	return r;
}

int acme_json_authz(const char *body, size_t len, struct acme_authz *a, char *err, size_t errsz)
{
	memset(a, 0, sizeof(*a));
	json_t *o = load(body, len, err, errsz);
	if (!o)
		return -1;
	int r = -1;
	json_t *id = json_object_get(o, "identifier"), *ch = json_object_get(o, "challenges");
	const char *value = json_string_value(json_object_get(id, "value"));
	a->status = state_of(json_object_get(o, "status"));
	a->wildcard = json_is_true(json_object_get(o, "wildcard"));
	if (a->status == ACME_S_UNKNOWN) {
		snprintf(err, errsz, "the authorization has no known status");
	} else if (!value || strlen(value) >= sizeof(a->identifier)) {
		snprintf(err, errsz, "the authorization has no identifier");
	} else if (!json_is_array(ch) || json_array_size(ch) > 16) {
		snprintf(err, errsz, "\"challenges\" is not an array of at most 16");
	} else {
		text(json_object_get(id, "value"), a->identifier, sizeof(a->identifier));
		r = 0;
		for (size_t i = 0; r == 0 && i < json_array_size(ch); i++) {
			json_t *c = json_array_get(ch, i);
			const char *type = json_string_value(json_object_get(c, "type"));
			bool http = type && strcmp(type, "http-01") == 0;
			if (!type || (!http && strcmp(type, "dns-01") != 0))
				continue;
			const char *tok = json_string_value(json_object_get(c, "token"));
			if (!tok || !challenge_token_ok(tok)) {
				snprintf(err, errsz, "the %s challenge's token is not base64url", type);
				r = -1;
				break;
			}
			r = url(c, "url", true, http ? a->http_url : a->dns_url, err, errsz);
			snprintf(http ? a->http_token : a->dns_token, sizeof(a->http_token), "%s", tok);
			if (json_object_get(c, "error"))
				text(json_object_get(json_object_get(c, "error"), "detail"), a->error,
				     sizeof(a->error));
		}
	}
	json_decref(o);
	return r;
}

int acme_json_problem(const char *body, size_t len, struct acme_problem *p)
{
	char err[64];
	memset(p, 0, sizeof(*p));
	json_t *o = load(body, len, err, sizeof(err));
	if (!o)
		return -1;
	text(json_object_get(o, "type"), p->type, sizeof(p->type));
	text(json_object_get(o, "detail"), p->detail, sizeof(p->detail));
	json_decref(o);
	return p->type[0] ? 0 : -1;
}
