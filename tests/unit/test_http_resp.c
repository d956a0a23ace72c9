// SPDX-License-Identifier: MIT
// Unit tests for http_resp.c: the strict response-head parser (status line, headers, framing
// rules, caps, hostile bytes, split input) and the in-place chunked decoder.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http_resp.h"
#include "test.h"

static struct http_resp resp;

static enum http_resp_err parse_n(const char *in, size_t len)
{
	http_resp_free(&resp);
	return http_resp_parse(in, len, &resp);
}

static enum http_resp_err parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void test_basic(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
			"X-Pad:   spaced value \t \r\n\r\nhello";
	CHECK(parse(s) == HTTP_RESP_OK, "http_resp: a plain 200 parses");
	CHECK(resp.status == 200 && resp.minor == 1 && strcmp(resp.reason, "OK") == 0,
	      "http_resp: status, version and reason");
	CHECK(resp.head_len == strlen(s) - 5, "http_resp: head_len stops before the body");
	CHECK(resp.content_length == 5 && !resp.chunked && !resp.close, "http_resp: framing fields");
	CHECK(http_resp_body_kind(&resp, false) == HTTP_BODY_LENGTH, "http_resp: Content-Length body");
	CHECK(http_resp_body_kind(&resp, true) == HTTP_BODY_NONE, "http_resp: no body for HEAD");
	CHECK_STR(http_resp_header(&resp, "x-pad"), "spaced value",
	      "http_resp: values trimmed, names caseless");
	CHECK(resp.nheaders == 3, "http_resp: header count");
	CHECK(http_resp_header(&resp, "X-None") == NULL, "http_resp: a missing header is NULL");

	CHECK(parse("HTTP/1.1 204\r\n\r\n") == HTTP_RESP_OK && resp.status == 204 && !*resp.reason,
	      "http_resp: a status line without a reason");
	CHECK(parse("HTTP/1.1 404 \r\n\r\n") == HTTP_RESP_OK && !*resp.reason, "http_resp: an empty reason");
	CHECK(parse("HTTP/1.1 200 Fine \xe2\x9c\x93 ok\r\n\r\n") == HTTP_RESP_OK,
	      "http_resp: obs-text in the reason");
	CHECK(http_resp_body_kind(&resp, false) == HTTP_BODY_CLOSE, "http_resp: no framing: until close");
	CHECK(parse("HTTP/1.0 200 OK\r\n\r\n") == HTTP_RESP_OK && resp.minor == 0 && resp.close,
	      "http_resp: HTTP/1.0 closes");
	CHECK(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n") ==
	      HTTP_RESP_OK &&
	      !resp.close, "http_resp: HTTP/1.0 keep-alive");
	CHECK(parse("HTTP/1.1 200 OK\r\nConnection: foo, Close\r\n\r\n") == HTTP_RESP_OK && resp.close,
	      "http_resp: Connection: close in a list");
	CHECK(parse("HTTP/1.2 200 OK\r\n\r\n") == HTTP_RESP_OK && resp.minor == 1,
	      "http_resp: HTTP/1.2 read as 1.1");
	CHECK(parse("HTTP/1.1 200 OK\r\nX-Bin: caf\xc3\xa9\x80\xff\r\n\r\n") == HTTP_RESP_OK,
	      "http_resp: obs-text in a value");
	CHECK(parse("HTTP/1.1 200 OK\r\nX-Empty:\r\n\r\n") == HTTP_RESP_OK &&
	      strcmp(http_resp_header(&resp, "X-Empty"), "") == 0, "http_resp: an empty value");
}

