// SPDX-License-Identifier: MIT
// Accounts and their secrets: setup token, passwords (Argon2id), sessions, CSRF, invitations,
// API tokens, and login throttling. All state lives in the store; each change is one transaction.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "token.h"

struct store;

#define AUTH_NAME_MAX 64        // bytes of a user name
#define AUTH_PASSWORD_MIN 10    // characters
#define AUTH_PASSWORD_MAX 1024  // bytes
#define AUTH_SETUP_TTL (24 * 3600)
#define AUTH_INVITE_TTL (7 * 24 * 3600)
#define AUTH_SESSION_TTL (14 * 24 * 3600)   // sliding: renewed on use

enum auth_result {
	AUTH_OK,
	AUTH_BAD_TOKEN,        // unknown, spent or expired token
	AUTH_BAD_NAME,         // empty, too long, or bad characters
	AUTH_BAD_PASSWORD,     // too short or too long
	AUTH_NAME_TAKEN,
	AUTH_BAD_CREDENTIALS,  // login failed
	AUTH_THROTTLED,        // too many failures; try again later
	AUTH_DISABLED,         // the account is disabled
	AUTH_ALREADY_SET_UP,   // setup when an admin exists
	AUTH_PASSWORD_MISMATCH, // the two passwords typed differ (checked by the caller)
	AUTH_BAD_SERVER_NAME,  // the server's display name breaks the rules
	AUTH_ERROR,            // store failure (logged)
};
// A sentence for the user, e.g. "the password must be at least 10 characters".
const char *auth_result_str(enum auth_result r);

struct user {
	int64_t id;
	char name[AUTH_NAME_MAX + 1];
	bool is_admin;
	bool disabled;
	int64_t created;   // unix seconds
};

// password_cost = small: Argon2id over 24 MiB with four passes, above OWASP's minimum
// (19 MiB, two passes), for the appliance in 128 MiB of RAM.
#define AUTH_PWHASH_SMALL_OPS 4ULL
#define AUTH_PWHASH_SMALL_MEM ((size_t)24 << 20)
// Hashing cost; tests may lower it. Defaults are libsodium's INTERACTIVE limits.
void auth_set_pwhash_cost(unsigned long long opslimit, size_t memlimit);

// Input rules, for forms that want to check early (the functions below check again).
// A user name: 1..AUTH_NAME_MAX bytes of ASCII letters, digits, space and . _ -, or
// non-ASCII UTF-8 (no control, invisible or space characters); no leading or trailing space.
bool auth_name_valid(const char *name);
// A password: at least AUTH_PASSWORD_MIN characters (UTF-8 code points), at most
// AUTH_PASSWORD_MAX bytes.
bool auth_password_valid(const char *password);
// A server display name: 1..64 bytes of valid UTF-8 without control or invisible
// characters, no leading or trailing space.
bool auth_server_name_valid(const char *server_name);
// An API token label: 0..64 bytes of valid UTF-8 without control or invisible characters.
bool auth_api_label_valid(const char *label);

// 1 when the store has no admin yet, 0 when it has, -1 on error.
int auth_setup_needed(struct store *s);
// Mints a new single-use setup token valid for AUTH_SETUP_TTL (older ones stay valid until
// spent or expired). 0 / -1.
int auth_setup_token_new(struct store *s, int64_t now, char token[TOKEN_HEX_LEN + 1]);
// 0 when token is a valid unspent, unexpired setup token; 1 when not; -1 on error.
int auth_setup_token_check(struct store *s, const char *token, int64_t now);
// Spends the token, creates the admin and sets the server's display name, in one transaction.
// An empty or NULL server_name means "silo"; an invalid one is AUTH_BAD_SERVER_NAME. On any failure
// nothing is written (the token stays unspent). out may be NULL.
enum auth_result auth_setup(struct store *s, const char *token, const char *name,
			    const char *password, const char *server_name, int64_t now,
			    struct user *out);

