// SPDX-License-Identifier: MIT
// The privileged parent: owns the grain launcher and the package and grain directories,
// does no network I/O, and answers the front's typed requests (privsep.h).
#pragma once
#include <sys/types.h>

struct config;

// Runs until the front exits (after a SIGTERM/SIGINT is passed on to it, or by itself).
// Stops every grain before returning. Returns the exit status for silo.
int parent_main(const struct config *c, int sock, pid_t front);