static void test_framing(void)
{
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == HTTP_RESP_OK &&
	      resp.chunked &&
	      http_resp_body_kind(&resp, false) == HTTP_BODY_CHUNKED, "http_resp: chunked");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n") == HTTP_RESP_OK,
	      "http_resp: chunked in capitals");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == HTTP_RESP_BAD_FRAMING,
	      "http_resp: gzip, chunked refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n") == HTTP_RESP_BAD_FRAMING,
	      "http_resp: identity refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") ==
	      HTTP_RESP_BAD_FRAMING, "http_resp: chunked twice refused");
	CHECK(parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == HTTP_RESP_BAD_FRAMING,
	      "http_resp: chunked in HTTP/1.0 refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") ==
	      HTTP_RESP_BAD_FRAMING, "http_resp: Content-Length with chunked refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") ==
	      HTTP_RESP_BAD_FRAMING, "http_resp: chunked with Content-Length refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n") ==
	      HTTP_RESP_BAD_LENGTH,
	      "http_resp: Content-Length twice refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n") == HTTP_RESP_BAD_LENGTH,
	      "http_resp: Content-Length list refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") == HTTP_RESP_BAD_LENGTH,
	      "http_resp: negative Content-Length refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n") == HTTP_RESP_BAD_LENGTH,
	      "http_resp: signed Content-Length refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n") == HTTP_RESP_BAD_LENGTH,
	      "http_resp: empty Content-Length refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n") ==
	      HTTP_RESP_BAD_LENGTH,
	      "http_resp: Content-Length over 2^63 refused");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n") == HTTP_RESP_OK &&
	      resp.content_length == INT64_MAX, "http_resp: Content-Length 2^63-1 accepted");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n") == HTTP_RESP_BAD_LENGTH,
	      "http_resp: hex Content-Length refused");
	CHECK(parse("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n") == HTTP_RESP_OK &&
	      http_resp_body_kind(&resp, false) == HTTP_BODY_NONE, "http_resp: 204 has no body");
	CHECK(parse("HTTP/1.1 304 Not Modified\r\n\r\n") == HTTP_RESP_OK &&
	      http_resp_body_kind(&resp, false) == HTTP_BODY_NONE, "http_resp: 304 has no body");
	CHECK(parse("HTTP/1.1 100 Continue\r\n\r\n") == HTTP_RESP_OK &&
	      http_resp_body_kind(&resp, false) == HTTP_BODY_NONE, "http_resp: 100 has no body");
	CHECK(parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n") == HTTP_RESP_OK &&
	      http_resp_body_kind(&resp, false) == HTTP_BODY_UPGRADE, "http_resp: 101 upgrades");
}

