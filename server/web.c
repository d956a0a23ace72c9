// SPDX-License-Identifier: MIT
// The web layer: host routing, identity from cookie or bearer token, and shared helpers.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "apihost.h"
#include "challenge.h"
#include "grainmgr.h"
#include "log.h"
#include "pages.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "web.h"

const char *web_cookie(const struct web_req *w, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < w->http->nheaders; i++) {
		if (strcasecmp(w->http->headers[i].name, "Cookie") != 0)
			continue;
		const char *p = w->http->headers[i].value;
		while (*p) {
			while (*p == ' ' || *p == ';')
				p++;
			const char *eq = strchr(p, '=');
			const char *end = strchr(p, ';');
			if (!end)
				end = p + strlen(p);
			if (eq && eq < end && (size_t)(eq - p) == nl && strncmp(p, name, nl) == 0) {
				size_t vl = (size_t)(end - eq - 1);
				if (vl >= outsz)
					return NULL;
				memcpy(out, eq + 1, vl);
				out[vl] = '\0';
				return out;
			}
			p = end;
		}
	}
	return NULL;
}

bool web_query(const struct web_req *w, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	for (const char *p = w->http->query; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=')
			return http_url_decode(p + nl + 1, strcspn(p + nl + 1, "&"), out, outsz,
					       true) >= 0;
	}
	return false;
}

bool web_query_flag(const struct web_req *w, const char *name)
{
	char v[8];
	return web_query(w, name, v, sizeof(v)) && strcmp(v, "1") == 0;
}

int web_form(const struct web_req *w, const char *field, char *out, size_t outsz)
{
	const char *ct = http_header(w->http, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return -1;
	size_t fl = strlen(field);
	const char *p = w->body, *end = w->body + w->body_len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ke = eq ? eq : pe;
		if ((size_t)(ke - p) == fl && strncmp(p, field, fl) == 0) {
			const char *v = eq ? eq + 1 : pe;
			return http_url_decode(v, (size_t)(pe - v), out, outsz, true);
		}
		if (!amp)
			break; // pe + 1 would point past the end of the body
		p = amp + 1;
	}
	return -1;
}

// The origin (scheme://host[:port]) of the base URL, for comparison with Origin headers.
static size_t base_origin_len(const char *base)
{
	const char *h = strstr(base, "://");
	if (!h)
		return strlen(base);
	h += 3;
	return (size_t)(h - base) + strcspn(h, "/");
}

static bool same_origin(const char *base, const char *origin)
{
	size_t n = base_origin_len(base);
	return strncasecmp(base, origin, n) == 0 && (origin[n] == '\0' || origin[n] == '/');
}

bool web_origin_ok(const struct web_req *w)
{
	const char *o = http_header(w->http, "Origin");
	// Without Origin, a Referer from another site still tells a cross-site form post.
	const char *ref = o ? o : http_header(w->http, "Referer");
	if (!ref)
		return true;
	return same_origin(w->srv->base_url, ref) ||
	       (w->srv->alias_url[0] && same_origin(w->srv->alias_url, ref));
}

void web_set_session(const struct web_req *w, struct http_response *r, const char *cookie)
{
	// Host-only (no Domain): the cookie never reaches grain hosts under the base host.
	resp_header(r, "Set-Cookie", "silo_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
		    cookie, AUTH_SESSION_TTL, w->srv->base_tls || w->tls ? "; Secure" : "");
}

void web_clear_session(const struct web_req *w, struct http_response *r)
{
	resp_header(r, "Set-Cookie", "silo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
		    w->srv->base_tls || w->tls ? "; Secure" : "");
}

static char cached[AUTH_NAME_MAX + 1];
static int64_t name_cached_at = -1;

void web_server_name_changed(void)
{
	name_cached_at = -1;
}

void web_server_name(const struct web_req *w, char *out, size_t outsz)
{
	// Every page shows the name; read it from the store at most once a second.
	if (name_cached_at != w->now) {
		if (store_setting_get(w->srv->store, "server_name", cached, sizeof(cached)) != 0)
			snprintf(cached, sizeof(cached), "silo");
		name_cached_at = w->now;
	}
	snprintf(out, outsz, "%s", cached);
}

