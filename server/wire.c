// SPDX-License-Identifier: MIT
// The front-grain wire: frame encoding and strict, capped decoding (see docs/WIRE.md).
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "wire.h"

// --- Character classes (chars.h, and the two below) ---

// Request-target bytes: visible ASCII; '#' never (a fragment is not sent).
static bool is_path_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '#' && c != '?';
}

static bool is_query_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

// Inlined at each use, so the predicate is not called through a pointer per byte.
static inline __attribute__((always_inline)) bool all_chars(struct wire_str s,
							    bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < s.len; i++)
		if (!ok((unsigned char)s.p[i]))
			return false;
	return true;
}

bool wire_name_in(struct wire_str s, const struct wire_name *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].len == s.len && strncasecmp(set[i].s, s.p, s.len) == 0)
			return true;
	return false;
}

bool wire_header_reserved(struct wire_str name)
{
	static const char pre[] = "x-sandstorm-", app[] = "x-sandstorm-app-";
	if (name.len < sizeof(pre) - 1 || strncasecmp(name.p, pre, sizeof(pre) - 1) != 0)
		return false;
	return !(name.len >= sizeof(app) - 1 && strncasecmp(name.p, app, sizeof(app) - 1) == 0);
}

// --- Field rules, shared by the encoders and the decoders ---

static enum wire_err check_username(struct wire_str s)
{
	if (s.len > WIRE_MAX_USERNAME)
		return WIRE_ERR_LIMIT;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			if (i + 2 >= s.len || !ch_hex((unsigned char)s.p[i + 1]) ||
			    !ch_hex((unsigned char)s.p[i + 2]))
				return WIRE_ERR_VALUE;
			i += 2;
		} else if (!ch_uri_unreserved(c)) {
			return WIRE_ERR_VALUE;
		}
	}
	return WIRE_OK;
}

static enum wire_err check_value(struct wire_str v)
{
	if (!all_chars(v, ch_value))
		return WIRE_ERR_VALUE;
	// No surrounding whitespace: it would not survive a round trip through HTTP/1.1.
	if (v.len && (v.p[0] == ' ' || v.p[0] == '\t' || v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		return WIRE_ERR_VALUE;
	return WIRE_OK;
}

static enum wire_err check_headers(const struct wire_header *h, size_t n)
{
	if (n > WIRE_MAX_HEADERS)
		return WIRE_ERR_LIMIT;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i].name.len > WIRE_MAX_HEADER_NAME || h[i].value.len > UINT16_MAX)
			return WIRE_ERR_LIMIT;
		total += h[i].name.len + h[i].value.len;
		if (total > WIRE_MAX_HEADER_BYTES)
			return WIRE_ERR_LIMIT;
		if (!h[i].name.len || !all_chars(h[i].name, ch_tchar))
			return WIRE_ERR_VALUE;
		enum wire_err e = check_value(h[i].value);
		if (e)
			return e;
	}
	return WIRE_OK;
}

static enum wire_err check_request(const struct wire_request *r)
{
	if (r->content_length < -1)
		return WIRE_ERR_VALUE;
	if (r->method.len > WIRE_MAX_METHOD || r->host.len > WIRE_MAX_HOST ||
	    r->path.len > WIRE_MAX_PATH || r->query.len > WIRE_MAX_QUERY ||
	    r->session_id.len > WIRE_MAX_ID || r->tab_id.len > WIRE_MAX_ID ||
	    r->user_id.len > 32 || r->npermissions > WIRE_MAX_PERMISSIONS)
		return WIRE_ERR_LIMIT;
	if (!r->method.len || !all_chars(r->method, ch_tchar))
		return WIRE_ERR_VALUE;
	if (!all_chars(r->host, ch_host))
		return WIRE_ERR_VALUE;
	if (!r->path.len || r->path.p[0] != '/' || !all_chars(r->path, is_path_char))
		return WIRE_ERR_VALUE;
	if (!all_chars(r->query, is_query_char))
		return WIRE_ERR_VALUE;
	if ((r->user_id.len != 0 && r->user_id.len != 32) || !all_chars(r->user_id, ch_lower_hex))
		return WIRE_ERR_VALUE;
	enum wire_err e = check_username(r->username);
	if (e)
		return e;
	if (!all_chars(r->session_id, ch_id) || !all_chars(r->tab_id, ch_id))
		return WIRE_ERR_VALUE;
	for (size_t i = 0; i < r->npermissions; i++) {
		if (r->permissions[i].len > WIRE_MAX_PERMISSION)
			return WIRE_ERR_LIMIT;
		if (!r->permissions[i].len || !all_chars(r->permissions[i], ch_id))
			return WIRE_ERR_VALUE;
	}
	return check_headers(r->headers, r->nheaders);
}