static void test_status_line(void)
{
	static const struct {
		const char *in;
		enum http_resp_err want;
		const char *name;
	} cases[] = {
		{"HTTP/2 200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "HTTP/2"},
		{"HTTP/2.0 200 OK\r\n\r\n", HTTP_RESP_BAD_VERSION, "HTTP/2.0"},
		{"HTTP/0.9 200 OK\r\n\r\n", HTTP_RESP_BAD_VERSION, "HTTP/0.9"},
		{"http/1.1 200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "lower-case protocol"},
		{"HTTP/1.1 20 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "two-digit status"},
		{"HTTP/1.1 2000 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "four-digit status"},
		{"HTTP/1.1 099 Low\r\n\r\n", HTTP_RESP_BAD_STATUS, "status 099"},
		{"HTTP/1.1 600 High\r\n\r\n", HTTP_RESP_BAD_STATUS, "status 600"},
		{"HTTP/1.1  200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "two spaces"},
		{"HTTP/1.1\t200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "tab separator"},
		{"HTTP/1.1 2x0 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "letter in status"},
		{"HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "control byte in reason"},
		{"HTTP/1.1 200 O\x7fK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "DEL in reason"},
		{"\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "empty status line"},
		{"HTLP/1.1 200 OK\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "garbage protocol"},
		{"HTTP/1.1\r\n\r\n", HTTP_RESP_BAD_STATUS_LINE, "no status"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(parse(cases[i].in) == cases[i].want, "http_resp: %s: %s", cases[i].name,
		      http_resp_strerror(cases[i].want));
	CHECK(resp.raw == NULL && resp.nheaders == 0, "http_resp: a refused head leaves nothing behind");
}

static void test_headers(void)
{
	static const struct {
		const char *in;
		enum http_resp_err want;
		const char *name;
	} cases[] = {
		{"HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n", HTTP_RESP_BAD_HEADER, "obs-fold"},
		{"HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n", HTTP_RESP_BAD_HEADER, "space before the colon"},
		{"HTTP/1.1 200 OK\r\nX-A b\r\n\r\n", HTTP_RESP_BAD_HEADER, "no colon"},
		{"HTTP/1.1 200 OK\r\n: b\r\n\r\n", HTTP_RESP_BAD_HEADER, "empty name"},
		{"HTTP/1.1 200 OK\r\nX(A): b\r\n\r\n", HTTP_RESP_BAD_HEADER, "delimiter in the name"},
		{"HTTP/1.1 200 OK\r\nX-A: b\x01\r\n\r\n", HTTP_RESP_BAD_HEADER, "control byte in a value"},
		{"HTTP/1.1 200 OK\r\nX-A: b\x7f\r\n\r\n", HTTP_RESP_BAD_HEADER, "DEL in a value"},
		{"HTTP/1.1 200 OK\r\nX-A: b\nX-Injected: 1\r\n\r\n", HTTP_RESP_BAD_LINE_END,
			"bare LF in a value"},
		{"HTTP/1.1 200 OK\r\nX-A: b\rX-Injected: 1\r\n\r\n", HTTP_RESP_BAD_LINE_END,
			"bare CR in a value"},
		{"HTTP/1.1 200 OK\n\r\n\r\n", HTTP_RESP_BAD_LINE_END, "bare LF after the status line"},
		{"HTTP/1.1 200 OK\r\n\n", HTTP_RESP_BAD_LINE_END, "LF-only end of head"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(parse(cases[i].in) == cases[i].want, "http_resp: %s: %s", cases[i].name,
		      http_resp_strerror(cases[i].want));
	static const char nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
	CHECK(parse_n(nul, sizeof(nul) - 1) == HTTP_RESP_BAD_LINE_END, "http_resp: NUL in a value");
	CHECK(parse_n(nul, 24) == HTTP_RESP_BAD_LINE_END,
	      "http_resp: NUL refused before the head is complete");
	CHECK(parse("HTTP/1.1 200 OK\nX") == HTTP_RESP_BAD_LINE_END,
	      "http_resp: bare LF refused before the end");
	CHECK(parse("HTTP/1.1 200 OK\r") == HTTP_RESP_INCOMPLETE,
	      "http_resp: a CR at the end may still get its LF");
}

static void test_limits(void)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < HTTP_RESP_MAX_HEADERS; i++)
		buf_printf(&b, "X-H%d: v\r\n", i);
	buf_puts(&b, "\r\n");
	CHECK(parse_n(b.data, b.len) == HTTP_RESP_OK && resp.nheaders == HTTP_RESP_MAX_HEADERS,
	      "http_resp: 100 headers accepted");
	b.len -= 2;
	buf_puts(&b, "X-One-More: v\r\n\r\n");
	CHECK(parse_n(b.data, b.len) == HTTP_RESP_TOO_MANY_HEADERS, "http_resp: 101 headers refused");

	buf_reset(&b);
	buf_puts(&b, "HTTP/1.1 200 OK\r\nX-Big: ");
	while (b.len < HTTP_RESP_MAX_HEAD - 4)
		buf_putc(&b, 'a');
	buf_puts(&b, "\r\n\r\n");
	CHECK(parse_n(b.data, b.len) == HTTP_RESP_OK && resp.head_len == HTTP_RESP_MAX_HEAD,
	      "http_resp: a head of exactly 64 KiB accepted");
	buf_reset(&b);
	buf_puts(&b, "HTTP/1.1 200 OK\r\nX-Big: ");
	while (b.len < HTTP_RESP_MAX_HEAD - 3)
		buf_putc(&b, 'a');
	buf_puts(&b, "\r\n\r\n");
	CHECK(parse_n(b.data, b.len) == HTTP_RESP_HEAD_TOO_LARGE, "http_resp: a head of 64 KiB + 1 refused");
	CHECK(parse_n(b.data, HTTP_RESP_MAX_HEAD) == HTTP_RESP_HEAD_TOO_LARGE,
	      "http_resp: refused as soon as 64 KiB arrived without an end");
	CHECK(parse_n(b.data, HTTP_RESP_MAX_HEAD - 1) == HTTP_RESP_INCOMPLETE,
	      "http_resp: one byte less still waits");
	buf_free(&b);
}

static void test_incremental(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=b\r\n"
			"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	size_t head = strstr(s, "\r\n\r\n") - s + 4;
	bool ok = true;
	for (size_t k = 0; k < head; k++)
		if (parse_n(s, k) != HTTP_RESP_INCOMPLETE)
			ok = false;
	CHECK(ok, "http_resp: every prefix of a valid head is incomplete");
	ok = true;
	for (size_t k = head; k <= strlen(s); k++)
		if (parse_n(s, k) != HTTP_RESP_OK || resp.head_len != head)
			ok = false;
	CHECK(ok, "http_resp: the head parses the same with any amount of body after it");
	// An interim response, then the real one, as the bridge sees them.
	const char *two = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	CHECK(parse(two) == HTTP_RESP_OK && resp.status == 100, "http_resp: an interim response first");
	size_t used = resp.head_len;
	CHECK(parse(two + used) == HTTP_RESP_OK && resp.status == 201, "http_resp: then the final one");
}

// Decodes in[0..len) in pieces of step bytes; the data goes to out. The last result.
static int dechunk_all(const char *in, size_t len, size_t step, struct buf *out, size_t *consumed)
{
	struct http_dechunk c;
	http_dechunk_init(&c);
	size_t off = 0;
	int r = HTTP_DECHUNK_MORE;
	while (off < len && r == HTTP_DECHUNK_MORE) {
		size_t n = len - off < step ? len - off : step;
		size_t pos = 0;
		while (pos < n && r == HTTP_DECHUNK_MORE) {
			size_t used, doff, dlen;
			r = http_dechunk_feed(&c, in + off + pos, n - pos, &used, &doff, &dlen);
			buf_append(out, in + off + pos + doff, dlen);
			pos += used;
		}
		off += pos;
	}
	*consumed = off;
	return r;
}

static void test_dechunk(void)
{
	const char *s = "5\r\nhello\r\n1;ext=\"x y\"\r\n \r\nA \t;e\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
	size_t end = strlen(s) - 4;
	struct buf out;
	buf_init(&out);
	size_t used;
	int r = dechunk_all(s, strlen(s), strlen(s), &out, &used);
	CHECK(r == HTTP_DECHUNK_DONE && used == end && out.len == 16 &&
	      memcmp(out.data, "hello 0123456789", 16) == 0,
	      "http_resp: chunked body with extensions and trailer");
	bool ok = true;
	for (size_t step = 1; step < 12; step++) {
		buf_reset(&out);
		r = dechunk_all(s, strlen(s), step, &out, &used);
		if (r != HTTP_DECHUNK_DONE || used != end || out.len != 16 ||
		    memcmp(out.data, "hello 0123456789", 16) != 0)
			ok = false;
	}
	CHECK(ok, "http_resp: the chunked decoder agrees whatever the split");
	buf_reset(&out);
	CHECK(dechunk_all("00005\r\nabcde\r\n0\r\n\r\n", 19, 100, &out, &used) == HTTP_DECHUNK_DONE &&
	      out.len == 5,
	      "http_resp: leading zeros in a chunk size");
	buf_reset(&out);
	CHECK(dechunk_all("5\r\nabc", 6, 100, &out, &used) == HTTP_DECHUNK_MORE && out.len == 3 && used == 6,
	      "http_resp: a partial chunk yields its data and waits");
	static const struct {
		const char *in;
		const char *name;
	} bad[] = {
		{"g\r\n", "non-hex size"},
		{"\r\n", "empty size"},
		{"1 2\r\n", "two sizes"},
		{"5\r\nhelloX\r\n", "data without its CRLF"},
		{"5\nhello\r\n", "bare LF after the size"},
		{"10000000000000000\r\n", "size over 2^63"},
		{"8000000000000000\r\n", "size of 2^63"},
		{"1;\x01\r\n", "control byte in an extension"},
		{"0\r\nX: \x01\r\n\r\n", "control byte in a trailer"},
		{"0\r\nX\n", "bare LF in a trailer"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&out);
		CHECK(dechunk_all(bad[i].in, strlen(bad[i].in), 100, &out, &used) == HTTP_DECHUNK_BAD,
		      "http_resp: chunked: %s refused", bad[i].name);
	}
	buf_reset(&out);
	CHECK(dechunk_all("7fffffffffffffff\r\nab", 20, 100, &out, &used) == HTTP_DECHUNK_MORE &&
	      out.len == 2,
	      "http_resp: chunked: size 2^63-1 accepted");
	// Caps: a long extension and long trailers.
	struct buf in;
	buf_init(&in);
	buf_puts(&in, "1;");
	for (int i = 0; i < HTTP_RESP_MAX_CHUNK_LINE; i++)
		buf_putc(&in, 'e');
	buf_puts(&in, "\r\nx\r\n0\r\n\r\n");
	buf_reset(&out);
	CHECK(dechunk_all(in.data, in.len, 100, &out, &used) == HTTP_DECHUNK_BAD,
	      "http_resp: chunked: a size line over 1 KiB refused");
	buf_reset(&in);
	buf_puts(&in, "0\r\n");
	for (int i = 0; i < 1000; i++)
		buf_puts(&in, "X-Trailer: 0123456789\r\n");
	buf_puts(&in, "\r\n");
	buf_reset(&out);
	CHECK(dechunk_all(in.data, in.len, 100, &out, &used) == HTTP_DECHUNK_BAD,
	      "http_resp: chunked: over 8 KiB of trailers refused");
	buf_free(&in);
	buf_free(&out);
}

int main(void)
{
	test_basic();
	test_framing();
	test_status_line();
	test_headers();
	test_limits();
	test_incremental();
	test_dechunk();
	http_resp_free(&resp);
	return test_done();
}