// The Host header lowercased, without the default port; false when absent or too long.
static bool host_key(const struct web_req *w, char *host, size_t hostsz)
{
	const char *h = w->http->host;
	size_t n = h ? strlen(h) : 0;
	if (!h || n >= hostsz)
		return false;
	for (size_t i = 0; i <= n; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	const char *dflt = w->srv->base_tls ? ":443" : ":80";
	size_t dl = strlen(dflt);
	if (n > dl && strcmp(host + n - dl, dflt) == 0)
		host[n - dl] = '\0';
	return true;
}

static bool is_shell_host(const struct web_req *w)
{
	if (!w->http->host) // HTTP/1.0 without Host: the shell is the only thing it can mean
		return true;
	char host[256];
	return host_key(w, host, sizeof(host)) && server_is_shell_host(w->srv, host);
}

// Identity: a bearer token wins over a cookie; neither means logged out.
static void resolve_identity(struct web_req *w)
{
	struct store *st = w->srv->store;
	const char *authz = http_header(w->http, "Authorization");
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		const char *t = authz + 7;
		if (token_valid(t) && auth_api_token_lookup(st, t, w->now, &w->user) == 0) {
			w->logged_in = true;
			w->via_token = true;
		}
		return;
	}
	char cookie[TOKEN_HEX_LEN + 2];
	if (web_cookie(w, "silo_session", cookie, sizeof(cookie)) && token_valid(cookie) &&
	    auth_session_lookup(st, cookie, w->now, &w->user, w->csrf) == 0) {
		w->logged_in = true;
		memcpy(w->cookie, cookie, sizeof(w->cookie));
	}
}

