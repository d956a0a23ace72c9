// SPDX-License-Identifier: MIT
// HTTP/1.1 response parsing for a client that does not trust its server (RFC 9112): the
// head, how the body is framed, and a chunked decoder that leaves the data in place.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define HTTP_RESP_MAX_HEAD 65536       // status line + headers + the empty line
#define HTTP_RESP_MAX_HEADERS 100
#define HTTP_RESP_MAX_CHUNK_LINE 1024  // chunk-size line with extensions
#define HTTP_RESP_MAX_TRAILERS 8192    // trailer section bytes (read and dropped)

enum http_resp_err {
	HTTP_RESP_OK = 0,
	HTTP_RESP_INCOMPLETE,        // no whole head yet: read more and call again
	HTTP_RESP_BAD_STATUS_LINE,   // not "HTTP/1.x SP 3DIGIT [SP reason]"
	HTTP_RESP_BAD_VERSION,       // a major version other than 1
	HTTP_RESP_BAD_STATUS,        // a status code outside 100..599
	HTTP_RESP_BAD_HEADER,        // a malformed field line, obs-fold, bytes a field may not hold
	HTTP_RESP_BAD_LINE_END,      // a bare CR or LF, or a NUL anywhere in the head
	HTTP_RESP_TOO_MANY_HEADERS,  // over HTTP_RESP_MAX_HEADERS
	HTTP_RESP_HEAD_TOO_LARGE,    // over HTTP_RESP_MAX_HEAD
	HTTP_RESP_BAD_LENGTH,        // Content-Length not a plain number, or sent twice
	HTTP_RESP_BAD_FRAMING,       // Transfer-Encoding other than chunked, with Content-Length, or in 1.0
	HTTP_RESP_NOMEM,
};

struct http_resp {
	char *raw;                   // owned copy of the head; the strings below point into it
	size_t head_len;             // bytes the head took in the input
	int minor;                   // HTTP/1.<minor>: 0 or 1
	int status;
	const char *reason;          // may be ""
	struct http_header headers[HTTP_RESP_MAX_HEADERS];
	size_t nheaders;
	int64_t content_length;      // -1 when absent
	bool chunked;
	bool close;                  // the server will close after this response
};

// Parses the head at the start of in[0..len). On HTTP_RESP_OK r->raw is allocated and must
// be released with http_resp_free; on any other result r holds nothing. A prefix of a valid
// head is HTTP_RESP_INCOMPLETE; some errors show before the head is complete.
enum http_resp_err http_resp_parse(const char *in, size_t len, struct http_resp *r);
void http_resp_free(struct http_resp *r);
// The value of the first header named name (case-insensitive), or NULL.
const char *http_resp_header(const struct http_resp *r, const char *name);
const char *http_resp_strerror(enum http_resp_err e);

// How the body of a parsed response is delimited (RFC 9112 6.3).
enum http_body_kind {
	HTTP_BODY_NONE,       // no body: HEAD, 204, 304, and the interim 1xx responses
	HTTP_BODY_LENGTH,     // content_length bytes
	HTTP_BODY_CHUNKED,
	HTTP_BODY_CLOSE,      // until the server closes the connection
	HTTP_BODY_UPGRADE,    // 101: the connection now carries another protocol
};
enum http_body_kind http_resp_body_kind(const struct http_resp *r, bool head_request);

// An incremental Transfer-Encoding: chunked decoder that finds the data runs in its input
// instead of copying them.
struct http_dechunk {
	int state;
	uint64_t remaining;    // data bytes left in the current chunk
	size_t line_len;       // bytes of the current size or trailer line
	size_t trailer_bytes;
};
enum http_dechunk_result {
	HTTP_DECHUNK_MORE = 0,   // *used bytes consumed; feed the rest (or more input) again
	HTTP_DECHUNK_DONE = 1,   // the body ended *used bytes in
	HTTP_DECHUNK_BAD = -1,   // malformed framing
};
void http_dechunk_init(struct http_dechunk *c);
// Consumes framing bytes of in[0..len) up to and including the next run of data, which it
// reports as in[*data_off .. *data_off + *data_len) (length 0: none). Call again with the
// unconsumed rest.
int http_dechunk_feed(struct http_dechunk *c, const char *in, size_t len, size_t *used,
		      size_t *data_off, size_t *data_len);
