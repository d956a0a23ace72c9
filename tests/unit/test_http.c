// SPDX-License-Identifier: MIT
// Unit tests for http.c: the request-head parser, the chunked decoder, URL decoding and
// reason phrases, including every limit and the incremental (split-input) behaviour.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "test.h"

#define H11 " HTTP/1.1\r\nHost: example.org\r\n"

static struct http_request req;

// Parses in[0..len); on OK the request stays in req until the next call.
static int parse_n(const char *in, size_t len)
{
	http_request_free(&req);
	return http_parse_head(in, len, &req);
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

// A heap string of n copies of ch, for the limit tests.
static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

// Concatenates up to four strings into a heap string.
static char *cat(const char *a, const char *b, const char *c, const char *d)
{
	struct buf o;
	buf_init(&o);
	buf_puts(&o, a);
	buf_puts(&o, b ? b : "");
	buf_puts(&o, c ? c : "");
	buf_puts(&o, d ? d : "");
	const char *s = buf_cstr(&o);
	if (!s)
		abort();
	return o.data;
}

static void test_simple(void)
{
	const char *s = "GET /index.html HTTP/1.1\r\nHost: example.org\r\nUser-Agent: t\r\n\r\n";
	CHECK(parse(s) == HTTP_PARSE_OK, "http: simple GET parses");
	CHECK(req.method == HTTP_GET, "http: simple GET method");
	CHECK_STR(req.method_name, "GET", "http: simple GET method name");
	CHECK_STR(req.target, "/index.html", "http: simple GET target");
	CHECK_STR(req.path, "/index.html", "http: simple GET path");
	CHECK_STR(req.query, "", "http: simple GET has an empty query");
	CHECK(req.minor == 1, "http: simple GET is HTTP/1.1");
	CHECK_STR(req.host, "example.org", "http: simple GET host");
	CHECK(req.content_length == -1, "http: no Content-Length is -1");
	CHECK(!req.chunked && !req.expect_continue, "http: simple GET not chunked, no expect");
	CHECK(req.keep_alive, "http: HTTP/1.1 is keep-alive by default");
	CHECK(req.head_len == strlen(s), "http: head_len is the whole head");
	CHECK(req.nheaders == 2, "http: two headers");
	CHECK_STR(req.headers[1].name, "User-Agent", "http: header name as sent");
	CHECK_STR(req.headers[1].value, "t", "http: header value");
	http_request_free(&req);
	CHECK(req.raw == NULL && req.nheaders == 0, "http: http_request_free clears the request");
}

static void test_methods(void)
{
	static const struct {
		const char *name;
		enum http_method m;
	} ms[] = {
		{"GET", HTTP_GET},   {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
		{"PUT", HTTP_PUT},   {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
		{"OPTIONS", HTTP_OPTIONS},
	};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		char *s = cat(ms[i].name, " /x", H11, "\r\n");
		int r = parse(s);
		CHECK(r == HTTP_PARSE_OK && req.method == ms[i].m && strcmp(req.method_name, ms[i].name) == 0,
		      "http: method %s", ms[i].name);
		free(s);
	}
	CHECK(parse("FOO /" H11 "\r\n") == 501, "http: unknown method is 501");
	CHECK(parse("BREW /" H11 "\r\n") == 501, "http: another unknown token method is 501");
	CHECK(parse("get /" H11 "\r\n") == 501, "http: methods are case-sensitive");
	CHECK(parse("CONNECT /" H11 "\r\n") == 501, "http: CONNECT is 501");
	CHECK(parse("GE(T /" H11 "\r\n") == 400, "http: a method that is not a token is 400");
	CHECK(parse(" GET /" H11 "\r\n") == 400, "http: leading space before the method is 400");
}

static void test_versions(void)
{
	CHECK(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505, "http: HTTP/2.0 is 505");
	CHECK(parse("GET / HTTP/0.9\r\nHost: a\r\n\r\n") == 505, "http: HTTP/0.9 is 505");
	CHECK(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && req.minor == 1,
	      "http: HTTP/1.2 is answered as 1.1");
	CHECK(parse("GET / HTTP/1\r\nHost: a\r\n\r\n") == 400, "http: HTTP/1 is 400");
	CHECK(parse("GET / http/1.1\r\nHost: a\r\n\r\n") == 400, "http: lowercase version is 400");
	CHECK(parse("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == 400, "http: space after version is 400");
	CHECK(parse("GET / HTTP/1.10\r\nHost: a\r\n\r\n") == 400, "http: HTTP/1.10 is 400");
	CHECK(parse("GET / HTTP/x.1\r\nHost: a\r\n\r\n") == 400, "http: HTTP/x.1 is 400");
	CHECK(parse("GET /\r\nHost: a\r\n\r\n") == 400, "http: no version is 400");
	CHECK(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: two spaces is 400");
	CHECK(parse("GET\r\n\r\n") == 400, "http: a lone method is 400");

	CHECK(parse("GET / HTTP/1.0\r\n\r\n") == HTTP_PARSE_OK, "http: HTTP/1.0 without Host is ok");
	CHECK(req.minor == 0 && req.host == NULL, "http: HTTP/1.0 minor 0, host NULL");
	CHECK(!req.keep_alive, "http: HTTP/1.0 is not keep-alive by default");
	CHECK(parse("GET / HTTP/1.1\r\n\r\n") == 400, "http: HTTP/1.1 without Host is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400, "http: duplicate Host is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n") == 400,
	      "http: duplicate Host in another case is 400");
	CHECK(parse("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400,
	      "http: duplicate Host in HTTP/1.0 is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n") == HTTP_PARSE_OK && req.host && !*req.host,
	      "http: an empty Host is present");
}

static void test_syntax(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n") == 400, "http: obs-fold is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n") == 400,
	      "http: obs-fold with a tab is 400");
	CHECK(parse("GET / HTTP/1.1\r\n Host: a\r\n\r\n") == 400, "http: first header folded is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400, "http: space before colon is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n") == 400, "http: tab before colon is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == 400, "http: no colon is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n") == 400, "http: empty name is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n") == 400, "http: name not a token is 400");

	CHECK(parse("GET / HTTP/1.1\nHost: a\n\n") == 400, "http: bare LF line endings are 400");
	CHECK(parse("GET / HTTP/1.1\nHost: a\r\n\r\n") == 400, "http: a bare LF after the request line is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n") == 400, "http: a bare LF in the headers is 400");
	CHECK(parse("GET / HTTP/1.1\nHost: a\n") == 400, "http: bare LF is 400 before the head ends");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == 400, "http: bare CR is 400");
	CHECK(parse("GET / HTTP/1.1\rHost: a\r\n\r\n") == 400, "http: bare CR in the request line is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\rX") == 400, "http: bare CR is 400 before the head ends");
	CHECK(parse("GET / HTTP/1.1\r") == HTTP_PARSE_INCOMPLETE, "http: a CR at the end may be a CRLF");

	static const char nul1[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
	CHECK(parse_n(nul1, sizeof(nul1) - 1) == 400, "http: NUL in a header value is 400");
	static const char nul2[] = "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n";
	CHECK(parse_n(nul2, sizeof(nul2) - 1) == 400, "http: NUL in the target is 400");
	static const char nul3[] = "GET / HTTP/1.1\r\nHo\0st: a\r\n";
	CHECK(parse_n(nul3, sizeof(nul3) - 1) == 400, "http: NUL is 400 before the head ends");

	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n") == 400,
	      "http: control character in a value is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n") == 400, "http: DEL in a value is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[0m\r\n\r\n") == 400, "http: ESC in a value is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n") == HTTP_PARSE_OK &&
		      strcmp(http_header(&req, "x"), "a\tb") == 0,
	      "http: tab inside a value is kept");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n") == HTTP_PARSE_OK,
	      "http: obs-text in a value is allowed");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: \t  padded value \t \r\nY:\r\n\r\n") == HTTP_PARSE_OK,
	      "http: header values with whitespace parse");
	CHECK_STR(http_header(&req, "X"), "padded value", "http: surrounding whitespace is removed");
	CHECK_STR(http_header(&req, "Y"), "", "http: an empty value is \"\"");
}

