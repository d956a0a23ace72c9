// SPDX-License-Identifier: MIT
// Small helpers used everywhere: time.
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
