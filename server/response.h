// SPDX-License-Identifier: MIT
// An HTTP response being built by a handler, and its serialization onto the wire.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct http_response {
	int status;
	struct buf headers;         // extra header lines, each "Name: value\r\n"
	struct buf body;
	const void *static_body;    // used instead of body when set (compiled-in assets)
	size_t static_len;
	int64_t stream_length;      // a streamed body's length when known in advance, else -1
	bool close;                 // close the connection after this response
	bool shell_page;            // add the shell's security headers (frame-ancestors 'none')
	char frame_src[320];        // shell pages: an origin they may frame ("" none; resp_frame_src)
};

void resp_init(struct http_response *r);
void resp_free(struct http_response *r);
void resp_reset(struct http_response *r);
// Adds a header line; name and the formatted value must not contain CR or LF
// (a value holding one is dropped and logged, never sent).
void resp_header(struct http_response *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
// The same for a value that is already made (not a format): name of nlen bytes, value of vlen.
void resp_header_raw(struct http_response *r, const char *name, size_t nlen, const char *value,
		     size_t vlen);
// Lets a shell page frame one more origin ("scheme://host[:port]") in its CSP frame-src.
// 0, or -1 (logged, nothing changed) when origin is not a plain origin or is too long.
int resp_frame_src(struct http_response *r, const char *origin);
// A JSON error body {"error": msg} with status.
void resp_error(struct http_response *r, int status, const char *msg);
// A JSON body from a jansson value (the reference is stolen).
struct json_t;
void resp_json(struct http_response *r, int status, struct json_t *v);
void resp_redirect(struct http_response *r, int status, const char *location);
// Writes status line and headers for a streamed body: chunked when asked, else its
// Content-Length when stream_length is known, else none (101 upgrades, HEAD, 204, 304).
void resp_serialize_head(struct http_response *r, struct buf *out, bool keep_alive, bool tls,
			 bool chunked);
// Writes status line, standard headers and body into out. head_only: HEAD/304, no body.
void resp_serialize(struct http_response *r, struct buf *out, bool head_only, bool keep_alive,
		    bool tls);
