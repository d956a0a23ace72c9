// SPDX-License-Identifier: MIT
// A growable byte buffer with a sticky out-of-memory flag, so renderers can append freely
// and check once at the end.
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *data;
	size_t len, cap;
	size_t max;   // 0: unlimited; appends past it set oom
	bool oom;     // an append failed: contents are incomplete
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
// Ensures room for extra more bytes; -1 (and oom set) on failure.
int buf_reserve(struct buf *b, size_t extra);
// buf_append when the room is not there yet (or a limit or oom is in the way).
int buf_append_slow(struct buf *b, const void *p, size_t n);
// Inline, so that a head built from many small pieces costs no call (and no memcpy call for
// a length known when compiling) per piece.
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	// n < cap - len first, so len + n cannot overflow in the limit's test.
	if (b->oom || n >= b->cap - b->len || (b->max && b->len + n > b->max))
		return buf_append_slow(b, p, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}
static inline int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}
static inline int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}
// Decimal digits of v, without printf's cost (response heads are built per request).
int buf_put_u64(struct buf *b, uint64_t v);
// The same digits written to out (no NUL); returns how many (1-20).
size_t u64_digits(char out[20], uint64_t v);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
// Drops the first n bytes.
void buf_consume(struct buf *b, size_t n);
// Returns a NUL-terminated view (the NUL is not counted in len); NULL on oom.
const char *buf_cstr(struct buf *b);