static enum wire_err check_response(const struct wire_response *r)
{
	if (r->status != 101 && (r->status < 200 || r->status > 599))
		return WIRE_ERR_VALUE;
	if (r->content_length < -1)
		return WIRE_ERR_VALUE;
	return check_headers(r->headers, r->nheaders);
}

// --- Decoding ---

struct rd {
	const unsigned char *p;
	size_t len, off;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool rd_u8(struct rd *r, unsigned *v)
{
	if (r->len - r->off < 1)
		return false;
	*v = r->p[r->off++];
	return true;
}

static bool rd_u16(struct rd *r, unsigned *v)
{
	if (r->len - r->off < 2)
		return false;
	*v = (unsigned)r->p[r->off] << 8 | r->p[r->off + 1];
	r->off += 2;
	return true;
}

static bool rd_u64(struct rd *r, uint64_t *v)
{
	if (r->len - r->off < 8)
		return false;
	*v = (uint64_t)be32(r->p + r->off) << 32 | be32(r->p + r->off + 4);
	r->off += 8;
	return true;
}

// A u16-length-prefixed string of at most max bytes.
static enum wire_err rd_str(struct rd *r, size_t max, struct wire_str *s)
{
	unsigned n;
	if (!rd_u16(r, &n))
		return WIRE_ERR_TRUNCATED;
	if (n > max)
		return WIRE_ERR_LIMIT;
	if (r->len - r->off < n)
		return WIRE_ERR_TRUNCATED;
	s->p = (const char *)r->p + r->off;
	s->len = n;
	r->off += n;
	return WIRE_OK;
}

static enum wire_err rd_length(struct rd *r, int64_t *out)
{
	uint64_t v;
	if (!rd_u64(r, &v))
		return WIRE_ERR_TRUNCATED;
	if (v == WIRE_LENGTH_UNKNOWN)
		*out = -1;
	else if (v > (uint64_t)INT64_MAX)
		return WIRE_ERR_VALUE;
	else
		*out = (int64_t)v;
	return WIRE_OK;
}

static enum wire_err rd_headers(struct rd *r, struct wire_header *h, size_t *nh)
{
	unsigned n;
	if (!rd_u16(r, &n))
		return WIRE_ERR_TRUNCATED;
	if (n > WIRE_MAX_HEADERS)
		return WIRE_ERR_LIMIT;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		enum wire_err e = rd_str(r, WIRE_MAX_HEADER_NAME, &h[i].name);
		if (!e)
			e = rd_str(r, UINT16_MAX, &h[i].value);
		if (e)
			return e;
		total += h[i].name.len + h[i].value.len;
		if (total > WIRE_MAX_HEADER_BYTES)
			return WIRE_ERR_LIMIT;
	}
	*nh = n;
	return WIRE_OK;
}

