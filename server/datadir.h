// SPDX-License-Identifier: MIT
// The data directory's layout and ownership: the store and uploads belong to the front's
// uid; apps/ to the installer's uid; grains/ and backups/ to root (the parent); each grain's
// var/ to its own uid.
#pragma once
#include <stdbool.h>

struct config;

// Creates DIR and its subdirectories and sets their owners and modes. When running as root,
// the store's files are handed to the front's uid (they may have been made by root).
// 0 / -1 (logged).
int datadir_prepare(const struct config *c);
// true when this process runs as root and so separates privileges.
bool datadir_privileged(void);
// Drops to the front's uid and gid (no capabilities left). 0 / -1 (logged).
int datadir_become_front(const struct config *c);
// Drops to a grain's uid (to unpack a restored grain as its owner), with no_new_privs.
int datadir_become_grain(unsigned uid);
// Drops to the installer's uid (front_uid + 1), which owns apps/, with no_new_privs.
int datadir_become_installer(const struct config *c);
// The ACME worker's uid (front_uid + 2): owns DATA/tls/acme/ and nothing else.
int datadir_become_acme(const struct config *c);
// Makes DATA/tls/acme/ (0711) and its challenges/ (0755, read by the front), owned by the
// ACME worker's uid. 0 / -1 (logged).
int datadir_prepare_acme(const struct config *c);