static void test_targets(void)
{
	CHECK(parse("GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK, "http: target with query parses");
	CHECK_STR(req.target, "/a/b?x=1&y=%20", "http: target keeps the query");
	CHECK_STR(req.path, "/a/b", "http: path is before '?'");
	CHECK_STR(req.query, "x=1&y=%20", "http: query is after '?'");
	CHECK(parse("GET /?a?b HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && strcmp(req.path, "/") == 0 &&
		      strcmp(req.query, "a?b") == 0,
	      "http: only the first '?' splits");
	CHECK(parse("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && strcmp(req.path, "/p") == 0 &&
		      strcmp(req.query, "") == 0,
	      "http: a trailing '?' gives an empty query");
	CHECK(parse("GET /%2e%2E/x HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK &&
		      strcmp(req.path, "/%2e%2E/x") == 0,
	      "http: the path is not decoded");
	CHECK(parse("GET http://example.org/ HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: absolute-form is 400");
	CHECK(parse("CONNECT example.org:443 HTTP/1.1\r\nHost: a\r\n\r\n") == 501,
	      "http: authority-form (CONNECT) is 501");
	CHECK(parse("GET x HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: a relative target is 400");
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && req.method == HTTP_OPTIONS &&
		      strcmp(req.target, "*") == 0 && strcmp(req.path, "*") == 0,
	      "http: OPTIONS * is ok");
	CHECK(parse("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: '*' with GET is 400");
	CHECK(parse("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: OPTIONS *x is 400");
	CHECK(parse("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: a fragment is 400");
	CHECK(parse("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: DEL in the target is 400");
	CHECK(parse("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: raw UTF-8 in the target is 400");
	CHECK(parse("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: tab in the target is 400");
}

static void test_headers(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nhOsT: h\r\ncontent-TYPE: text/plain\r\nX-A: 1\r\nx-a: 2\r\n\r\n") ==
		      HTTP_PARSE_OK,
	      "http: mixed-case headers parse");
	CHECK_STR(req.host, "h", "http: Host is found case-insensitively");
	CHECK_STR(http_header(&req, "Content-Type"), "text/plain", "http: lookup is case-insensitive");
	CHECK_STR(http_header(&req, "CONTENT-TYPE"), "text/plain", "http: lookup in upper case");
	CHECK_STR(http_header(&req, "X-A"), "1", "http: lookup returns the first of duplicates");
	CHECK(http_header(&req, "X-B") == NULL, "http: an absent header is NULL");
	CHECK(http_header(&req, "X") == NULL, "http: a prefix of a name does not match");
	CHECK(req.nheaders == 4, "http: all headers kept");
}

static void test_limits(void)
{
	// Request line: exactly at the cap is fine, one byte more is 414.
	size_t plen = HTTP_MAX_REQUEST_LINE - strlen("GET / HTTP/1.1") + 1; // "/" plus padding
	char *pad = repeat('a', plen - 1);
	char *line = cat("GET /", pad, " HTTP/1.1", NULL);
	CHECK(strlen(line) == HTTP_MAX_REQUEST_LINE, "http: test request line is at the cap");
	char *s = cat(line, "\r\nHost: a\r\n\r\n", NULL, NULL);
	CHECK(parse(s) == HTTP_PARSE_OK, "http: request line at the cap is ok");
	free(s);
	s = cat(line, "\r", NULL, NULL);
	CHECK(parse(s) == HTTP_PARSE_INCOMPLETE, "http: incomplete request line at the cap plus CR waits");
	free(s);
	CHECK(parse(line) == HTTP_PARSE_INCOMPLETE, "http: incomplete request line at the cap waits");
	free(line);
	free(pad);
	pad = repeat('a', plen);
	line = cat("GET /", pad, " HTTP/1.1", NULL);
	s = cat(line, "\r\nHost: a\r\n\r\n", NULL, NULL);
	CHECK(parse(s) == 414, "http: request line over the cap is 414");
	free(s);
	s = cat(line, "\r\nHost: a\r\n", NULL, NULL);
	CHECK(parse(s) == 414, "http: request line over the cap is 414 before the head ends");
	free(s);
	CHECK(parse(line) == 414, "http: request line over the cap without its CRLF is 414");
	free(line);
	free(pad);
	pad = repeat('a', 3 * HTTP_MAX_REQUEST_LINE);
	CHECK(parse(pad) == 414, "http: a long run of bytes without a newline is 414");
	free(pad);

	// One header line: exactly at the cap is fine, one more is 431.
	size_t vlen = HTTP_MAX_HEADER_LINE - strlen("X: ");
	pad = repeat('v', vlen);
	s = cat("GET / HTTP/1.1\r\nHost: a\r\nX: ", pad, "\r\n\r\n", NULL);
	CHECK(parse(s) == HTTP_PARSE_OK && strlen(http_header(&req, "X")) == vlen,
	      "http: header line at the cap is ok");
	free(s);
	s = cat("GET / HTTP/1.1\r\nHost: a\r\nX: ", pad, "\r", NULL);
	CHECK(parse(s) == HTTP_PARSE_INCOMPLETE, "http: incomplete header line at the cap plus CR waits");
	free(s);
	free(pad);
	pad = repeat('v', vlen + 1);
	s = cat("GET / HTTP/1.1\r\nHost: a\r\nX: ", pad, "\r\n\r\n", NULL);
	CHECK(parse(s) == 431, "http: header line over the cap is 431");
	free(s);
	s = cat("GET / HTTP/1.1\r\nHost: a\r\nX: ", pad, NULL, NULL);
	CHECK(parse(s) == 431, "http: header line over the cap is 431 before it ends");
	free(s);
	s = cat("GET / HTTP/1.1\r\nHost: a\r\nX: ", pad, "\r\nY: z\r\n", NULL);
	CHECK(parse(s) == 431, "http: an earlier header line over the cap is 431 before the head ends");
	free(s);
	free(pad);

	// Header count: HTTP_MAX_HEADERS is fine, one more is 431.
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < HTTP_MAX_HEADERS; i++)
		buf_printf(&b, "X-%d: v\r\n", i);
	size_t mark = b.len;
	buf_puts(&b, "\r\n");
	CHECK(parse(buf_cstr(&b)) == HTTP_PARSE_OK && req.nheaders == HTTP_MAX_HEADERS,
	      "http: %d headers are ok", HTTP_MAX_HEADERS);
	b.len = mark;
	buf_puts(&b, "X-last: v\r\n\r\n");
	CHECK(parse(buf_cstr(&b)) == 431, "http: %d headers are 431", HTTP_MAX_HEADERS + 1);
	buf_free(&b);

	// The whole head: exactly HTTP_MAX_HEAD is fine, one byte more is 431.
	buf_init(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	while (b.len + 4000 + 4 < HTTP_MAX_HEAD) {
		buf_puts(&b, "X: ");
		char *v = repeat('h', 4000 - 5);
		buf_puts(&b, v);
		free(v);
		buf_puts(&b, "\r\n");
	}
	size_t left = HTTP_MAX_HEAD - b.len - 2; // the last line with its CRLF, then CRLF
	buf_puts(&b, "Y: ");
	char *v = repeat('h', left - 5);
	buf_puts(&b, v);
	free(v);
	buf_puts(&b, "\r\n\r\n");
	CHECK(b.len == HTTP_MAX_HEAD, "http: test head is exactly HTTP_MAX_HEAD");
	CHECK(parse_n(b.data, b.len) == HTTP_PARSE_OK && req.head_len == HTTP_MAX_HEAD,
	      "http: a head of exactly HTTP_MAX_HEAD is ok");
	CHECK(parse_n(b.data, b.len - 1) == HTTP_PARSE_INCOMPLETE, "http: one byte short of it waits");
	b.len -= 4;
	buf_puts(&b, "y\r\n\r\n");
	CHECK(parse_n(b.data, b.len) == 431, "http: a head over HTTP_MAX_HEAD is 431");
	CHECK(parse_n(b.data, b.len - 1) == 431, "http: an incomplete head at HTTP_MAX_HEAD is 431");
	CHECK(parse_n(b.data, HTTP_MAX_HEAD - 1) == HTTP_PARSE_INCOMPLETE,
	      "http: an incomplete head under HTTP_MAX_HEAD waits");
	buf_free(&b);
}

static void test_content_length(void)
{
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n") == HTTP_PARSE_OK &&
		      req.content_length == 42,
	      "http: Content-Length 42");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") == HTTP_PARSE_OK &&
		      req.content_length == 0,
	      "http: Content-Length 0");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\ncontent-length:  007 \r\n\r\n") == HTTP_PARSE_OK &&
		      req.content_length == 7,
	      "http: Content-Length with leading zeros and whitespace");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n") ==
			  HTTP_PARSE_OK &&
		      req.content_length == 1000000000000000000LL,
	      "http: Content-Length 10^18");
	static const char *bad[] = {"abc", "-1", "+5", "", "1 2", "5,5", "0x10", "1.5", "99999999999999999999999",
				    "18446744073709551616", "9223372036854775808"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = cat("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ", bad[i], "\r\n\r\n", NULL);
		CHECK(parse(s) == 400, "http: Content-Length '%s' is 400", bad[i]);
		free(s);
	}
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == 400,
	      "http: duplicate equal Content-Length is 400");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400,
	      "http: duplicate different Content-Length is 400");
}

static void test_transfer_encoding(void)
{
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == HTTP_PARSE_OK &&
		      req.chunked && req.content_length == -1,
	      "http: Transfer-Encoding: chunked");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED\r\n\r\n") == HTTP_PARSE_OK &&
		      req.chunked,
	      "http: chunked is case-insensitive");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == 400,
	      "http: Content-Length then Transfer-Encoding is 400");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == 400,
	      "http: Transfer-Encoding then Content-Length is 400");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n") == 501,
	      "http: Transfer-Encoding gzip is 501");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501,
	      "http: Transfer-Encoding gzip, chunked is 501");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") == 501,
	      "http: Transfer-Encoding chunked, chunked is 501");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") ==
		      400,
	      "http: two Transfer-Encoding headers are 400");
	CHECK(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400,
	      "http: Transfer-Encoding in HTTP/1.0 is 400");
	CHECK(parse("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n") == HTTP_PARSE_OK && req.content_length == 3,
	      "http: Content-Length in HTTP/1.0 is ok");
}

