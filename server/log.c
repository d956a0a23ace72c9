// SPDX-License-Identifier: MIT
// Logging to stderr, one line per event.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

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
	int n = snprintf(line, sizeof(line), "%s", stamp);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %s ", level);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	// One write per line so concurrent writers do not interleave.
	fprintf(stderr, "%s\n", line);
}

static noreturn void vdie(int err, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
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
