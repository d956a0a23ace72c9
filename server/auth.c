// SPDX-License-Identifier: MIT
// Accounts and their secrets: input rules, setup, login with throttling, sessions,
// invitations, users and API tokens, on top of the store.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auth.h"
#include "log.h"
#include "store.h"
#include "token.h"

#define AUTH_SERVER_NAME_MAX 64
#define AUTH_LABEL_MAX 64
#define AUTH_RENEW_EVERY 60   // seconds between writes of a session's sliding expiry

const char *auth_result_str(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "done";
	case AUTH_BAD_TOKEN:
		return "this link is not valid: it is unknown, already used or expired";
	case AUTH_BAD_NAME:
		return "that name is not allowed: use 1 to 64 letters, digits, spaces or . _ -, "
		       "with no space at the start or end";
	case AUTH_BAD_PASSWORD:
		return "the password must be at least 10 characters (and at most 1024 bytes)";
	case AUTH_NAME_TAKEN:
		return "that name is already taken; choose another";
	case AUTH_BAD_CREDENTIALS:
		return "wrong name or password";
	case AUTH_THROTTLED:
		return "too many failed attempts; wait a little and try again";
	case AUTH_DISABLED:
		return "this account is disabled; ask an administrator";
	case AUTH_ALREADY_SET_UP:
		return "this server is already set up; log in instead";
	case AUTH_BAD_SERVER_NAME:
		return "the server name must be 1 to 64 characters with no control or invisible "
		       "characters";
	case AUTH_PASSWORD_MISMATCH:
		return "the two passwords differ; type the same password twice";
	case AUTH_ERROR:
		return "something went wrong on the server; please try again";
	}
	return "unknown error";
}

// --- Input rules ---

// Decodes one UTF-8 sequence of the n bytes at p into *cp and returns its length, or 0 when
// it is malformed: overlong, a surrogate, beyond U+10FFFF or cut short.
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		v = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		v = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		v = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

// Characters that cannot be seen or that reorder text: controls (C0, DEL, C1), the soft
// hyphen, zero-width and bidirectional formatting characters, tags, noncharacters. In names
// they make two accounts look alike (CVE-2021-42574 is the source-code version of this).
static bool cp_hidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad || c == 0x34f || c == 0x61c ||
	       c == 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0x3164 || c == 0xfeff ||
	       (c >= 0xfff0 && c <= 0xfffb) || (c & 0xfffe) == 0xfffe || (c >= 0xe0000 && c <= 0xe007f);
}

// Not in names: Unicode spaces other than U+0020 (a name made of them looks empty), and
// variation selectors, invisible after a letter ("bob" and "bob" U+FE0F would look alike;
// other text may keep them for emoji).
static bool cp_name_hidden(uint32_t c)
{
	return c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
	       c == 0x205f || c == 0x3000 || (c >= 0xfe00 && c <= 0xfe0f) ||
	       (c >= 0xe0100 && c <= 0xe01ef);
}

static bool ascii_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ' ' || c == '.' || c == '_' || c == '-';
}

// Checks UTF-8 text of minlen..maxlen bytes. name: the user-name rules, else any visible
// character. trim: no leading or trailing ASCII space.
static bool text_valid(const char *s, size_t minlen, size_t maxlen, bool name, bool trim)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n < minlen || n > maxlen)
		return false;
	if (trim && n && (s[0] == ' ' || s[n - 1] == ' '))
		return false;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len = utf8_next(p + i, n - i, &c);
		if (!len || cp_hidden(c))
			return false;
		if (name && (c < 0x80 ? !ascii_name_char((unsigned char)c) : cp_name_hidden(c)))
			return false;
		i += len;
	}
	return true;
}

bool auth_name_valid(const char *name)
{
	return text_valid(name, 1, AUTH_NAME_MAX, true, true);
}

bool auth_server_name_valid(const char *server_name)
{
	return text_valid(server_name, 1, AUTH_SERVER_NAME_MAX, false, true);
}

bool auth_api_label_valid(const char *label)
{
	return text_valid(label, 0, AUTH_LABEL_MAX, false, false);
}

bool auth_password_valid(const char *password)
{
	if (!password)
		return false;
	size_t n = strlen(password), chars = 0;
	if (n > AUTH_PASSWORD_MAX)
		return false;
	// Count characters, not bytes: every byte but a UTF-8 continuation byte starts one.
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)password[i] & 0xc0) != 0x80;
	return chars >= AUTH_PASSWORD_MIN;
}

