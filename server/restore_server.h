// SPDX-License-Identifier: MIT
// `silo restore-server`: a whole server's backup into a fresh data directory.
#pragma once

struct config;

// Restores the backup in file into c->data, which must hold no store, apps or grains.
// Exits with a message naming the file and the problem on failure; 0 when done.
int restore_server(const struct config *c, const char *file);
