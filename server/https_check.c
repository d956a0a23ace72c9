// SPDX-License-Identifier: MIT
// The wizard's checks: a dynamic DNS name's availability, and port 80 of an own domain
// reaching this box (a token we serve ourselves, fetched through the name).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "challenge.h"
#include "chars.h"
#include "config.h"
#include "datadir.h"
#include "dnsq.h"
#include "dyndns.h"
#include "httpc.h"
#include "https_check.h"
#include "tlscert.h"
#include "token.h"
#include "util.h"
#include "version.h"

// The dynamic DNS client for name, with the box's key (made on first use). 0 / -1 (d->err).
static int client(const struct config *c, const char *name, const char *ca, size_t ca_len,
		  struct dyndns *d)
{
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/tls/acme", c->data);
	*d = (struct dyndns){.url = c->dyndns_url, .name = name, .zone = c->dyndns_zone,
			     .email = c->dyndns_email, .ca_pem = ca, .ca_len = ca_len};
	return dyndns_keys(d, dir);
}

static void check_name(const struct config *c, const char *name, const char *ca, size_t ca_len,
		       int32_t *status, char *text, size_t textsz)
{
	struct dyndns d;
	int r = client(c, name, ca, ca_len, &d);
	if (r == 0)
		r = dyndns_available(&d);
	if (r < 0) {
		*status = EIO;
		snprintf(text, textsz, "%s", d.err);
	} else if (r == 1) {
		*status = EEXIST;
		snprintf(text, textsz, "%s.%s is taken by another server; pick another name", name,
			 c->dyndns_zone);
	} else {
		snprintf(text, textsz, "%s.%s is free", name, c->dyndns_zone);
	}
}

bool https_token_ok(const char *t)
{
	size_t n = 0;
	for (; t[n]; n++)
		if (!ch_alnum((unsigned char)t[n]) && t[n] != '_' && t[n] != '-')
			return false;
	return n >= 1 && n <= 64;
}

// Recovery by e-mail token: asks for one (token NULL), or presents it.
static void recover_name(const struct config *c, const char *name, const char *token,
			 const char *ca, size_t ca_len, int32_t *status, char *text, size_t textsz)
{
	struct dyndns d;
	int r = client(c, name, ca, ca_len, &d);
	if (r == 0)
		r = token ? dyndns_recover(&d, token) : dyndns_send_recovery(&d);
	if (r < 0) {
		// The service's refusals (a wrong token, a name with no e-mail address) are the
		// user's to fix; anything else is the service or the network.
		*status = d.status >= 400 && d.status < 500 ? EACCES : EIO;
		snprintf(text, textsz, "%s", d.err);
	} else if (token) {
		snprintf(text, textsz, "%s.%s belongs to this server again: choose it to get its "
			 "certificate", name, c->dyndns_zone);
	} else {
		snprintf(text, textsz, "a recovery token for %s.%s was sent to the e-mail address it "
			 "was registered with", name, c->dyndns_zone);
	}
}

// The name's IPv4 addresses: from the configured resolver, else the system's. Count / -1.
static int resolve(const struct config *c, const char *name, uint32_t *addrs, char *err,
		   size_t errsz)
{
	if (c->resolver[0])
		return dnsq_lookup(c->resolver, name, addrs, DNSQ_MAX_ADDRS, err, errsz);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int e = getaddrinfo(name, NULL, &hints, &res);
	if (e == EAI_NONAME || e == EAI_NODATA)
		return 0;
	if (e) {
		snprintf(err, errsz, "cannot look %.260s up: %s", name, gai_strerror(e));
		return -1;
	}
	int n = 0;
	for (struct addrinfo *a = res; a && n < DNSQ_MAX_ADDRS; a = a->ai_next)
		addrs[n++] = ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return n;
}

// GETs url through addr. The curl result; body holds what came back.
static CURLcode fetch(const char *name, long port, const char *addr, const char *url,
		      struct buf *body, long *http)
{
	CURL *h = curl_easy_init();
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	char pin[400];
	snprintf(pin, sizeof(pin), "%s:%ld:%s", name, port, addr);
	struct curl_slist *res = curl_slist_append(NULL, pin);
	body->max = CHALLENGE_BODY_MAX;
	httpc_setup(h, &(struct httpc){.url = url, .protocols = "http", .timeout = 15,
					.agent = "silo-check/" SILO_VERSION, .body = body});
	curl_easy_setopt(h, CURLOPT_RESOLVE, res);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
	curl_slist_free_all(res);
	curl_easy_cleanup(h);
	return rc;
}