// --- Password hashing ---

static unsigned long long pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
// A hash of a random password at the current cost, verified against when a login names no
// account, so that the reply takes as long as for a real one.
static char dummy_hash[crypto_pwhash_STRBYTES];
static bool dummy_ready;

void auth_set_pwhash_cost(unsigned long long opslimit, size_t memlimit)
{
	pw_ops = opslimit < crypto_pwhash_OPSLIMIT_MIN ? crypto_pwhash_OPSLIMIT_MIN : opslimit;
	pw_mem = memlimit < crypto_pwhash_MEMLIMIT_MIN ? crypto_pwhash_MEMLIMIT_MIN : memlimit;
	dummy_ready = false;
}

static int sodium_ready(const char *fn)
{
	if (sodium_init() < 0) {
		log_err("%s: libsodium failed to initialize", fn);
		return -1;
	}
	return 0;
}

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES],
			 const char *fn)
{
	if (sodium_ready(fn) < 0)
		return -1;
	if (crypto_pwhash_str(out, password, strlen(password), pw_ops, pw_mem) != 0) {
		log_err("%s: password hashing failed (out of memory?)", fn);
		return -1;
	}
	return 0;
}

static int dummy_verify(const char *password)
{
	if (!dummy_ready) {
		char pw[TOKEN_HEX_LEN + 1];
		token_new(pw);
		if (hash_password(pw, dummy_hash, "auth_login") < 0)
			return -1;
		dummy_ready = true;
	}
	// The outcome is irrelevant (it cannot match in practice); the time spent is the point.
	int r = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
	(void)r;
	return 0;
}

// --- Store helpers ---

static void db_err(struct store *s, const char *fn)
{
	log_err("%s: %s", fn, sqlite3_errmsg(store_db(s)));
}

// Steps a statement that returns no rows, then resets it. 0 / -1 (logged).
static int step_done(struct store *s, sqlite3_stmt *st, const char *fn)
{
	int r = 0;
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_err(s, fn);
		r = -1;
	}
	sqlite3_reset(st);
	return r;
}

// Steps a query expected to return at most one row: 0 row ready (reset it when done),
// 1 none, -1 error (logged).
static int step_row(struct store *s, sqlite3_stmt *st, const char *fn)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		db_err(s, fn);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 1 : -1;
}

static int changes(struct store *s)
{
	return sqlite3_changes(store_db(s));
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

#define USER_COLS "u.id, u.name, u.is_admin, u.disabled, u.created"

// Reads the five USER_COLS starting at column col.
static void user_from_row(sqlite3_stmt *st, int col, struct user *u)
{
	const unsigned char *name = sqlite3_column_text(st, col + 1);
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, col);
	snprintf(u->name, sizeof(u->name), "%s", name ? (const char *)name : "");
	u->is_admin = sqlite3_column_int(st, col + 2) != 0;
	u->disabled = sqlite3_column_int(st, col + 3) != 0;
	u->created = sqlite3_column_int64(st, col + 4);
}

// 1 when a user of that name (case-insensitively) exists, 0 when not, -1 on error.
static int name_exists(struct store *s, const char *name, const char *fn)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM users WHERE name = ?1");
	if (!st)
		return -1;
	bind_str(st, 1, name);
	int r = step_row(s, st, fn);
	sqlite3_reset(st);
	return r < 0 ? -1 : r == 0;
}

// Inserts a user inside the caller's transaction. AUTH_OK (u filled), AUTH_NAME_TAKEN or
// AUTH_ERROR.
static enum auth_result user_insert(struct store *s, const char *name, const char *pwhash,
				    bool is_admin, int64_t now, struct user *u, const char *fn)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO users (name, pwhash, is_admin, created)"
					 " VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return AUTH_ERROR;
	bind_str(st, 1, name);
	bind_str(st, 2, pwhash);
	sqlite3_bind_int(st, 3, is_admin);
	sqlite3_bind_int64(st, 4, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		bool taken = sqlite3_extended_errcode(store_db(s)) == SQLITE_CONSTRAINT_UNIQUE;
		if (!taken)
			db_err(s, fn);
		sqlite3_reset(st);
		return taken ? AUTH_NAME_TAKEN : AUTH_ERROR;
	}
	sqlite3_reset(st);
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_last_insert_rowid(store_db(s));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->is_admin = is_admin;
	u->created = now;
	return AUTH_OK;
}

