// SPDX-License-Identifier: MIT
// Small helpers used everywhere: cleanup attributes, array sizes, time.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline void util_freep(void *p)
{
	free(*(void **)p);
}
static inline void util_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(util_freep)))
#define _cleanup_close_ __attribute__((cleanup(util_closep)))

// Hands ownership on: returns *pp and clears it so the cleanup does nothing.
static inline void *util_steal(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) util_steal(pp)

// Formats a path into out; -1 (and out empty) when it does not fit.
int util_path(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Writes all n bytes (retrying short writes and EINTR). 0 / -1 with errno.
int util_write_all(int fd, const void *p, size_t n);
// Reads a small file (a sysfs or proc entry) into buf with one read, NUL-terminated: at most
// bufsz - 1 bytes. Their count, or -1 with errno.
ssize_t util_read_small(const char *path, char *buf, size_t bufsz);

// Monotonic milliseconds, for timers. Wall-clock seconds, for stored times.
int64_t util_now_ms(void);
int64_t util_unix_now(void);

// Room for one more element of size sz in p (holding n of *cap): p itself, a larger copy
// (*cap updated), or NULL when out of memory (p is still valid then).
void *util_grow(void *p, size_t n, size_t *cap, size_t sz);

// In a child about to meet hostile bytes: closes every fd but stdio and keep[0..n) (sorted in
// place), so it holds nothing of its parent's (a channel to the front, a signalfd).
void util_close_except(int *keep, size_t n);

// Little-endian integers in on-disk formats (GPT, ext4, OS update files).
uint32_t util_le32(const void *p);
uint64_t util_le64(const void *p);
