// SPDX-License-Identifier: MIT
// Shares, grants and the access log in the store.
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "shares.h"
#include "store.h"

bool shares_label_valid(const char *label)
{
	size_t n = strlen(label);
	if (n > SHARE_LABEL_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void col(char *out, size_t outsz, sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int changed = sqlite3_changes(store_db(s));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_err("shares_%s: %s", what, sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return changed ? 0 : 1;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int shares_create(struct store *s, const char *id, const char *token_hash, const char *grain,
		  enum share_kind kind, const char *role, const char *label, int64_t created_by,
		  const char *parent, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM shares WHERE grain_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (n < 0)
		return -1;
	if (n >= SHARE_MAX_PER_GRAIN)
		return 1;
	st = store_stmt(s, "INSERT INTO shares (id, token_hash, grain_id, kind, role, label,"
			   " created_by, parent_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)kind);
	sqlite3_bind_text(st, 5, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, created_by);
	bind_opt(st, 8, parent);
	sqlite3_bind_int64(st, 9, now);
	return step_done(s, st, "create") == 0 ? 0 : -1;
}

#define SHARE_SELECT                                                                   \
	"SELECT s.id, s.grain_id, s.kind, s.role, s.label, s.created_by, u.name,"       \
	" coalesce(s.parent_id, ''), s.created, s.last_used, s.uses"                    \
	" FROM shares s JOIN users u ON u.id = s.created_by"

static void read_share(sqlite3_stmt *st, struct share_info *sh)
{
	memset(sh, 0, sizeof(*sh));
	col(sh->id, sizeof(sh->id), st, 0);
	col(sh->grain, sizeof(sh->grain), st, 1);
	sh->kind = sqlite3_column_int(st, 2) == SHARE_DEVICE ? SHARE_DEVICE : SHARE_LINK;
	col(sh->role, sizeof(sh->role), st, 3);
	col(sh->label, sizeof(sh->label), st, 4);
	sh->created_by = sqlite3_column_int64(st, 5);
	col(sh->creator, sizeof(sh->creator), st, 6);
	col(sh->parent, sizeof(sh->parent), st, 7);
	sh->created = sqlite3_column_int64(st, 8);
	sh->last_used = sqlite3_column_int64(st, 9);
	sh->uses = sqlite3_column_int64(st, 10);
}

static int get_one(struct store *s, const char *sql, const char *key, struct share_info *out)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_share(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int shares_by_token(struct store *s, const char *token_hash, struct share_info *out)
{
	return get_one(s, SHARE_SELECT " WHERE s.token_hash = ?", token_hash, out);
}

int shares_get(struct store *s, const char *id, struct share_info *out)
{
	return get_one(s, SHARE_SELECT " WHERE s.id = ?", id, out);
}

int shares_link_of(struct store *s, const char *id, struct share_link *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT s.grain_id, s.role, coalesce(s.parent_id, ''),"
					 " u.disabled FROM shares s JOIN users u ON u.id = s.created_by"
					 " WHERE s.id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col(out->grain, sizeof(out->grain), st, 0);
		col(out->role, sizeof(out->role), st, 1);
		col(out->parent, sizeof(out->parent), st, 2);
		out->creator_disabled = sqlite3_column_int(st, 3) != 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int shares_list(struct store *s, const char *grain, int64_t creator,
		int (*fn)(const struct share_info *sh, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, SHARE_SELECT " WHERE s.grain_id = ?1 AND (?2 = 0 OR"
					 " s.created_by = ?2) ORDER BY s.created DESC, s.id");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, creator);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct share_info sh;
		read_share(st, &sh);
		r = fn(&sh, arg);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

int shares_delete(struct store *s, const char *id)
{
	// Foreign keys cascade: shares made from it, and grants through any of them.
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM shares WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return step_done(s, st, "delete");
}

int shares_used(struct store *s, const char *id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE shares SET uses = uses + 1, last_used = ? WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return step_done(s, st, "used") < 0 ? -1 : 0;
}

int grants_add(struct store *s, const char *grain, int64_t user_id, const char *share_id,
	       int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO grants (grain_id, user_id, share_id, created,"
					 " last_used) VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO"
					 " UPDATE SET last_used = ?4");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, share_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return step_done(s, st, "grant") < 0 ? -1 : 0;
}

int grants_list(struct store *s, const char *grain, int64_t user_id,
		int (*fn)(const struct grant_info *g, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT g.user_id, u.name, g.share_id, s.role, g.created,"
					 " g.last_used FROM grants g JOIN users u ON u.id = g.user_id"
					 " JOIN shares s ON s.id = g.share_id WHERE g.grain_id = ?1 AND"
					 " (?2 = 0 OR g.user_id = ?2) ORDER BY u.name, g.created");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct grant_info g = {.user_id = sqlite3_column_int64(st, 0)};
		col(g.user_name, sizeof(g.user_name), st, 1);
		col(g.share_id, sizeof(g.share_id), st, 2);
		col(g.role, sizeof(g.role), st, 3);
		g.created = sqlite3_column_int64(st, 4);
		g.last_used = sqlite3_column_int64(st, 5);
		r = fn(&g, arg);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

int grants_revoke_user(struct store *s, const char *grain, int64_t user_id)
{
	if (store_begin(s) < 0)
		return -1;
	// What they shared onward came from what they held (only the owner shares without).
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM shares WHERE grain_id = ? AND created_by = ?");
	int a = -1, b = -1;
	if (st) {
		sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, user_id);
		a = step_done(s, st, "revoke_user");
	}
	st = a < 0 ? NULL : store_stmt(s, "DELETE FROM grants WHERE grain_id = ? AND user_id = ?");
	if (st) {
		sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, user_id);
		b = step_done(s, st, "revoke_user");
	}
	if (a < 0 || b < 0) {
		store_rollback(s);
		return -1;
	}
	if (store_commit(s) < 0)
		return -1;
	return a == 1 && b == 1 ? 1 : 0;
}

int access_log_add(struct store *s, const char *grain, int64_t user_id, const char *share_id,
		   const char *role, const char *via, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO access_log (grain_id, at, user_id, share_id,"
					 " role, via) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (user_id)
		sqlite3_bind_int64(st, 3, user_id);
	else
		sqlite3_bind_null(st, 3);
	bind_opt(st, 4, share_id);
	sqlite3_bind_text(st, 5, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, via, -1, SQLITE_STATIC);
	if (step_done(s, st, "log") < 0)
		return -1;
	// Every hundredth row, drop what is past the grain's newest SHARE_LOG_KEEP.
	if (sqlite3_last_insert_rowid(store_db(s)) % 100)
		return 0;
	st = store_stmt(s, "DELETE FROM access_log WHERE grain_id = ?1 AND id <= (SELECT id FROM"
			   " access_log WHERE grain_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, SHARE_LOG_KEEP);
	return step_done(s, st, "log_prune") < 0 ? -1 : 0;
}

int access_log_list(struct store *s, const char *grain, int max,
		    int (*fn)(const struct access_entry *e, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT l.at, coalesce(l.user_id, 0), coalesce(u.name, ''),"
					 " l.role, l.via FROM access_log l LEFT JOIN users u ON"
					 " u.id = l.user_id WHERE l.grain_id = ? ORDER BY l.id DESC"
					 " LIMIT ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, grain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, max);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct access_entry e = {.at = sqlite3_column_int64(st, 0),
					 .user_id = sqlite3_column_int64(st, 1)};
		col(e.user_name, sizeof(e.user_name), st, 2);
		col(e.role, sizeof(e.role), st, 3);
		col(e.via, sizeof(e.via), st, 4);
		r = fn(&e, arg);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}
