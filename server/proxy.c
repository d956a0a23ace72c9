// SPDX-License-Identifier: MIT
// One browser request on a session host, proxied to its grain.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "access.h"
#include "conn.h"
#include "grain_client.h"
#include "grainmgr.h"
#include "grains.h"
#include "html.h"
#include "log.h"
#include "proxy.h"
#include "server.h"
#include "store.h"
#include "web.h"

#define PROXY_HIGH_WATER (256 * 1024)   // pause the grain above this much unsent output

struct proxy {
	struct proxy *next, *prev;   // every exchange in progress, for revalidation
	struct server *srv;
	struct conn_wait *cw;
	struct gm_wait *gw;
	struct gc_stream *st;
	struct gm_session sess;
	bool upgrade;          // a WebSocket request
	bool responded;        // the response head went out
	bool busy;
	char uname[AUTH_NAME_MAX * 3 + 1];
	char uid[33];
	char cookie[4096];     // the browser's cookies minus silo's own; last: not zeroed
};

// Request headers an app may see (DESIGN.md: Sandstorm's whitelist plus WebDAV's).
static const struct wire_name req_ok[] = {
	WIRE_NAME("Accept"), WIRE_NAME("Accept-Encoding"), WIRE_NAME("Accept-Language"),
	WIRE_NAME("Cache-Control"), WIRE_NAME("Content-Type"), WIRE_NAME("Content-Language"),
	WIRE_NAME("Content-Encoding"), WIRE_NAME("If-Match"), WIRE_NAME("If-None-Match"),
	WIRE_NAME("If-Modified-Since"), WIRE_NAME("If-Unmodified-Since"),
	WIRE_NAME("If-Range"), WIRE_NAME("Range"), WIRE_NAME("User-Agent"),
	WIRE_NAME("X-Requested-With"), WIRE_NAME("X-CSRF-Token"), WIRE_NAME("Depth"),
	WIRE_NAME("Destination"), WIRE_NAME("Overwrite"), WIRE_NAME("Prefer"),
	WIRE_NAME("Brief"), WIRE_NAME("If"), WIRE_NAME("Lock-Token"), WIRE_NAME("Timeout"),
	WIRE_NAME("Origin"), WIRE_NAME("Upgrade"), WIRE_NAME("Sec-WebSocket-Key"),
	WIRE_NAME("Sec-WebSocket-Version"), WIRE_NAME("Sec-WebSocket-Protocol"),
	WIRE_NAME("Sec-WebSocket-Extensions"),
};
// Response headers that pass back to the browser.
static const struct wire_name resp_ok[] = {
	WIRE_NAME("Content-Type"), WIRE_NAME("Content-Encoding"),
	WIRE_NAME("Content-Language"), WIRE_NAME("Content-Disposition"), WIRE_NAME("ETag"),
	WIRE_NAME("Last-Modified"), WIRE_NAME("Location"), WIRE_NAME("Set-Cookie"),
	WIRE_NAME("Cache-Control"), WIRE_NAME("Expires"), WIRE_NAME("Vary"),
	WIRE_NAME("Allow"), WIRE_NAME("DAV"), WIRE_NAME("Accept-Ranges"),
	WIRE_NAME("Content-Range"), WIRE_NAME("Retry-After"), WIRE_NAME("Preference-Applied"),
	WIRE_NAME("Sec-WebSocket-Accept"), WIRE_NAME("Sec-WebSocket-Protocol"),
	WIRE_NAME("Sec-WebSocket-Extensions"), WIRE_NAME("Upgrade"),
};

static bool passes(const struct wire_name *set, size_t n, struct wire_str name)
{
	return wire_name_in(name, set, n) ||
	       (name.len > 15 && strncasecmp(name.p, "X-Sandstorm-App-", 16) == 0);
}

void proxy_user_id(const struct server *s, int64_t user_id, const char *grain, char out[33])
{
	unsigned char h[16];
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "%lld/%s", (long long)user_id, grain);
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, (size_t)n,
			   grainmgr_id_key(s), crypto_generichash_KEYBYTES);
	sodium_bin2hex(out, 33, h, sizeof(h));
}

// Cookie header without silo's own cookies (the session host's silo_grain).
static void filter_cookies(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && strncmp(p, "silo_", 5) != 0 && o + n + 2 < outsz) {
			if (o)
				out[o++] = ';', out[o++] = ' ';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
}

