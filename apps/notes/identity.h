// SPDX-License-Identifier: MIT
// Who is calling: the identity headers the bridge attaches (Sandstorm's names), checked.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

#define IDENTITY_ID_MAX 128      // user and session ids: printable ASCII
#define IDENTITY_NAME_MAX 256    // display name: bytes of UTF-8 after percent-decoding
#define IDENTITY_PERMS_MAX 16
#define IDENTITY_PERM_MAX 64

struct identity {
	bool anonymous;                            // no (valid) X-Sandstorm-User-Id
	char user_id[IDENTITY_ID_MAX + 1];         // "" when anonymous
	char session_id[IDENTITY_ID_MAX + 1];      // "" when absent
	char name[IDENTITY_NAME_MAX + 1];          // never empty
	char perms[IDENTITY_PERMS_MAX][IDENTITY_PERM_MAX + 1];
	size_t nperms;
	bool can_edit;                             // holds the "edit" permission
};

// Fills id from X-Sandstorm-User-Id, -Username (percent-encoded), -Permissions (a comma
// list) and -Session-Id. Malformed values are dropped rather than trusted: a bad user id
// makes the caller anonymous, a bad name becomes "Unknown user", bad tokens are skipped.
void identity_from_request(const struct http_request *req, struct identity *id);
// The key presence and attribution use: "u:<user id>", or "s:<session id>" / "anonymous".
void identity_key(const struct identity *id, char *out, size_t outsz);
