// SPDX-License-Identifier: MIT
// Who may open a grain, and with which of its app's permissions: the owner holds them all;
// anyone else holds what a share gives, intersected along the chain of sharers who made it.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grainmgr.h"
#include "shares.h"

struct store;
struct manifest;

// The role name that stands for every permission, for apps whose manifest has no roles.
#define ACCESS_ROLE_ALL "all"

enum access_via { ACCESS_OWNER, ACCESS_GRANT, ACCESS_LINK, ACCESS_DEVICE };

struct access {
	enum access_via via;
	char role[SHARE_ROLE_MAX + 1];   // "owner", or the role of the widest share held
	uint64_t bits;                   // over the manifest's permissions, in order
	char perms[GM_PERMS_MAX];        // the names, comma-separated (X-Sandstorm-Permissions)
};

// What user (0: anonymous) gets on grain. share: the link or device token presented (NULL:
// the user's own access, as owner or through grants). 0 allowed, 1 denied, -1 error.
int access_resolve(struct store *s, const char *grain, int64_t user_id, const char *share,
		   struct access *out);
// Whether user may make a share of grain with role: its permissions must lie within what
// they hold. On 0, parent is the share their access came from ("" for the owner).
// 0 allowed, 1 not theirs to give (or no access), 2 no such role, 3 their share is too many
// links from the owner to pass on, -1 error.
int access_may_share(struct store *s, const char *grain, int64_t user_id, const char *role,
		     char parent[SHARE_ID_LEN + 1]);
// The roles people can be given on a grain of this app: the manifest's, or ACCESS_ROLE_ALL.
size_t access_role_count(const struct manifest *m);
const char *access_role_name(const struct manifest *m, size_t i);
const char *access_role_title(const struct manifest *m, size_t i);
// The default role's index.
size_t access_role_default(const struct manifest *m);
// The permission bits of role; -1 for an unknown role.
int access_role_bits(const struct manifest *m, const char *role, uint64_t *out);

// Sharing changes the answer for sessions already open: access_changed marks every cached
// answer stale (a revocation, a trashed grain, a disabled user, an upgrade).
void access_changed(struct server *srv);