// Serves a random token at /.well-known/acme-challenge/<token> and fetches it through
// the name on acme_http_port, the way the CA will.
static void check_port80(const struct config *c, const char *name, int32_t *status, char *text,
			 size_t textsz)
{
	uint32_t addrs[DNSQ_MAX_ADDRS];
	char err[400];
	int n = resolve(c, name, addrs, err, sizeof(err));
	long port = c->acme_http_port;
	*status = EHOSTUNREACH;
	if (n < 0) {
		*status = EIO;
		snprintf(text, textsz, "%s", err);
		return;
	}
	if (n == 0) {
		snprintf(text, textsz, "%s does not resolve: add an A record for it pointing at this "
			 "server's public address, wait for it to appear, then try again", name);
		return;
	}
	char tok[TOKEN_HEX_LEN + 1], path[PATH_MAX], url[400], want[TOKEN_HEX_LEN + 16];
	token_new(tok);
	snprintf(want, sizeof(want), "%s.silo-check", tok);
	util_path(path, sizeof(path), "%s/tls/acme/challenges/%s", c->data, tok);
	if (tlscert_write_file(path, want, strlen(want), 0644) < 0) {
		*status = EIO;
		snprintf(text, textsz, "cannot write %.300s: %s", path, strerror(errno));
		return;
	}
	snprintf(url, sizeof(url), "http://%s:%ld%s%s", name, port, CHALLENGE_PREFIX, tok);
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addrs[0], addr, sizeof(addr));
	struct buf body;
	buf_init(&body);
	long http = 0;
	CURLcode rc = fetch(name, port, addr, url, &body, &http);
	unlink(path);
	if (rc == CURLE_COULDNT_CONNECT)
		snprintf(text, textsz, "%s resolves to %s, but nothing accepts connections on port %ld "
			 "there (connection refused): point the name at this server's public address, "
			 "or forward port %ld on your router to this server", name, addr, port, port);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(text, textsz, "%s resolves to %s, but port %ld does not answer there (a "
			 "firewall?): open port %ld to this server", name, addr, port, port);
	else if (rc != CURLE_OK || http != 200 || body.len != strlen(want) ||
		 memcmp(body.data, want, body.len) != 0)
		snprintf(text, textsz, "%s resolves to %s and port %ld answers, but not as this server "
			 "(wrong answer%s%.60s): the name points at another machine, or port %ld is "
			 "forwarded elsewhere", name, addr, port, rc != CURLE_OK ? ": " : "",
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "", port);
	else {
		*status = 0;
		snprintf(text, textsz, "port %ld of %s (%s) reaches this server", port, name, addr);
	}
	buf_free(&body);
}

void https_check_run(const struct config *c, int kind, const char *name, const char *token,
		     int32_t *status, char *text, size_t textsz)
{
	*status = 0;
	char *ca = NULL;
	size_t ca_len = 0;
	bool dyn = kind != HTTPS_CHECK_PORT80;
	// The CA file is read before the uid switch, like the worker does.
	if (dyn && c->dyndns_ca[0] &&
	    !(ca = tlscert_read_file(c->dyndns_ca, 1 << 20, &ca_len))) {
		*status = EIO;
		snprintf(text, textsz, "cannot read the CA file %.300s", c->dyndns_ca);
		return;
	}
	if (datadir_become_acme(c) < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		*status = EPERM;
		snprintf(text, textsz, "the check cannot drop its privileges");
	} else if (kind == HTTPS_CHECK_NAME) {
		check_name(c, name, ca, ca_len, status, text, textsz);
	} else if (kind == HTTPS_CHECK_RECOVERY || kind == HTTPS_CHECK_RECOVER) {
		recover_name(c, name, kind == HTTPS_CHECK_RECOVER ? token : NULL, ca, ca_len, status,
			     text, textsz);
	} else {
		check_port80(c, name, status, text, textsz);
	}
	free(ca);
}
