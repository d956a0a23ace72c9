// SPDX-License-Identifier: MIT
// HTTP/1.1 request parsing for hostile input (RFC 9112): the head, and chunked bodies.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define HTTP_MAX_REQUEST_LINE 8192   // 414 past it
#define HTTP_MAX_HEADER_LINE 8192    // 431 past it
#define HTTP_MAX_HEAD 32768          // request line + headers; 431 past it
#define HTTP_MAX_HEADERS 64          // 431 past it
#define HTTP_MAX_CHUNK_LINE 256      // chunk-size line with extensions; 400 past it

enum http_method {
	HTTP_GET = 1, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_PATCH, HTTP_OPTIONS,
	HTTP_WEBDAV,   // PROPFIND, REPORT, MKCOL, ...: passed to grains, never routed by the shell
};

// A header name of nlen bytes is lit, ignoring case; lengths first (inline: a literal's
// is known when compiling).
static inline bool http_name_is(const char *name, size_t nlen, const char *lit)
{
	return nlen == strlen(lit) && strncasecmp(name, lit, nlen) == 0;
}

struct http_header {
	const char *name;    // as sent; compare case-insensitively
	const char *value;   // surrounding whitespace removed
};

struct http_request {
	char *raw;                     // owned copy of the head; the strings below point into it
	size_t head_len;               // bytes the head took in the input
	enum http_method method;
	const char *method_name;
	const char *target;            // as sent: path and query
	const char *path;              // target before '?', not decoded
	const char *query;             // after '?', or "" when none
	int minor;                     // HTTP/1.<minor>: 0 or 1
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	// Derived from the headers while parsing.
	const char *host;              // NULL when absent (only allowed in HTTP/1.0)
	int64_t content_length;        // -1 when absent
	bool chunked;
	bool keep_alive;
	bool expect_continue;
};

enum http_parse {
	HTTP_PARSE_OK = 0,          // a whole head was parsed into req
	HTTP_PARSE_INCOMPLETE = 1,  // need more bytes
	// Anything else is the HTTP status to answer before closing: 400, 414, 431, 501, 505.
};

// Parses the head at the start of in[0..len). On HTTP_PARSE_OK req->raw is allocated and
// must be released with http_request_free; on any other result req holds nothing.
// Returns 500 on allocation failure.
int http_parse_head(const char *in, size_t len, struct http_request *req);
void http_request_free(struct http_request *req);
// The value of the first header named name (case-insensitive), or NULL.
const char *http_header(const struct http_request *req, const char *name);

// An incremental decoder for Transfer-Encoding: chunked.
struct http_chunked {
	int state;
	uint64_t remaining;   // bytes left in the current chunk
	size_t line_len;      // bytes of the current size/trailer line seen so far
	size_t trailer_bytes;
};
enum http_chunked_result {
	HTTP_CHUNKED_MORE = 0,   // consumed all input, need more
	HTTP_CHUNKED_DONE = 1,   // body complete; *used says where it ended
	HTTP_CHUNKED_BAD = 400,
	HTTP_CHUNKED_TOO_LARGE = 413,
};
void http_chunked_init(struct http_chunked *c);
// Feeds in[0..len): appends decoded data to out (never growing it past max total bytes)
// and sets *used to the bytes consumed.
int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, struct buf *out,
		      size_t max, size_t *used);

// The standard reason phrase of status, "Unknown" for others.
const char *http_reason(int status);
// Percent-decodes src[0..len) into dst (size dstsz, NUL-terminated). form: '+' means space.
// -1 on a bad escape, a NUL (raw or encoded), or when dst is too small.
int http_url_decode(const char *src, size_t len, char *dst, size_t dstsz, bool form);
