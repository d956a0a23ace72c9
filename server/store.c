// SPDX-License-Identifier: MIT
// The store: opening DIR/silo.db with its pragmas, forward migrations, a statement cache and
// the settings table.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

// Forward migrations, applied in order: migrations[i] takes the schema from version i to
// i + 1, in one transaction with the bump of schema_version. Never edit one that has shipped;
// append a new one. Foreign keys are on while they run, so a migration that rebuilds a
// referenced table must do so without dropping rows that others point to.
static const char *const migrations[] = {
	// 1: accounts and their secrets. Times are unix seconds; secrets are hex SHA-256 hashes
	// of tokens (token.h), never the tokens themselves.
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  pwhash TEXT NOT NULL,"
	"  is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE sessions ("
	"  hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	"CREATE TABLE setup_tokens ("
	"  hash TEXT PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  spent INTEGER NOT NULL DEFAULT 0 CHECK (spent IN (0, 1))"
	");"
	// used is the time of acceptance (NULL: unused), kept apart from used_by so that an
	// invitation stays spent even if the user it made is deleted one day.
	"CREATE TABLE invites ("
	"  hash TEXT PRIMARY KEY,"
	"  created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER,"
	"  used_by INTEGER REFERENCES users(id) ON DELETE SET NULL"
	");"
	"CREATE INDEX invites_created_by ON invites(created_by);"
	"CREATE INDEX invites_used_by ON invites(used_by);"
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  label TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))"
	");"
	"CREATE INDEX api_tokens_user ON api_tokens(user_id);"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");",
	// 2: apps and grains. A package is one verified .spk, unpacked under apps/<id>/; an app
	// is the packages of one signing key, and its package_id is the version grains run.
	"CREATE TABLE packages ("
	"  id TEXT PRIMARY KEY,"
	"  app_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  manifest TEXT NOT NULL,"
	"  installed INTEGER NOT NULL,"
	"  installed_by INTEGER REFERENCES users(id) ON DELETE SET NULL"
	");"
	"CREATE INDEX packages_app ON packages(app_id);"
	"CREATE TABLE apps ("
	"  id TEXT PRIMARY KEY,"
	"  package_id TEXT NOT NULL REFERENCES packages(id),"
	"  updated INTEGER NOT NULL"
	");"
	"CREATE TABLE grains ("
	"  id TEXT PRIMARY KEY,"
	"  app_id TEXT NOT NULL REFERENCES apps(id),"
	"  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  title TEXT NOT NULL,"
	"  action INTEGER NOT NULL,"
	"  started_once INTEGER NOT NULL DEFAULT 0 CHECK (started_once IN (0, 1)),"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL,"
	"  trashed INTEGER"
	");"
	"CREATE INDEX grains_owner ON grains(owner_id);"
	"CREATE INDEX grains_app ON grains(app_id);",
	// 3: sharing. A share is a capability: a link (kind 0) or a device's API token (kind 1)
	// naming one grain and one role, made by a user whose own access came from parent
	// (NULL: the owner's). Deleting a share deletes what was derived from it. A grant is a
	// logged-in user's kept access through a link. The access log outlives revocations.
	"CREATE TABLE shares ("
	"  id TEXT PRIMARY KEY,"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  grain_id TEXT NOT NULL REFERENCES grains(id) ON DELETE CASCADE,"
	"  kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	"  role TEXT NOT NULL,"
	"  label TEXT NOT NULL,"
	"  created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  parent_id TEXT REFERENCES shares(id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL DEFAULT 0,"
	"  uses INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX shares_grain ON shares(grain_id);"
	"CREATE INDEX shares_parent ON shares(parent_id);"
	"CREATE INDEX shares_creator ON shares(created_by);"
	"CREATE TABLE grants ("
	"  grain_id TEXT NOT NULL REFERENCES grains(id) ON DELETE CASCADE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL,"
	"  PRIMARY KEY (grain_id, user_id, share_id)"
	");"
	"CREATE INDEX grants_user ON grants(user_id);"
	"CREATE INDEX grants_share ON grants(share_id);"
	"CREATE TABLE access_log ("
	"  id INTEGER PRIMARY KEY,"
	"  grain_id TEXT NOT NULL REFERENCES grains(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  share_id TEXT,"
	"  role TEXT NOT NULL,"
	"  via TEXT NOT NULL"
	");"
	"CREATE INDEX access_log_grain ON access_log(grain_id, at);",
};