static void test_connection(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == HTTP_PARSE_OK && !req.keep_alive,
	      "http: 1.1 Connection: close");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n") == HTTP_PARSE_OK &&
		      !req.keep_alive,
	      "http: 1.1 close in a list wins");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n") == HTTP_PARSE_OK && req.keep_alive,
	      "http: 1.1 Connection: keep-alive");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n") == HTTP_PARSE_OK && req.keep_alive,
	      "http: 1.1 other Connection options keep alive");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n") == HTTP_PARSE_OK && req.keep_alive,
	      "http: 'closed' is not 'close'");
	CHECK(parse("GET / HTTP/1.0\r\n\r\n") == HTTP_PARSE_OK && !req.keep_alive, "http: 1.0 closes by default");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == HTTP_PARSE_OK && req.keep_alive,
	      "http: 1.0 Connection: keep-alive");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: te, Keep-Alive \r\n\r\n") == HTTP_PARSE_OK && req.keep_alive,
	      "http: 1.0 keep-alive in a list");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: close\r\n\r\n") == HTTP_PARSE_OK && !req.keep_alive,
	      "http: 1.0 Connection: close");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") == HTTP_PARSE_OK && !req.keep_alive,
	      "http: 1.0 close wins over keep-alive");
}

static void test_expect(void)
{
	CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n") ==
			  HTTP_PARSE_OK &&
		      req.expect_continue,
	      "http: Expect: 100-continue");
	CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n") == HTTP_PARSE_OK &&
		      req.expect_continue,
	      "http: 100-continue is case-insensitive");
	CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n") == 417, "http: other Expect is 417");
	CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n") == 417, "http: empty Expect is 417");
}

