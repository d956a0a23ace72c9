// SPDX-License-Identifier: MIT
// Unit tests for wire.c: round trips of every frame type, truncation at every offset, every
// cap on both the encoder and the decoder, bad types, streams, versions and field bytes.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test.h"
#include "wire.h"

// --- Raw payload building, for what the encoders refuse to produce ---

static void raw_u8(struct buf *b, unsigned v)
{
	buf_putc(b, (char)v);
}

static void raw_u16(struct buf *b, unsigned v)
{
	raw_u8(b, v >> 8 & 0xff);
	raw_u8(b, v & 0xff);
}

static void raw_u32(struct buf *b, uint32_t v)
{
	raw_u16(b, v >> 16);
	raw_u16(b, v & 0xffff);
}

static void raw_u64(struct buf *b, uint64_t v)
{
	raw_u32(b, (uint32_t)(v >> 32));
	raw_u32(b, (uint32_t)v);
}

static void raw_str(struct buf *b, const char *s, size_t n)
{
	raw_u16(b, (unsigned)n);
	buf_append(b, s, n);
}

static void raw_frame(struct buf *b, uint32_t stream, unsigned type, const char *p, size_t n)
{
	raw_u32(b, (uint32_t)(n + 5));
	raw_u32(b, stream);
	raw_u8(b, type);
	buf_append(b, p, n);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

// A request with every field set.
static const char *perms[] = {"edit", "view"};

static void sample_request(struct wire_request *r)
{
	memset(r, 0, sizeof(*r));
	r->https = true;
	r->content_length = 1234;
	r->method = wire_s("PROPFIND");
	r->host = wire_s("ui-0123abcd.example.org:8443");
	r->path = wire_s("/dav/cal%20endar/");
	r->query = wire_s("a=1&b=%2F?c");
	r->user_id = wire_s("0123456789abcdef0123456789abcdef");
	r->username = wire_s("Alice%20B%C3%B6b");
	r->session_id = wire_s("sess-1_2.3");
	r->tab_id = wire_s("tab9");
	for (size_t i = 0; i < 2; i++)
		r->permissions[i] = wire_s(perms[i]);
	r->npermissions = 2;
	r->headers[0] = (struct wire_header){wire_s("Accept"), wire_s("*/*")};
	r->headers[1] = (struct wire_header){wire_s("Cookie"), wire_s("a=b; c=\"d e\"")};
	r->headers[2] = (struct wire_header){wire_s("X-Empty"), wire_s("")};
	r->headers[3] = (struct wire_header){wire_s("X-Obs"), wire_s("caf\xc3\xa9\tok")};
	r->nheaders = 4;
}

static bool str_is(struct wire_str s, struct wire_str want)
{
	return s.len == want.len && (!s.len || memcmp(s.p, want.p, s.len) == 0);
}

static bool requests_equal(const struct wire_request *a, const struct wire_request *b)
{
	if (a->https != b->https || a->content_length != b->content_length ||
	    a->npermissions != b->npermissions || a->nheaders != b->nheaders)
		return false;
	if (!str_is(a->method, b->method) || !str_is(a->host, b->host) || !str_is(a->path, b->path) ||
	    !str_is(a->query, b->query) || !str_is(a->user_id, b->user_id) ||
	    !str_is(a->username, b->username) || !str_is(a->session_id, b->session_id) ||
	    !str_is(a->tab_id, b->tab_id))
		return false;
	for (size_t i = 0; i < a->npermissions; i++)
		if (!str_is(a->permissions[i], b->permissions[i]))
			return false;
	for (size_t i = 0; i < a->nheaders; i++)
		if (!str_is(a->headers[i].name, b->headers[i].name) ||
		    !str_is(a->headers[i].value, b->headers[i].value))
			return false;
	return true;
}

static struct wire_request req, dec;   // large: kept off the stack

// Encodes r on stream 1 and decodes it back into dec; the result of either step.
static struct buf rt;   // holds the frame dec points into, until the next round trip

static enum wire_err round_trip(const struct wire_request *r)
{
	struct buf b = rt;
	buf_reset(&b);
	enum wire_err e = wire_put_request(&b, 1, r);
	if (!e) {
		struct wire_frame f;
		size_t used;
		e = wire_decode_frame(b.data, b.len, &f, &used);
		if (!e && (used != b.len || f.type != WIRE_REQUEST || f.stream != 1))
			e = WIRE_ERR_VALUE;
		if (!e)
			e = wire_decode_request(f.payload, f.len, &dec);
	}
	rt = b;
	return e;
}

static void test_small_frames(void)
{
	struct buf b;
	buf_init(&b);
	CHECK(wire_put_hello(&b) == WIRE_OK && b.len == 13, "wire: HELLO encodes to 13 bytes");
	CHECK(wire_put_body(&b, 7, "hello", 5) == WIRE_OK, "wire: BODY encodes");
	CHECK(wire_put_end(&b, 7) == WIRE_OK, "wire: END encodes");
	CHECK(wire_put_reset(&b, 7, WIRE_RESET_APP_BAD) == WIRE_OK, "wire: RESET encodes");
	CHECK(wire_put_window(&b, 7, 40000) == WIRE_OK, "wire: WINDOW encodes");
	static const unsigned char hello[] = {0, 0, 0, 9, 0, 0, 0, 0, 1, 0, 1, 0, 0};
	CHECK(memcmp(b.data, hello, sizeof(hello)) == 0, "wire: HELLO bytes are as documented");

	struct wire_frame f;
	size_t used, off = 0;
	enum wire_err e = wire_decode_frame(b.data, b.len, &f, &used);
	CHECK(e == WIRE_OK && f.type == WIRE_HELLO && f.stream == 0 && f.version == 1 && used == 13,
	      "wire: HELLO decodes");
	off += used;
	e = wire_decode_frame(b.data + off, b.len - off, &f, &used);
	CHECK(e == WIRE_OK && f.type == WIRE_BODY && f.stream == 7 && f.len == 5 &&
	      memcmp(f.payload, "hello", 5) == 0, "wire: BODY decodes");
	off += used;
	e = wire_decode_frame(b.data + off, b.len - off, &f, &used);
	CHECK(e == WIRE_OK && f.type == WIRE_END && f.len == 0 && used == 9, "wire: END decodes");
	off += used;
	e = wire_decode_frame(b.data + off, b.len - off, &f, &used);
	CHECK(e == WIRE_OK && f.type == WIRE_RESET && f.code == WIRE_RESET_APP_BAD, "wire: RESET decodes");
	off += used;
	e = wire_decode_frame(b.data + off, b.len - off, &f, &used);
	CHECK(e == WIRE_OK && f.type == WIRE_WINDOW && f.increment == 40000, "wire: WINDOW decodes");
	off += used;
	CHECK(off == b.len, "wire: five frames use the whole buffer");

	// Every prefix of the five frames is incomplete at its frame boundary.
	bool ok = true;
	for (size_t k = 0, start = 0; k < b.len; k++) {
		e = wire_decode_frame(b.data + start, k - start, &f, &used);
		if (e == WIRE_OK) {
			start += used;
			if (start > k)
				ok = false;
		} else if (e != WIRE_INCOMPLETE) {
			ok = false;
		}
	}
	CHECK(ok, "wire: truncation at every offset of a frame sequence is WIRE_INCOMPLETE");
	buf_free(&b);
}

static void test_request_round_trip(void)
{
	sample_request(&req);
	CHECK(round_trip(&req) == WIRE_OK && requests_equal(&req, &dec),
	      "wire: REQUEST round trip keeps every field");
	req.content_length = -1;
	req.https = false;
	CHECK(round_trip(&req) == WIRE_OK && dec.content_length == -1 && !dec.https,
	      "wire: unknown content length round trip");
	memset(&req, 0, sizeof(req));
	req.method = wire_s("GET");
	req.path = wire_s("/");
	CHECK(round_trip(&req) == WIRE_OK && dec.nheaders == 0 && dec.user_id.len == 0 &&
	      dec.npermissions == 0, "wire: a minimal REQUEST round trip");

	// Truncating the payload anywhere is an error, never a shorter valid request.
	sample_request(&req);
	struct buf b;
	buf_init(&b);
	wire_put_request(&b, 3, &req);
	const char *p = b.data + WIRE_HEAD_LEN;
	size_t plen = b.len - WIRE_HEAD_LEN;
	bool ok = true;
	for (size_t k = 0; k < plen; k++)
		if (wire_decode_request(p, k, &dec) != WIRE_ERR_TRUNCATED)
			ok = false;
	CHECK(ok, "wire: REQUEST payload truncated at every offset is WIRE_ERR_TRUNCATED");
	char *longer = malloc(plen + 1);
	memcpy(longer, p, plen);
	longer[plen] = 'x';
	CHECK(wire_decode_request(longer, plen + 1, &dec) == WIRE_ERR_TRAILING,
	      "wire: a byte after the last header is WIRE_ERR_TRAILING");
	free(longer);
	// Whole-frame prefixes are incomplete, whatever the cut.
	ok = true;
	for (size_t k = 0; k < b.len; k++) {
		struct wire_frame f;
		size_t used;
		if (wire_decode_frame(b.data, k, &f, &used) != WIRE_INCOMPLETE)
			ok = false;
	}
	CHECK(ok, "wire: REQUEST frame truncated at every offset is WIRE_INCOMPLETE");
	buf_free(&b);
}

static void test_response_round_trip(void)
{
	static struct wire_response r, d;
	memset(&r, 0, sizeof(r));
	r.status = 207;
	r.content_length = 99;
	r.headers[0] = (struct wire_header){wire_s("Content-Type"), wire_s("text/xml")};
	r.headers[1] = (struct wire_header){wire_s("Set-Cookie"), wire_s("a=b; HttpOnly")};
	r.nheaders = 2;
	struct buf b;
	buf_init(&b);
	CHECK(wire_put_response(&b, 5, &r) == WIRE_OK, "wire: RESPONSE encodes");
	struct wire_frame f;
	size_t used;
	enum wire_err e = wire_decode_frame(b.data, b.len, &f, &used);
	if (!e)
		e = wire_decode_response(f.payload, f.len, &d);
	CHECK(e == WIRE_OK && d.status == 207 && d.content_length == 99 && d.nheaders == 2 &&
	      wire_str_eq(d.headers[1].value, "a=b; HttpOnly"), "wire: RESPONSE round trip");
	bool ok = true;
	for (size_t k = 0; k + WIRE_HEAD_LEN < b.len; k++)
		if (wire_decode_response(b.data + WIRE_HEAD_LEN, k, &d) != WIRE_ERR_TRUNCATED)
			ok = false;
	CHECK(ok, "wire: RESPONSE payload truncated at every offset is WIRE_ERR_TRUNCATED");

	size_t before = b.len;
	r.status = 100;
	CHECK(wire_put_response(&b, 5, &r) == WIRE_ERR_VALUE && b.len == before,
	      "wire: status 100 refused, buffer unchanged");
	r.status = 600;
	CHECK(wire_put_response(&b, 5, &r) == WIRE_ERR_VALUE, "wire: status 600 refused");
	r.status = 101;
	r.content_length = -1;
	CHECK(wire_put_response(&b, 5, &r) == WIRE_OK, "wire: status 101 allowed");
	r.status = 199;
	CHECK(wire_put_response(&b, 5, &r) == WIRE_ERR_VALUE, "wire: status 199 refused");
	r.status = 200;
	r.content_length = -2;
	CHECK(wire_put_response(&b, 5, &r) == WIRE_ERR_VALUE, "wire: negative length refused");
	CHECK(wire_put_response(&b, 0, &r) == WIRE_ERR_STREAM, "wire: RESPONSE on stream 0 refused");

	struct buf p;
	buf_init(&p);
	raw_u16(&p, 200);
	raw_u64(&p, (uint64_t)INT64_MAX + 1);
	raw_u16(&p, 0);
	CHECK(wire_decode_response(p.data, p.len, &d) == WIRE_ERR_VALUE,
	      "wire: a length over 2^63-1 is refused");
	buf_reset(&p);
	raw_u16(&p, 42);
	raw_u64(&p, 0);
	raw_u16(&p, 0);
	CHECK(wire_decode_response(p.data, p.len, &d) == WIRE_ERR_VALUE,
	      "wire: status 42 decodes as an error");
	buf_free(&p);
	buf_free(&b);
}

// Sets one field of a fresh sample request and returns the encoder's verdict; when the
// encoder refuses, the decoder must too (checked with a raw payload built to match).
static enum wire_err with_request(void (*edit)(struct wire_request *r))
{
	sample_request(&req);
	edit(&req);
	return round_trip(&req);
}

static char *big, *bigpath;   // scratch for the long-value edits

static void e_method_long(struct wire_request *r) { r->method = (struct wire_str){big, 33}; }
static void e_method_max(struct wire_request *r) { r->method = (struct wire_str){big, 32}; }
static void e_method_empty(struct wire_request *r) { r->method = wire_s(""); }
static void e_method_space(struct wire_request *r) { r->method = wire_s("GE T"); }
static void e_host_long(struct wire_request *r) { r->host = (struct wire_str){big, 256}; }
static void e_host_bad(struct wire_request *r) { r->host = wire_s("a b"); }
static void e_host_empty(struct wire_request *r) { r->host = wire_s(""); }
static void e_path_long(struct wire_request *r) { r->path = (struct wire_str){bigpath, 8193}; }
static void e_path_max(struct wire_request *r) { r->path = (struct wire_str){bigpath, 8192}; }
static void e_path_rel(struct wire_request *r) { r->path = wire_s("x/y"); }
static void e_path_q(struct wire_request *r) { r->path = wire_s("/a?b"); }
static void e_path_sp(struct wire_request *r) { r->path = wire_s("/a b"); }
static void e_path_crlf(struct wire_request *r) { r->path = wire_s("/a\r\nX: y"); }
static void e_path_empty(struct wire_request *r) { r->path = wire_s(""); }
static void e_query_long(struct wire_request *r) { r->query = (struct wire_str){big, 8193}; }
static void e_query_hash(struct wire_request *r) { r->query = wire_s("a#b"); }
static void e_query_8bit(struct wire_request *r) { r->query = wire_s("a=\xc3\xa9"); }
static void e_uid_short(struct wire_request *r) { r->user_id = wire_s("0123456789abcdef0123456789abcde"); }
static void e_uid_long(struct wire_request *r) { r->user_id = wire_s("0123456789abcdef0123456789abcdef0"); }
static void e_uid_upper(struct wire_request *r) { r->user_id = wire_s("0123456789ABCDEF0123456789abcdef"); }
static void e_user_space(struct wire_request *r) { r->username = wire_s("Alice B"); }
static void e_user_pct(struct wire_request *r) { r->username = wire_s("Alice%2"); }
static void e_user_pct_bad(struct wire_request *r) { r->username = wire_s("Alice%zz"); }
static void e_user_long(struct wire_request *r) { r->username = (struct wire_str){big, 1025}; }
static void e_session_long(struct wire_request *r) { r->session_id = (struct wire_str){big, 129}; }
static void e_session_bad(struct wire_request *r) { r->session_id = wire_s("a/b"); }
static void e_tab_bad(struct wire_request *r) { r->tab_id = wire_s("a\nb"); }
static void e_perms_many(struct wire_request *r)
{
	for (size_t i = 0; i < WIRE_MAX_PERMISSIONS + 1; i++)
		r->permissions[i < WIRE_MAX_PERMISSIONS ? i : 0] = wire_s("p");
	r->npermissions = WIRE_MAX_PERMISSIONS + 1;
}
static void e_perms_max(struct wire_request *r)
{
	for (size_t i = 0; i < WIRE_MAX_PERMISSIONS; i++)
		r->permissions[i] = wire_s("p");
	r->npermissions = WIRE_MAX_PERMISSIONS;
}
static void e_perm_long(struct wire_request *r) { r->permissions[0] = (struct wire_str){big, 65}; }
static void e_perm_empty(struct wire_request *r) { r->permissions[0] = wire_s(""); }
static void e_perm_comma(struct wire_request *r) { r->permissions[0] = wire_s("a,b"); }
static void e_hdrs_many(struct wire_request *r)
{
	r->nheaders = WIRE_MAX_HEADERS + 1;
	for (size_t i = 0; i < WIRE_MAX_HEADERS; i++)
		r->headers[i] = (struct wire_header){wire_s("X-A"), wire_s("b")};
}
static void e_hdrs_max(struct wire_request *r)
{
	r->nheaders = WIRE_MAX_HEADERS;
	for (size_t i = 0; i < WIRE_MAX_HEADERS; i++)
		r->headers[i] = (struct wire_header){wire_s("X-A"), wire_s("b")};
}
static void e_hname_long(struct wire_request *r) { r->headers[0].name = (struct wire_str){big, 257}; }
static void e_hname_max(struct wire_request *r) { r->headers[0].name = (struct wire_str){big, 256}; }
static void e_hname_sp(struct wire_request *r) { r->headers[0].name = wire_s("X A"); }
static void e_hname_colon(struct wire_request *r) { r->headers[0].name = wire_s("X:A"); }
static void e_hname_empty(struct wire_request *r) { r->headers[0].name = wire_s(""); }
static void e_hval_cr(struct wire_request *r) { r->headers[0].value = wire_s("a\rb"); }
static void e_hval_lf(struct wire_request *r) { r->headers[0].value = wire_s("a\nX-Injected: 1"); }
static void e_hval_nul(struct wire_request *r) { r->headers[0].value = (struct wire_str){"a\0b", 3}; }
static void e_hval_del(struct wire_request *r) { r->headers[0].value = wire_s("a\x7f"); }
static void e_hval_lead(struct wire_request *r) { r->headers[0].value = wire_s(" a"); }
static void e_hval_trail(struct wire_request *r) { r->headers[0].value = wire_s("a\t"); }
static void e_hbytes(struct wire_request *r)
{
	r->nheaders = 2;
	r->headers[0] = (struct wire_header){wire_s("A"), {big, 40000}};
	r->headers[1] = (struct wire_header){wire_s("B"), {big, 30000}};
}
static void e_hbytes_max(struct wire_request *r)
{
	r->nheaders = 2;
	r->headers[0] = (struct wire_header){wire_s("A"), {big, 40000}};
	r->headers[1] = (struct wire_header){wire_s("B"), {big, 65536 - 40002}};
}
static void e_cl_neg(struct wire_request *r) { r->content_length = -2; }

static void test_request_caps(void)
{
	big = repeat('a', 70000);
	bigpath = repeat('/', 8193);
	static const struct {
		void (*edit)(struct wire_request *r);
		enum wire_err want;
		const char *name;
	} cases[] = {
		{e_method_long, WIRE_ERR_LIMIT, "method of 33 bytes"},
		{e_method_max, WIRE_OK, "method of 32 bytes"},
		{e_method_empty, WIRE_ERR_VALUE, "empty method"},
		{e_method_space, WIRE_ERR_VALUE, "method with a space"},
		{e_host_long, WIRE_ERR_LIMIT, "host of 256 bytes"},
		{e_host_bad, WIRE_ERR_VALUE, "host with a space"},
		{e_host_empty, WIRE_OK, "empty host"},
		{e_path_long, WIRE_ERR_LIMIT, "path of 8193 bytes"},
		{e_path_max, WIRE_OK, "path of 8192 bytes"},
		{e_path_rel, WIRE_ERR_VALUE, "relative path"},
		{e_path_q, WIRE_ERR_VALUE, "path holding '?'"},
		{e_path_sp, WIRE_ERR_VALUE, "path holding a space"},
		{e_path_crlf, WIRE_ERR_VALUE, "path holding CRLF"},
		{e_path_empty, WIRE_ERR_VALUE, "empty path"},
		{e_query_long, WIRE_ERR_LIMIT, "query of 8193 bytes"},
		{e_query_hash, WIRE_ERR_VALUE, "query holding '#'"},
		{e_query_8bit, WIRE_ERR_VALUE, "query holding raw UTF-8"},
		{e_uid_short, WIRE_ERR_VALUE, "user id of 31 hex"},
		{e_uid_long, WIRE_ERR_LIMIT, "user id of 33 hex"},
		{e_uid_upper, WIRE_ERR_VALUE, "user id in upper case"},
		{e_user_space, WIRE_ERR_VALUE, "username with a raw space"},
		{e_user_pct, WIRE_ERR_VALUE, "username ending in a short escape"},
		{e_user_pct_bad, WIRE_ERR_VALUE, "username with a non-hex escape"},
		{e_user_long, WIRE_ERR_LIMIT, "username of 1025 bytes"},
		{e_session_long, WIRE_ERR_LIMIT, "session id of 129 bytes"},
		{e_session_bad, WIRE_ERR_VALUE, "session id with '/'"},
		{e_tab_bad, WIRE_ERR_VALUE, "tab id with LF"},
		{e_perms_many, WIRE_ERR_LIMIT, "65 permissions"},
		{e_perms_max, WIRE_OK, "64 permissions"},
		{e_perm_long, WIRE_ERR_LIMIT, "permission of 65 bytes"},
		{e_perm_empty, WIRE_ERR_VALUE, "empty permission"},
		{e_perm_comma, WIRE_ERR_VALUE, "permission with a comma"},
		{e_hdrs_many, WIRE_ERR_LIMIT, "101 headers"},
		{e_hdrs_max, WIRE_OK, "100 headers"},
		{e_hname_long, WIRE_ERR_LIMIT, "header name of 257 bytes"},
		{e_hname_max, WIRE_OK, "header name of 256 bytes"},
		{e_hname_sp, WIRE_ERR_VALUE, "header name with a space"},
		{e_hname_colon, WIRE_ERR_VALUE, "header name with a colon"},
		{e_hname_empty, WIRE_ERR_VALUE, "empty header name"},
		{e_hval_cr, WIRE_ERR_VALUE, "header value with CR"},
		{e_hval_lf, WIRE_ERR_VALUE, "header value with LF (injection)"},
		{e_hval_nul, WIRE_ERR_VALUE, "header value with NUL"},
		{e_hval_del, WIRE_ERR_VALUE, "header value with DEL"},
		{e_hval_lead, WIRE_ERR_VALUE, "header value with leading space"},
		{e_hval_trail, WIRE_ERR_VALUE, "header value with trailing tab"},
		{e_hbytes, WIRE_ERR_LIMIT, "70000 header bytes"},
		{e_hbytes_max, WIRE_OK, "65536 header bytes"},
		{e_cl_neg, WIRE_ERR_VALUE, "content length -2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum wire_err e = with_request(cases[i].edit);
		CHECK(e == cases[i].want,
		      "wire: REQUEST with %s: %s", cases[i].name, wire_strerror(cases[i].want));
	}
	// The decoder applies the same rules to bytes no encoder would write.
	struct buf p;
	buf_init(&p);
	raw_u8(&p, 0);
	raw_u64(&p, 0);
	const char *fields[] = {"GET", "", "/a", "", "", "", "", ""};
	for (size_t i = 0; i < 8; i++)
		raw_str(&p, fields[i], strlen(fields[i]));
	raw_u16(&p, 0);
	raw_u16(&p, 1);
	raw_str(&p, "X-A", 3);
	raw_str(&p, "a\r\nX-Sandstorm-User-Id: 0", 25);
	CHECK(wire_decode_request(p.data, p.len, &dec) == WIRE_ERR_VALUE,
	      "wire: decoder refuses a header value that would inject a line");
	p.data[0] = 2;
	CHECK(wire_decode_request(p.data, p.len, &dec) == WIRE_ERR_VALUE,
	      "wire: unknown REQUEST flag refused");
	buf_reset(&p);
	raw_u8(&p, 0);
	raw_u64(&p, 0);
	raw_str(&p, big, 33);
	CHECK(wire_decode_request(p.data, p.len, &dec) == WIRE_ERR_LIMIT,
	      "wire: decoder refuses a 33-byte method before reading it");
	buf_reset(&p);
	raw_u8(&p, 0);
	raw_u64(&p, 0);
	for (size_t i = 0; i < 8; i++)
		raw_str(&p, fields[i], strlen(fields[i]));
	raw_u16(&p, 65);
	CHECK(wire_decode_request(p.data, p.len, &dec) == WIRE_ERR_LIMIT,
	      "wire: decoder refuses 65 permissions from the count alone");
	buf_reset(&p);
	raw_u8(&p, 0);
	raw_u64(&p, 0);
	for (size_t i = 0; i < 8; i++)
		raw_str(&p, fields[i], strlen(fields[i]));
	raw_u16(&p, 0);
	raw_u16(&p, 101);
	CHECK(wire_decode_request(p.data, p.len, &dec) == WIRE_ERR_LIMIT,
	      "wire: decoder refuses 101 headers from the count alone");
	buf_free(&p);
	free(big);
	free(bigpath);
}

static enum wire_err decode_raw(uint32_t stream, unsigned type, const char *p, size_t n)
{
	struct buf b;
	buf_init(&b);
	raw_frame(&b, stream, type, p, n);
	struct wire_frame f;
	size_t used;
	enum wire_err e = wire_decode_frame(b.data, b.len, &f, &used);
	buf_free(&b);
	return e;
}

static void test_frame_rules(void)
{
	static const unsigned bad_types[] = {0, 8, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xff};
	bool ok = true;
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++)
		if (decode_raw(1, bad_types[i], "x", 1) != WIRE_ERR_TYPE)
			ok = false;
	CHECK(ok, "wire: types 0, 8, 0x3f, 0x40-0x7f (capabilities, reserved) and 0xff refused");

	CHECK(decode_raw(0, WIRE_HELLO, "\0\2\0\0", 4) == WIRE_ERR_VERSION, "wire: HELLO version 2 refused");
	CHECK(decode_raw(0, WIRE_HELLO, "\0\0\0\0", 4) == WIRE_ERR_VERSION, "wire: HELLO version 0 refused");
	CHECK(decode_raw(0, WIRE_HELLO, "\1\1\0\0", 4) == WIRE_ERR_VERSION,
	      "wire: HELLO version 257 refused");
	CHECK(decode_raw(0, WIRE_HELLO, "\0\1\0", 3) == WIRE_ERR_TRUNCATED, "wire: HELLO of 3 bytes refused");
	CHECK(decode_raw(0, WIRE_HELLO, "\0\1\0\0later", 9) == WIRE_OK,
	      "wire: HELLO with fields of a later version accepted");
	CHECK(decode_raw(1, WIRE_HELLO, "\0\1\0\0", 4) == WIRE_ERR_STREAM, "wire: HELLO on stream 1 refused");
	CHECK(decode_raw(0, WIRE_BODY, "x", 1) == WIRE_ERR_STREAM, "wire: BODY on stream 0 refused");
	CHECK(decode_raw(0, WIRE_END, "", 0) == WIRE_ERR_STREAM, "wire: END on stream 0 refused");
	CHECK(decode_raw(0x80000001u, WIRE_REQUEST, "", 0) == WIRE_ERR_STREAM,
	      "wire: REQUEST on a grain-opened stream id refused");
	CHECK(decode_raw(1, WIRE_BODY, "", 0) == WIRE_ERR_TRUNCATED, "wire: empty BODY refused");
	CHECK(decode_raw(1, WIRE_END, "x", 1) == WIRE_ERR_TRAILING, "wire: END with a payload refused");
	CHECK(decode_raw(1, WIRE_RESET, "x", 1) == WIRE_ERR_TRUNCATED, "wire: RESET of 1 byte refused");
	CHECK(decode_raw(1, WIRE_RESET, "xyz", 3) == WIRE_ERR_TRAILING, "wire: RESET of 3 bytes refused");
	CHECK(decode_raw(1, WIRE_RESET, "\x12\x34", 2) == WIRE_OK,
	      "wire: RESET with an unknown code accepted");
	CHECK(decode_raw(1, WIRE_WINDOW, "\0\0\0\0", 4) == WIRE_ERR_VALUE, "wire: WINDOW of 0 refused");
	CHECK(decode_raw(1, WIRE_WINDOW, "\x80\0\0\0", 4) == WIRE_ERR_VALUE, "wire: WINDOW of 2^31 refused");
	CHECK(decode_raw(1, WIRE_WINDOW, "\x7f\xff\xff\xff", 4) == WIRE_OK,
	      "wire: WINDOW of 2^31-1 accepted");
	CHECK(decode_raw(1, WIRE_WINDOW, "\0\0\1", 3) == WIRE_ERR_TRUNCATED,
	      "wire: WINDOW of 3 bytes refused");

	// Length field: checked from its four bytes alone.
	struct wire_frame f;
	size_t used;
	static const char len4[] = {0, 0, 0, 4};
	static const char len0[] = {0, 0, 0, 0};
	static const char lenbig[] = {0, 0x10, 0, 1};
	static const char lenmax[] = {0, 0x10, 0, 0, 0, 0, 0, 1, WIRE_BODY};
	CHECK(wire_decode_frame(len4, 4, &f, &used) == WIRE_ERR_LENGTH, "wire: length 4 refused");
	CHECK(wire_decode_frame(len0, 4, &f, &used) == WIRE_ERR_LENGTH, "wire: length 0 refused");
	CHECK(wire_decode_frame(lenbig, 4, &f, &used) == WIRE_ERR_LENGTH,
	      "wire: length 1 MiB + 1 refused at once");
	CHECK(wire_decode_frame(lenmax, sizeof(lenmax), &f, &used) == WIRE_INCOMPLETE,
	      "wire: length 1 MiB waits for its payload");
	static const char early_type[] = {0, 0, 0, 5, 0, 0, 0, 1, 9};
	CHECK(wire_decode_frame(early_type, 9, &f, &used) == WIRE_ERR_TYPE,
	      "wire: a bad type shows before the payload arrives");
	static const char early_stream[] = {0, 0, 0, 100, 0, 0, 0, 0, WIRE_BODY};
	CHECK(wire_decode_frame(early_stream, 9, &f, &used) == WIRE_ERR_STREAM,
	      "wire: a bad stream shows before the payload arrives");

	struct buf b;
	buf_init(&b);
	char *max = repeat('z', WIRE_MAX_PAYLOAD + 1);
	CHECK(wire_put_body(&b, 1, max, WIRE_MAX_PAYLOAD) == WIRE_OK && b.len == WIRE_MAX_FRAME + 4,
	      "wire: the largest BODY encodes");
	CHECK(wire_decode_frame(b.data, b.len, &f, &used) == WIRE_OK && f.len == WIRE_MAX_PAYLOAD,
	      "wire: the largest BODY decodes");
	size_t before = b.len;
	CHECK(wire_put_body(&b, 1, max, WIRE_MAX_PAYLOAD + 1) == WIRE_ERR_LIMIT && b.len == before,
	      "wire: a BODY over the cap is refused, buffer unchanged");
	CHECK(wire_put_body(&b, 1, max, 0) == WIRE_ERR_TRUNCATED, "wire: an empty BODY is not encoded");
	CHECK(wire_put_window(&b, 1, 0) == WIRE_ERR_VALUE, "wire: WINDOW 0 is not encoded");
	CHECK(wire_put_end(&b, 0) == WIRE_ERR_STREAM && b.len == before,
	      "wire: END on stream 0 is not encoded");
	free(max);
	// An out-of-memory encoder leaves the buffer as it was.
	buf_reset(&b);
	b.max = 20;
	CHECK(wire_put_body(&b, 1, "0123456789abcdef", 16) == WIRE_ERR_NOMEM && b.len == 0,
	      "wire: an encoder out of memory leaves the buffer empty");
	buf_free(&b);
}

static void test_helpers(void)
{
	CHECK(wire_header_reserved(wire_s("X-Sandstorm-User-Id")), "wire: X-Sandstorm-User-Id is reserved");
	CHECK(wire_header_reserved(wire_s("x-sandstorm-permissions")), "wire: reserved names ignore case");
	CHECK(wire_header_reserved(wire_s("X-Sandstorm-")), "wire: the bare prefix is reserved");
	CHECK(!wire_header_reserved(wire_s("X-Sandstorm-App-Foo")), "wire: X-Sandstorm-App-* passes");
	CHECK(!wire_header_reserved(wire_s("X-Sandstorm")), "wire: X-Sandstorm without a dash passes");
	CHECK(!wire_header_reserved(wire_s("Accept")), "wire: Accept is not reserved");
	struct buf b;
	buf_init(&b);
	const char *name = "Alice B\xc3\xb6" "b (x)!";
	CHECK(wire_pct_encode(&b, name, strlen(name)) == 0 &&
	      strcmp(buf_cstr(&b), "Alice%20B%C3%B6b%20(x)!") == 0,
	      "wire: percent-encoding as encodeURIComponent");
	buf_free(&b);
	CHECK(strcmp(wire_type_name(WIRE_WINDOW), "WINDOW") == 0 && strcmp(wire_type_name(99), "?") == 0,
	      "wire: type names");
	CHECK(strcmp(wire_strerror(WIRE_ERR_VERSION), "unsupported wire version") == 0, "wire: error names");
}

int main(void)
{
	test_small_frames();
	test_request_round_trip();
	test_response_round_trip();
	test_request_caps();
	test_frame_rules();
	test_helpers();
	buf_free(&rt);
	return test_done();
}