struct stmt_entry {
	char *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	int version;
	struct stmt_entry *stmts;
	size_t nstmts, capstmts;
};

int store_schema_latest(void)
{
	return (int)ARRAY_LEN(migrations);
}

static int exec(sqlite3 *db, const char *sql, const char *what)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_err("%s: %s", what, err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

// Runs a one-row statement (a pragma) and copies its first column as text.
static int query_text(sqlite3 *db, const char *sql, char *out, size_t outsz)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("store_open: %s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		log_err("store_open: %s: %s", sql, rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	const unsigned char *t = sqlite3_column_text(st, 0);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
	sqlite3_finalize(st);
	return 0;
}

// silo.db holds password hashes: create it 0600 ourselves (SQLite would use 0644 less the
// umask), and tighten an existing one. SQLite gives -wal and -shm the database's mode.
static int create_db_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_err("store_open: open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		log_err("store_open: stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("store_open: %s is not a regular file", path);
		return -1;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0600) < 0) {
		log_err("store_open: chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

// The connection's settings. synchronous=FULL in WAL mode syncs the log at every commit, so
// an acknowledged change survives a kill -9 or a power cut.
static int configure(sqlite3 *db)
{
	char v[32];
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	// No SQL, however crafted, may corrupt the file (writable_schema and the like).
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (query_text(db, "PRAGMA journal_mode=WAL", v, sizeof(v)) < 0)
		return -1;
	if (strcasecmp(v, "wal") != 0) {
		log_err("store_open: journal_mode is %s, not wal", v);
		return -1;
	}
	if (exec(db, "PRAGMA foreign_keys=ON", "store_open") < 0 ||
	    exec(db, "PRAGMA synchronous=FULL", "store_open") < 0)
		return -1;
	// A build without foreign keys ignores the pragma silently: check it took.
	if (query_text(db, "PRAGMA foreign_keys", v, sizeof(v)) < 0)
		return -1;
	if (strcmp(v, "1") != 0) {
		log_err("store_open: foreign keys could not be enabled");
		return -1;
	}
	return 0;
}

// The version recorded in the open transaction; creates the one-row table on a fresh file.
static int read_version(struct store *s, const char *path)
{
	if (exec(s->db,
		 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
		 "INSERT INTO schema_version (version)"
		 "  SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
		 "store_open: schema_version") < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s, "SELECT count(*), max(version) FROM schema_version");
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		log_err("store_open: schema_version: %s", sqlite3_errmsg(s->db));
		sqlite3_reset(st);
		return -1;
	}
	int64_t rows = sqlite3_column_int64(st, 0);
	int64_t v = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (rows != 1 || v < 0 || v > 1000000) {
		log_err("store_open: %s: schema_version is damaged (%lld rows, version %lld)", path,
			(long long)rows, (long long)v);
		return -1;
	}
	return (int)v;
}

// Applies the pending migrations, one transaction each. A concurrent opener that migrated
// first is fine: the version is re-read under the write lock every time.
static int migrate(struct store *s, const char *path)
{
	int latest = store_schema_latest();
	for (;;) {
		if (store_begin(s) < 0)
			return -1;
		int v = read_version(s, path);
		if (v < 0)
			goto fail;
		if (v > latest) {
			log_err("store_open: %s has schema version %d but this silo knows only up "
				"to %d; refusing to open it (was it written by a newer silo?)",
				path, v, latest);
			goto fail;
		}
		if (v == latest) {
			s->version = v;
			return store_commit(s);
		}
		char what[64];
		snprintf(what, sizeof(what), "store_open: migration %d", v + 1);
		if (exec(s->db, migrations[v], what) < 0)
			goto fail;
		sqlite3_stmt *st = store_stmt(s, "UPDATE schema_version SET version = ?1");
		if (!st)
			goto fail;
		sqlite3_bind_int(st, 1, v + 1);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_err("%s: %s", what, sqlite3_errmsg(s->db));
			sqlite3_reset(st);
			goto fail;
		}
		if (store_commit(s) < 0)
			return -1;
		log_info("store: %s migrated to schema version %d", path, v + 1);
	}
fail:
	store_rollback(s);
	return -1;
}

