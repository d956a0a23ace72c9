// SPDX-License-Identifier: MIT
// libFuzzer target for wire.c: the frame decoder on arbitrary bytes, its promises about
// prefixes (incremental feeding gives the same answer), and that every frame it accepts,
// REQUEST and RESPONSE payloads included, encodes back to exactly the same bytes.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wire_request req;
static struct wire_response resp;

// Decodes a heap copy of exactly n bytes, so ASan sees any read past them.
static enum wire_err decode_copy(const uint8_t *data, size_t n, struct wire_frame *f, size_t *used)
{
	char *p = malloc(n ? n : 1);
	if (!p)
		abort();
	if (n)
		memcpy(p, data, n);
	enum wire_err e = wire_decode_frame(p, n, f, used);
	free(p);
	return e;
}

// The decoder accepts only canonical frames, so re-encoding one gives its bytes back.
static void check_reencode(const struct wire_frame *f, const char *frame, size_t n)
{
	struct buf b;
	buf_init(&b);
	enum wire_err e = WIRE_OK;
	switch (f->type) {
	case WIRE_HELLO:
		if (f->len != 4 || f->version != WIRE_VERSION)
			goto out; // later fields are ignored, not kept
		e = wire_put_hello(&b);
		if (!e && memcmp(frame + WIRE_HEAD_LEN + 2, "\0\0", 2) != 0)
			goto out; // flags are ignored too
		break;
	case WIRE_REQUEST:
		e = wire_decode_request(f->payload, f->len, &req);
		if (e) {
			if (e == WIRE_INCOMPLETE || e == WIRE_ERR_NOMEM || e == WIRE_ERR_VERSION)
				abort();
			goto out;
		}
		if (req.nheaders > WIRE_MAX_HEADERS || req.npermissions > WIRE_MAX_PERMISSIONS ||
		    req.content_length < -1 || !req.path.len || req.path.p[0] != '/')
			abort();
		e = wire_put_request(&b, f->stream, &req);
		break;
	case WIRE_RESPONSE:
		e = wire_decode_response(f->payload, f->len, &resp);
		if (e)
			goto out;
		if (resp.nheaders > WIRE_MAX_HEADERS || resp.status > 599 ||
		    (resp.status != 101 && resp.status < 200))
			abort();
		e = wire_put_response(&b, f->stream, &resp);
		break;
	case WIRE_BODY:
		e = wire_put_body(&b, f->stream, f->payload, f->len);
		break;
	case WIRE_END:
		e = wire_put_end(&b, f->stream);
		break;
	case WIRE_RESET:
		e = wire_put_reset(&b, f->stream, f->code);
		break;
	case WIRE_WINDOW:
		e = wire_put_window(&b, f->stream, f->increment);
		break;
	}
	if (e || b.len != n || memcmp(b.data, frame, n) != 0)
		abort(); // accepted but not re-encodable, or not canonical
out:
	buf_free(&b);
}

// A prefix of the input never contradicts the whole: it waits, or shows the same error.
static void check_prefixes(const uint8_t *data, size_t size, enum wire_err full, size_t full_used)
{
	size_t limit = full == WIRE_OK ? full_used : size;
	size_t stride = limit <= 512 ? 1 : limit / 256;
	enum wire_err prev = WIRE_INCOMPLETE;
	for (size_t k = 0; k < limit; k++) {
		if (k > 64 && k + 64 < limit && k % stride)
			continue;
		struct wire_frame f;
		size_t used;
		enum wire_err e = decode_copy(data, k, &f, &used);
		if (e == WIRE_OK)
			abort(); // a frame shorter than the first one
		if (full == WIRE_OK && e != WIRE_INCOMPLETE)
			abort();
		if (e != WIRE_INCOMPLETE && e != full)
			abort();
		if (prev != WIRE_INCOMPLETE && e != prev)
			abort(); // an error went away with more bytes
		prev = e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_frame f;
	size_t used = 0;
	enum wire_err first = decode_copy(data, size, &f, &used);
	check_prefixes(data, size, first, used);

	// Then the whole input as a stream of frames, as a reader would take it.
	size_t off = 0;
	while (off < size) {
		char *p = malloc(size - off);
		if (!p)
			abort();
		memcpy(p, data + off, size - off);
		enum wire_err e = wire_decode_frame(p, size - off, &f, &used);
		if (e == WIRE_OK) {
			if (used < WIRE_HEAD_LEN || used > size - off || f.len != used - WIRE_HEAD_LEN ||
			    f.payload != p + WIRE_HEAD_LEN || (f.type == WIRE_HELLO) != (f.stream == 0))
				abort();
			check_reencode(&f, p, used);
			off += used;
		}
		free(p);
		if (e != WIRE_OK)
			break;
	}
	return 0;
}
