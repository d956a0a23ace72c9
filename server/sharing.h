// SPDX-License-Identifier: MIT
// Sharing as the shell and the API both offer it: making links and device tokens, opening
// a grain (own access, a kept grant, or a link), and revoking. Store rows are in shares.c,
// the decisions in access.c.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "shares.h"
#include "token.h"

struct web_req;

enum sharing_result {
	SHARING_OK,
	SHARING_FORBIDDEN,    // 403: a role beyond what the caller holds
	SHARING_BAD_ROLE,     // 400: no such role in the app
	SHARING_BAD_LABEL,    // 400
	SHARING_TOO_MANY,     // 409: SHARE_MAX_PER_GRAIN
	SHARING_TOO_DEEP,     // 409: the caller's share is ACCESS_CHAIN_MAX links from the owner
	SHARING_ERROR,        // 500
};

// The HTTP status and a sentence for a result.
int sharing_status(enum sharing_result r);
const char *sharing_message(enum sharing_result r);

// A new share of grain by the caller: a link (url is <base url>/shared/<token>) or a device
// token (url is the device's API host, https://api-<share id>.<host>/).
struct sharing_new {
	char id[SHARE_ID_LEN + 1];
	char token[TOKEN_HEX_LEN + 1];
	char url[512];
};
// The caller must hold access to grain (sharing_role_of: owner or shared).
enum sharing_result sharing_create(struct web_req *w, const char *grain, enum share_kind kind,
				   const char *role, const char *label, struct sharing_new *out);

// Opens grain for the caller (w's user, or anonymous) through share (NULL: own access or
// grants): resolves access, opens a session host, records the visit. url: the frame's
// first URL. 0, 1 no access, -1 error.
int sharing_open(struct web_req *w, const char *grain, const char *share, struct access *a,
		 char *url, size_t urlsz);

// A link presented by token: its share when it is live. A logged-in caller keeps a grant
// through it (unless they own the grain). 0, 1 unknown or revoked, -1 error.
int sharing_claim(struct web_req *w, const char *token, struct share_info *out);

// Revocation by the grain's owner or the share's creator; every open session and WebSocket
// that depended on it loses access now. 0, 1 unknown or not the caller's, -1 error.
int sharing_revoke(struct web_req *w, const char *share_id);
int sharing_revoke_user(struct web_req *w, const char *grain, int64_t user_id);

// What the caller is to a grain (g is filled whenever it exists).
enum sharing_role {
	SHARING_ROLE_ERROR = -1,
	SHARING_ROLE_OWNER,
	SHARING_ROLE_SHARED,     // holds a grant (not the owner)
	SHARING_ROLE_MISSING,    // 404: no such grain (or someone else's in the trash)
	SHARING_ROLE_NONE,       // 403: someone else's, not shared with the caller
	SHARING_ROLE_TRASHED,    // the caller's own, in the trash
};
enum sharing_role sharing_role_of(struct web_req *w, const char *grain, struct grain_info *g);
