// SPDX-License-Identifier: MIT
// Logging to stderr, one line per event, and the die() family for set-up code.
#pragma once
#include <stddef.h>
#include <stdnoreturn.h>

void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_err(...) log_msg("error", __VA_ARGS__)

// The info line of one answered request, as log_info("%.32s %.200s %d %zuB %lldms %.64s", ...)
// would write it, without printf's cost (one per request).
void log_access(const char *method, const char *target, int status, size_t bytes,
		long long ms, const char *peer);

// An event loop's process may hold its lines and write them together: armed() is called when
// the first line is held, and must see that log_flush() runs soon (before the loop waits).
// log_hold(NULL) writes each line at once again. Held lines are written at exit too.
void log_hold(void (*armed)(void));
void log_flush(void);

// Set-up code that cannot go on: prints "silo: MESSAGE" (and strerror(errno)) and exits 1.
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
