// SPDX-License-Identifier: MIT
// Running `silo serve` and restarting it with a growing delay when it dies.
#pragma once
#include <stdint.h>
#include <sys/types.h>

struct supervisor {
	const char *base_url;
	pid_t pid;              // 0 while not running
	unsigned crashes;       // exits since boot
	unsigned backoff_s;     // the next delay
	unsigned max_s;
	int64_t started_ms;
	int64_t restart_ms;     // when to start it again; 0: not waiting
};

void supervise_start(struct supervisor *s);

// Tells the supervisor that pid ended; 1 if it was silo (a restart is then scheduled).
int supervise_reaped(struct supervisor *s, pid_t pid, int status);