// Checks the rules on a new account's name and password, that the name is free, and hashes
// the password (outside any transaction: hashing takes a while and must not hold the lock).
static enum auth_result new_account_prepare(struct store *s, const char *name,
					    const char *password,
					    char pwhash[crypto_pwhash_STRBYTES], const char *fn)
{
	if (!auth_name_valid(name))
		return AUTH_BAD_NAME;
	if (!auth_password_valid(password))
		return AUTH_BAD_PASSWORD;
	int r = name_exists(s, name, fn);
	if (r)
		return r < 0 ? AUTH_ERROR : AUTH_NAME_TAKEN;
	return hash_password(password, pwhash, fn) < 0 ? AUTH_ERROR : AUTH_OK;
}

// --- Setup ---

int auth_setup_needed(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM users WHERE is_admin = 1 LIMIT 1");
	if (!st)
		return -1;
	int r = step_row(s, st, "auth_setup_needed");
	sqlite3_reset(st);
	return r;   // 0: a row, an admin exists; 1: none
}

int auth_setup_token_new(struct store *s, int64_t now, char token[TOKEN_HEX_LEN + 1])
{
	char hash[TOKEN_HEX_LEN + 1];
	token_new(token);
	token_hash(token, hash);
	if (store_begin(s) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM setup_tokens WHERE expires <= ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if (step_done(s, st, "auth_setup_token_new") < 0)
		goto fail;
	st = store_stmt(s, "INSERT INTO setup_tokens (hash, created, expires) VALUES (?1, ?2, ?3)");
	if (!st)
		goto fail;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + AUTH_SETUP_TTL);
	if (step_done(s, st, "auth_setup_token_new") < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

// 0 usable, 1 unknown/spent/expired, -1 error.
static int setup_token_usable(struct store *s, const char *hash, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM setup_tokens"
					 " WHERE hash = ?1 AND spent = 0 AND expires > ?2");
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	int r = step_row(s, st, "auth_setup");
	sqlite3_reset(st);
	return r;
}

int auth_setup_token_check(struct store *s, const char *token, int64_t now)
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(token))
		return 1;
	token_hash(token, hash);
	return setup_token_usable(s, hash, now);
}

// The writes of a setup, inside its transaction.
static enum auth_result setup_apply(struct store *s, const char *hash, const char *name,
				    const char *pwhash, const char *server_name, int64_t now,
				    struct user *u)
{
	// Checked again under the write lock: a concurrent setup may have won.
	int r = auth_setup_needed(s);
	if (r <= 0)
		return r < 0 ? AUTH_ERROR : AUTH_ALREADY_SET_UP;
	sqlite3_stmt *st = store_stmt(s, "UPDATE setup_tokens SET spent = 1"
					 " WHERE hash = ?1 AND spent = 0 AND expires > ?2");
	if (!st)
		return AUTH_ERROR;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	if (step_done(s, st, "auth_setup") < 0)
		return AUTH_ERROR;
	if (changes(s) != 1)
		return AUTH_BAD_TOKEN;
	enum auth_result res = user_insert(s, name, pwhash, true, now, u, "auth_setup");
	if (res != AUTH_OK)
		return res;
	return store_setting_set(s, "server_name", server_name) < 0 ? AUTH_ERROR : AUTH_OK;
}

enum auth_result auth_setup(struct store *s, const char *token, const char *name,
			    const char *password, const char *server_name, int64_t now,
			    struct user *out)
{
	char hash[TOKEN_HEX_LEN + 1], pwhash[crypto_pwhash_STRBYTES];
	if (!token_valid(token))
		return AUTH_BAD_TOKEN;
	token_hash(token, hash);
	int r = setup_token_usable(s, hash, now);
	if (r)
		return r < 0 ? AUTH_ERROR : AUTH_BAD_TOKEN;
	r = auth_setup_needed(s);
	if (r <= 0)
		return r < 0 ? AUTH_ERROR : AUTH_ALREADY_SET_UP;
	if (!server_name || !*server_name)
		server_name = "silo";
	else if (!auth_server_name_valid(server_name))
		return AUTH_BAD_SERVER_NAME;
	enum auth_result res = new_account_prepare(s, name, password, pwhash, "auth_setup");
	if (res != AUTH_OK)
		return res;