static void pct_encode(const char *in, char *out, size_t outsz)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < outsz; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hexd[*p >> 4];
			out[o++] = hexd[*p & 15];
		}
	}
	out[o] = '\0';
}

static struct proxy *live;   // the front serves one server: a plain list will do

static void proxy_free(struct proxy *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (live == p)
		live = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->busy)
		grainmgr_busy(p->srv, p->sess.grain, -1);
	free(p);
}

// The client went away: abandon the exchange.
static void on_cancel(void *arg)
{
	struct proxy *p = arg;
	grainmgr_wait_cancel(p->gw);
	if (p->st)
		gc_stream_close(p->st);
	proxy_free(p);
}

// An error before any of the grain's answer went out.
static void fail(struct proxy *p, int status, const char *msg)
{
	struct http_response *r = conn_wait_response(p->cw);
	resp_reset(r);
	r->status = status;
	resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	resp_header(r, "Cache-Control", "no-store");
	buf_printf(&r->body, "%s\n", msg);
	struct conn_wait *cw = p->cw;
	conn_wait_on_cancel(cw, NULL, NULL);
	if (p->st)
		gc_stream_close(p->st);
	proxy_free(p);
	conn_wait_done(cw);
}

// A grain may set cookies on its own session host only: never one with a Domain (it would
// reach the shell and other grains) and never one of silo's names.
static bool cookie_ok(const struct wire_header *h)
{
	if (h->name.len != 10 || strncasecmp(h->name.p, "Set-Cookie", 10) != 0)
		return true;
	const char *v = h->value.p;
	size_t n = h->value.len;
	size_t lead = 0;
	while (lead < n && (v[lead] == ' ' || v[lead] == '\t'))
		lead++;
	if (n - lead >= 5 && strncasecmp(v + lead, "silo_", 5) == 0)
		return false;
	for (size_t i = 0; i + 7 <= n; i++)
		if (v[i] == ';') {
			size_t k = i + 1;
			while (k < n && (v[k] == ' ' || v[k] == '\t'))
				k++;
			if (n - k >= 6 && strncasecmp(v + k, "domain", 6) == 0)
				return false;
		}
	return true;
}

static bool status_ok(int st, bool upgrade)
{
	if (st == 101)
		return upgrade;
	return st >= 200 && st <= 599 && st != 305 && st != 306;
}

static void on_input(void *arg, const char *data, size_t n, bool eof)
{
	struct proxy *p = arg;
	if (n)
		gc_send_body(p->st, data, n);
	if (eof)
		gc_send_end(p->st);
}

// Scripts, connections, frames and forms stay on the grain's own origin; only the shell
// (at its base URL, or the alias) may frame it. Made once per base URL, not per response.
static const char *grain_csp(const struct server *s, size_t *len)
{
	static char csp[512 + 2 * sizeof(s->base_url)];
	static char made_base[sizeof(s->base_url)], made_alias[sizeof(s->alias_url)];
	static size_t csp_len;
	if (!csp_len || strcmp(made_base, s->base_url) != 0 ||
	    strcmp(made_alias, s->alias_url) != 0) {
		snprintf(csp, sizeof(csp),
			 "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
			 "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' "
			 "data:; media-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; "
			 "form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors %s%s%s",
			 s->base_url, s->alias_url[0] ? " " : "", s->alias_url);
		csp_len = strlen(csp);
		memcpy(made_base, s->base_url, sizeof(made_base));
		memcpy(made_alias, s->alias_url, sizeof(made_alias));
	}
	*len = csp_len;
	return csp;
}