// Every proper prefix of a valid request is INCOMPLETE; the whole gives OK.
static bool prefixes_incomplete(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		// A fresh heap copy of exactly i bytes, so ASan sees any read past the prefix.
		char *p = malloc(i ? i : 1);
		if (!p)
			abort();
		memcpy(p, s, i);
		int r = parse_n(p, i);
		free(p);
		if (r != HTTP_PARSE_INCOMPLETE) {
			printf("# prefix of %zu bytes gave %d\n", i, r);
			return false;
		}
	}
	return parse_n(s, len) == HTTP_PARSE_OK && req.head_len == len;
}

static void test_incremental(void)
{
	static const char *reqs[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /x?y=z HTTP/1.0\r\n\r\n",
		("\r\n\r\nPOST /api HTTP/1.1\r\nHost: example.org:8080\r\nContent-Length: 12\r\n"
		 "Content-Type: application/json\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n"),
		"PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		CHECK(prefixes_incomplete(reqs[i]), "http: every prefix of request %zu is incomplete", i);
}

static void test_pipelined(void)
{
	const char *first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *two = "GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: b\r\n"
			  "Content-Length: 0\r\n\r\nGET /thr";
	size_t len = strlen(two);
	CHECK(parse(two) == HTTP_PARSE_OK && req.head_len == strlen(first) && strcmp(req.path, "/one") == 0,
	      "http: pipelined: the first head ends at head_len");
	size_t off = req.head_len;
	CHECK(parse_n(two + off, len - off) == HTTP_PARSE_OK && strcmp(req.path, "/two") == 0 &&
		      req.method == HTTP_POST && req.content_length == 0,
	      "http: pipelined: the second request parses from head_len");
	off += req.head_len;
	CHECK(parse_n(two + off, len - off) == HTTP_PARSE_INCOMPLETE, "http: pipelined: the third is incomplete");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x01garbage") == HTTP_PARSE_OK,
	      "http: bytes after the head do not matter to it");
}

