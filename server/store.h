// SPDX-License-Identifier: MIT
// The store: SQLite in DIR/silo.db with WAL, foreign keys and forward migrations run at open.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct store;

// Opens (creating) DIR/silo.db, sets WAL, foreign keys, synchronous=FULL and a busy timeout,
// and runs the pending migrations in one transaction each. NULL on failure (logged).
struct store *store_open(const char *dir);
void store_close(struct store *s);
sqlite3 *store_db(struct store *s);
// The schema version of the open database, and the newest this binary knows (a database
// newer than that is refused at open).
int store_schema_version(struct store *s);
int store_schema_latest(void);

// One user change is one transaction: store_begin ... store_commit, or store_rollback.
// begin takes the write lock at once (BEGIN IMMEDIATE). 0 / -1. Transactions do not nest.
// A failed commit has rolled back.
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

// Prepares sql (cached per store); NULL on error (logged). The statement is reset and its
// bindings cleared before it is returned, so callers bind and step only. Pass fixed SQL
// texts (the cache keeps one statement per distinct text until store_close), and reset a
// statement (sqlite3_reset) when done reading early so it does not hold a read snapshot.
// The same text must not be used again while its statement is still being stepped.
sqlite3_stmt *store_stmt(struct store *s, const char *sql);

// Key/value settings (server display name, ...). get: 0 found, 1 missing, -1 error (also
// when the value does not fit in outsz). set runs in the caller's transaction, if any.
int store_setting_get(struct store *s, const char *key, char *out, size_t outsz);
int store_setting_set(struct store *s, const char *key, const char *value);
