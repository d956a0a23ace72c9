// SPDX-License-Identifier: MIT
// Confinement of the front, the process that meets the network: its own uid, no
// capabilities, no_new_privs and a seccomp allow-list.
#pragma once
#include <stddef.h>

struct config;

// Drops every privilege in the fixed order (no_new_privs, bounding set, groups, gid, uid,
// verification, seccomp). Without root, only no_new_privs and seccomp apply. 0 / -1 with err.
int front_confine(const struct config *c, char *err, size_t errsz);
