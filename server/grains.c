// SPDX-License-Identifier: MIT
// Grains in the store.
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "grains.h"
#include "log.h"
#include "store.h"

bool grains_title_valid(const char *t)
{
	size_t n = strlen(t);
	if (!n || n > GRAIN_TITLE_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

#define GRAIN_SELECT                                                                        \
	"SELECT g.id, g.app_id, a.package_id, g.title, g.owner_id, u.name, g.action,"       \
	" g.started_once, g.created, g.last_used, coalesce(g.trashed, 0), p.manifest"       \
	" FROM grains g JOIN apps a ON a.id = g.app_id JOIN packages p ON p.id = a.package_id" \
	" JOIN users u ON u.id = g.owner_id"

static void col(char *out, size_t outsz, sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

static void read_grain(sqlite3_stmt *st, struct grain_info *g)
{
	memset(g, 0, sizeof(*g));
	col(g->id, sizeof(g->id), st, 0);
	col(g->app_id, sizeof(g->app_id), st, 1);
	col(g->package_id, sizeof(g->package_id), st, 2);
	col(g->title, sizeof(g->title), st, 3);
	g->owner_id = sqlite3_column_int64(st, 4);
	col(g->owner_name, sizeof(g->owner_name), st, 5);
	g->action = sqlite3_column_int(st, 6);
	g->started_once = sqlite3_column_int(st, 7);
	g->created = sqlite3_column_int64(st, 8);
	g->last_used = sqlite3_column_int64(st, 9);
	g->trashed = sqlite3_column_int64(st, 10);
	// The app's title comes from its current manifest.
	json_t *m = json_loads((const char *)sqlite3_column_text(st, 11), 0, NULL);
	const char *t = json_string_value(json_object_get(m, "title"));
	snprintf(g->app_title, sizeof(g->app_title), "%s", t ? t : g->app_id);
	json_decref(m);
}

static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int changed = sqlite3_changes(store_db(s));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_err("grains_%s: %s", what, sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return changed ? 0 : 1;
}

int grains_create(struct store *s, const char *id, const char *app_id, int64_t owner_id,
		  const char *title, int action, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO grains (id, app_id, owner_id, title, action,"
					 " created, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, app_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, owner_id);
	sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, action);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now);
	return step_done(s, st, "create") == 0 ? 0 : -1;
}

int grains_get(struct store *s, const char *id, struct grain_info *out)
{
	sqlite3_stmt *st = store_stmt(s, GRAIN_SELECT " WHERE g.id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_grain(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int grains_list(struct store *s, int64_t owner_id, bool trashed,
		int (*fn)(const struct grain_info *g, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, trashed ? GRAIN_SELECT " WHERE g.owner_id = ? AND"
						   " g.trashed IS NOT NULL ORDER BY g.trashed DESC"
						 : GRAIN_SELECT " WHERE g.owner_id = ? AND"
						   " g.trashed IS NULL ORDER BY g.last_used DESC");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, owner_id);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct grain_info g;
		read_grain(st, &g);
		r = fn(&g, arg);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

int grains_shared_with(struct store *s, int64_t user_id,
		       int (*fn)(const struct grain_info *g, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, GRAIN_SELECT " WHERE g.trashed IS NULL AND g.owner_id != ?1"
					 " AND g.id IN (SELECT grain_id FROM grants WHERE user_id = ?1)"
					 " ORDER BY (SELECT max(last_used) FROM grants WHERE user_id = ?1"
					 " AND grain_id = g.id) DESC");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct grain_info g;
		read_grain(st, &g);
		r = fn(&g, arg);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

int grains_rename(struct store *s, const char *id, const char *title)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE grains SET title = ? WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return step_done(s, st, "rename");
}

int grains_trash(struct store *s, const char *id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE grains SET trashed = ? WHERE id = ? AND trashed IS NULL");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return step_done(s, st, "trash");
}

int grains_restore(struct store *s, const char *id)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE grains SET trashed = NULL WHERE id = ? AND trashed IS NOT NULL");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return step_done(s, st, "restore");
}

int grains_delete(struct store *s, const char *id)
{
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM grains WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return step_done(s, st, "delete");
}

int grains_touch(struct store *s, const char *id, int64_t now, bool started)
{
	sqlite3_stmt *st = store_stmt(s, started ? "UPDATE grains SET last_used = ?, started_once = 1 WHERE id = ?"
						 : "UPDATE grains SET last_used = ? WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return step_done(s, st, "touch");
}

int grains_expired(struct store *s, int64_t before, char (*ids)[GRAIN_ID_LEN + 1], int max)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id FROM grains WHERE trashed IS NOT NULL AND trashed < ? LIMIT ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, max);
	int n = 0;
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		col(ids[n++], GRAIN_ID_LEN + 1, st, 0);
	sqlite3_reset(st);
	return n;
}