enum wire_err wire_decode_request(const char *payload, size_t len, struct wire_request *req)
{
	struct rd r = {(const unsigned char *)payload, len, 0};
	memset(req, 0, sizeof(*req));
	unsigned flags, n;
	if (!rd_u8(&r, &flags))
		return WIRE_ERR_TRUNCATED;
	if (flags & ~1u)
		return WIRE_ERR_VALUE;
	req->https = flags & 1;
	enum wire_err e = rd_length(&r, &req->content_length);
	struct {
		struct wire_str *s;
		size_t max;
	} strs[] = {
		{&req->method, WIRE_MAX_METHOD},       {&req->host, WIRE_MAX_HOST},
		{&req->path, WIRE_MAX_PATH},           {&req->query, WIRE_MAX_QUERY},
		{&req->user_id, 32},                   {&req->username, WIRE_MAX_USERNAME},
		{&req->session_id, WIRE_MAX_ID},       {&req->tab_id, WIRE_MAX_ID},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && !e; i++)
		e = rd_str(&r, strs[i].max, strs[i].s);
	if (e)
		return e;
	if (!rd_u16(&r, &n))
		return WIRE_ERR_TRUNCATED;
	if (n > WIRE_MAX_PERMISSIONS)
		return WIRE_ERR_LIMIT;
	for (size_t i = 0; i < n; i++)
		if ((e = rd_str(&r, WIRE_MAX_PERMISSION, &req->permissions[i])))
			return e;
	req->npermissions = n;
	if ((e = rd_headers(&r, req->headers, &req->nheaders)))
		return e;
	if (r.off != r.len)
		return WIRE_ERR_TRAILING;
	return check_request(req);
}

enum wire_err wire_decode_response(const char *payload, size_t len, struct wire_response *resp)
{
	struct rd r = {(const unsigned char *)payload, len, 0};
	memset(resp, 0, sizeof(*resp));
	unsigned status;
	if (!rd_u16(&r, &status))
		return WIRE_ERR_TRUNCATED;
	resp->status = (int)status;
	enum wire_err e = rd_length(&r, &resp->content_length);
	if (!e)
		e = rd_headers(&r, resp->headers, &resp->nheaders);
	if (e)
		return e;
	if (r.off != r.len)
		return WIRE_ERR_TRAILING;
	return check_response(resp);
}

// What the frame header alone says about the payload size: 0 fine, else the error.
static enum wire_err check_frame_head(uint32_t stream, unsigned type, size_t plen)
{
	if (type < WIRE_HELLO || type > WIRE_WINDOW)
		return WIRE_ERR_TYPE;
	if ((type == WIRE_HELLO) != (stream == 0))
		return WIRE_ERR_STREAM;
	size_t want = 0;
	switch (type) {
	case WIRE_HELLO:
		return plen < 4 ? WIRE_ERR_TRUNCATED : WIRE_OK; // later versions may add fields
	case WIRE_REQUEST:
		// Streams the grain opens are reserved for capability calls.
		return stream & WIRE_STREAM_GRAIN ? WIRE_ERR_STREAM : WIRE_OK;
	case WIRE_RESPONSE:
		return WIRE_OK;
	case WIRE_BODY:
		return plen == 0 ? WIRE_ERR_TRUNCATED : WIRE_OK;
	case WIRE_END:
		want = 0;
		break;
	case WIRE_RESET:
		want = 2;
		break;
	case WIRE_WINDOW:
		want = 4;
		break;
	}
	return plen < want ? WIRE_ERR_TRUNCATED : plen > want ? WIRE_ERR_TRAILING : WIRE_OK;
}

enum wire_err wire_decode_frame(const char *in, size_t len, struct wire_frame *f, size_t *used)
{
	const unsigned char *p = (const unsigned char *)in;
	if (len < 4)
		return WIRE_INCOMPLETE;
	uint32_t flen = be32(p);
	if (flen < 5 || flen > WIRE_MAX_FRAME)
		return WIRE_ERR_LENGTH;
	if (len < WIRE_HEAD_LEN)
		return WIRE_INCOMPLETE;
	uint32_t stream = be32(p + 4);
	unsigned type = p[8];
	size_t plen = flen - 5;
	enum wire_err e = check_frame_head(stream, type, plen);
	if (e)
		return e;
	if (len - 4 < flen)
		return WIRE_INCOMPLETE;
	memset(f, 0, sizeof(*f));
	f->stream = stream;
	f->type = (enum wire_type)type;
	f->payload = in + WIRE_HEAD_LEN;
	f->len = plen;
	const unsigned char *q = p + WIRE_HEAD_LEN;
	switch (type) {
	case WIRE_HELLO:
		f->version = (uint16_t)(q[0] << 8 | q[1]);
		if (f->version != WIRE_VERSION)
			return WIRE_ERR_VERSION;
		break;
	case WIRE_RESET:
		f->code = (uint16_t)(q[0] << 8 | q[1]);
		break;
	case WIRE_WINDOW:
		f->increment = be32(q);
		if (f->increment == 0 || f->increment > WIRE_MAX_CREDIT)
			return WIRE_ERR_VALUE;
		break;
	}
	*used = 4 + (size_t)flen;
	return WIRE_OK;
}