static void test_leading_crlf(void)
{
	CHECK(parse("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && req.head_len == 2 + 27,
	      "http: one leading CRLF is skipped and counted");
	CHECK(parse("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == HTTP_PARSE_OK && req.head_len == 8 + 27,
	      "http: four leading CRLFs are tolerated");
	CHECK(parse("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: five leading CRLFs are 400");
	CHECK(parse("\r\n") == HTTP_PARSE_INCOMPLETE, "http: a lone CRLF waits");
	CHECK(parse("\r\n\r\n") == HTTP_PARSE_INCOMPLETE, "http: two CRLFs wait");
	CHECK(parse("\r") == HTTP_PARSE_INCOMPLETE, "http: a lone CR waits");
	CHECK(parse("") == HTTP_PARSE_INCOMPLETE, "http: no bytes wait");
	CHECK(parse("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == 400, "http: a leading bare LF is 400");
}

// Feeds in whole; returns the result, with the decoded bytes in out.
static int dechunk(const char *in, size_t len, size_t max, struct buf *out, size_t *used)
{
	struct http_chunked c;
	http_chunked_init(&c);
	buf_reset(out);
	return http_chunked_feed(&c, in, len, out, max, used);
}

// Feeds in one byte at a time until a result other than MORE.
static int dechunk_bytes(const char *in, size_t len, size_t max, struct buf *out, size_t *used)
{
	struct http_chunked c;
	http_chunked_init(&c);
	buf_reset(out);
	*used = 0;
	for (size_t i = 0; i < len; i++) {
		size_t u = 0;
		int r = http_chunked_feed(&c, in + i, 1, out, max, &u);
		*used += u;
		if (r != HTTP_CHUNKED_MORE)
			return r;
	}
	return HTTP_CHUNKED_MORE;
}

// Feeds in as two pieces split at every point; all must give want with the same output.
static bool dechunk_splits(const char *in, size_t max, int want, const char *want_out)
{
	size_t len = strlen(in);
	struct buf out;
	buf_init(&out);
	bool ok = true;
	for (size_t k = 0; k <= len && ok; k++) {
		struct http_chunked c;
		http_chunked_init(&c);
		size_t u1 = 0, u2 = 0;
		int r = http_chunked_feed(&c, in, k, &out, max, &u1);
		if (r == HTTP_CHUNKED_MORE) {
			ok = u1 == k;
			r = http_chunked_feed(&c, in + k, len - k, &out, max, &u2);
		}
		if (r != want || (want_out && (out.len != strlen(want_out) || (out.len && memcmp(out.data, want_out, out.len)))))
			ok = false;
		if (!ok)
			printf("# split at %zu gave %d\n", k, r);
		buf_reset(&out);
	}
	buf_free(&out);
	return ok;
}

static void test_chunked(void)
{
	struct buf out;
	buf_init(&out);
	size_t used;
	const char *s = "5\r\nhello\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && used == strlen(s) &&
		      out.len == 5 && memcmp(out.data, "hello", 5) == 0,
	      "chunked: one chunk");
	s = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && used == 15,
	      "chunked: used stops at the end of the body");
	s = "3\r\nabc\r\n1\r\nd\r\na\r\n0123456789\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 14 &&
		      memcmp(out.data, "abcd0123456789", 14) == 0,
	      "chunked: several chunks");
	s = "5;name=value;x\r\nhello\r\n3 ; q=\"a b\"\r\nabc\r\n0;last\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 8 &&
		      memcmp(out.data, "helloabc", 8) == 0,
	      "chunked: extensions are ignored");
	s = "2\r\nhi\r\n0\r\nX-Sum: 1\r\nY: z\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && used == strlen(s) && out.len == 2,
	      "chunked: trailers are read and dropped");
	s = "0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 0 && used == 5,
	      "chunked: zero-size first chunk is an empty body");
	s = "A\r\n0123456789\r\nFf\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_MORE && out.len == 10 && used == strlen(s),
	      "chunked: uppercase hex");
	s = "0000A\r\n0123456789\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 10,
	      "chunked: leading zeros in a size");
	s = "5\r\nhel";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_MORE && used == strlen(s) && out.len == 3,
	      "chunked: partial data is MORE");

	s = "3\r\nabc\r\n1;e=1\r\nd\r\na\r\n0123456789\r\n0\r\nT: v\r\n\r\n";
	size_t u2;
	struct buf out2;
	buf_init(&out2);
	int r1 = dechunk(s, strlen(s), 1024, &out, &used);
	int r2 = dechunk_bytes(s, strlen(s), 1024, &out2, &u2);
	CHECK(r1 == HTTP_CHUNKED_DONE && r2 == r1 && used == u2 && out.len == out2.len &&
		      memcmp(out.data, out2.data, out.len) == 0,
	      "chunked: byte-at-a-time feeding gives the same result");
	buf_free(&out2);
	CHECK(dechunk_splits(s, 1024, HTTP_CHUNKED_DONE, "abcd0123456789"), "chunked: every two-piece split agrees");
	CHECK(dechunk_splits("5\r\nhelloX\r\n", 1024, HTTP_CHUNKED_BAD, NULL), "chunked: a bad body fails at every split");
	CHECK(dechunk_splits("5\r\nhello\r\n0\r\n\r\n", 4, HTTP_CHUNKED_TOO_LARGE, ""),
	      "chunked: too large fails at every split, before any data");

	static const char *bad[] = {
		"g\r\n",               // not hex
		"\r\n",                // no size
		";x\r\n",              // extension without size
		"-5\r\n",              // sign
		"0x5\r\n",             // C prefix
		"5\nhello\r\n",        // bare LF after the size
		"5\rhello\r\n",        // CR without LF after the size
		"5\r\nhelloX\r\n",     // data longer than declared
		"5\r\nhello\n0\r\n",   // bare LF after data
		"5\r\nhello\rX",       // CR then garbage after data
		"5;a\nb\r\n",          // LF inside an extension
		"5;a\x01\r\n",         // control character in an extension
		"0\r\nX: a\x01\r\n\r\n", // control character in a trailer
		"0\r\n\r\r",           // CR CR ending the trailers
		"1 2\r\nx\r\n",        // a second number after whitespace
		"1 x\r\nx\r\n",        // junk after whitespace
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(dechunk(bad[i], strlen(bad[i]), 1024, &out, &used) == HTTP_CHUNKED_BAD,
		      "chunked: bad framing %zu is 400", i);
	s = "5 \t;a=b \r\nhello\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 5,
	      "chunked: whitespace before ';' is allowed (BWS)");
	s = "5 \r\nhello\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_DONE && out.len == 5,
	      "chunked: whitespace after the size is allowed");

	char *big = repeat('0', HTTP_MAX_CHUNK_LINE + 1);
	CHECK(dechunk(big, strlen(big), 1024, &out, &used) == HTTP_CHUNKED_BAD, "chunked: a size line over the cap is 400");
	free(big);
	char *ext = repeat('e', HTTP_MAX_CHUNK_LINE);
	char *line = cat("1;", ext, "\r\nx\r\n0\r\n\r\n", NULL);
	CHECK(dechunk(line, strlen(line), 1024, &out, &used) == HTTP_CHUNKED_BAD, "chunked: a long extension is 400");
	free(line);
	free(ext);
	ext = repeat('t', 8000);
	line = cat("0\r\nX: ", ext, "\r\n\r\n", NULL);
	CHECK(dechunk(line, strlen(line), 1024, &out, &used) == HTTP_CHUNKED_BAD, "chunked: a long trailer is 400");
	free(line);
	free(ext);

	s = "fffffffffffffffff\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_TOO_LARGE, "chunked: size overflow is 413");
	s = "ffffffffffffffff\r\n";
	CHECK(dechunk(s, strlen(s), SIZE_MAX, &out, &used) == HTTP_CHUNKED_MORE,
	      "chunked: the largest 64-bit size is accepted when max allows");
	s = "a\r\n0123456789\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 5, &out, &used) == HTTP_CHUNKED_TOO_LARGE && out.len == 0,
	      "chunked: a chunk over max is 413 before it is buffered");
	s = "ffffffff\r\n";
	CHECK(dechunk(s, strlen(s), 1024, &out, &used) == HTTP_CHUNKED_TOO_LARGE && used == strlen(s),
	      "chunked: a huge declared size is 413 before its data arrives");
	s = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
	CHECK(dechunk(s, strlen(s), 5, &out, &used) == HTTP_CHUNKED_TOO_LARGE && out.len <= 5,
	      "chunked: chunks adding up past max are 413");
	CHECK(dechunk(s, strlen(s), 6, &out, &used) == HTTP_CHUNKED_DONE && out.len == 6,
	      "chunked: a body of exactly max is accepted");
	CHECK(dechunk_bytes(s, strlen(s), 5, &out, &used) == HTTP_CHUNKED_TOO_LARGE && out.len <= 5,
	      "chunked: past max byte at a time is 413 too");
	buf_free(&out);
}