	struct user u;
	if (store_begin(s) < 0)
		return AUTH_ERROR;
	res = setup_apply(s, hash, name, pwhash, server_name, now, &u);
	if (res != AUTH_OK) {
		store_rollback(s);
		return res;
	}
	if (store_commit(s) < 0)
		return AUTH_ERROR;
	log_info("auth: server set up; admin user %lld", (long long)u.id);
	if (out)
		*out = u;
	return AUTH_OK;
}

// --- Login throttling ---

// Failures are counted per key (a keyed hash of "n"+name folded to lower case, or
// "a"+address) in a fixed set-associative table: a key lives in one bucket of a few ways,
// chosen by its hash, so lookups are O(1) and memory stays bounded however many names a flood
// tries. The hash is keyed with a secret, so a flood cannot aim at one victim's bucket.
#define THROTTLE_BUCKETS 128
#define THROTTLE_WAYS 8
#define THROTTLE_FREE 5            // failures allowed before the backoff starts
#define THROTTLE_WINDOW (15 * 60)  // quiet time after the backoff before failures are forgotten
#define THROTTLE_DELAY_MAX (15 * 60)
#define THROTTLE_KEY 16

struct throttle {
	unsigned char key[THROTTLE_KEY];
	uint32_t failures;   // 0: the slot is free
	int64_t last;        // time of the latest failure
};

static struct throttle throttle_tab[THROTTLE_BUCKETS][THROTTLE_WAYS];
static unsigned char throttle_secret[crypto_generichash_KEYBYTES];
static bool throttle_secret_ready;

void auth_throttle_reset(void)
{
	memset(throttle_tab, 0, sizeof(throttle_tab));
}

static void throttle_key(char kind, const char *value, unsigned char key[THROTTLE_KEY])
{
	if (!throttle_secret_ready) {
		randombytes_buf(throttle_secret, sizeof(throttle_secret));
		throttle_secret_ready = true;
	}
	crypto_generichash_state h;
	crypto_generichash_init(&h, throttle_secret, sizeof(throttle_secret), THROTTLE_KEY);
	crypto_generichash_update(&h, (const unsigned char *)&kind, 1);
	// Names compare case-insensitively in ASCII (COLLATE NOCASE): fold the same way.
	unsigned char chunk[256];
	size_t n = 0;
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		chunk[n++] = kind == 'n' && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
		if (n == sizeof(chunk)) {
			crypto_generichash_update(&h, chunk, n);
			n = 0;
		}
	}
	crypto_generichash_update(&h, chunk, n);
	crypto_generichash_final(&h, key, THROTTLE_KEY);
}

static int64_t throttle_delay(uint32_t failures)
{
	if (failures < THROTTLE_FREE)
		return 0;
	uint32_t over = failures - THROTTLE_FREE;
	return over >= 10 ? THROTTLE_DELAY_MAX : (int64_t)1 << over;
}

// Forgotten after a quiet window counted from the end of the backoff, not from the last
// failure: else a backoff grown to the window would reset the count instead of holding it.
static bool throttle_stale(const struct throttle *t, int64_t now)
{
	return t->failures == 0 || now - t->last >= THROTTLE_WINDOW + throttle_delay(t->failures);
}

static struct throttle *throttle_bucket(const unsigned char key[THROTTLE_KEY])
{
	uint32_t h;
	memcpy(&h, key, sizeof(h));
	return throttle_tab[h % THROTTLE_BUCKETS];
}

static struct throttle *throttle_find(const unsigned char key[THROTTLE_KEY], int64_t now)
{
	struct throttle *b = throttle_bucket(key);
	for (size_t i = 0; i < THROTTLE_WAYS; i++) {
		struct throttle *t = &b[i];
		if (t->failures && memcmp(t->key, key, THROTTLE_KEY) == 0) {
			if (throttle_stale(t, now)) {
				memset(t, 0, sizeof(*t));
				return NULL;
			}
			return t;
		}
	}
	return NULL;
}

// Seconds until the next attempt for key is allowed; 0: now.
static int64_t throttle_wait(const unsigned char key[THROTTLE_KEY], int64_t now)
{
	const struct throttle *t = throttle_find(key, now);
	if (!t || t->failures < THROTTLE_FREE)
		return 0;
	int64_t delay = throttle_delay(t->failures), wait = t->last + delay - now;
	return wait <= 0 ? 0 : wait > delay ? delay : wait;
}