// --- Encoding ---

static void put_u8(char **w, unsigned v)
{
	*(*w)++ = (char)(unsigned char)v;
}

static void put_u16(char **w, unsigned v)
{
	put_u8(w, v >> 8 & 0xff);
	put_u8(w, v & 0xff);
}

static void put_u32(char **w, uint32_t v)
{
	put_u16(w, v >> 16);
	put_u16(w, v & 0xffff);
}

static void put_u64(char **w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static void put_str(char **w, struct wire_str s)
{
	put_u16(w, (unsigned)s.len);
	if (s.len)
		memcpy(*w, s.p, s.len);
	*w += s.len;
}

static void put_length(char **w, int64_t n)
{
	put_u64(w, n < 0 ? WIRE_LENGTH_UNKNOWN : (uint64_t)n);
}

static void put_headers(char **w, const struct wire_header *h, size_t n)
{
	put_u16(w, (unsigned)n);
	for (size_t i = 0; i < n; i++) {
		put_str(w, h[i].name);
		put_str(w, h[i].value);
	}
}

static size_t headers_size(const struct wire_header *h, size_t n)
{
	size_t s = 2;
	for (size_t i = 0; i < n; i++)
		s += 4 + h[i].name.len + h[i].value.len;
	return s;
}

// Reserves a frame of plen payload bytes in out and writes its header; returns where the
// payload goes, or NULL (out unchanged).
static char *frame_begin(struct buf *out, uint32_t stream, unsigned type, size_t plen)
{
	if (plen > WIRE_MAX_PAYLOAD || buf_reserve(out, WIRE_HEAD_LEN + plen) < 0)
		return NULL;
	char *w = out->data + out->len;
	put_u32(&w, (uint32_t)(plen + 5));
	put_u32(&w, stream);
	put_u8(&w, type);
	return w;
}

// The frame is complete: count its bytes in out.
static enum wire_err frame_end(struct buf *out, size_t plen)
{
	out->len += WIRE_HEAD_LEN + plen;
	return WIRE_OK;
}

// Fixed-size frames share this: the header rules are the decoder's.
static enum wire_err put_small(struct buf *out, uint32_t stream, unsigned type, const char *p,
			       size_t plen)
{
	enum wire_err e = check_frame_head(stream, type, plen);
	if (e)
		return e;
	char *w = frame_begin(out, stream, type, plen);
	if (!w)
		return plen > WIRE_MAX_PAYLOAD ? WIRE_ERR_LIMIT : WIRE_ERR_NOMEM;
	if (plen)
		memcpy(w, p, plen);
	return frame_end(out, plen);
}

enum wire_err wire_put_hello(struct buf *out)
{
	char p[4] = {0, WIRE_VERSION, 0, 0};
	return put_small(out, 0, WIRE_HELLO, p, sizeof(p));
}

enum wire_err wire_put_body(struct buf *out, uint32_t stream, const void *p, size_t n)
{
	if (n > WIRE_MAX_PAYLOAD)
		return WIRE_ERR_LIMIT;
	return put_small(out, stream, WIRE_BODY, p, n);
}

enum wire_err wire_put_end(struct buf *out, uint32_t stream)
{
	return put_small(out, stream, WIRE_END, NULL, 0);
}

enum wire_err wire_put_reset(struct buf *out, uint32_t stream, uint16_t code)
{
	char p[2] = {(char)(code >> 8), (char)(code & 0xff)};
	return put_small(out, stream, WIRE_RESET, p, sizeof(p));
}

enum wire_err wire_put_window(struct buf *out, uint32_t stream, uint32_t increment)
{
	if (increment == 0 || increment > WIRE_MAX_CREDIT)
		return WIRE_ERR_VALUE;
	char p[4], *w = p;
	put_u32(&w, increment);
	return put_small(out, stream, WIRE_WINDOW, p, sizeof(p));
}

enum wire_err wire_put_request(struct buf *out, uint32_t stream, const struct wire_request *r)
{
	enum wire_err e = check_frame_head(stream, WIRE_REQUEST, 0);
	if (!e)
		e = check_request(r);
	if (e)
		return e;
	const struct wire_str strs[] = {r->method, r->host, r->path, r->query,
					r->user_id, r->username, r->session_id, r->tab_id};
	size_t plen = 1 + 8 + 2 + headers_size(r->headers, r->nheaders);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		plen += 2 + strs[i].len;
	for (size_t i = 0; i < r->npermissions; i++)
		plen += 2 + r->permissions[i].len;
	char *w = frame_begin(out, stream, WIRE_REQUEST, plen);
	if (!w)
		return WIRE_ERR_NOMEM;
	put_u8(&w, r->https ? 1 : 0);
	put_length(&w, r->content_length);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put_str(&w, strs[i]);
	put_u16(&w, (unsigned)r->npermissions);
	for (size_t i = 0; i < r->npermissions; i++)
		put_str(&w, r->permissions[i]);
	put_headers(&w, r->headers, r->nheaders);
	return frame_end(out, plen);
}

enum wire_err wire_put_response(struct buf *out, uint32_t stream, const struct wire_response *r)
{
	enum wire_err e = check_frame_head(stream, WIRE_RESPONSE, 0);
	if (!e)
		e = check_response(r);
	if (e)
		return e;
	size_t plen = 2 + 8 + headers_size(r->headers, r->nheaders);
	char *w = frame_begin(out, stream, WIRE_RESPONSE, plen);
	if (!w)
		return WIRE_ERR_NOMEM;
	put_u16(&w, (unsigned)r->status);
	put_length(&w, r->content_length);
	put_headers(&w, r->headers, r->nheaders);
	return frame_end(out, plen);
}

int wire_pct_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		if (ch_uri_unreserved(c) ? buf_putc(out, (char)c) : buf_append(out, esc, 3))
			return -1;
	}
	return out->oom ? -1 : 0;
}

