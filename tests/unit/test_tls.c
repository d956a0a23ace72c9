// SPDX-License-Identifier: MIT
// Unit tests for the TLS and ACME pieces that need no network: certificate names and
// wildcards, the self-signed certificate and CSR, bundles (a mismatched pair is refused),
// ES256 JWS signatures verified with mbedtls, the renewal time and the backoff, the
// TLS/ACME config keys, and the ACME reply parsers' refusals.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>
#include <sodium.h>

#include "acme.h"
#include "acme_json.h"
#include "config.h"
#include "jws.h"
#include "tls.h"
#include "tlscert.h"
#include "test.h"

static void test_names(void)
{
	CHECK(tlscert_name_match("*.silo.test", 11, "ui-1.silo.test"), "names: a wildcard covers one label");
	CHECK(!tlscert_name_match("*.silo.test", 11, "a.b.silo.test"), "names: a wildcard never covers two labels");
	CHECK(!tlscert_name_match("*.silo.test", 11, "silo.test"), "names: a wildcard does not cover its base");
	CHECK(tlscert_name_match("Silo.Test", 9, "silo.test"), "names: matching ignores case");
	CHECK(!tlscert_name_match("silo.test", 9, "silo.tes"), "names: no prefix matches");
	char names[2][TLSCERT_MAX_NAME + 1];
	CHECK(tlscert_host_names("silo.test", names, 2) == 2 && strcmp(names[1], "*.silo.test") == 0,
	      "names: a host name gets its wildcard");
	CHECK(tlscert_host_names("127.0.0.1", names, 2) == 1, "names: an address gets no wildcard");
}

static char key_pem[TLSCERT_PEM_MAX], crt_pem[TLSCERT_PEM_MAX];

static void test_self_signed(mbedtls_pk_context *pk)
{
	char names[2][TLSCERT_MAX_NAME + 1];
	size_t n = tlscert_host_names("box.example", names, 2);
	CHECK(tlscert_gen_key(pk) == 0, "cert: a P-256 key is made");
	CHECK(tlscert_self_signed(pk, names, n, (unsigned char *)crt_pem, sizeof(crt_pem)) == 0,
	      "cert: a self-signed certificate is made");
	mbedtls_pk_write_key_pem(pk, (unsigned char *)key_pem, sizeof(key_pem));
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	CHECK(mbedtls_x509_crt_parse(&crt, (unsigned char *)crt_pem, strlen(crt_pem) + 1) == 0,
	      "cert: it parses");
	CHECK(tlscert_covers(&crt, "box.example") && tlscert_covers(&crt, "ui-ab.box.example") &&
	      !tlscert_covers(&crt, "other.example"), "cert: it covers the host and its wildcard only");
	CHECK(mbedtls_pk_check_pair(&crt.pk, pk) == 0, "cert: it is for the key");
	mbedtls_x509_crt_free(&crt);
	char ip[1][TLSCERT_MAX_NAME + 1] = {"127.0.0.1"};
	static unsigned char pem[TLSCERT_PEM_MAX];
	mbedtls_x509_crt_init(&crt);
	CHECK(tlscert_self_signed(pk, ip, 1, pem, sizeof(pem)) == 0 &&
	      mbedtls_x509_crt_parse(&crt, pem, strlen((char *)pem) + 1) == 0 &&
	      tlscert_covers(&crt, "127.0.0.1") && !tlscert_covers(&crt, "127.0.0.2"),
	      "cert: an address goes in as an IP subjectAltName");
	mbedtls_x509_crt_free(&crt);
	char bad[1][TLSCERT_MAX_NAME + 1] = {"a,CN=evil"};
	CHECK(tlscert_self_signed(pk, bad, 1, pem, sizeof(pem)) < 0,
	      "cert: a name that would change the subject is refused");

	unsigned char csr[4096];
	const unsigned char *der;
	size_t len;
	mbedtls_x509_csr req;
	mbedtls_x509_csr_init(&req);
	CHECK(tlscert_csr(pk, names, n, csr, sizeof(csr), &der, &len) == 0 &&
	      mbedtls_x509_csr_parse_der(&req, der, len) == 0 &&
	      mbedtls_pk_check_pair(&req.pk, pk) == 0, "csr: a CSR for the key parses back");
	mbedtls_x509_csr_free(&req);
}

