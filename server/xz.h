// SPDX-License-Identifier: MIT
// Streaming xz (liblzma) compression into a sink and decompression from a source, each with
// one fixed buffer, so a package of any size passes through in constant memory.
#pragma once
#include <stdint.h>

#include "stream.h"

// Preset 6 (8 MiB dictionary): the decoder then needs about 9 MiB, which an appliance with
// 1 GiB of RAM can afford per upload; presets 7-9 only pay off on inputs over 8 MiB of
// self-similar data and cost 17-65 MiB to decode. EXTREME doubles packing time for ~1%.
#define XZ_PRESET 6
// The decoder refuses streams that would need more memory than this (presets 0-8 fit).
#define XZ_MEMLIMIT ((uint64_t)64 << 20)

struct xz_enc;
struct xz_dec;

// A compressor writing one xz stream (CRC64 check) into out, which must outlive it.
// NULL with err set on failure.
struct xz_enc *xz_enc_new(const struct stream_sink *out, char *err, size_t errsz);
// The sink that takes the plain bytes to compress.
struct stream_sink xz_enc_sink(struct xz_enc *z);
// Flushes the end of the stream into out. 0 / negative enum stream_err.
int xz_enc_finish(struct xz_enc *z, char *err, size_t errsz);
void xz_enc_free(struct xz_enc *z);

// A decompressor reading exactly one xz stream from in, which must outlive it. Its source
// reports STREAM_ECORRUPT for a truncated or corrupt stream and for any byte after the
// stream, STREAM_ELIMIT past memlimit. NULL with err set on failure.
struct xz_dec *xz_dec_new(const struct stream_src *in, uint64_t memlimit, char *err,
			  size_t errsz);
// The source that yields the plain bytes.
struct stream_src xz_dec_src(struct xz_dec *z);
void xz_dec_free(struct xz_dec *z);