static void test_url_decode(void)
{
	char d[64];
	CHECK(http_url_decode("a%20b%2Fc", 9, d, sizeof(d), false) == 0 && strcmp(d, "a b/c") == 0,
	      "url: percent escapes");
	CHECK(http_url_decode("%4a%4A", 6, d, sizeof(d), false) == 0 && strcmp(d, "JJ") == 0, "url: hex in both cases");
	CHECK(http_url_decode("a+b", 3, d, sizeof(d), false) == 0 && strcmp(d, "a+b") == 0,
	      "url: '+' is kept outside forms");
	CHECK(http_url_decode("a+b", 3, d, sizeof(d), true) == 0 && strcmp(d, "a b") == 0, "url: '+' is space in forms");
	CHECK(http_url_decode("%2B", 3, d, sizeof(d), true) == 0 && strcmp(d, "+") == 0, "url: %%2B is '+' in forms");
	CHECK(http_url_decode("", 0, d, sizeof(d), true) == 0 && strcmp(d, "") == 0, "url: empty");
	CHECK(http_url_decode("%C3%A9", 6, d, sizeof(d), false) == 0 && strcmp(d, "\xc3\xa9") == 0,
	      "url: UTF-8 bytes");
	CHECK(http_url_decode("abcdef", 3, d, sizeof(d), false) == 0 && strcmp(d, "abc") == 0,
	      "url: only len bytes are read");
	CHECK(http_url_decode("%zz", 3, d, sizeof(d), false) == -1, "url: %%zz is -1");
	CHECK(http_url_decode("%g0", 3, d, sizeof(d), false) == -1, "url: %%g0 is -1");
	CHECK(http_url_decode("%4", 2, d, sizeof(d), false) == -1, "url: a short escape is -1");
	CHECK(http_url_decode("%41", 2, d, sizeof(d), false) == -1, "url: an escape cut by len is -1");
	CHECK(http_url_decode("%", 1, d, sizeof(d), false) == -1, "url: a lone %% is -1");
	CHECK(http_url_decode("a%00b", 5, d, sizeof(d), false) == -1, "url: an encoded NUL is -1");
	CHECK(http_url_decode("%%41", 4, d, sizeof(d), false) == -1, "url: %%%% is -1");
	CHECK(http_url_decode("a\0b", 3, d, sizeof(d), true) == -1, "url: a raw NUL is -1");
	CHECK(http_url_decode("abcd", 4, d, 5, false) == 0 && strcmp(d, "abcd") == 0, "url: exactly fits");
	CHECK(http_url_decode("abcde", 5, d, 5, false) == -1, "url: one byte too many is -1");
	CHECK(http_url_decode("%41%42%43%44", 12, d, 5, false) == 0 && strcmp(d, "ABCD") == 0,
	      "url: size is of the decoded text");
	CHECK(http_url_decode("", 0, d, 0, false) == -1, "url: a zero-size destination is -1");
	CHECK(http_url_decode("", 0, d, 1, false) == 0 && d[0] == '\0', "url: empty into one byte");
}