static void throttle_fail(const unsigned char key[THROTTLE_KEY], int64_t now)
{
	struct throttle *t = throttle_find(key, now);
	if (!t) {
		// A free or forgotten way of the bucket, else the one whose last failure is oldest.
		struct throttle *b = throttle_bucket(key);
		for (size_t i = 0; i < THROTTLE_WAYS; i++) {
			struct throttle *c = &b[i];
			if (throttle_stale(c, now)) {
				t = c;
				break;
			}
			if (!t || c->last < t->last)
				t = c;
		}
		memset(t, 0, sizeof(*t));
		memcpy(t->key, key, THROTTLE_KEY);
	}
	if (t->failures < UINT32_MAX)
		t->failures++;
	t->last = now;
}

static void throttle_clear(const unsigned char key[THROTTLE_KEY], int64_t now)
{
	struct throttle *t = throttle_find(key, now);
	if (t)
		memset(t, 0, sizeof(*t));
}

// --- Login ---

// Finds a user by name with the password hash: 0 found, 1 not, -1 error.
static int user_by_name(struct store *s, const char *name, struct user *u,
			char pwhash[crypto_pwhash_STRBYTES])
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " USER_COLS ", u.pwhash FROM users u"
					 " WHERE u.name = ?1");
	if (!st)
		return -1;
	bind_str(st, 1, name);
	int r = step_row(s, st, "auth_login");
	if (r)
		return r;
	user_from_row(st, 0, u);
	const unsigned char *h = sqlite3_column_text(st, 5);
	// A hash that does not fit cannot verify: leave it empty.
	if (!h || (size_t)sqlite3_column_bytes(st, 5) >= crypto_pwhash_STRBYTES)
		pwhash[0] = '\0';
	else
		memcpy(pwhash, h, (size_t)sqlite3_column_bytes(st, 5) + 1);
	sqlite3_reset(st);
	return 0;
}

// A hash made at an older cost is replaced once the password is known. Best effort.
static void maybe_rehash(struct store *s, const struct user *u, const char *pwhash,
			 const char *password)
{
	char fresh[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str_needs_rehash(pwhash, pw_ops, pw_mem) != 1 ||
	    hash_password(password, fresh, "auth_login") < 0)
		return;
	sqlite3_stmt *st = store_stmt(s, "UPDATE users SET pwhash = ?1 WHERE id = ?2");
	if (!st)
		return;
	bind_str(st, 1, fresh);
	sqlite3_bind_int64(st, 2, u->id);
	step_done(s, st, "auth_login");
}

enum auth_result auth_login(struct store *s, const char *name, const char *password,
			    const char *addr, int64_t now, struct user *out,
			    int64_t *retry_after)
{
	unsigned char nkey[THROTTLE_KEY], akey[THROTTLE_KEY];
	bool by_addr = addr && *addr;
	if (retry_after)
		*retry_after = 0;
	if (!name || !password)
		return AUTH_BAD_CREDENTIALS;
	if (sodium_ready("auth_login") < 0)
		return AUTH_ERROR;
	throttle_key('n', name, nkey);
	if (by_addr)
		throttle_key('a', addr, akey);
	// Refused before any hashing, so that a flood of guesses costs us nothing.
	int64_t wait = throttle_wait(nkey, now), await = by_addr ? throttle_wait(akey, now) : 0;
	if (wait || await) {
		if (retry_after)
			*retry_after = wait > await ? wait : await;
		return AUTH_THROTTLED;
	}

	struct user u;
	char pwhash[crypto_pwhash_STRBYTES];
	bool ok = false;
	// Over-long input names no account and is refused unhashed: the limits are public.
	if (strlen(name) <= AUTH_NAME_MAX && strlen(password) <= AUTH_PASSWORD_MAX) {
		int r = user_by_name(s, name, &u, pwhash);
		if (r < 0)
			return AUTH_ERROR;
		if (r == 0)
			ok = crypto_pwhash_str_verify(pwhash, password, strlen(password)) == 0;
		else if (dummy_verify(password) < 0)   // the same work as for a real account
			return AUTH_ERROR;
	}
	if (!ok) {
		throttle_fail(nkey, now);
		if (by_addr)
			throttle_fail(akey, now);
		return AUTH_BAD_CREDENTIALS;
	}
	if (u.disabled)
		return AUTH_DISABLED;
	// Only the name's counter: a guesser must not clear its address's by logging in to an
	// account of its own.
	throttle_clear(nkey, now);
	maybe_rehash(s, &u, pwhash, password);
	if (out)
		*out = u;
	return AUTH_OK;
}

