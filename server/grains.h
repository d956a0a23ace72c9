// SPDX-License-Identifier: MIT
// Grains in the store: creation, listing, renaming, the trash and purging.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "apps.h"
#include "auth.h"

struct store;

#define GRAIN_ID_LEN 32
#define GRAIN_TITLE_MAX 256
#define GRAIN_TRASH_TTL (30 * 24 * 3600)   // trashed grains are purged after this

struct grain_info {
	char id[GRAIN_ID_LEN + 1];
	char app_id[APPS_ID_LEN + 1];
	char app_title[APPS_TITLE_MAX + 1];
	char package_id[33];      // the app's current package: what the next start runs
	char title[GRAIN_TITLE_MAX + 1];
	int64_t owner_id;
	char owner_name[AUTH_NAME_MAX + 1];
	int action;               // the action that created it
	bool started_once;        // false: the next start runs the action, not continue
	int64_t created, last_used;
	int64_t trashed;          // 0: live
};

// A title: 1..GRAIN_TITLE_MAX bytes of UTF-8 without control characters.
bool grains_title_valid(const char *title);
int grains_create(struct store *s, const char *id, const char *app_id, int64_t owner_id,
		  const char *title, int action, int64_t now);
// 0 found, 1 missing, -1 error (trashed grains are found too; see trashed).
int grains_get(struct store *s, const char *id, struct grain_info *out);
// The owner's grains, newest use first: live ones, or the trashed ones.
int grains_list(struct store *s, int64_t owner_id, bool trashed,
		int (*fn)(const struct grain_info *g, void *arg), void *arg);
// The live grains of others that user holds a grant on (shares.h), last opened first.
int grains_shared_with(struct store *s, int64_t user_id,
		       int (*fn)(const struct grain_info *g, void *arg), void *arg);
// Each returns 0 done, 1 no such grain, -1 error.
int grains_rename(struct store *s, const char *id, const char *title);
int grains_trash(struct store *s, const char *id, int64_t now);
int grains_restore(struct store *s, const char *id);
int grains_delete(struct store *s, const char *id);
int grains_touch(struct store *s, const char *id, int64_t now, bool started);
// Ids of trashed grains older than before (up to max of them) into ids; returns the count.
int grains_expired(struct store *s, int64_t before, char (*ids)[GRAIN_ID_LEN + 1], int max);
