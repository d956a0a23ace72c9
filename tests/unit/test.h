// SPDX-License-Identifier: MIT
// A tiny TAP-like harness: each check prints "ok N - name" or "not ok N - name", and
// test_done() prints the program's counts and returns its exit status.
#pragma once
#include <stdio.h>
#include <string.h>

static int test_n, test_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		int test_ok_ = !!(cond);                                       \
		test_n++;                                                      \
		if (test_ok_) {                                                  \
			printf("ok %d - ", test_n);                            \
		} else {                                                       \
			test_failed++;                                         \
			printf("not ok %d - ", test_n);                        \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		if (!test_ok_)                                                 \
			printf("  (%s:%d: %s)", __FILE__, __LINE__, #cond);    \
		printf("\n");                                                  \
		fflush(stdout);                                                \
	} while (0)

#define CHECK_STR(a, b, ...) CHECK((a) && (b) && strcmp((a), (b)) == 0, __VA_ARGS__)

static inline int test_done(void)
{
	printf("%d passed, %d failed\n", test_n - test_failed, test_failed);
	return test_failed ? 1 : 0;
}
