// SPDX-License-Identifier: MIT
// Sharing in the store: shares (links and device tokens, each a capability naming one grain
// and one role), the grants users keep after opening a link, and each grain's access log.
// Who may do what with them is decided in access.c.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "grains.h"
#include "manifest.h"

struct store;

#define SHARE_ID_LEN 16          // hex characters of a share's public id
#define SHARE_LABEL_MAX 128      // bytes of a label
#define SHARE_ROLE_MAX MANIFEST_NAME_MAX
#define SHARE_MAX_PER_GRAIN 1000 // links and device tokens of one grain
#define SHARE_LOG_KEEP 1000      // access log entries kept per grain

enum share_kind { SHARE_LINK = 0, SHARE_DEVICE = 1 };

struct share_info {
	char id[SHARE_ID_LEN + 1];
	char grain[GRAIN_ID_LEN + 1];
	enum share_kind kind;
	char role[SHARE_ROLE_MAX + 1];
	char label[SHARE_LABEL_MAX + 1];
	int64_t created_by;
	char creator[AUTH_NAME_MAX + 1];
	char parent[SHARE_ID_LEN + 1];   // "": made by the owner
	int64_t created, last_used, uses;
};

// A user's kept access to a grain through one share.
struct grant_info {
	int64_t user_id;
	char user_name[AUTH_NAME_MAX + 1];
	char share_id[SHARE_ID_LEN + 1];
	char role[SHARE_ROLE_MAX + 1];
	int64_t created, last_used;
};

struct access_entry {
	int64_t at;
	int64_t user_id;                 // 0: anonymous, or a deleted user
	char user_name[AUTH_NAME_MAX + 1];
	char role[SHARE_ROLE_MAX + 1];   // "owner" for the owner
	char via[8];                     // owner, link, grant, device
};

// A label: 0..SHARE_LABEL_MAX bytes without control characters.
bool shares_label_valid(const char *label);
// parent may be NULL or "". 0 / 1 (the grain has SHARE_MAX_PER_GRAIN shares) / -1.
int shares_create(struct store *s, const char *id, const char *token_hash, const char *grain,
		  enum share_kind kind, const char *role, const char *label, int64_t created_by,
		  const char *parent, int64_t now);
// Each: 0 found, 1 missing, -1 error.
int shares_by_token(struct store *s, const char *token_hash, struct share_info *out);
int shares_get(struct store *s, const char *id, struct share_info *out);
// One link of a chain of sharers.
struct share_link {
	char grain[GRAIN_ID_LEN + 1];
	char role[SHARE_ROLE_MAX + 1];
	char parent[SHARE_ID_LEN + 1];
	bool creator_disabled;
};
int shares_link_of(struct store *s, const char *id, struct share_link *out);   // 0 / 1 / -1
// A grain's shares, newest first; creator 0: everyone's. fn returning non-zero stops.
int shares_list(struct store *s, const char *grain, int64_t creator,
		int (*fn)(const struct share_info *sh, void *arg), void *arg);
// Deletes a share and everything derived from it. 0 / 1 missing / -1.
int shares_delete(struct store *s, const char *id);
// Counts one more use now. 0 / -1.
int shares_used(struct store *s, const char *id, int64_t now);

// Records (or refreshes) user's grant through share. 0 / -1.
int grants_add(struct store *s, const char *grain, int64_t user_id, const char *share_id,
	       int64_t now);
// Every grant on a grain (fn per grant), or only user's (user_id non-zero).
int grants_list(struct store *s, const char *grain, int64_t user_id,
		int (*fn)(const struct grant_info *g, void *arg), void *arg);
// Takes away everything user holds on grain through links, and the shares they made of it.
// 0 / 1 (held nothing) / -1.
int grants_revoke_user(struct store *s, const char *grain, int64_t user_id);

// Appends to grain's access log (user_id 0: anonymous; share_id NULL or "": none), keeping
// the newest SHARE_LOG_KEEP entries. 0 / -1.
int access_log_add(struct store *s, const char *grain, int64_t user_id, const char *share_id,
		   const char *role, const char *via, int64_t now);
// Newest first, at most max entries.
int access_log_list(struct store *s, const char *grain, int max,
		    int (*fn)(const struct access_entry *e, void *arg), void *arg);
