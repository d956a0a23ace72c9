// SPDX-License-Identifier: MIT
// Streaming xz compression and decompression over the stream.h interfaces.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <lzma.h>

#include "xz.h"

#define XZ_BUF (64 * 1024)

struct xz_enc {
	lzma_stream s;
	struct stream_sink out;
	unsigned char buf[XZ_BUF];
};

struct xz_dec {
	lzma_stream s;
	struct stream_src in;
	uint64_t memlimit;
	bool in_eof, done;
	unsigned char buf[XZ_BUF];
};

// liblzma's codes as messages and stream errors.
static int xz_fail(lzma_ret ret, uint64_t memlimit, char *err, size_t errsz)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		snprintf(err, errsz, "xz: out of memory");
		return STREAM_EIO;
	case LZMA_MEMLIMIT_ERROR:
		snprintf(err, errsz, "xz: the stream needs more than %llu MiB of memory to decompress",
			 (unsigned long long)(memlimit >> 20));
		return STREAM_ELIMIT;
	case LZMA_FORMAT_ERROR:
		snprintf(err, errsz, "xz: not an xz stream");
		return STREAM_ECORRUPT;
	case LZMA_OPTIONS_ERROR:
		snprintf(err, errsz, "xz: unsupported compression options");
		return STREAM_ECORRUPT;
	case LZMA_DATA_ERROR:
		snprintf(err, errsz, "xz: corrupt compressed data");
		return STREAM_ECORRUPT;
	case LZMA_BUF_ERROR:
		snprintf(err, errsz, "xz: the compressed data ends early (truncated)");
		return STREAM_ECORRUPT;
	default:
		snprintf(err, errsz, "xz: internal error %d", (int)ret);
		return STREAM_EIO;
	}
}

// --- compression ---

static int xz_enc_flush(struct xz_enc *z, char *err, size_t errsz)
{
	size_t n = XZ_BUF - z->s.avail_out;
	if (n) {
		int r = z->out.write(z->out.ctx, z->buf, n, err, errsz);
		if (r < 0)
			return r;
	}
	z->s.next_out = z->buf;
	z->s.avail_out = XZ_BUF;
	return 0;
}

static int xz_enc_write(void *ctx, const void *p, size_t n, char *err, size_t errsz)
{
	struct xz_enc *z = ctx;
	z->s.next_in = p;
	z->s.avail_in = n;
	while (z->s.avail_in) {
		lzma_ret ret = lzma_code(&z->s, LZMA_RUN);
		if (ret != LZMA_OK)
			return xz_fail(ret, 0, err, errsz);
		if (z->s.avail_out == 0) {
			int r = xz_enc_flush(z, err, errsz);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct xz_enc *xz_enc_new(const struct stream_sink *out, char *err, size_t errsz)
{
	struct xz_enc *z = calloc(1, sizeof(*z));
	if (!z) {
		snprintf(err, errsz, "xz: out of memory");
		return NULL;
	}
	z->s = (lzma_stream)LZMA_STREAM_INIT;
	lzma_ret ret = lzma_easy_encoder(&z->s, XZ_PRESET, LZMA_CHECK_CRC64);
	if (ret != LZMA_OK) {
		xz_fail(ret, 0, err, errsz);
		free(z);
		return NULL;
	}
	z->out = *out;
	z->s.next_out = z->buf;
	z->s.avail_out = XZ_BUF;
	return z;
}

struct stream_sink xz_enc_sink(struct xz_enc *z)
{
	return (struct stream_sink){.write = xz_enc_write, .ctx = z};
}

int xz_enc_finish(struct xz_enc *z, char *err, size_t errsz)
{
	z->s.next_in = NULL;
	z->s.avail_in = 0;
	for (;;) {
		lzma_ret ret = lzma_code(&z->s, LZMA_FINISH);
		if (ret != LZMA_OK && ret != LZMA_STREAM_END)
			return xz_fail(ret, 0, err, errsz);
		if (z->s.avail_out == 0 || ret == LZMA_STREAM_END) {
			int r = xz_enc_flush(z, err, errsz);
			if (r < 0)
				return r;
		}
		if (ret == LZMA_STREAM_END)
			return 0;
	}
}

void xz_enc_free(struct xz_enc *z)
{
	if (!z)
		return;
	lzma_end(&z->s);
	free(z);
}

// --- decompression ---

// After the stream's end: any byte left in the input is refused, so nothing can ride along
// behind a valid stream.
static int xz_dec_check_end(struct xz_dec *z, char *err, size_t errsz)
{
	if (z->s.avail_in == 0 && !z->in_eof) {
		ssize_t r = z->in.read(z->in.ctx, z->buf, XZ_BUF, err, errsz);
		if (r < 0)
			return (int)r;
		if (r == 0)
			z->in_eof = true;
		z->s.avail_in = (size_t)r;
	}
	if (z->s.avail_in) {
		snprintf(err, errsz, "xz: trailing bytes after the compressed stream");
		return STREAM_ECORRUPT;
	}
	return 0;
}

static ssize_t xz_dec_read(void *ctx, void *p, size_t n, char *err, size_t errsz)
{
	struct xz_dec *z = ctx;
	if (z->done)
		return 0;
	z->s.next_out = p;
	z->s.avail_out = n;
	while (z->s.avail_out == n) {
		if (z->s.avail_in == 0 && !z->in_eof) {
			ssize_t r = z->in.read(z->in.ctx, z->buf, XZ_BUF, err, errsz);
			if (r < 0)
				return r;
			if (r == 0)
				z->in_eof = true;
			z->s.next_in = z->buf;
			z->s.avail_in = (size_t)r;
		}
		lzma_ret ret = lzma_code(&z->s, z->in_eof ? LZMA_FINISH : LZMA_RUN);
		if (ret == LZMA_STREAM_END) {
			int r = xz_dec_check_end(z, err, errsz);
			if (r < 0)
				return r;
			z->done = true;
			break;
		}
		if (ret != LZMA_OK)
			return xz_fail(ret, z->memlimit, err, errsz);
	}
	return (ssize_t)(n - z->s.avail_out);
}

struct xz_dec *xz_dec_new(const struct stream_src *in, uint64_t memlimit, char *err,
			  size_t errsz)
{
	struct xz_dec *z = calloc(1, sizeof(*z));
	if (!z) {
		snprintf(err, errsz, "xz: out of memory");
		return NULL;
	}
	z->s = (lzma_stream)LZMA_STREAM_INIT;
	// No LZMA_CONCATENATED: exactly one stream, and whatever follows it is an error.
	lzma_ret ret = lzma_stream_decoder(&z->s, memlimit, 0);
	if (ret != LZMA_OK) {
		xz_fail(ret, memlimit, err, errsz);
		free(z);
		return NULL;
	}
	z->in = *in;
	z->memlimit = memlimit;
	return z;
}

struct stream_src xz_dec_src(struct xz_dec *z)
{
	return (struct stream_src){.read = xz_dec_read, .ctx = z};
}

void xz_dec_free(struct xz_dec *z)
{
	if (!z)
		return;
	lzma_end(&z->s);
	free(z);
}
