// SPDX-License-Identifier: MIT
// Byte streams as two small callback interfaces, so the archive code reads from a file, an xz
// decompressor or memory, and writes into a compressor, without knowing which.
#pragma once
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"

// What a failed read or write was; readers map these onto their own result codes.
enum stream_err {
	STREAM_EIO = -1,       // the system failed (read/write errors, out of memory)
	STREAM_ECORRUPT = -2,  // the bytes are not what the format promises (truncated, bad xz)
	STREAM_ELIMIT = -3,    // decoding them would pass a limit (the xz memory limit)
};

struct stream_src {
	// Reads up to n (> 0) bytes into p. Returns how many (0 only at the end of the stream),
	// or a negative enum stream_err with err set.
	ssize_t (*read)(void *ctx, void *p, size_t n, char *err, size_t errsz);
	void *ctx;
};

struct stream_sink {
	// Writes all n bytes: 0, or a negative enum stream_err with err set.
	int (*write)(void *ctx, const void *p, size_t n, char *err, size_t errsz);
	void *ctx;
};

// A source over bytes in memory (borrowed, must outlive the source).
struct stream_mem {
	const unsigned char *p;
	size_t len, off;
};

static inline ssize_t stream_mem_read(void *ctx, void *p, size_t n, char *err, size_t errsz)
{
	struct stream_mem *m = ctx;
	(void)err, (void)errsz;
	size_t k = m->len - m->off < n ? m->len - m->off : n;
	if (k)
		memcpy(p, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

static inline void stream_src_mem(struct stream_src *s, struct stream_mem *m, const void *p,
				  size_t len)
{
	m->p = p;
	m->len = len;
	m->off = 0;
	s->read = stream_mem_read;
	s->ctx = m;
}

// A sink appending to a struct buf (whose max, if set, bounds it).
static inline int stream_buf_write(void *ctx, const void *p, size_t n, char *err, size_t errsz)
{
	if (buf_append(ctx, p, n) < 0) {
		snprintf(err, errsz, "out of memory (or over the buffer's limit)");
		return STREAM_EIO;
	}
	return 0;
}

static inline void stream_sink_buf(struct stream_sink *s, struct buf *b)
{
	s->write = stream_buf_write;
	s->ctx = b;
}