// --- Names for logs ---

const char *wire_strerror(enum wire_err e)
{
	switch (e) {
	case WIRE_OK: return "ok";
	case WIRE_INCOMPLETE: return "incomplete frame";
	case WIRE_ERR_LENGTH: return "bad frame length";
	case WIRE_ERR_TYPE: return "unknown frame type";
	case WIRE_ERR_STREAM: return "stream id not allowed for this frame type";
	case WIRE_ERR_TRUNCATED: return "field runs past the payload";
	case WIRE_ERR_TRAILING: return "trailing bytes after the last field";
	case WIRE_ERR_LIMIT: return "count or length over its limit";
	case WIRE_ERR_VALUE: return "field holds bytes it may not";
	case WIRE_ERR_VERSION: return "unsupported wire version";
	case WIRE_ERR_NOMEM: return "out of memory";
	}
	return "unknown error";
}

const char *wire_type_name(int type)
{
	static const char *const names[] = {
		"?", "HELLO", "REQUEST", "RESPONSE", "BODY", "END", "RESET", "WINDOW",
	};
	return type >= WIRE_HELLO && type <= WIRE_WINDOW ? names[type] : "?";
}

const char *wire_reset_name(unsigned code)
{
	switch (code) {
	case WIRE_RESET_CANCEL: return "cancelled";
	case WIRE_RESET_PROTOCOL: return "protocol error";
	case WIRE_RESET_REFUSED: return "refused";
	case WIRE_RESET_FLOW: return "flow-control error";
	case WIRE_RESET_APP_CLOSED: return "app closed the connection";
	case WIRE_RESET_APP_BAD: return "app sent an invalid response";
	case WIRE_RESET_INTERNAL: return "internal error";
	case WIRE_RESET_LOST: return "wire lost";
	}
	return "unknown reason";
}
