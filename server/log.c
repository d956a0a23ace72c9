// SPDX-License-Identifier: MIT
// Logging to stderr, one line per event.
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

// Held lines (log_hold): written together, in pieces of whole lines no longer than a pipe
// writes atomically, so lines of other processes sharing stderr never cut into ours.
#define LOG_HELD_MAX 4096
static char held[LOG_HELD_MAX];
static size_t nheld;
static void (*on_held)(void);

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; // nowhere to report it
		p += w;
		n -= (size_t)w;
	}
}

void log_flush(void)
{
	size_t n = nheld;
	nheld = 0;
	write_all(held, n);
}

void log_hold(void (*armed)(void))
{
	log_flush();
	on_held = armed;
	static bool registered;
	if (armed && !registered && atexit(log_flush) == 0)
		registered = true;
}

static void emit(const char *line, size_t n, bool now)
{
	if (!on_held || now || n > LOG_HELD_MAX) {
		log_flush();
		write_all(line, n);
		return;
	}
	if (nheld + n > LOG_HELD_MAX)
		log_flush();
	bool was_empty = !nheld;
	memcpy(held + nheld, line, n);
	nheld += n;
	if (was_empty)
		on_held();
}

// The timestamp and level that start every line; returns their length (at most 50).
static size_t line_start(char *line, const char *level)
{
	// The timestamp changes once a second; format it once a second.
	static char stamp[32];
	static time_t stamp_at = -1;
	time_t now = time(NULL);
	if (now != stamp_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		stamp_at = now;
	}
	size_t sl = strlen(stamp), ll = strnlen(level, 16);
	memcpy(line, stamp, sl);
	line[sl] = ' ';
	memcpy(line + sl + 1, level, ll);
	line[sl + 1 + ll] = ' ';
	return sl + ll + 2;
}

void log_msg(const char *level, const char *fmt, ...)
{
	char line[2048];
	size_t n = line_start(line, level);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - 1 - n, fmt, ap);
	va_end(ap);
	size_t len = n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	// One write per line (or per held batch of lines) so concurrent writers do not interleave.
	// Warnings and errors are never held: they may come right before the process dies.
	emit(line, len, strcmp(level, "info") != 0);
}

// Up to max bytes of s ("-" for none) at line + n; the new length.
static size_t put_str(char *line, size_t n, const char *s, size_t max)
{
	if (!s)
		s = "-";
	size_t k = strnlen(s, max);
	memcpy(line + n, s, k);
	return n + k;
}

static size_t put_unum(char *line, size_t n, uint64_t u, bool minus)
{
	if (minus)
		line[n++] = '-';
	return n + u64_digits(line + n, u);
}

static size_t put_num(char *line, size_t n, long long v)
{
	return put_unum(line, n, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
}

void log_access(const char *method, const char *target, int status, size_t bytes,
		long long ms, const char *peer)
{
	// 50 (start) + 32 + 200 + 64 + four numbers and separators: well within the line.
	char line[512];
	size_t n = line_start(line, "info");
	n = put_str(line, n, method, 32);
	line[n++] = ' ';
	n = put_str(line, n, target, 200);
	line[n++] = ' ';
	n = put_num(line, n, status);
	line[n++] = ' ';
	n = put_unum(line, n, bytes, false);
	line[n++] = 'B';
	line[n++] = ' ';
	n = put_num(line, n, ms);
	memcpy(line + n, "ms ", 3);
	n = put_str(line, n + 3, peer, 64);
	line[n++] = '\n';
	emit(line, n, false);
}

static noreturn void vdie(int err, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_flush();
	if (err)
		fprintf(stderr, "silo: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "silo: %s\n", msg);
	exit(1);
}

noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

noreturn void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vdie(err, fmt, ap);
}