static bool segment_match(const char *pat, const char *path, struct web_req *w)
{
	size_t nargs = 0;
	while (*pat && *path) {
		if (*pat == '*') {
			size_t n = strcspn(path, "/");
			if (!n || nargs >= 4 || n >= sizeof(w->argbuf[0]))
				return false;
			memcpy(w->argbuf[nargs], path, n);
			w->argbuf[nargs][n] = '\0';
			w->args[nargs] = w->argbuf[nargs];
			nargs++;
			pat++;
			path += n;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return !*pat && !*path;
}

int web_dispatch(struct web_req *w, struct http_response *r, const struct web_route *routes,
		 size_t n)
{
	bool path_hit = false;
	for (size_t i = 0; i < n; i++) {
		if (!segment_match(routes[i].pattern, w->http->path, w))
			continue;
		path_hit = true;
		int m = (int)w->http->method;
		if (routes[i].method && routes[i].method != m &&
		    !(routes[i].method == HTTP_GET && m == HTTP_HEAD))
			continue;
		routes[i].fn(w, r);
		return 1;
	}
	if (!path_hit)
		return 0;
	resp_error(r, 405, "method not allowed for this path");
	return -1;
}

static void serve_asset(struct web_req *w, struct http_response *r, const struct asset *a)
{
	resp_header(r, "ETag", "%s", a->etag);
	resp_header(r, "Cache-Control", "public, max-age=3600");
	const char *inm = http_header(w->http, "If-None-Match");
	if (inm && (strstr(inm, a->etag) || strcmp(inm, "*") == 0)) {
		r->status = 304;
		return;
	}
	resp_header(r, "Content-Type", "%s", a->content_type);
	r->static_body = a->data;
	r->static_len = a->len;
}

uint64_t web_body_limit(const struct server *s, const struct http_request *req, bool *spool)
{
	*spool = false;
	if (req->method == HTTP_POST && (strcmp(req->path, "/api/v1/apps") == 0)) {
		*spool = true;
		return (uint64_t)s->cfg.max_package_mb << 20;
	}
	if (req->method == HTTP_POST && strcmp(req->path, "/api/v1/admin/os-update") == 0) {
		*spool = true;
		return (uint64_t)s->cfg.max_os_update_mb << 20;
	}
	if (req->method == HTTP_POST && strcmp(req->path, "/api/v1/grains/restore") == 0) {
		*spool = true;
		return (uint64_t)s->cfg.max_backup_mb << 20;
	}
	return (uint64_t)s->cfg.max_body_bytes;
}

int web_spool_open(const struct server *s)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/uploads", s->cfg.data);
	// O_TMPFILE: the file has no name, so nothing is left behind whatever happens. The
	// installer (another uid) reopens it through /proc/self/fd: it must be readable.
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		log_err("web_spool_open: %s: %s", dir, strerror(errno));
	return fd;
}

// The host part of the request's Host header when it is a plain name or address.
static bool redirect_host(const struct web_req *w, char *out, size_t outsz)
{
	const char *h = w->http->host ? w->http->host : w->srv->shell_host;
	size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
	if (!n || n >= outsz || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-[]:") < n)
		return false;
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

// Plain HTTP on a server with TLS: challenges and the status API are answered, the rest
// is sent to the same host and path over HTTPS.
static void plain_http(struct web_req *w, struct http_response *r)
{
	const char *path = w->http->path;
	if (strcmp(path, "/api/v1/status") == 0) {
		if (!api_route(w, r))
			resp_error(r, 404, "no such API endpoint");
		return;
	}
	char host[300];
	if (!redirect_host(w, host, sizeof(host))) {
		resp_error(r, 400, "bad Host header");
		return;
	}
	char port[16] = "";
	if (w->srv->tls_port != 443)
		snprintf(port, sizeof(port), ":%d", w->srv->tls_port);
	bool safe = w->http->method == HTTP_GET || w->http->method == HTTP_HEAD;
	// 308 keeps a POST a POST; a browser's plain navigation gets the classic 301.
	r->status = safe ? 301 : 308;
	const char *q = w->http->query ? w->http->query : "";
	resp_header(r, "Location", "https://%s%s%s%s%s", host, port, w->http->path, *q ? "?" : "",
		    q ? q : "");
	resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	buf_puts(&r->body, "This server is reached over HTTPS.\n");
}

void web_handle(struct web_req *w, struct http_response *r)
{
	w->now = util_unix_now();
	if (strncmp(w->http->path, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) == 0) {
		challenge_serve(w, r);
		return;
	}
	if (w->srv->tls_port && !w->tls) {
		plain_http(w, r);
		return;
	}
	if (!is_shell_host(w)) {
		// Other hosts are the per-session grain hosts, ui-<id>.<shell host>.
		char host[300], id[GM_HOST_ID_LEN + 1];
		bool known = host_key(w, host, sizeof(host));
		if (known && grainmgr_is_session_host(w->srv, host, id))
			grainmgr_handle(w, r, id);
		else if (known && apihost_match(w->srv, host, id))
			apihost_handle(w, r, id);
		else
			resp_error(r, 404, "no such host on this server");
		return;
	}
	const char *path = w->http->path;
	if (strncmp(path, "/static/", 8) == 0) {
		const struct asset *a = asset_find(path);
		if (!a)
			resp_error(r, 404, "no such file");
		else if (w->http->method != HTTP_GET && w->http->method != HTTP_HEAD)
			resp_error(r, 405, "method not allowed for this path");
		else
			serve_asset(w, r, a);
		return;
	}
	resolve_identity(w);
	if (strncmp(path, "/api/", 5) == 0) {
		if (!api_route(w, r))
			resp_error(r, 404, "no such API endpoint");
		return;
	}
	if (!shell_route(w, r)) {
		char name[AUTH_NAME_MAX + 1];
		web_server_name(w, name, sizeof(name));
		struct page_ctx c = {.server_name = name, .user = w->logged_in ? &w->user : NULL,
				     .csrf = w->csrf};
		r->status = 404;
		page_error(&r->body, &c, 404, "There is no page at this address.");
		resp_header(r, "Content-Type", "text/html; charset=utf-8");
		r->shell_page = true;
	}
}