// --- Sessions ---

int auth_session_new(struct store *s, int64_t user_id, int64_t now,
		     char cookie[TOKEN_HEX_LEN + 1], char csrf[TOKEN_HEX_LEN + 1])
{
	char hash[TOKEN_HEX_LEN + 1];
	token_new(cookie);
	token_new(csrf);
	token_hash(cookie, hash);
	if (store_begin(s) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM sessions WHERE expires <= ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if (step_done(s, st, "auth_session_new") < 0)
		goto fail;
	st = store_stmt(s, "INSERT INTO sessions (hash, user_id, csrf, created, expires, last_seen)"
			   " SELECT ?1, id, ?2, ?3, ?4, ?3 FROM users WHERE id = ?5 AND disabled = 0");
	if (!st)
		goto fail;
	bind_str(st, 1, hash);
	bind_str(st, 2, csrf);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now + AUTH_SESSION_TTL);
	sqlite3_bind_int64(st, 5, user_id);
	if (step_done(s, st, "auth_session_new") < 0)
		goto fail;
	if (changes(s) != 1) {
		log_err("auth_session_new: user %lld is missing or disabled", (long long)user_id);
		goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

static int session_delete(struct store *s, const char *hash, const char *fn)
{
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM sessions WHERE hash = ?1");
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	return step_done(s, st, fn);
}

int auth_session_lookup(struct store *s, const char *cookie, int64_t now, struct user *out,
			char csrf[TOKEN_HEX_LEN + 1])
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(cookie))
		return 1;
	token_hash(cookie, hash);
	sqlite3_stmt *st = store_stmt(s, "SELECT " USER_COLS ", s.csrf, s.expires, s.last_seen"
					 " FROM sessions s JOIN users u ON u.id = s.user_id"
					 " WHERE s.hash = ?1");
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	int r = step_row(s, st, "auth_session_lookup");
	if (r)
		return r;
	struct user u;
	user_from_row(st, 0, &u);
	const unsigned char *c = sqlite3_column_text(st, 5);
	char token[TOKEN_HEX_LEN + 1];
	snprintf(token, sizeof(token), "%s", c ? (const char *)c : "");
	int64_t expires = sqlite3_column_int64(st, 6), last_seen = sqlite3_column_int64(st, 7);
	sqlite3_reset(st);

	if (expires <= now)
		return session_delete(s, hash, "auth_session_lookup") < 0 ? -1 : 1;
	if (u.disabled)
		return 1;
	if (now - last_seen >= AUTH_RENEW_EVERY) {
		st = store_stmt(s, "UPDATE sessions SET last_seen = ?1, expires = ?2 WHERE hash = ?3");
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, now + AUTH_SESSION_TTL);
		bind_str(st, 3, hash);
		if (step_done(s, st, "auth_session_lookup") < 0)
			return -1;
	}
	if (out)
		*out = u;
	if (csrf)
		memcpy(csrf, token, sizeof(token));
	return 0;
}

int auth_session_end(struct store *s, const char *cookie)
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(cookie))
		return 0;
	token_hash(cookie, hash);
	return session_delete(s, hash, "auth_session_end");
}

// --- Invitations ---

int auth_invite_new(struct store *s, int64_t created_by, int64_t now,
		    char token[TOKEN_HEX_LEN + 1])
{
	char hash[TOKEN_HEX_LEN + 1];
	token_new(token);
	token_hash(token, hash);
	if (store_begin(s) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM invites WHERE used IS NULL AND expires <= ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if (step_done(s, st, "auth_invite_new") < 0)
		goto fail;
	st = store_stmt(s, "INSERT INTO invites (hash, created_by, created, expires)"
			   " SELECT ?1, id, ?2, ?3 FROM users"
			   " WHERE id = ?4 AND is_admin = 1 AND disabled = 0");
	if (!st)
		goto fail;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + AUTH_INVITE_TTL);
	sqlite3_bind_int64(st, 4, created_by);
	if (step_done(s, st, "auth_invite_new") < 0)
		goto fail;
	if (changes(s) != 1) {
		log_err("auth_invite_new: user %lld is not an enabled admin", (long long)created_by);
		goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

// The condition for a usable invitation: unused, unexpired, made by an enabled admin.
#define INVITE_USABLE                                                                     \
	"hash = ?1 AND used IS NULL AND expires > ?2 AND EXISTS (SELECT 1 FROM users u"   \
	" WHERE u.id = invites.created_by AND u.is_admin = 1 AND u.disabled = 0)"

int auth_invite_check(struct store *s, const char *token, int64_t now)
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(token))
		return 1;
	token_hash(token, hash);
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM invites WHERE " INVITE_USABLE);
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	int r = step_row(s, st, "auth_invite_check");
	sqlite3_reset(st);
	return r;
}