static void on_response(struct gc_stream *s, void *arg, const struct wire_response *wr)
{
	(void)s;
	struct proxy *p = arg;
	if (!status_ok(wr->status, p->upgrade)) {
		fail(p, 502, "The app answered with a status silo does not pass on.");
		return;
	}
	struct http_response *r = conn_wait_response(p->cw);
	resp_reset(r);
	r->status = wr->status;
	for (size_t i = 0; i < wr->nheaders; i++) {
		const struct wire_header *h = &wr->headers[i];
		if (!passes(WIRE_NAMES(resp_ok), h->name) || !cookie_ok(h))
			continue;
		resp_header_raw(r, h->name.p, h->name.len, h->value.p, h->value.len);
	}
	size_t csp_len;
	const char *csp = grain_csp(p->srv, &csp_len);
	resp_header_raw(r, "Content-Security-Policy", 23, csp, csp_len);
	// A length the app announced (the bridge holds it to exactly that many bytes) goes out
	// as is: no chunk framing around a body that arrives whole.
	if (wr->content_length >= 0 && wr->status != 101)
		r->stream_length = wr->content_length;
	p->responded = true;
	// After a 101 the browser's bytes go straight to the app (set before the head goes
	// out: bytes that came with the upgrade request are passed on at once).
	if (wr->status == 101)
		conn_wait_on_input(p->cw, on_input, p);
	conn_wait_stream_head(p->cw); // -1: the client left and on_cancel has run
}

static void on_drain(void *arg)
{
	struct proxy *p = arg;
	if (p->st)
		gc_stream_resume(p->st);
}

static void on_body(struct gc_stream *s, void *arg, const char *data, size_t n)
{
	struct proxy *p = arg;
	if (conn_wait_stream_data(p->cw, data, n) < 0)
		return;
	if (conn_wait_backlog(p->cw) > PROXY_HIGH_WATER) {
		gc_stream_pause(s);
		conn_wait_on_drain(p->cw, on_drain, p);
	}
}

static void on_end(struct gc_stream *s, void *arg)
{
	struct proxy *p = arg;
	struct conn_wait *cw = p->cw;
	conn_wait_on_cancel(cw, NULL, NULL);
	gc_stream_close(s);
	proxy_free(p);
	conn_wait_stream_end(cw, true);
}

static void on_reset(struct gc_stream *s, void *arg, unsigned code)
{
	struct proxy *p = arg;
	if (!p->responded) {
		fail(p, 502, code == WIRE_RESET_LOST ? "The grain stopped before it answered."
						     : "The app did not answer properly.");
		return;
	}
	struct conn_wait *cw = p->cw;
	conn_wait_on_cancel(cw, NULL, NULL);
	gc_stream_close(s);
	proxy_free(p);
	conn_wait_stream_end(cw, false);
}

static const struct gc_stream_cbs stream_cbs = {
	.on_response = on_response,
	.on_body = on_body,
	.on_end = on_end,
	.on_reset = on_reset,
};

// The wire request: what the browser asked, whitelisted, plus who asks.
static void make_request(struct proxy *p, const struct http_request *h, struct wire_request *wr,
			 size_t body_len)
{
	// Zeroed up to the arrays: only their first npermissions and nheaders entries are read.
	memset(wr, 0, offsetof(struct wire_request, permissions));
	wr->npermissions = 0;
	wr->nheaders = 0;
	wr->content_length = (int64_t)body_len;
	wr->method = wire_s(h->method_name);
	wr->host = wire_s(h->host);
	wr->path = wire_s(h->path);
	wr->query = wire_s(h->query);
	if (p->sess.user_id) {
		wr->user_id = wire_s(p->uid);
		wr->username = wire_s(p->uname);
	}
	wr->session_id = wire_s(p->sess.host_id);
	wr->tab_id = wire_s(p->sess.host_id);
	char *save = NULL;
	for (char *t = strtok_r(p->sess.perms, ",", &save); t && wr->npermissions < WIRE_MAX_PERMISSIONS;
	     t = strtok_r(NULL, ",", &save))
		wr->permissions[wr->npermissions++] = wire_s(t);
	for (size_t i = 0; i < h->nheaders && wr->nheaders < WIRE_MAX_HEADERS; i++) {
		const char *n = h->headers[i].name;
		if (strcasecmp(n, "Cookie") == 0) {
			filter_cookies(h->headers[i].value, p->cookie, sizeof(p->cookie));
			if (p->cookie[0])
				wr->headers[wr->nheaders++] = (struct wire_header){wire_s("Cookie"), wire_s(p->cookie)};
			continue;
		}
		if (strcasecmp(n, "Connection") == 0 && p->upgrade) {
			wr->headers[wr->nheaders++] = (struct wire_header){wire_s("Connection"), wire_s("Upgrade")};
			continue;
		}
		if (passes(WIRE_NAMES(req_ok), wire_s(n)))
			wr->headers[wr->nheaders++] = (struct wire_header){wire_s(n), wire_s(h->headers[i].value)};
	}
}

