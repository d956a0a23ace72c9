// SPDX-License-Identifier: MIT
// Installed apps and their packages in the store.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apps.h"
#include "log.h"
#include "manifest.h"
#include "store.h"

static void copy_col(char *out, size_t outsz, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

// Title and marketing version come from the stored manifest.
static void fill_from_manifest(struct app_info *a, const char *manifest)
{
	json_t *m = json_loads(manifest ? manifest : "{}", 0, NULL);
	const char *t = json_string_value(json_object_get(m, "title"));
	const char *mv = json_string_value(json_object_get(m, "marketing_version"));
	snprintf(a->title, sizeof(a->title), "%s", t ? t : a->id);
	snprintf(a->marketing_version, sizeof(a->marketing_version), "%s", mv ? mv : "");
	json_decref(m);
}

#define APP_SELECT                                                                          \
	"SELECT a.id, a.package_id, p.version, a.updated, p.manifest,"                      \
	" (SELECT count(*) FROM grains g WHERE g.app_id = a.id AND g.trashed IS NULL)"      \
	" FROM apps a JOIN packages p ON p.id = a.package_id"

static void read_app(sqlite3_stmt *st, struct app_info *a)
{
	memset(a, 0, sizeof(*a));
	copy_col(a->id, sizeof(a->id), st, 0);
	copy_col(a->package_id, sizeof(a->package_id), st, 1);
	a->version = sqlite3_column_int64(st, 2);
	a->updated = sqlite3_column_int64(st, 3);
	fill_from_manifest(a, (const char *)sqlite3_column_text(st, 4));
	a->grains = sqlite3_column_int64(st, 5);
}

int apps_get(struct store *s, const char *app_id, struct app_info *out)
{
	sqlite3_stmt *st = store_stmt(s, APP_SELECT " WHERE a.id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, app_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_app(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int apps_list(struct store *s, int (*fn)(const struct app_info *a, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, APP_SELECT " ORDER BY a.updated DESC");
	if (!st)
		return -1;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
		struct app_info a;
		read_app(st, &a);
		r = fn(&a, arg);
	}
	sqlite3_reset(st);
	return r < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW) ? -1 : 0;
}

char *apps_manifest(struct store *s, const char *package_id)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT manifest FROM packages WHERE id = ?");
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, package_id, -1, SQLITE_STATIC);
	char *m = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		m = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return m;
}

struct manifest *apps_manifest_parsed(struct store *s, const char *package_id)
{
	char *text = apps_manifest(s, package_id), err[160];
	struct manifest *m = NULL;
	if (text && manifest_parse(text, strlen(text), &m, err, sizeof(err)) != MANIFEST_OK)
		log_err("apps: the manifest of package %s: %s", package_id, err);
	free(text);
	return m;
}

int apps_all_permissions(struct store *s, const char *package_id, char *out, size_t outsz)
{
	struct manifest *m = apps_manifest_parsed(s, package_id);
	if (!m || !outsz) {
		manifest_free(m);
		return -1;
	}
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nperms; i++) {
		int n = snprintf(out + o, outsz - o, "%s%s", o ? "," : "", m->perms[i].name);
		if (n < 0 || (size_t)n >= outsz - o) {
			out[o] = '\0';
			log_err("apps: package %s defines more permissions than fit; %zu left off",
				package_id, m->nperms - i);
			break;
		}
		o += (size_t)n;
	}
	manifest_free(m);
	return 0;
}

int apps_package_in_use(struct store *s, const char *package_id)
{
	// A package recorded once may still run in grains started before an upgrade.
	sqlite3_stmt *st = store_stmt(s, "SELECT (SELECT count(*) FROM apps WHERE package_id = ?1)"
					 " + (SELECT count(*) FROM packages WHERE id = ?1)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, package_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) > 0 : -1;
	sqlite3_reset(st);
	return r;
}

static int exec_bound(struct store *s, const char *sql, const char *a, const char *b,
		      int64_t i1, const char *c, int64_t i2, int64_t i3)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	if (!st)
		return -1;
	int n = sqlite3_bind_parameter_count(st);
	if (n >= 1) sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (n >= 2) sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (n >= 3) sqlite3_bind_int64(st, 3, i1);
	if (n >= 4) sqlite3_bind_text(st, 4, c, -1, SQLITE_STATIC);
	if (n >= 5) sqlite3_bind_int64(st, 5, i2);
	if (n >= 6) {
		if (i3 > 0)
			sqlite3_bind_int64(st, 6, i3);
		else
			sqlite3_bind_null(st, 6);
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_err("apps: %s", sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

static enum apps_record_result decide(struct store *s, const char *package_id,
				      const char *app_id, int64_t version, bool upgrade)
{
	struct app_info cur;
	int r = apps_get(s, app_id, &cur);
	if (r < 0)
		return APPS_ERROR;
	if (r == 1)
		return APPS_INSTALLED;
	if (strcmp(cur.package_id, package_id) == 0)
		return APPS_SAME;
	if (version <= cur.version)
		return APPS_DOWNGRADE;
	return upgrade ? APPS_UPGRADED : APPS_NEEDS_CONFIRM;
}

enum apps_record_result apps_record(struct store *s, const char *package_id, const char *app_id,
				    int64_t version, const char *manifest, int64_t user_id,
				    bool upgrade, int64_t now)
{
	if (store_begin(s) < 0)
		return APPS_ERROR;
	enum apps_record_result res = decide(s, package_id, app_id, version, upgrade);
	if (res != APPS_INSTALLED && res != APPS_UPGRADED) {
		store_rollback(s);
		return res;
	}
	int rc = exec_bound(s,
			   "INSERT OR IGNORE INTO packages (id, app_id, version, manifest, installed,"
			   " installed_by) VALUES (?, ?, ?, ?, ?, ?)",
			   package_id, app_id, version, manifest, now, user_id);
	if (rc == 0)
		rc = exec_bound(s,
				"INSERT INTO apps (id, package_id, updated) VALUES (?, ?, ?)"
				" ON CONFLICT(id) DO UPDATE SET package_id = excluded.package_id,"
				" updated = excluded.updated",
				app_id, package_id, now, NULL, 0, 0);
	if (rc < 0 || store_commit(s) < 0) {
		store_rollback(s);
		return APPS_ERROR;
	}
	return res;
}
