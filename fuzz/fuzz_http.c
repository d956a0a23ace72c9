// SPDX-License-Identifier: MIT
// libFuzzer target for http.c: the head parser and its promises, agreement between whole and
// split input, and the chunked decoder (whole and byte at a time) over the bytes after a head.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"

#define CHUNK_MAX 64   // small, so the 413 paths are reached often

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Parses a heap copy of exactly n bytes, so ASan sees any read past the prefix.
static int parse_copy(const uint8_t *data, size_t n, struct http_request *req)
{
	char *p = malloc(n ? n : 1);
	if (!p)
		abort();
	if (n)
		memcpy(p, data, n);
	int r = http_parse_head(p, n, req);
	free(p);
	return r;
}

static void check_request(const struct http_request *r, const uint8_t *data, size_t size)
{
	if (r->head_len < 4 || r->head_len > size || memcmp(data + r->head_len - 4, "\r\n\r\n", 4) != 0)
		abort();
	if (r->method < HTTP_GET || r->method > HTTP_OPTIONS || (r->minor != 0 && r->minor != 1))
		abort();
	if ((r->minor == 1 && !r->host) || (r->chunked && r->content_length >= 0) || r->content_length < -1)
		abort();
	if (r->chunked && r->minor == 0)
		abort();
	if (r->nheaders > HTTP_MAX_HEADERS || !r->target || !r->path || !r->query || !r->method_name)
		abort();
	if (r->target[0] != '/' && !(r->method == HTTP_OPTIONS && strcmp(r->target, "*") == 0))
		abort();
	size_t pl = strlen(r->path);
	if (strncmp(r->target, r->path, pl) != 0 || strchr(r->path, '?'))
		abort();
	if (r->target[pl] && (r->target[pl] != '?' || strcmp(r->target + pl + 1, r->query) != 0))
		abort();
	if (!r->target[pl] && *r->query)
		abort();
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *n = r->headers[i].name, *v = r->headers[i].value;
		if (!n || !v || !*n || !http_header(r, n))
			abort();
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				abort();
		size_t vl = strlen(v);
		if (vl && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			abort();
	}
}

// Decodes in whole, then one byte at a time; both must agree on everything.
static void check_chunked(const uint8_t *in, size_t len)
{
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	struct http_chunked c;
	http_chunked_init(&c);
	size_t used = 0;
	int r = http_chunked_feed(&c, (const char *)in, len, &a, CHUNK_MAX, &used);
	if (r != HTTP_CHUNKED_MORE && r != HTTP_CHUNKED_DONE && r != HTTP_CHUNKED_BAD &&
	    r != HTTP_CHUNKED_TOO_LARGE)
		abort();
	if (used > len || a.len > CHUNK_MAX || (r == HTTP_CHUNKED_MORE && used != len))
		abort();

	http_chunked_init(&c);
	size_t used_b = 0;
	int rb = HTTP_CHUNKED_MORE;
	for (size_t i = 0; i < len && rb == HTTP_CHUNKED_MORE; i++) {
		size_t u = 0;
		rb = http_chunked_feed(&c, (const char *)in + i, 1, &b, CHUNK_MAX, &u);
		if (u > 1)
			abort();
		used_b += u;
	}
	if (rb != r || used_b != used || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
}

// Parsing a prefix must never contradict parsing the whole: a prefix shorter than a valid
// head waits, one that holds it gives the same head, and an error is never followed by OK.
static void check_prefix(const uint8_t *data, size_t k, int full, size_t head_len, int *prev)
{
	struct http_request req;
	int r = parse_copy(data, k, &req);
	if (r == HTTP_PARSE_OK) {
		size_t h = req.head_len;
		http_request_free(&req);
		if (full != HTTP_PARSE_OK || h != head_len)
			abort();
	} else if (r != HTTP_PARSE_INCOMPLETE) {
		if (full == HTTP_PARSE_OK || full == HTTP_PARSE_INCOMPLETE)
			abort(); // a prefix failed but the whole input does not
	} else if (*prev != HTTP_PARSE_INCOMPLETE && *prev != HTTP_PARSE_OK) {
		abort(); // an error went back to waiting once more bytes came
	}
	if (full == HTTP_PARSE_OK && k < head_len && r != HTTP_PARSE_INCOMPLETE)
		abort();
	*prev = r;
}

static void check_prefixes(const uint8_t *data, size_t size, int full, size_t head_len)
{
	// Every prefix of small inputs; of larger ones the first and last bytes, the bytes
	// around the head's end and a stride, to keep executions fast.
	int prev = HTTP_PARSE_INCOMPLETE;
	size_t stride = size <= 512 ? 1 : size / 256;
	for (size_t k = 0; k < size; k++) {
		bool near_end = k + 64 >= size || (head_len && k + 64 >= head_len && k <= head_len + 1);
		if (k < 64 || near_end || k % stride == 0)
			check_prefix(data, k, full, head_len, &prev);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	int full = parse_copy(data, size, &req);
	size_t head_len = 0;
	if (full == HTTP_PARSE_OK) {
		check_request(&req, data, size);
		head_len = req.head_len;
		http_request_free(&req);
		check_chunked(data + head_len, size - head_len);
	} else {
		static const int ok[] = {HTTP_PARSE_INCOMPLETE, 400, 414, 417, 431, 500, 501, 505};
		size_t i = 0;
		while (i < sizeof(ok) / sizeof(ok[0]) && ok[i] != full)
			i++;
		if (i == sizeof(ok) / sizeof(ok[0]) || req.raw || req.nheaders)
			abort(); // an unexpected status, or a failed parse that left something behind
		check_chunked(data, size);
	}
	check_prefixes(data, size, full, head_len);
	return 0;
}