struct store *store_open(const char *dir)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/silo.db", dir) < 0) {
		path = NULL;
		log_err("store_open: out of memory");
		return NULL;
	}
	if (create_db_file(path) < 0)
		return NULL;
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		log_err("store_open: out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
				 NULL);
	if (rc != SQLITE_OK) {
		log_err("store_open: %s: %s", path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		store_close(s);
		return NULL;
	}
	if (configure(s->db) < 0 || migrate(s, path) < 0) {
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstmts; i++) {
		sqlite3_finalize(s->stmts[i].st);
		free(s->stmts[i].sql);
	}
	free(s->stmts);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_err("store_close: %s", sqlite3_errmsg(s->db));
	free(s);
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int store_schema_version(struct store *s)
{
	return s->version;
}

int store_begin(struct store *s)
{
	return exec(s->db, "BEGIN IMMEDIATE", "store_begin");
}

int store_commit(struct store *s)
{
	if (exec(s->db, "COMMIT", "store_commit") == 0)
		return 0;
	store_rollback(s);
	return -1;
}

void store_rollback(struct store *s)
{
	// SQLite may already have rolled back on its own (a full disk, an I/O error).
	if (!sqlite3_get_autocommit(s->db))
		exec(s->db, "ROLLBACK", "store_rollback");
}

static sqlite3_stmt *stmt_add(struct store *s, const char *sql)
{
	if (s->nstmts == s->capstmts) {
		size_t cap = s->capstmts ? s->capstmts * 2 : 32;
		struct stmt_entry *n = realloc(s->stmts, cap * sizeof(*n));
		if (!n) {
			log_err("store_stmt: out of memory");
			return NULL;
		}
		s->stmts = n;
		s->capstmts = cap;
	}
	sqlite3_stmt *st;
	const char *tail;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) !=
	    SQLITE_OK) {
		log_err("store_stmt: %s: %s", sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	// A second statement in the text would be silently ignored: refuse it.
	tail += strspn(tail, " \t\r\n;");
	if (!st || *tail) {
		log_err("store_stmt: not exactly one statement: %s", sql);
		sqlite3_finalize(st);
		return NULL;
	}
	char *copy = strdup(sql);
	if (!copy) {
		log_err("store_stmt: out of memory");
		sqlite3_finalize(st);
		return NULL;
	}
	s->stmts[s->nstmts++] = (struct stmt_entry){ copy, st };
	return st;
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	for (size_t i = 0; i < s->nstmts; i++) {
		if (strcmp(s->stmts[i].sql, sql) == 0) {
			sqlite3_stmt *st = s->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	return stmt_add(s, sql);
}

int store_setting_get(struct store *s, const char *key, char *out, size_t outsz)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT value FROM settings WHERE key = ?1");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		log_err("store_setting_get: %s", sqlite3_errmsg(s->db));
		sqlite3_reset(st);
		return -1;
	}
	const unsigned char *v = sqlite3_column_text(st, 0);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	int r = 0;
	if (!v || n >= outsz) {
		log_err("store_setting_get: %s: value does not fit (%zu bytes)", key, n);
		r = -1;
	} else {
		memcpy(out, v, n);
		out[n] = '\0';
	}
	sqlite3_reset(st);
	return r;
}

int store_setting_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO settings (key, value) VALUES (?1, ?2)"
					 " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int r = 0;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("store_setting_set: %s: %s", key, sqlite3_errmsg(s->db));
		r = -1;
	}
	sqlite3_reset(st);
	return r;
}
