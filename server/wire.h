// SPDX-License-Identifier: MIT
// The wire between the front and a grain's silo-bridge: binary, length-prefixed,
// multiplexed, versioned frames (docs/WIRE.md is the byte-by-byte specification). Encoding
// and decoding are pure functions over buffers, with a cap on every count and length.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define WIRE_VERSION 1
#define WIRE_HEAD_LEN 9                  // u32 length, u32 stream, u8 type
#define WIRE_MAX_FRAME (1u << 20)        // cap on the length field (stream + type + payload)
#define WIRE_MAX_PAYLOAD (WIRE_MAX_FRAME - 5)
#define WIRE_BODY_CHUNK 16384            // what silo's senders put in one BODY frame
#define WIRE_INITIAL_WINDOW 65536              // initial per-stream credit, each direction
#define WIRE_MAX_CREDIT 0x7fffffffu      // a window may never exceed this
#define WIRE_MAX_STREAMS 256             // a receiver may refuse more open streams
#define WIRE_STREAM_GRAIN 0x80000000u    // stream ids with this bit: opened by the grain (reserved)
#define WIRE_LENGTH_UNKNOWN UINT64_MAX   // content_length on the wire when not known

// Caps on the fields of REQUEST and RESPONSE.
#define WIRE_MAX_METHOD 32
#define WIRE_MAX_HOST 255
#define WIRE_MAX_PATH 8192
#define WIRE_MAX_QUERY 8192
#define WIRE_MAX_USERNAME 1024
#define WIRE_MAX_ID 128                  // session id, tab id
#define WIRE_MAX_PERMISSIONS 64
#define WIRE_MAX_PERMISSION 64
#define WIRE_MAX_HEADERS 100
#define WIRE_MAX_HEADER_NAME 256
#define WIRE_MAX_HEADER_BYTES 65536      // sum of all names and values of one frame

enum wire_type {
	WIRE_HELLO = 1,     // stream 0, first frame in each direction: version
	WIRE_REQUEST = 2,   // front -> grain: opens a stream
	WIRE_RESPONSE = 3,  // grain -> front: status and headers
	WIRE_BODY = 4,      // either way: body bytes (after a 101: the upgraded byte stream)
	WIRE_END = 5,       // either way: the sender's side of the stream is finished
	WIRE_RESET = 6,     // either way: abort the stream, with a reason code
	WIRE_WINDOW = 7,    // either way: credit for more BODY bytes on a stream
	// 0x08-0x3f: reserved for core frames of later versions.
	// 0x40-0x7f: reserved for capability calls (the powerbox: outbound HTTP, e-mail,
	//            grain-to-grain), on streams the grain opens (WIRE_STREAM_GRAIN set).
	// Version 1 decoders refuse every reserved type.
};

// RESET reason codes. Receivers treat an unknown code like WIRE_RESET_INTERNAL.
enum wire_reset_code {
	WIRE_RESET_CANCEL = 1,      // the sender gave up on the stream (e.g. the browser left)
	WIRE_RESET_PROTOCOL = 2,    // the peer broke a stream rule (order, duplicate id, bad REQUEST)
	WIRE_RESET_REFUSED = 3,     // not processed at all (too many streams, stopping): may be retried
	WIRE_RESET_FLOW = 4,        // BODY past the credit the receiver gave
	WIRE_RESET_APP_CLOSED = 5,  // the app closed its connection before the response was complete
	WIRE_RESET_APP_BAD = 6,     // the app's response became invalid after its head (e.g. bad chunk)
	WIRE_RESET_INTERNAL = 7,    // a local failure (out of memory)
	WIRE_RESET_LOST = 0xffff,   // never sent: what a local end reports when the wire itself died
};

enum wire_err {
	WIRE_OK = 0,
	WIRE_INCOMPLETE,     // not a whole frame yet: read more and call again
	WIRE_ERR_LENGTH,     // length field under 5 or over WIRE_MAX_FRAME
	WIRE_ERR_TYPE,       // unknown or reserved frame type
	WIRE_ERR_STREAM,     // stream id not allowed for this type (HELLO on 0, others not on 0)
	WIRE_ERR_TRUNCATED,  // a field runs past the end of the payload
	WIRE_ERR_TRAILING,   // bytes left after the last field
	WIRE_ERR_LIMIT,      // a count or a length over its cap
	WIRE_ERR_VALUE,      // bytes a field may not hold (CR in a value, bad status, ...)
	WIRE_ERR_VERSION,    // HELLO of a version this code does not speak
	WIRE_ERR_NOMEM,      // an encoder could not grow its output
};

