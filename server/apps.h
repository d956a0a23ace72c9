// SPDX-License-Identifier: MIT
// Installed apps and their packages in the store: install, upgrade rules, listing.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct manifest;

#define APPS_ID_LEN 52        // base32 of the signing key
#define APPS_TITLE_MAX 128

struct app_info {
	char id[APPS_ID_LEN + 1];
	char package_id[33];     // the version grains run
	char title[APPS_TITLE_MAX + 1];
	char marketing_version[65];
	int64_t version;
	int64_t updated;
	int64_t grains;          // live grains of this app (all owners)
};

enum apps_record_result {
	APPS_INSTALLED,       // a new app
	APPS_UPGRADED,        // a higher version of a known app is now current
	APPS_SAME,            // this package is already the app's current one
	APPS_NEEDS_CONFIRM,   // a higher version, and upgrade was not confirmed
	APPS_DOWNGRADE,       // a version not above the current one: refused
	APPS_ERROR,
};

// Records a verified, unpacked package and makes it its app's current package, following
// the upgrade rules, in one transaction. manifest is the package's manifest JSON.
enum apps_record_result apps_record(struct store *s, const char *package_id, const char *app_id,
				    int64_t version, const char *manifest, int64_t user_id,
				    bool upgrade, int64_t now);
// 0 found, 1 missing, -1 error.
int apps_get(struct store *s, const char *app_id, struct app_info *out);
int apps_list(struct store *s, int (*fn)(const struct app_info *a, void *arg), void *arg);
// The manifest JSON of a package (malloc'd, caller frees); NULL when missing or on error.
char *apps_manifest(struct store *s, const char *package_id);
// The package's manifest, parsed (manifest_free it); NULL when missing or invalid
// (an invalid one is logged).
struct manifest *apps_manifest_parsed(struct store *s, const char *package_id);
// Every permission the package's app defines, comma-separated into out: what a grain's
// owner holds. Names that do not fit are left off (logged). 0, or -1 without a manifest.
int apps_all_permissions(struct store *s, const char *package_id, char *out, size_t outsz);
// 1 when the store knows the package (an app's current one, or recorded before), 0 when
// not, -1 on error.
int apps_package_in_use(struct store *s, const char *package_id);