static void test_reason(void)
{
	CHECK_STR(http_reason(200), "OK", "reason: 200");
	CHECK_STR(http_reason(100), "Continue", "reason: 100");
	CHECK_STR(http_reason(304), "Not Modified", "reason: 304");
	CHECK_STR(http_reason(400), "Bad Request", "reason: 400");
	CHECK_STR(http_reason(404), "Not Found", "reason: 404");
	CHECK_STR(http_reason(413), "Content Too Large", "reason: 413");
	CHECK_STR(http_reason(414), "URI Too Long", "reason: 414");
	CHECK_STR(http_reason(417), "Expectation Failed", "reason: 417");
	CHECK_STR(http_reason(431), "Request Header Fields Too Large", "reason: 431");
	CHECK_STR(http_reason(500), "Internal Server Error", "reason: 500");
	CHECK_STR(http_reason(501), "Not Implemented", "reason: 501");
	CHECK_STR(http_reason(505), "HTTP Version Not Supported", "reason: 505");
	CHECK_STR(http_reason(299), "Unknown", "reason: 299 is Unknown");
	CHECK_STR(http_reason(0), "Unknown", "reason: 0 is Unknown");
	CHECK_STR(http_reason(-1), "Unknown", "reason: -1 is Unknown");
	// Every status the parser can return has a phrase.
	static const int st[] = {400, 413, 414, 417, 431, 500, 501, 505};
	bool all = true;
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		all = all && strcmp(http_reason(st[i]), "Unknown") != 0;
	CHECK(all, "reason: every parser status has a phrase");
}

int main(void)
{
	test_simple();
	test_methods();
	test_versions();
	test_syntax();
	test_targets();
	test_headers();
	test_limits();
	test_content_length();
	test_transfer_encoding();
	test_connection();
	test_expect();
	test_incremental();
	test_pipelined();
	test_leading_crlf();
	test_chunked();
	test_url_decode();
	test_reason();
	http_request_free(&req);
	return test_done();
}