// A byte string that points into someone else's memory; not NUL-terminated.
struct wire_str {
	const char *p;
	size_t len;
};

static inline struct wire_str wire_s(const char *s)
{
	return (struct wire_str){s, s ? strlen(s) : 0};
}

static inline bool wire_str_eq(struct wire_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

// Inline so the length of a literal is known when compiling.
static inline bool wire_str_caseeq(struct wire_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && (n == 0 || strncasecmp(s.p, lit, n) == 0);
}

// A header name and its length, for the lists of names each request is checked against.
struct wire_name {
	const char *s;
	size_t len;
};
#define WIRE_NAME(lit) {lit, sizeof(lit) - 1}
// An array of them as wire_name_in's set and n.
#define WIRE_NAMES(a) (a), sizeof(a) / sizeof((a)[0])

// Whether S is one of the N names in SET, ignoring case.
bool wire_name_in(struct wire_str s, const struct wire_name *set, size_t n);

struct wire_header {
	struct wire_str name, value;
};

// A REQUEST: what the front parsed from the browser plus who is asking.
struct wire_request {
	bool https;                  // the browser used HTTPS (X-Forwarded-Proto)
	int64_t content_length;      // request body bytes, -1: unknown (sent chunked to the app)
	struct wire_str method;      // token, e.g. "GET", "PROPFIND"
	struct wire_str host;        // the Host the browser used; empty: the bridge uses 127.0.0.1:PORT
	struct wire_str path;        // canonical, starts with '/', no '?' or '#'
	struct wire_str query;       // after '?', without it; empty: none
	struct wire_str user_id;     // 32 lowercase hex, empty for anonymous visitors
	struct wire_str username;    // percent-encoded display name; empty: "Anonymous User"
	struct wire_str session_id;
	struct wire_str tab_id;
	struct wire_str permissions[WIRE_MAX_PERMISSIONS];
	size_t npermissions;
	struct wire_header headers[WIRE_MAX_HEADERS];   // already whitelisted by the front
	size_t nheaders;
};

// A RESPONSE: the app's status and headers, framing headers removed.
struct wire_response {
	int status;                  // 101 or 200..599
	int64_t content_length;      // the app's Content-Length, -1: none (chunked, close-delimited)
	struct wire_header headers[WIRE_MAX_HEADERS];
	size_t nheaders;
};

// One decoded frame; payload points into the input.
struct wire_frame {
	uint32_t stream;
	enum wire_type type;
	const char *payload;
	size_t len;
	uint16_t version;       // HELLO
	uint16_t code;          // RESET
	uint32_t increment;     // WINDOW
};

// Decodes the frame at the start of in[0..len). WIRE_OK: *f is filled and *used is the
// frame's size. WIRE_INCOMPLETE: nothing wrong yet, more bytes needed. Any other result:
// the byte stream is not valid wire (a connection error). A prefix of a valid frame is
// always WIRE_INCOMPLETE; a prefix that already shows an error gives the same error as
// the whole frame. REQUEST and RESPONSE payloads are checked by the two functions below.
enum wire_err wire_decode_frame(const char *in, size_t len, struct wire_frame *f, size_t *used);
// Decode and validate a REQUEST / RESPONSE payload. The strings point into payload.
enum wire_err wire_decode_request(const char *payload, size_t len, struct wire_request *r);
enum wire_err wire_decode_response(const char *payload, size_t len, struct wire_response *r);

// Encoders append one frame to out. They check their input with the decoder's rules, so
// what they accept decodes. On any error out is left as it was.
enum wire_err wire_put_hello(struct buf *out);
enum wire_err wire_put_request(struct buf *out, uint32_t stream, const struct wire_request *r);
enum wire_err wire_put_response(struct buf *out, uint32_t stream, const struct wire_response *r);
enum wire_err wire_put_body(struct buf *out, uint32_t stream, const void *p, size_t n);
enum wire_err wire_put_end(struct buf *out, uint32_t stream);
enum wire_err wire_put_reset(struct buf *out, uint32_t stream, uint16_t code);
enum wire_err wire_put_window(struct buf *out, uint32_t stream, uint32_t increment);

// Headers the browser may never set: X-Sandstorm-* except the app's own X-Sandstorm-App-*.
// The front drops them before framing; the bridge drops them again.
bool wire_header_reserved(struct wire_str name);
// Percent-encodes s as JavaScript's encodeURIComponent does (for the username field).
int wire_pct_encode(struct buf *out, const char *s, size_t len);

const char *wire_strerror(enum wire_err e);
const char *wire_type_name(int type);
const char *wire_reset_name(unsigned code);
