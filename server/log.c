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

void log_msg(const char *level, const char *fmt, ...)
{
	char line[2048];
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
	int n = 0;
	memcpy(line, stamp, sl);
	line[sl] = ' ';
	memcpy(line + sl + 1, level, ll);
	line[sl + 1 + ll] = ' ';
	n = (int)(sl + ll + 2);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	// One write per line (or per held batch of lines) so concurrent writers do not interleave.
	// Warnings and errors are never held: they may come right before the process dies.
	emit(line, len, strcmp(level, "info") != 0);
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
