// SPDX-License-Identifier: MIT
// An HTTP response being built by a handler, and its serialization onto the wire.
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http.h"
#include "log.h"
#include "response.h"

void resp_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->headers);
	buf_init(&r->body);
	r->status = 200;
	r->stream_length = -1;
}

void resp_free(struct http_response *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

void resp_reset(struct http_response *r)
{
	buf_reset(&r->headers);
	buf_reset(&r->body);
	r->status = 200;
	r->static_body = NULL;
	r->static_len = 0;
	r->stream_length = -1;
	r->close = false;
	r->shell_page = false;
	r->frame_src[0] = '\0';
}

void resp_header(struct http_response *r, const char *name, const char *fmt, ...)
{
	char v[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v)) {
		log_err("resp_header: refusing oversized %s header", name);
		return;
	}
	resp_header_raw(r, name, strlen(name), v, (size_t)n);
}

void resp_header_raw(struct http_response *r, const char *name, size_t nlen, const char *value,
		     size_t vlen)
{
	// Header injection guard: a value that would split the response is never sent.
	bool bad_name = !nlen;
	for (size_t i = 0; i < nlen; i++)
		if (name[i] == '\r' || name[i] == '\n' || name[i] == ':' || name[i] == ' ' || !name[i])
			bad_name = true;
	if (bad_name || memchr(value, '\r', vlen) || memchr(value, '\n', vlen) ||
	    memchr(value, '\0', vlen)) {
		log_err("resp_header: refusing unsafe %.*s header", (int)(nlen > 64 ? 64 : nlen), name);
		return;
	}
	buf_append(&r->headers, name, nlen);
	buf_append(&r->headers, ": ", 2);
	buf_append(&r->headers, value, vlen);
	buf_append(&r->headers, "\r\n", 2);
}

// Only what an origin is made of: the CSP must not be extendable by a value.
static bool origin_ok(const char *o)
{
	const char *h = strncmp(o, "https://", 8) == 0 ? o + 8
			: strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
	if (!h || !*h)
		return false;
	return strspn(h, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]") == strlen(h);
}

int resp_frame_src(struct http_response *r, const char *origin)
{
	if (!origin_ok(origin) || strlen(origin) >= sizeof(r->frame_src)) {
		log_err("resp_frame_src: refusing %.80s", origin);
		return -1;
	}
	memcpy(r->frame_src, origin, strlen(origin) + 1);
	return 0;
}

void resp_json(struct http_response *r, int status, json_t *v)
{
	r->status = status;
	buf_reset(&r->body);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!s) {
		r->status = 500;
		buf_puts(&r->body, "{\"error\":\"out of memory\"}");
	} else {
		buf_puts(&r->body, s);
		free(s);
	}
	buf_putc(&r->body, '\n');
	resp_header(r, "Content-Type", "application/json");
	resp_header(r, "Cache-Control", "no-store");
}

void resp_error(struct http_response *r, int status, const char *msg)
{
	resp_json(r, status, json_pack("{s:s}", "error", msg));
}

void resp_redirect(struct http_response *r, int status, const char *location)
{
	r->status = status;
	resp_header(r, "Location", "%s", location);
}

// The Date header changes once a second; format it once per second.
static const char *http_date(void)
{
	static char cached[64];
	static time_t cached_at;
	time_t now = time(NULL);
	if (now != cached_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached_at = now;
	}
	return cached;
}

static void put_head(struct http_response *r, struct buf *out, bool keep_alive, bool tls)
{
	buf_puts(out, "HTTP/1.1 ");
	buf_put_u64(out, (uint64_t)r->status);
	buf_putc(out, ' ');
	buf_puts(out, http_reason(r->status));
	buf_puts(out, "\r\nDate: ");
	buf_puts(out, http_date());
	buf_puts(out, "\r\nServer: silo\r\n");
	if (r->status == 101)
		buf_puts(out, "Connection: Upgrade\r\n");
	else if (!keep_alive || r->close)
		buf_puts(out, "Connection: close\r\n");
	buf_puts(out, "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n");
	if (r->shell_page) {
		buf_puts(out, "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; "
			      "form-action 'self'; base-uri 'none'; object-src 'none'");
		if (r->frame_src[0])
			buf_printf(out, "; frame-src 'self' %s", r->frame_src);
		buf_puts(out, "\r\nX-Frame-Options: DENY\r\n");
	}
	if (tls)
		buf_puts(out, "Strict-Transport-Security: max-age=31536000\r\n");
	buf_append(out, r->headers.data, r->headers.len);
}

void resp_serialize_head(struct http_response *r, struct buf *out, bool keep_alive, bool tls,
			 bool chunked)
{
	put_head(r, out, keep_alive, tls);
	if (chunked)
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	else if (r->stream_length >= 0 && r->status >= 200 && r->status != 204 &&
		 r->status != 304) {
		buf_puts(out, "Content-Length: ");
		buf_put_u64(out, (uint64_t)r->stream_length);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");
}

void resp_serialize(struct http_response *r, struct buf *out, bool head_only, bool keep_alive,
		    bool tls)
{
	if (r->headers.oom || r->body.oom) {
		resp_reset(r);
		resp_error(r, 500, "the response did not fit in memory");
	}
	const void *body = r->static_body ? r->static_body : r->body.data;
	size_t len = r->static_body ? r->static_len : r->body.len;
	put_head(r, out, keep_alive, tls);
	if (r->status != 304 && r->status != 204) {
		buf_puts(out, "Content-Length: ");
		buf_put_u64(out, len);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");
	if (!head_only && r->status != 304 && r->status != 204)
		buf_append(out, body, len);
}