// The writes of an acceptance, inside its transaction.
static enum auth_result invite_apply(struct store *s, const char *hash, const char *name,
				     const char *pwhash, int64_t now, struct user *u)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE invites SET used = ?2 WHERE " INVITE_USABLE);
	if (!st)
		return AUTH_ERROR;
	bind_str(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	if (step_done(s, st, "auth_invite_accept") < 0)
		return AUTH_ERROR;
	if (changes(s) != 1)
		return AUTH_BAD_TOKEN;
	enum auth_result res = user_insert(s, name, pwhash, false, now, u, "auth_invite_accept");
	if (res != AUTH_OK)
		return res;
	st = store_stmt(s, "UPDATE invites SET used_by = ?1 WHERE hash = ?2");
	if (!st)
		return AUTH_ERROR;
	sqlite3_bind_int64(st, 1, u->id);
	bind_str(st, 2, hash);
	return step_done(s, st, "auth_invite_accept") < 0 ? AUTH_ERROR : AUTH_OK;
}

enum auth_result auth_invite_accept(struct store *s, const char *token, const char *name,
				    const char *password, int64_t now, struct user *out)
{
	char hash[TOKEN_HEX_LEN + 1], pwhash[crypto_pwhash_STRBYTES];
	int r = auth_invite_check(s, token, now);
	if (r)
		return r < 0 ? AUTH_ERROR : AUTH_BAD_TOKEN;
	enum auth_result res =
		new_account_prepare(s, name, password, pwhash, "auth_invite_accept");
	if (res != AUTH_OK)
		return res;
	token_hash(token, hash);

	struct user u;
	if (store_begin(s) < 0)
		return AUTH_ERROR;
	res = invite_apply(s, hash, name, pwhash, now, &u);
	if (res != AUTH_OK) {
		store_rollback(s);
		return res;
	}
	if (store_commit(s) < 0)
		return AUTH_ERROR;
	log_info("auth: user %lld joined by invitation", (long long)u.id);
	if (out)
		*out = u;
	return AUTH_OK;
}

// --- Users ---

int auth_user_list(struct store *s, int (*fn)(const struct user *u, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " USER_COLS " FROM users u"
					 " ORDER BY u.name COLLATE NOCASE, u.id");
	if (!st)
		return -1;
	struct user *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct user *nv = reallocarray(v, cap, sizeof(*v));
			if (!nv) {
				log_err("auth_user_list: out of memory");
				r = -1;
				break;
			}
			v = nv;
		}
		user_from_row(st, 0, &v[n++]);
	}
	if (r == 0 && rc != SQLITE_DONE) {
		db_err(s, "auth_user_list");
		r = -1;
	}
	sqlite3_reset(st);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = fn(&v[i], arg);
	free(v);
	return r;
}

int auth_user_get(struct store *s, int64_t id, struct user *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT " USER_COLS " FROM users u WHERE u.id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int r = step_row(s, st, "auth_user_get");
	if (r)
		return r;
	user_from_row(st, 0, out);
	sqlite3_reset(st);
	return 0;
}

// The writes of a disable/enable, inside its transaction: 0 / 1 (last admin) / -1.
static int set_disabled_apply(struct store *s, int64_t id, bool disabled)
{
	const char *fn = "auth_user_set_disabled";
	struct user u;
	int r = auth_user_get(s, id, &u);
	if (r) {
		if (r > 0)
			log_err("%s: no user %lld", fn, (long long)id);
		return -1;
	}
	if (disabled && u.is_admin && !u.disabled) {
		sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM users WHERE is_admin = 1"
						 " AND disabled = 0 AND id != ?1 LIMIT 1");
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		r = step_row(s, st, fn);
		sqlite3_reset(st);
		if (r)
			return r;   // 1: no other enabled admin
	}
	sqlite3_stmt *st = store_stmt(s, "UPDATE users SET disabled = ?1 WHERE id = ?2");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, disabled);
	sqlite3_bind_int64(st, 2, id);
	if (step_done(s, st, fn) < 0)
		return -1;
	if (!disabled)
		return 0;
	st = store_stmt(s, "DELETE FROM sessions WHERE user_id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return step_done(s, st, fn);
}