static void test_bundle(void)
{
	char err[160], bundle[5 * TLSCERT_PEM_MAX];
	snprintf(bundle, sizeof(bundle), "%s\n%s", key_pem, crt_pem);
	struct tls_certs *c = tls_certs_parse(bundle, strlen(bundle), err, sizeof(err));
	CHECK(c != NULL, "bundle: a key and its certificate load (%s)", c ? "ok" : err);
	tls_certs_unref(c);
	mbedtls_pk_context other;
	mbedtls_pk_init(&other);
	char other_pem[TLSCERT_PEM_MAX];
	tlscert_gen_key(&other);
	mbedtls_pk_write_key_pem(&other, (unsigned char *)other_pem, sizeof(other_pem));
	snprintf(bundle, sizeof(bundle), "%s\n%s", other_pem, crt_pem);
	c = tls_certs_parse(bundle, strlen(bundle), err, sizeof(err));
	CHECK(!c && strstr(err, "does not belong"), "bundle: a key with another key's certificate is refused: %s", err);
	tls_certs_unref(c);
	snprintf(bundle, sizeof(bundle), "%s\n%s%s\n%s", key_pem, crt_pem, other_pem, crt_pem);
	c = tls_certs_parse(bundle, strlen(bundle), err, sizeof(err));
	CHECK(!c, "bundle: one bad pair refuses the whole bundle (the old one stays served)");
	c = tls_certs_parse("garbage", 7, err, sizeof(err));
	CHECK(!c && err[0], "bundle: garbage is refused with a message: %s", err);
	snprintf(bundle, sizeof(bundle), "%.*s", (int)(strlen(key_pem) - 10), key_pem);
	c = tls_certs_parse(bundle, strlen(bundle), err, sizeof(err));
	CHECK(!c, "bundle: a truncated key is refused");
	mbedtls_pk_free(&other);
}

static size_t unb64(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	if (sodium_base642bin(out, cap, s, strlen(s), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return 0;
	return n;
}

static void test_jws(mbedtls_pk_context *pk)
{
	char *jws = jws_sign(pk, NULL, "nonce-1", "https://ca.test/new-acct", "{\"a\":1}");
	json_t *o = jws ? json_loads(jws, 0, NULL) : NULL;
	const char *prot = json_string_value(json_object_get(o, "protected"));
	const char *pay = json_string_value(json_object_get(o, "payload"));
	const char *sig = json_string_value(json_object_get(o, "signature"));
	CHECK(prot && pay && sig, "jws: a flattened JWS with protected, payload and signature");
	unsigned char raw[1024], s[128];
	size_t n = prot ? unb64(prot, raw, sizeof(raw) - 1) : 0;
	raw[n] = '\0';
	json_t *h = json_loads((char *)raw, 0, NULL);
	CHECK(h && strcmp(json_string_value(json_object_get(h, "alg")), "ES256") == 0 &&
	      strcmp(json_string_value(json_object_get(h, "nonce")), "nonce-1") == 0 &&
	      json_is_object(json_object_get(h, "jwk")) && !json_object_get(h, "kid"),
	      "jws: the header names ES256, the nonce, and the jwk when there is no kid");
	json_decref(h);
	// Verify r || s over "protected.payload" with the public key.
	char input[2048];
	snprintf(input, sizeof(input), "%s.%s", prot ? prot : "", pay ? pay : "");
	unsigned char hash[32];
	mbedtls_sha256_ret((unsigned char *)input, strlen(input), hash, 0);
	size_t sl = sig ? unb64(sig, s, sizeof(s)) : 0;
	mbedtls_mpi r, ss;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&ss);
	mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
	bool ok = sl == 64 && !mbedtls_mpi_read_binary(&r, s, 32) &&
		  !mbedtls_mpi_read_binary(&ss, s + 32, 32) &&
		  mbedtls_ecdsa_verify(&ec->grp, hash, 32, &ec->Q, &r, &ss) == 0;
	CHECK(ok, "jws: the 64-byte r||s signature verifies over protected.payload");
	s[5] ^= 1;
	mbedtls_mpi_read_binary(&r, s, 32);
	CHECK(mbedtls_ecdsa_verify(&ec->grp, hash, 32, &ec->Q, &r, &ss) != 0,
	      "jws: a changed signature does not verify");
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&ss);
	json_decref(o);
	free(jws);
	jws = jws_sign(pk, "https://ca.test/acct/1", "n2", "https://ca.test/order", "");
	o = jws ? json_loads(jws, 0, NULL) : NULL;
	CHECK(o && strcmp(json_string_value(json_object_get(o, "payload")), "") == 0,
	      "jws: POST-as-GET has an empty payload");
	json_decref(o);
	free(jws);
	char t1[JWS_THUMB_LEN + 1], t2[JWS_THUMB_LEN + 1];
	CHECK(jws_thumbprint(pk, t1) == 0 && jws_thumbprint(pk, t2) == 0 && strlen(t1) == 43 &&
	      strcmp(t1, t2) == 0, "jws: the thumbprint is 43 base64url characters, stable");
}

static void test_schedule(void)
{
	long long day = 86400;
	CHECK(acme_renew_at(0, 90 * day) == 60 * day, "renew: a 90-day certificate renews at day 60");
	CHECK(acme_renew_at(1000, 1000 + 3 * 3600) == 1000 + 2 * 3600,
	      "renew: a 3-hour certificate renews after 2 hours");
	CHECK(acme_renew_at(0, 0) == 0, "renew: an empty lifetime renews now");
	CHECK(acme_backoff(1, 21600) == 5 && acme_backoff(2, 21600) == 10 &&
	      acme_backoff(3, 21600) == 20, "backoff: 5 s doubling");
	CHECK(acme_backoff(40, 21600) == 21600, "backoff: capped at acme_retry_max");
}

