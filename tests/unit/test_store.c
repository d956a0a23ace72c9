// SPDX-License-Identifier: MIT
// Unit tests for store.c: pragmas, migrations, version refusal, statement cache, settings,
// transactions, and that a committed change survives the process being killed.
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "test.h"

static char dir[64];
static char dbpath[128];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// First column of the first row of sql as an integer; -1 when there is none.
static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void q_text(sqlite3 *db, const char *sql, char *out, size_t outsz)
{
	sqlite3_stmt *st;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

// Runs sql on the database file through a connection of its own (as another tool would).
static int raw_exec(const char *sql)
{
	sqlite3 *db;
	int rc = sqlite3_open(dbpath, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void test_fresh(void)
{
	char v[32];
	struct store *s = store_open(dir);
	CHECK(s != NULL, "store: opens a fresh directory");
	if (!s)
		return;
	sqlite3 *db = store_db(s);
	int latest = store_schema_latest();
	CHECK(latest >= 1, "store: the binary knows at least one migration");
	CHECK(store_schema_version(s) == latest, "store: a fresh database is at the latest version");
	CHECK(q_int(db, "SELECT version FROM schema_version") == latest &&
		      q_int(db, "SELECT count(*) FROM schema_version") == 1,
	      "store: schema_version holds one row with the latest version");
	// CHECK evaluates its condition twice: every side effect happens before it.
	q_text(db, "PRAGMA journal_mode", v, sizeof(v));
	CHECK(strcmp(v, "wal") == 0, "store: journal_mode is WAL (%s)", v);
	CHECK(q_int(db, "PRAGMA foreign_keys") == 1, "store: foreign keys are on");
	CHECK(q_int(db, "PRAGMA synchronous") == 2, "store: synchronous is FULL");
	CHECK(q_int(db, "PRAGMA busy_timeout") == 5000, "store: busy timeout is 5000 ms");
	static const char *const tables[] = { "users",	  "sessions",	"setup_tokens",
					      "invites",  "api_tokens", "settings" };
	int have = 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		have += q_int(db, sql) == 1;
	}
	CHECK(have == 6, "store: the first migration creates every table auth needs");
	struct stat st;
	int r = stat(dbpath, &st);
	CHECK(r == 0 && (st.st_mode & 0777) == 0600, "store: silo.db is mode 0600");
	int rc = sqlite3_exec(db,
			      "INSERT INTO sessions (hash, user_id, csrf, created, expires, last_seen)"
			      " VALUES ('x', 999, 'c', 0, 1, 0)",
			      NULL, NULL, NULL);
	CHECK(rc != SQLITE_OK, "store: foreign keys are enforced");
	rc = sqlite3_exec(db,
			  "INSERT INTO users (name, pwhash, created) VALUES ('Ann', 'h', 0);"
			  "INSERT INTO users (name, pwhash, created) VALUES ('ann', 'h', 0)",
			  NULL, NULL, NULL);
	CHECK(rc != SQLITE_OK && q_int(db, "SELECT count(*) FROM users") == 1,
	      "store: user names are unique case-insensitively");
	store_close(s);
}

static void test_stmt_cache(void)
{
	struct store *s = store_open(dir);
	if (!s)
		return;
	sqlite3_stmt *a = store_stmt(s, "SELECT ?1");
	sqlite3_bind_int(a, 1, 42);
	int rc = sqlite3_step(a);
	CHECK(rc == SQLITE_ROW && sqlite3_column_int(a, 0) == 42, "store: stmt binds and steps");
	char sql[] = "SELECT ?1";   // the same text at another address
	sqlite3_stmt *b = store_stmt(s, sql);
	CHECK(a == b, "store: stmt is cached by its text");
	CHECK(!sqlite3_stmt_busy(b), "store: a cached stmt comes back reset");
	rc = sqlite3_step(b);
	CHECK(rc == SQLITE_ROW && sqlite3_column_type(b, 0) == SQLITE_NULL,
	      "store: a cached stmt comes back with its bindings cleared");
	sqlite3_reset(b);
	sqlite3_stmt *c = store_stmt(s, "SELECT 1; SELECT 2");
	CHECK(c == NULL, "store: stmt refuses two statements");
	c = store_stmt(s, "SELEKT nonsense");
	CHECK(c == NULL, "store: stmt reports bad SQL as NULL");
	c = store_stmt(s, "SELECT 1;  ");
	CHECK(c != NULL, "store: a trailing semicolon is fine");
	store_close(s);
}

static void test_settings_and_tx(void)
{
	char v[16];
	struct store *s = store_open(dir);
	if (!s)
		return;
	int r = store_setting_get(s, "server_name", v, sizeof(v));
	CHECK(r == 1, "store: a missing setting is 1");
	int w = store_setting_set(s, "server_name", "home");
	r = store_setting_get(s, "server_name", v, sizeof(v));
	CHECK(w == 0 && r == 0 && strcmp(v, "home") == 0, "store: a setting is stored and read back");
	w = store_setting_set(s, "server_name", "cabin");
	r = store_setting_get(s, "server_name", v, sizeof(v));
	CHECK(w == 0 && r == 0 && strcmp(v, "cabin") == 0,
	      "store: setting a setting again replaces it");
	r = store_setting_get(s, "server_name", v, 5);
	CHECK(r == -1, "store: a value too long for the buffer is an error, not truncated");

	r = store_begin(s);
	CHECK(r == 0, "store: begin");
	r = store_begin(s);
	CHECK(r == -1, "store: transactions do not nest");
	store_setting_set(s, "rolled", "back");
	store_rollback(s);
	r = store_setting_get(s, "rolled", v, sizeof(v));
	CHECK(r == 1, "store: rollback undoes the change");
	r = store_begin(s);
	w = store_setting_set(s, "kept", "yes");
	int c = store_commit(s);
	CHECK(r == 0 && w == 0 && c == 0, "store: begin, change, commit");
	r = store_setting_get(s, "kept", v, sizeof(v));
	CHECK(r == 0 && strcmp(v, "yes") == 0, "store: a committed change is visible");
	c = store_commit(s);
	CHECK(c == -1, "store: commit without a transaction fails");
	store_rollback(s);   // harmless without a transaction
	store_close(s);
}

static void test_reopen(void)
{
	char v[16];
	struct store *s = store_open(dir);
	CHECK(s != NULL, "store: reopens an existing database");
	if (!s)
		return;
	CHECK(store_schema_version(s) == store_schema_latest() &&
		      q_int(store_db(s), "SELECT count(*) FROM schema_version") == 1,
	      "store: reopening leaves the version alone");
	int r = store_setting_get(s, "kept", v, sizeof(v));
	CHECK(r == 0 && strcmp(v, "yes") == 0, "store: data survives a reopen");
	store_close(s);
	s = store_open(dir);
	CHECK(s != NULL, "store: a third open is fine too (migrations are idempotent)");
	store_close(s);
}

static void test_version_refusal(void)
{
	char sql[128];
	int latest = store_schema_latest();
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", latest + 1);
	int r = raw_exec(sql);
	CHECK(r == 0, "store: (bump the version behind the store's back)");
	fprintf(stderr, "# an error about a newer schema version is expected next\n");
	struct store *s = store_open(dir);
	CHECK(s == NULL, "store: a database newer than the binary is refused");
	store_close(s);
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", latest);
	raw_exec(sql);
	s = store_open(dir);
	CHECK(s != NULL, "store: the same database at the known version opens again");
	store_close(s);

	raw_exec("INSERT INTO schema_version VALUES (0)");
	fprintf(stderr, "# an error about a damaged schema_version is expected next\n");
	s = store_open(dir);
	CHECK(s == NULL, "store: a schema_version with two rows is refused");
	store_close(s);
	raw_exec("DELETE FROM schema_version WHERE version = 0");
}

// A database made before any migration (version 0) is brought up to date.
static void test_migrate_from_zero(void)
{
	char d[64], path[128];
	snprintf(d, sizeof(d), "/tmp/silo-store-XXXXXX");
	if (!mkdtemp(d))
		return;
	snprintf(path, sizeof(path), "%s/silo.db", d);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
			 "INSERT INTO schema_version VALUES (0)", NULL, NULL, NULL);
	sqlite3_close(db);
	chmod(path, 0644);
	struct store *s = store_open(d);
	CHECK(s && store_schema_version(s) == store_schema_latest() &&
		      q_int(store_db(s), "SELECT count(*) FROM sqlite_master WHERE name = 'users'") == 1,
	      "store: a version-0 database is migrated to the latest");
	struct stat st;
	int r = stat(path, &st);
	CHECK(r == 0 && (st.st_mode & 0777) == 0600,
	      "store: an existing silo.db with a wider mode is tightened to 0600");
	store_close(s);
	s = store_open("/nonexistent/silo-test");
	CHECK(s == NULL, "store: a missing directory fails");
	rm_rf(d);
}

// A committed change survives the process being killed with SIGKILL right after commit:
// no close, no checkpoint, no atexit handlers.
static void test_kill9(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct store *s = store_open(dir);
		char one = 1;
		if (s && store_begin(s) == 0 && store_setting_set(s, "durable", "yes") == 0 &&
		    store_commit(s) == 0 && write(p[1], &one, 1) == 1)
			for (;;)
				pause();
		_exit(1);
	}
	close(p[1]);
	char c = 0;
	ssize_t n;
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	CHECK(n == 1, "store: the child committed and said so");
	kill(pid, SIGKILL);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "store: the child was killed -9");
	char wal[160];
	struct stat st;
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	int r = stat(wal, &st);
	CHECK(r == 0 && st.st_size > 0, "store: the change was left in the WAL, uncheckpointed");
	struct store *s = store_open(dir);
	char v[16];
	r = s ? store_setting_get(s, "durable", v, sizeof(v)) : -1;
	CHECK(r == 0 && strcmp(v, "yes") == 0,
	      "store: a change committed before kill -9 is there after reopening");
	store_close(s);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/silo-store-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/silo.db", dir);
	test_fresh();
	test_stmt_cache();
	test_settings_and_tx();
	test_reopen();
	test_version_refusal();
	test_migrate_from_zero();
	test_kill9();
	rm_rf(dir);
	return test_done();
}
