// SPDX-License-Identifier: MIT
// libFuzzer target for http_resp.c: the response-head parser and its promises, agreement
// between whole and split input, and the in-place chunked decoder (whole, byte at a time
// and in odd pieces must give the same data and stop at the same byte).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum http_resp_err parse_copy(const uint8_t *data, size_t n, struct http_resp *r)
{
	char *p = malloc(n ? n : 1);
	if (!p)
		abort();
	if (n)
		memcpy(p, data, n);
	enum http_resp_err e = http_resp_parse(p, n, r);
	free(p);
	return e;
}

static void check_resp(const struct http_resp *r, const uint8_t *data, size_t size)
{
	if (r->head_len < 4 || r->head_len > size || r->head_len > HTTP_RESP_MAX_HEAD ||
	    memcmp(data + r->head_len - 4, "\r\n\r\n", 4) != 0)
		abort();
	if (r->status < 100 || r->status > 599 || (r->minor != 0 && r->minor != 1) || !r->reason)
		abort();
	if (r->content_length < -1 || (r->chunked && (r->content_length >= 0 || r->minor == 0)))
		abort();
	if (r->nheaders > HTTP_RESP_MAX_HEADERS)
		abort();
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *n = r->headers[i].name, *v = r->headers[i].value;
		if (!n || !v || !*n || !http_resp_header(r, n))
			abort();
		for (const char *p = n; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == ':' || (unsigned char)*p >= 0x7f)
				abort();
		for (const char *p = v; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
				abort();
		size_t vl = strlen(v);
		if (vl && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			abort();
	}
	enum http_body_kind k = http_resp_body_kind(r, false);
	if (k == HTTP_BODY_CHUNKED && !r->chunked)
		abort();
	if (k == HTTP_BODY_LENGTH && r->content_length < 0)
		abort();
	if (http_resp_body_kind(r, true) != (r->status == 101 ? HTTP_BODY_UPGRADE : HTTP_BODY_NONE))
		abort();
}

// Decodes in[0..len) in pieces of step bytes; returns the last result, the data and where
// the decoder stopped.
static int dechunk(const uint8_t *in, size_t len, size_t step, struct buf *out, size_t *stop)
{
	struct http_dechunk c;
	http_dechunk_init(&c);
	size_t off = 0;
	int r = HTTP_DECHUNK_MORE;
	while (off < len && r == HTTP_DECHUNK_MORE) {
		size_t n = len - off < step ? len - off : step;
		char *piece = malloc(n); // exactly n bytes: ASan sees reads past the piece
		if (!piece)
			abort();
		memcpy(piece, in + off, n);
		size_t pos = 0;
		while (pos < n && r == HTTP_DECHUNK_MORE) {
			size_t used, doff, dlen;
			r = http_dechunk_feed(&c, piece + pos, n - pos, &used, &doff, &dlen);
			if (r != HTTP_DECHUNK_MORE && r != HTTP_DECHUNK_DONE && r != HTTP_DECHUNK_BAD)
				abort();
			if (used > n - pos || (dlen && doff + dlen > used))
				abort();
			if (r == HTTP_DECHUNK_MORE && !used)
				abort(); // no progress
			buf_append(out, piece + pos + doff, dlen);
			pos += used;
		}
		free(piece);
		off += pos;
	}
	*stop = off;
	return r;
}

static void check_dechunk(const uint8_t *in, size_t len)
{
	struct buf a, b, c;
	buf_init(&a);
	buf_init(&b);
	buf_init(&c);
	size_t sa, sb, sc;
	int ra = dechunk(in, len, len ? len : 1, &a, &sa);
	int rb = dechunk(in, len, 1, &b, &sb);
	int rc = dechunk(in, len, 7, &c, &sc);
	if (ra != rb || ra != rc || sa != sb || sa != sc || a.len != b.len || a.len != c.len ||
	    (a.len && (memcmp(a.data, b.data, a.len) != 0 || memcmp(a.data, c.data, a.len) != 0)))
		abort();
	if (a.len > len)
		abort();
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

static void check_prefixes(const uint8_t *data, size_t size, enum http_resp_err full, size_t head_len)
{
	size_t stride = size <= 512 ? 1 : size / 256;
	enum http_resp_err prev = HTTP_RESP_INCOMPLETE;
	for (size_t k = 0; k < size; k++) {
		bool near = k + 64 >= size || (head_len && k + 64 >= head_len && k <= head_len + 1);
		if (!(k < 64 || near || k % stride == 0))
			continue;
		struct http_resp r;
		enum http_resp_err e = parse_copy(data, k, &r);
		if (e == HTTP_RESP_OK) {
			size_t h = r.head_len;
			http_resp_free(&r);
			if (full != HTTP_RESP_OK || h != head_len)
				abort();
		} else if (e != HTTP_RESP_INCOMPLETE) {
			if (full == HTTP_RESP_OK || full == HTTP_RESP_INCOMPLETE)
				abort(); // a prefix failed but the whole input does not
		} else if (prev != HTTP_RESP_INCOMPLETE && prev != HTTP_RESP_OK) {
			abort(); // an error went back to waiting once more bytes came
		}
		if (full == HTTP_RESP_OK && k < head_len && e != HTTP_RESP_INCOMPLETE)
			abort();
		prev = e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp r;
	enum http_resp_err full = parse_copy(data, size, &r);
	size_t head_len = 0;
	if (full == HTTP_RESP_OK) {
		check_resp(&r, data, size);
		head_len = r.head_len;
		http_resp_free(&r);
		check_dechunk(data + head_len, size - head_len);
	} else {
		if (full > HTTP_RESP_NOMEM || r.raw || r.nheaders)
			abort(); // an unknown result, or a failed parse that left something behind
		check_dechunk(data, size);
	}
	check_prefixes(data, size, full, head_len);
	return 0;
}
