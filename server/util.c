// SPDX-License-Identifier: MIT
// Small helpers used everywhere: time.
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

int64_t util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_unix_now(void)
{
	return (int64_t)time(NULL);
}

int util_path(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz)
			out[0] = '\0';
		return -1;
	}
	return 0;
}
