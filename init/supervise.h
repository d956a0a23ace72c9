// SPDX-License-Identifier: MIT
// Running `silo serve` and restarting it with a growing delay when it dies.
#pragma once
#include <stdint.h>
#include <sys/types.h>

#define SUPERVISE_FP_HEX 64

struct supervisor {
	const char *base_url;
	const char *config;     // --config for silo; NULL: its own default (/etc/silo/silo.conf)
	pid_t pid;              // 0 while not running
	unsigned crashes;       // exits since boot
	unsigned backoff_s;     // the next delay
	unsigned max_s;
	int64_t started_ms;
	int64_t restart_ms;     // when to start it again; 0: not waiting
	int ready_fd;           // the pipe silo says "serving" on (SILO_INIT_FD); -1: none
	int serving;            // silo has said it serves (since boot)
	unsigned early_exits;   // exits before silo ever served
	char tls_fp[SUPERVISE_FP_HEX + 1]; // what silo said with "serving": its certificate's
					   // SHA-256 in hex; empty without TLS
};

void supervise_start(struct supervisor *s);
// ready_fd has input: 1 when silo just said it serves, 0 otherwise (the pipe is closed at
// its end).
int supervise_ready(struct supervisor *s);
// silo's message on the pipe (n bytes): 1 when it is "serving", optionally followed by
// " sha256 <64 hex>" (then copied to fp, else fp is emptied); 0 for anything else.
int supervise_parse_ready(const char *msg, size_t n, char fp[SUPERVISE_FP_HEX + 1]);

// Tells the supervisor that pid ended; 1 if it was silo (a restart is then scheduled).
int supervise_reaped(struct supervisor *s, pid_t pid, int status);