static void test_config(void)
{
	struct config c;
	char err[256];
	config_defaults(&c, err, sizeof(err));
	CHECK(c.nlisten_tls == 0 && c.tls_handshake_timeout == 10 && !c.acme_directory[0],
	      "config: TLS and ACME are off by default");
	CHECK(config_parse(&c, "listen_tls = 127.0.0.1:8443 [::1]:8443\nacme_domain = a.example b.example\n"
			   "acme_directory = https://ca.test/dir\n", "t", err, sizeof(err)) == 0 &&
	      c.nlisten_tls == 2 && c.nacme_domain == 2, "config: listen_tls and acme_domain lists");
	CHECK(config_add(&c, "acme_domain", "c.example", err, sizeof(err)) == 0 && c.nacme_domain == 3,
	      "config: a repeated --acme-domain adds");
	CHECK(config_set(&c, "acme_domain", "Bad_Name", err, sizeof(err)) < 0 && strstr(err, "DNS name"),
	      "config: a name with bad characters is refused");
	CHECK(config_set(&c, "acme_domain", "a..b", err, sizeof(err)) < 0, "config: an empty label is refused");
	CHECK(config_set(&c, "acme_directory", "http://ca.test/dir", err, sizeof(err)) < 0,
	      "config: a plain-http ACME directory is refused");
	CHECK(config_set(&c, "listen_tls", "nonsense", err, sizeof(err)) < 0,
	      "config: a bad TLS address is refused");
	CHECK(config_set(&c, "dyndns_name", "my-box7", err, sizeof(err)) == 0 &&
	      config_set(&c, "dyndns_zone", "dyn.example", err, sizeof(err)) == 0,
	      "config: a dynamic DNS name and zone");
	CHECK(config_set(&c, "dyndns_name", "this-name-is-far-too-long", err, sizeof(err)) < 0 &&
	      config_set(&c, "dyndns_name", "-box", err, sizeof(err)) < 0 &&
	      config_set(&c, "dyndns_name", "Box", err, sizeof(err)) < 0,
	      "config: names over 20 characters, with a leading '-' or uppercase are refused");
	CHECK(config_set(&c, "dyndns_url", "http://dyn.example", err, sizeof(err)) < 0,
	      "config: a plain-http dynamic DNS service is refused");
}

static void test_acme_json(void)
{
	char err[160];
	struct acme_dir d;
	const char *dir = "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"https://ca/o\"}";
	CHECK(acme_json_directory(dir, strlen(dir), &d, err, sizeof(err)) == 0 &&
	      strcmp(d.new_order, "https://ca/o") == 0, "acme json: a directory parses");
	const char *plain = "{\"newNonce\":\"http://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"https://ca/o\"}";
	CHECK(acme_json_directory(plain, strlen(plain), &d, err, sizeof(err)) < 0 && strstr(err, "newNonce"),
	      "acme json: a non-https URL is refused, naming the field");
	struct acme_authz a;
	const char *wild = "{\"status\":\"pending\",\"wildcard\":true,\"identifier\":{\"value\":\"b.test\"},"
			   "\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://ca/d\",\"token\":\"tok_1\"}]}";
	CHECK(acme_json_authz(wild, strlen(wild), &a, err, sizeof(err)) == 0 && a.wildcard &&
	      strcmp(a.dns_token, "tok_1") == 0 && !a.http_url[0],
	      "acme json: a wildcard authorization offers dns-01 only");
	const char *evil = "{\"status\":\"pending\",\"identifier\":{\"value\":\"x.test\"},\"challenges\":"
			   "[{\"type\":\"http-01\",\"url\":\"https://ca/c\",\"token\":\"../../etc/passwd\"}]}";
	CHECK(acme_json_authz(evil, strlen(evil), &a, err, sizeof(err)) < 0,
	      "acme json: a token with path characters is refused");
	struct acme_order o;
	const char *dup = "{\"status\":\"valid\",\"status\":\"pending\",\"finalize\":\"https://ca/f\",\"authorizations\":[]}";
	CHECK(acme_json_order(dup, strlen(dup), &o, err, sizeof(err)) < 0,
	      "acme json: duplicate keys are refused");
	struct acme_problem p;
	const char *prob = "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"x\\ny\"}";
	CHECK(acme_json_problem(prob, strlen(prob), &p) == 0 && strcmp(p.detail, "x y") == 0,
	      "acme json: a problem's detail is kept on one line");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	mbedtls_pk_context pk;
	mbedtls_pk_init(&pk);
	test_names();
	test_self_signed(&pk);
	test_bundle();
	test_jws(&pk);
	test_schedule();
	test_config();
	test_acme_json();
	mbedtls_pk_free(&pk);
	return test_done();
}
