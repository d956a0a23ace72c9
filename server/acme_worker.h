// SPDX-License-Identifier: MIT
// The ACME worker process: keeps a certificate for the configured acme_domain names
// (acme.h), under its own uid (front_uid + 2 when silo runs as root).
#pragma once
struct config;

#include <stdbool.h>
// true when the config asks for ACME names or a dynamic DNS name (URL and name).
bool acme_worker_wanted(const struct config *c);
// Runs in the forked child: drops to the worker's uid and never returns while it works;
// returns an exit status when it cannot start.
int acme_worker_main(const struct config *c);