int auth_user_set_disabled(struct store *s, int64_t id, bool disabled)
{
	if (store_begin(s) < 0)
		return -1;
	int r = set_disabled_apply(s, id, disabled);
	if (r) {
		store_rollback(s);
		return r;
	}
	if (store_commit(s) < 0)
		return -1;
	log_info("auth: user %lld %s", (long long)id, disabled ? "disabled" : "enabled");
	return 0;
}

// --- API tokens ---

int auth_api_token_new(struct store *s, int64_t user_id, const char *label, int64_t now,
		       char token[TOKEN_HEX_LEN + 1])
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!auth_api_label_valid(label)) {
		log_err("auth_api_token_new: invalid label");
		return -1;
	}
	token_new(token);
	token_hash(token, hash);
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO api_tokens (user_id, hash, label, created)"
					 " SELECT id, ?1, ?2, ?3 FROM users"
					 " WHERE id = ?4 AND disabled = 0");
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	bind_str(st, 2, label);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, user_id);
	if (step_done(s, st, "auth_api_token_new") < 0)
		return -1;
	if (changes(s) != 1) {
		log_err("auth_api_token_new: user %lld is missing or disabled", (long long)user_id);
		return -1;
	}
	return 0;
}

int auth_api_token_lookup(struct store *s, const char *token, int64_t now, struct user *out)
{
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(token))
		return 1;
	token_hash(token, hash);
	sqlite3_stmt *st = store_stmt(s, "SELECT " USER_COLS ", t.id, t.last_used"
					 " FROM api_tokens t JOIN users u ON u.id = t.user_id"
					 " WHERE t.hash = ?1 AND t.revoked = 0");
	if (!st)
		return -1;
	bind_str(st, 1, hash);
	int r = step_row(s, st, "auth_api_token_lookup");
	if (r)
		return r;
	struct user u;
	user_from_row(st, 0, &u);
	int64_t id = sqlite3_column_int64(st, 5), last_used = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	if (u.disabled)
		return 1;
	// To the minute: a script calling in a loop must not cost a synced write per request.
	if (last_used == 0 || now - last_used >= AUTH_RENEW_EVERY) {
		st = store_stmt(s, "UPDATE api_tokens SET last_used = ?1 WHERE id = ?2");
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, id);
		if (step_done(s, st, "auth_api_token_lookup") < 0)
			return -1;
	}
	if (out)
		*out = u;
	return 0;
}

int auth_api_token_list(struct store *s, int64_t user_id,
			int (*fn)(const struct api_token *t, void *arg), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, label, created, last_used FROM api_tokens"
					 " WHERE user_id = ?1 AND revoked = 0"
					 " ORDER BY created DESC, id DESC");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	struct api_token *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct api_token *nv = reallocarray(v, cap, sizeof(*v));
			if (!nv) {
				log_err("auth_api_token_list: out of memory");
				r = -1;
				break;
			}
			v = nv;
		}
		struct api_token *t = &v[n++];
		const unsigned char *label = sqlite3_column_text(st, 1);
		t->id = sqlite3_column_int64(st, 0);
		snprintf(t->label, sizeof(t->label), "%s", label ? (const char *)label : "");
		t->created = sqlite3_column_int64(st, 2);
		t->last_used = sqlite3_column_int64(st, 3);
	}
	if (r == 0 && rc != SQLITE_DONE) {
		db_err(s, "auth_api_token_list");
		r = -1;
	}
	sqlite3_reset(st);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = fn(&v[i], arg);
	free(v);
	return r;
}

int auth_api_token_revoke(struct store *s, int64_t user_id, int64_t token_id)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE api_tokens SET revoked = 1"
					 " WHERE id = ?1 AND user_id = ?2 AND revoked = 0");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_int64(st, 2, user_id);
	if (step_done(s, st, "auth_api_token_revoke") < 0)
		return -1;
	return changes(s) == 1 ? 0 : 1;
}