// Opens the exchange on the grain's wire and sends the body.
static void start(struct proxy *p, struct gc *gc)
{
	const struct http_request *h = conn_wait_request(p->cw);
	const char *body = NULL;
	size_t body_len = conn_wait_body(p->cw, &body);
	struct wire_request wr;
	make_request(p, h, &wr, body_len);
	enum wire_err e = WIRE_OK;
	p->st = gc_open(gc, &wr, &stream_cbs, p, &e);
	if (!p->st) {
		bool ours = e == WIRE_OK || e == WIRE_ERR_NOMEM;
		fail(p, ours ? 503 : 400, ours ? "The grain is busy; try again."
					       : "The request cannot be passed to the app.");
		return;
	}
	p->busy = true;
	grainmgr_busy(p->srv, p->sess.grain, 1);
	if (body_len)
		gc_send_body(p->st, body, body_len);
	if (!p->upgrade && body_len)
		gc_send_end(p->st);
}

static void on_ready(void *arg, struct gc *gc, const char *err)
{
	struct proxy *p = arg;
	p->gw = NULL;
	if (!gc)
		fail(p, 503, err ? err : "The grain is not available.");
	else
		start(p, gc);
}

void proxy_request(struct web_req *w, struct http_response *r, const struct gm_session *sess,
		   bool device)
{
	struct server *s = w->srv;
	// Requests another site makes in the browser's name stay out: a session host takes
	// only its own origin, a device's host none (browsers do not hold device tokens).
	const char *origin = http_header(w->http, "Origin");
	bool own_origin = false;
	for (int i = 0; origin && !device && i < 2; i++) {
		const char *shell = i ? s->alias_host : s->shell_host;
		char own[300];
		snprintf(own, sizeof(own), "%s://ui-%s.%s", s->base_tls ? "https" : "http",
			 sess->host_id, shell);
		own_origin = own_origin || (shell[0] && strcasecmp(origin, own) == 0);
	}
	if (origin && !own_origin) {
		r->status = 403;
		resp_header(r, "Content-Type", "text/plain; charset=utf-8");
		buf_puts(&r->body, "Cross-origin requests to a grain are refused.\n");
		return;
	}
	struct proxy *p = malloc(sizeof(*p));
	if (p) {
		memset(p, 0, offsetof(struct proxy, cookie));
		p->cookie[0] = '\0';
	}
	struct conn_wait *cw = p ? conn_defer(w->conn) : NULL;
	if (!cw) {
		free(p);
		resp_error(r, 500, "out of memory");
		return;
	}
	p->srv = s;
	p->cw = cw;
	p->sess = *sess;
	p->next = live;
	if (live)
		live->prev = p;
	live = p;
	const char *up = http_header(w->http, "Upgrade");
	p->upgrade = up && strcasecmp(up, "websocket") == 0;
	if (sess->user_id) {
		if (sess->user_pseudonym[0])
			memcpy(p->uid, sess->user_pseudonym, sizeof(p->uid));
		else
			proxy_user_id(s, sess->user_id, sess->grain, p->uid);
		pct_encode(sess->user_name, p->uname, sizeof(p->uname));
	}
	conn_wait_on_cancel(cw, on_cancel, p);
	const char *err = NULL;
	struct gc *gc = grainmgr_acquire(s, sess->grain, on_ready, p, &p->gw, &err);
	if (gc)
		start(p, gc);
	else if (!p->gw)
		fail(p, 503, err);
}

// Ends the exchanges, WebSockets included, of whoever lost access to their grain.
void proxy_revalidate(struct server *s)
{
	struct proxy *next;
	for (struct proxy *p = live; p; p = next) {
		next = p->next;
		if (p->srv != s)
			continue;
		struct access a;
		if (access_resolve(s->store, p->sess.grain, p->sess.user_id, p->sess.share, &a) != 1)
			continue;
		log_info("grain %s: access taken away, ending an exchange", p->sess.grain);
		grainmgr_wait_cancel(p->gw);
		p->gw = NULL;
		if (!p->responded) {
			fail(p, 403, "You no longer have access to this grain.");
			continue;
		}
		struct conn_wait *cw = p->cw;
		conn_wait_on_cancel(cw, NULL, NULL);
		if (p->st)
			gc_stream_close(p->st);
		proxy_free(p);
		conn_wait_stream_end(cw, false);
	}
}