// Checks a password. addr is the client's address for throttling (per address and per name;
// NULL: per name only). After 5 failures within 15 minutes further attempts are refused with
// AUTH_THROTTLED, before any hashing, for a backoff doubling from 1 s up to 15 minutes;
// *retry_after (may be NULL) is then the seconds to wait, else 0. On success the failure
// counters for that name are cleared. A disabled account is AUTH_DISABLED only once the
// password has verified. The counters live in this process's memory (bounded; not
// thread-safe: call from the event loop only). out may be NULL.
enum auth_result auth_login(struct store *s, const char *name, const char *password,
			    const char *addr, int64_t now, struct user *out,
			    int64_t *retry_after);
// Forgets every login failure (tests).
void auth_throttle_reset(void);

// Sessions. The cookie value is returned once; only its hash is stored. csrf is the
// session's anti-CSRF token (the same for the life of the session). Expired sessions are
// purged here. 0 / -1 (also for a missing or disabled user).
int auth_session_new(struct store *s, int64_t user_id, int64_t now,
		     char cookie[TOKEN_HEX_LEN + 1], char csrf[TOKEN_HEX_LEN + 1]);
// Looks a cookie up; renews its expiry (sliding) at most once a minute. 0 found (user
// filled; disabled users are not found), 1 not found or expired, -1 error. out and csrf may
// be NULL.
int auth_session_lookup(struct store *s, const char *cookie, int64_t now, struct user *out,
			char csrf[TOKEN_HEX_LEN + 1]);
// Deletes the session (logout); an unknown cookie is not an error. 0 / -1.
int auth_session_end(struct store *s, const char *cookie);

// Invitations: admin-made, single use, expiring after AUTH_INVITE_TTL. An invitation also
// stops working when its creator is no longer an enabled admin. new: 0 / -1 (also when
// created_by is not an enabled admin).
int auth_invite_new(struct store *s, int64_t created_by, int64_t now,
		    char token[TOKEN_HEX_LEN + 1]);
// 0 valid, 1 unknown/spent/expired, -1 error.
int auth_invite_check(struct store *s, const char *token, int64_t now);
// Spends the invitation and creates a (non-admin) user, in one transaction. out may be NULL.
enum auth_result auth_invite_accept(struct store *s, const char *token, const char *name,
				    const char *password, int64_t now, struct user *out);

// Users, for the admin page. Calls fn for each user ordered by name (case-insensitively);
// 0 / -1, or fn's first non-zero return, which stops the walk. The rows are read before the
// first call, so fn may use the store.
int auth_user_list(struct store *s, int (*fn)(const struct user *u, void *arg), void *arg);
int auth_user_get(struct store *s, int64_t id, struct user *out);   // 0, 1 missing, -1
// Disabling also ends the user's sessions and API tokens' use. The last enabled admin
// cannot be disabled (returns 1). 0 / 1 / -1 (also for an unknown user).
int auth_user_set_disabled(struct store *s, int64_t id, bool disabled);

// API tokens for scripts (Authorization: Bearer). Label up to 64 bytes
// (auth_api_label_valid). new: 0 / -1 (also for a bad label, a missing or disabled user).
struct api_token {
	int64_t id;
	char label[65];
	int64_t created, last_used;   // unix seconds; last_used 0 = never
};
int auth_api_token_new(struct store *s, int64_t user_id, const char *label, int64_t now,
		       char token[TOKEN_HEX_LEN + 1]);
// 0 found (user filled; marks last use, to the minute), 1 not found/revoked/disabled, -1 error.
int auth_api_token_lookup(struct store *s, const char *token, int64_t now, struct user *out);
// The user's unrevoked tokens, newest first; fn as for auth_user_list.
int auth_api_token_list(struct store *s, int64_t user_id,
			int (*fn)(const struct api_token *t, void *arg), void *arg);
// Revokes one of the user's tokens; 0 done, 1 not found, -1 error.
int auth_api_token_revoke(struct store *s, int64_t user_id, int64_t token_id);
