// SPDX-License-Identifier: MIT
// Unit tests for auth.c: input rules, setup, login and throttling, sessions, invitations,
// users and API tokens, each against a fresh store in a temporary directory.
// test.h's CHECK evaluates its condition twice: every call with an effect happens before it.
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auth.h"
#include "store.h"
#include "test.h"
#include "token.h"

#define T0 1700000000LL
#define PW "correct horse battery"
#define THROTTLE_FREE_TEST 5   // failures before the backoff starts

static char dirs[8][64];
static size_t ndirs;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

// A store in a fresh temporary directory, removed at the end of main.
static struct store *fresh(void)
{
	if (ndirs == sizeof(dirs) / sizeof(dirs[0]))
		return NULL;
	char *d = dirs[ndirs];
	snprintf(d, sizeof(dirs[0]), "/tmp/silo-auth-XXXXXX");
	if (!mkdtemp(d))
		return NULL;
	ndirs++;
	return store_open(d);
}

static long long q_int(struct store *s, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

// Sets the server up with admin NAME; the admin's id, or -1.
static int64_t make_admin(struct store *s, const char *name)
{
	char tok[TOKEN_HEX_LEN + 1];
	struct user u;
	if (auth_setup_token_new(s, T0, tok) < 0 ||
	    auth_setup(s, tok, name, PW, "test", T0, &u) != AUTH_OK)
		return -1;
	return u.id;
}

// Invites and creates user NAME; the id, or -1.
static int64_t make_user(struct store *s, int64_t admin, const char *name)
{
	char tok[TOKEN_HEX_LEN + 1];
	struct user u;
	if (auth_invite_new(s, admin, T0, tok) < 0 ||
	    auth_invite_accept(s, tok, name, PW, T0, &u) != AUTH_OK)
		return -1;
	return u.id;
}

static void test_rules(void)
{
	char n64[65], n65[66];
	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	const char *good[] = { "alice", "Alice Smith", "a.b_c-d", "Zo\xc3\xab",
			       "\xe6\x97\xa5\xe6\x9c\xac", "0", n64 };
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "", "empty" },
		{ " alice", "a leading space" },
		{ "alice ", "a trailing space" },
		{ "   ", "only spaces" },
		{ NULL, "65 bytes" },
		{ "al\tice", "a tab" },
		{ "al@ice", "@" },
		{ "al/ice", "a slash" },
		{ "a<b>", "angle brackets" },
		{ "a\x7f", "DEL" },
		{ "\xff", "invalid UTF-8" },
		{ "\xc0\xaf", "an overlong encoding" },
		{ "\xed\xa0\x80", "a surrogate" },
		{ "a\xc2\x85", "a C1 control (NEL)" },
		{ "a\xe2\x80\x8b" "b", "a zero-width space" },
		{ "a\xe2\x80\xae" "b", "a right-to-left override" },
		{ "\xc2\xa0", "only a no-break space" },
		{ "bob\xef\xb8\x8f", "a variation selector" },
		{ "\xe6\x97", "a cut-short sequence" },
	};
	int ok = 0;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok += auth_name_valid(good[i]);
	CHECK(ok == (int)(sizeof(good) / sizeof(good[0])),
	      "auth: names of letters, digits, space . _ -, non-ASCII, up to 64 bytes are valid");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool v = auth_name_valid(bad[i].name ? bad[i].name : n65);
		CHECK(!v, "auth: a bad name is refused: %s", bad[i].why);
	}
	CHECK(!auth_name_valid(NULL), "auth: a NULL name is refused");

	char p1024[1025], p1025[1026];
	memset(p1024, 'x', 1024);
	p1024[1024] = '\0';
	memset(p1025, 'x', 1025);
	p1025[1025] = '\0';
	CHECK(!auth_password_valid("123456789"), "auth: a 9-character password is too short");
	CHECK(auth_password_valid("1234567890"), "auth: a 10-character password is fine");
	CHECK(!auth_password_valid("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9"),
	      "auth: 9 two-byte characters (18 bytes) are too short: characters count");
	CHECK(auth_password_valid("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				  "\xc3\xa9\xc3\xa9\xc3\xa9"),
	      "auth: 10 two-byte characters are enough");
	CHECK(auth_password_valid(p1024) && !auth_password_valid(p1025),
	      "auth: passwords are at most 1024 bytes");
	CHECK(!auth_password_valid("") && !auth_password_valid(NULL), "auth: no empty password");

	CHECK(auth_server_name_valid("My Home Silo") &&
		      auth_server_name_valid("\xf0\x9f\x92\xbe silo (home)") &&
		      auth_server_name_valid(n64),
	      "auth: server names may hold any visible characters");
	CHECK(!auth_server_name_valid("a\nb") && !auth_server_name_valid(n65) &&
		      !auth_server_name_valid(" x") && !auth_server_name_valid("") &&
		      !auth_server_name_valid("\xe2\x80\xae"),
	      "auth: server names refuse controls, length > 64, edge spaces, empty");
	CHECK(auth_api_label_valid("") && auth_api_label_valid("backup script") &&
		      auth_api_label_valid(n64) && !auth_api_label_valid(n65) &&
		      !auth_api_label_valid("a\x1b[31m"),
	      "auth: API labels: 0..64 bytes, no controls");
	const char *msg = auth_result_str(AUTH_BAD_PASSWORD);
	CHECK(strstr(msg, "10 characters") != NULL, "auth: result strings are sentences (%s)", msg);
}

static void test_setup(void)
{
	struct store *s = fresh();
	CHECK(s != NULL, "auth: fresh store");
	if (!s)
		return;
	char tok[TOKEN_HEX_LEN + 1], other[TOKEN_HEX_LEN + 1], v[80];
	struct user u;
	int r = auth_setup_needed(s);
	CHECK(r == 1, "auth: a fresh store needs setup");
	r = auth_setup_token_new(s, T0, tok);
	CHECK(r == 0 && token_valid(tok), "auth: a setup token is minted");
	long long n = q_int(s, "SELECT count(*) FROM setup_tokens WHERE hash = ?1", tok);
	CHECK(n == 0, "auth: the setup token itself is not stored");

	r = auth_setup_token_check(s, tok, T0 + AUTH_SETUP_TTL - 1);
	CHECK(r == 0, "auth: the setup token is valid just before 24 h");
	r = auth_setup_token_check(s, tok, T0 + AUTH_SETUP_TTL);
	CHECK(r == 1, "auth: the setup token has expired at 24 h");
	enum auth_result res = auth_setup(s, tok, "alice", PW, "home", T0 + 24 * 3600, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: setup 24 h later is refused");
	res = auth_setup(s, "nothex", "alice", PW, "home", T0, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: setup with a malformed token is refused");
	token_new(other);
	res = auth_setup(s, other, "alice", PW, "home", T0, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: setup with an unknown token is refused");

	res = auth_setup(s, tok, " alice", PW, "home", T0, &u);
	CHECK(res == AUTH_BAD_NAME, "auth: setup with a bad name is refused");
	res = auth_setup(s, tok, "alice", "short", "home", T0, &u);
	CHECK(res == AUTH_BAD_PASSWORD, "auth: setup with a short password is refused");
	res = auth_setup(s, tok, "alice", PW, "bad\x01name", T0, &u);
	CHECK(res == AUTH_BAD_SERVER_NAME, "auth: setup with a bad server name is refused");
	r = auth_setup_token_check(s, tok, T0);
	CHECK(r == 0, "auth: refused setups leave the token unspent");

	// Failures inside the transaction, after the token was marked spent, roll it all back.
	sqlite3_exec(store_db(s),
		     "CREATE TEMP TRIGGER fail_settings BEFORE INSERT ON settings"
		     " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
		     NULL, NULL, NULL);
	fprintf(stderr, "# an injected store failure is logged next\n");
	res = auth_setup(s, tok, "alice", PW, "home", T0, &u);
	sqlite3_exec(store_db(s), "DROP TRIGGER fail_settings", NULL, NULL, NULL);
	r = auth_setup_token_check(s, tok, T0);
	n = q_int(s, "SELECT count(*) FROM users", NULL);
	long long sp = q_int(s, "SELECT count(*) FROM setup_tokens WHERE spent = 1", NULL);
	CHECK(res == AUTH_ERROR && r == 0 && n == 0 && sp == 0,
	      "auth: a setup failing at its last write leaves no user and the token unspent");
	// A name taken inside the transaction (the pre-check cannot see it: a trigger makes it).
	sqlite3_exec(store_db(s),
		     "CREATE TEMP TRIGGER steal_name BEFORE INSERT ON users BEGIN"
		     " INSERT INTO users (name, pwhash, created) VALUES ('ALICE', 'x', 0); END",
		     NULL, NULL, NULL);
	res = auth_setup(s, tok, "alice", PW, "home", T0, &u);
	sqlite3_exec(store_db(s), "DROP TRIGGER steal_name", NULL, NULL, NULL);
	r = auth_setup_token_check(s, tok, T0);
	n = q_int(s, "SELECT count(*) FROM users", NULL);
	CHECK(res == AUTH_NAME_TAKEN && r == 0 && n == 0,
	      "auth: a setup whose name is taken rolls back: no user, token unspent");

	res = auth_setup(s, tok, "alice", PW, "Alice's silo", T0 + 10, &u);
	CHECK(res == AUTH_OK, "auth: setup with a valid token succeeds");
	CHECK(u.id > 0 && u.is_admin && !u.disabled && strcmp(u.name, "alice") == 0 &&
		      u.created == T0 + 10,
	      "auth: setup returns the new admin");
	r = store_setting_get(s, "server_name", v, sizeof(v));
	CHECK(r == 0 && strcmp(v, "Alice's silo") == 0, "auth: setup sets the server name");
	r = auth_setup_needed(s);
	CHECK(r == 0, "auth: setup is no longer needed");
	r = auth_setup_token_check(s, tok, T0 + 10);
	CHECK(r == 1, "auth: the setup token is spent");
	res = auth_setup(s, tok, "mallory", PW, "x", T0 + 11, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: the setup token works only once");
	r = auth_setup_token_new(s, T0 + 20, other);
	res = auth_setup(s, other, "mallory", PW, "x", T0 + 21, &u);
	CHECK(r == 0 && res == AUTH_ALREADY_SET_UP, "auth: setup is refused once an admin exists");
	n = q_int(s, "SELECT count(*) FROM users", NULL);
	CHECK(n == 1, "auth: refused setups created no users");
	store_close(s);

	// An empty server name means "silo".
	s = fresh();
	if (!s)
		return;
	r = auth_setup_token_new(s, T0, tok);
	res = auth_setup(s, tok, "bob", PW, "", T0, NULL);
	int g = store_setting_get(s, "server_name", v, sizeof(v));
	CHECK(r == 0 && res == AUTH_OK && g == 0 && strcmp(v, "silo") == 0,
	      "auth: an empty server name becomes \"silo\"");
	store_close(s);
}

static void test_login(void)
{
	struct store *s = fresh();
	if (!s)
		return;
	auth_throttle_reset();
	int64_t alice = make_admin(s, "alice");
	CHECK(alice > 0, "auth: (admin alice made)");
	struct user u;
	int64_t retry = -1;
	enum auth_result res = auth_login(s, "alice", PW, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_OK && u.id == alice && u.is_admin && retry == 0,
	      "auth: login with the right password");
	res = auth_login(s, "ALICE", PW, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_OK && u.id == alice, "auth: login names are case-insensitive");
	res = auth_login(s, "alice", "wrong password", "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: login with a wrong password fails");
	res = auth_login(s, "nobody", PW, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: login as an unknown user fails the same way");
	char big[2048];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	res = auth_login(s, "alice", big, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: an over-long password fails");
	res = auth_login(s, big, PW, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: an over-long name fails");
	res = auth_login(s, NULL, PW, "10.0.0.1", T0, &u, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: a NULL name fails");

	// Per name: five failures from five addresses lock the name, not the addresses.
	auth_throttle_reset();
	char addr[32];
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		res = auth_login(s, "alice", "guess guess", addr, T0, NULL, &retry);
	}
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: five failures are plain failures");
	res = auth_login(s, "Alice", PW, "192.0.2.99", T0, &u, &retry);
	CHECK(res == AUTH_THROTTLED && retry >= 1, "auth: the 6th attempt on the name is throttled, "
						   "even with the right password (retry %lld)",
	      (long long)retry);
	res = auth_login(s, "nobody", "guess guess", "192.0.2.0", T0, NULL, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: another name from one of those addresses is not");
	int64_t wait = 0;
	res = auth_login(s, "alice", PW, "192.0.2.99", T0, NULL, &wait);
	res = auth_login(s, "alice", PW, "192.0.2.99", T0 + wait, &u, &retry);
	CHECK(res == AUTH_OK, "auth: once the backoff has passed, the right password works");
	for (int i = 0; i < 5; i++)
		res = auth_login(s, "alice", "guess guess", "192.0.2.50", T0 + wait, NULL, &retry);
	CHECK(res == AUTH_BAD_CREDENTIALS, "auth: success cleared the name's failures");

	// The backoff doubles; failures are forgotten after 15 quiet minutes.
	auth_throttle_reset();
	int64_t t = T0 + 1000, w1 = 0, w2 = 0;
	for (int i = 0; i < 5; i++)
		auth_login(s, "alice", "guess guess", NULL, t, NULL, &retry);
	auth_login(s, "alice", PW, NULL, t, NULL, &w1);
	auth_login(s, "alice", "guess guess", NULL, t + w1, NULL, &retry);   // 6th failure
	res = auth_login(s, "alice", PW, NULL, t + w1, NULL, &w2);
	CHECK(res == AUTH_THROTTLED && w1 == 1 && w2 == 2,
	      "auth: the backoff doubles (%lld s, then %lld s)", (long long)w1, (long long)w2);
	t += w1 + w2 + 15 * 60;
	auth_login(s, "alice", "guess guess", NULL, t, NULL, &retry);   // counts as the 1st again
	res = auth_login(s, "alice", PW, NULL, t, &u, &retry);
	CHECK(res == AUTH_OK, "auth: failures are forgotten after 15 quiet minutes");
	// A guess each time the backoff has passed: the delay grows to its cap and holds there.
	auth_throttle_reset();
	int64_t max = 0;
	int failed = 0, refused = 0;
	for (int i = 0; i < 30; i++) {
		failed += auth_login(s, "alice", "guess guess", NULL, t, NULL, &retry) ==
			  AUTH_BAD_CREDENTIALS;
		if (i < THROTTLE_FREE_TEST - 1)
			continue;
		refused += auth_login(s, "alice", PW, NULL, t, NULL, &retry) == AUTH_THROTTLED;
		max = retry > max ? retry : max;
		t += retry;
	}
	CHECK(failed == 30 && refused == 31 - THROTTLE_FREE_TEST && retry == 15 * 60 &&
		      max == 15 * 60,
	      "auth: the backoff is capped at 15 minutes and holds there");

	// Per address: failures for many names from one address lock that address.
	auth_throttle_reset();
	for (int i = 0; i < 5; i++) {
		char name[24];
		snprintf(name, sizeof(name), "user%d", i);
		res = auth_login(s, name, "guess guess", "203.0.113.7", T0, NULL, &retry);
	}
	res = auth_login(s, "alice", PW, "203.0.113.7", T0, &u, &retry);
	CHECK(res == AUTH_THROTTLED && retry >= 1, "auth: the address is throttled after 5 failures");
	res = auth_login(s, "alice", PW, "203.0.113.8", T0, &u, &retry);
	CHECK(res == AUTH_OK, "auth: another address may still log in");

	// A throttled attempt is refused before any hashing: at full cost, 200 throttled
	// attempts take less time than one real check.
	auth_throttle_reset();
	auth_set_pwhash_cost(crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	struct timespec a, b, c, d;
	auth_login(s, "ghost", "guess guess", "198.51.100.1", T0, NULL, &retry);   // makes the dummy
	clock_gettime(CLOCK_MONOTONIC, &a);
	auth_login(s, "ghost", "guess guess", "198.51.100.1", T0, NULL, &retry);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (int i = 0; i < 3; i++)
		auth_login(s, "ghost", "guess guess", "198.51.100.1", T0, NULL, &retry);
	int throttled = 0;
	clock_gettime(CLOCK_MONOTONIC, &c);
	for (int i = 0; i < 200; i++)
		throttled += auth_login(s, "ghost", "guess guess", "198.51.100.1", T0, NULL,
					&retry) == AUTH_THROTTLED;
	clock_gettime(CLOCK_MONOTONIC, &d);
	double one = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	double many = (double)(d.tv_sec - c.tv_sec) + (double)(d.tv_nsec - c.tv_nsec) / 1e9;
	CHECK(throttled == 200 && many < one,
	      "auth: throttled attempts cost no hashing (200 in %.4f s, one check %.4f s)", many,
	      one);
	auth_set_pwhash_cost(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);

	// The table stays bounded: a flood of names does not break anything.
	auth_throttle_reset();
	for (int i = 0; i < 3000; i++) {
		char name[24];
		snprintf(name, sizeof(name), "flood%d", i);
		auth_login(s, name, "x", NULL, T0, NULL, &retry);
	}
	res = auth_login(s, "alice", PW, "198.51.100.9", T0, &u, &retry);
	CHECK(res == AUTH_OK, "auth: a flood of names evicts old entries without harm");
	auth_throttle_reset();
	store_close(s);
}

static void test_sessions(void)
{
	struct store *s = fresh();
	if (!s)
		return;
	int64_t alice = make_admin(s, "alice");
	char cookie[TOKEN_HEX_LEN + 1], csrf[TOKEN_HEX_LEN + 1], csrf2[TOKEN_HEX_LEN + 1];
	char h[TOKEN_HEX_LEN + 1];
	struct user u;
	int r = auth_session_new(s, alice, T0, cookie, csrf);
	CHECK(r == 0 && token_valid(cookie) && token_valid(csrf) && strcmp(cookie, csrf) != 0,
	      "auth: a session gets a cookie and a separate csrf token");
	token_hash(cookie, h);
	long long raw = q_int(s, "SELECT count(*) FROM sessions WHERE hash = ?1", cookie);
	long long hashed = q_int(s, "SELECT count(*) FROM sessions WHERE hash = ?1", h);
	CHECK(raw == 0 && hashed == 1, "auth: only the cookie's hash is stored");
	r = auth_session_lookup(s, cookie, T0 + 5, &u, csrf2);
	CHECK(r == 0 && u.id == alice && strcmp(csrf, csrf2) == 0,
	      "auth: lookup finds the user and the session's csrf");
	memset(csrf2, 0, sizeof(csrf2));
	r = auth_session_lookup(s, cookie, T0 + 100, NULL, csrf2);
	CHECK(r == 0 && strcmp(csrf, csrf2) == 0, "auth: the csrf token is stable for the session");
	long long exp = q_int(s, "SELECT expires FROM sessions WHERE hash = ?1", h);
	CHECK(exp == T0 + 100 + AUTH_SESSION_TTL, "auth: a lookup slides the expiry forward");
	r = auth_session_lookup(s, cookie, T0 + 130, NULL, NULL);
	exp = q_int(s, "SELECT expires FROM sessions WHERE hash = ?1", h);
	CHECK(r == 0 && exp == T0 + 100 + AUTH_SESSION_TTL,
	      "auth: the expiry is renewed at most once a minute");
	r = auth_session_lookup(s, cookie, T0 + 100 + AUTH_SESSION_TTL - 1, NULL, NULL);
	CHECK(r == 0, "auth: a session used within its TTL stays alive");
	int64_t last = T0 + 100 + AUTH_SESSION_TTL - 1;
	r = auth_session_lookup(s, cookie, last + AUTH_SESSION_TTL, NULL, NULL);
	long long left = q_int(s, "SELECT count(*) FROM sessions WHERE hash = ?1", h);
	CHECK(r == 1 && left == 0, "auth: an idle session expires after the TTL and is removed");

	r = auth_session_lookup(s, "zz", T0, &u, NULL);
	int r2 = auth_session_lookup(s, h, T0, &u, NULL);   // well-formed but unknown
	CHECK(r == 1 && r2 == 1, "auth: malformed and unknown cookies are not found");

	r = auth_session_new(s, alice, T0, cookie, csrf);
	char cookie2[TOKEN_HEX_LEN + 1];
	r2 = auth_session_new(s, alice, T0, cookie2, csrf2);
	CHECK(r == 0 && r2 == 0 && strcmp(csrf, csrf2) != 0, "auth: each session has its own csrf");
	r = auth_session_end(s, cookie);
	int l1 = auth_session_lookup(s, cookie, T0 + 1, NULL, NULL);
	int l2 = auth_session_lookup(s, cookie2, T0 + 1, NULL, NULL);
	CHECK(r == 0 && l1 == 1 && l2 == 0, "auth: ending a session ends only that one");
	r = auth_session_end(s, cookie);
	CHECK(r == 0, "auth: ending an unknown session is not an error");

	// Expired sessions are purged when new ones are made.
	r = auth_session_new(s, alice, T0 + 3 * AUTH_SESSION_TTL, cookie, csrf);
	long long n = q_int(s, "SELECT count(*) FROM sessions", NULL);
	CHECK(r == 0 && n == 1, "auth: expired sessions are purged opportunistically");
	fprintf(stderr, "# an error about a missing user is expected next\n");
	r = auth_session_new(s, 999, T0, cookie, csrf);
	CHECK(r == -1, "auth: no session for a missing user");
	store_close(s);
}

static int count_user(const struct user *u, void *arg)
{
	char *names = arg;
	strcat(names, u->name);
	strcat(names, ",");
	return 0;
}

static int stop_at_first(const struct user *u, void *arg)
{
	(void)u;
	++*(int *)arg;
	return 7;
}

static void test_invites_and_users(void)
{
	struct store *s = fresh();
	if (!s)
		return;
	int64_t alice = make_admin(s, "alice");
	char tok[TOKEN_HEX_LEN + 1], tok2[TOKEN_HEX_LEN + 1];
	struct user u;
	int r = auth_invite_new(s, alice, T0, tok);
	CHECK(r == 0 && token_valid(tok), "auth: an admin makes an invitation");
	long long raw = q_int(s, "SELECT count(*) FROM invites WHERE hash = ?1", tok);
	CHECK(raw == 0, "auth: only the invitation's hash is stored");
	r = auth_invite_check(s, tok, T0 + AUTH_INVITE_TTL - 1);
	int r2 = auth_invite_check(s, tok, T0 + AUTH_INVITE_TTL);
	CHECK(r == 0 && r2 == 1, "auth: an invitation is valid for 7 days");
	enum auth_result res = auth_invite_accept(s, tok, "bob", PW, T0 + AUTH_INVITE_TTL, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: an expired invitation cannot be accepted");
	res = auth_invite_accept(s, tok, "ALICE", PW, T0 + 1, &u);
	CHECK(res == AUTH_NAME_TAKEN, "auth: a taken name (any case) is refused");
	res = auth_invite_accept(s, tok, "bob\n", PW, T0 + 1, &u);
	CHECK(res == AUTH_BAD_NAME, "auth: a bad name is refused");
	res = auth_invite_accept(s, tok, "bob", "123456789", T0 + 1, &u);
	CHECK(res == AUTH_BAD_PASSWORD, "auth: a 9-character password is refused");
	r = auth_invite_check(s, tok, T0 + 1);
	CHECK(r == 0, "auth: refused acceptances leave the invitation usable");
	res = auth_invite_accept(s, tok, "bob", PW, T0 + 2, &u);
	int64_t bob = u.id;
	CHECK(res == AUTH_OK && bob > 0 && !u.is_admin && strcmp(u.name, "bob") == 0,
	      "auth: accepting creates a regular user");
	long long used_by = q_int(s, "SELECT used_by FROM invites", NULL);
	CHECK(used_by == bob, "auth: the invitation records who used it");
	r = auth_invite_check(s, tok, T0 + 3);
	res = auth_invite_accept(s, tok, "carol", PW, T0 + 3, &u);
	CHECK(r == 1 && res == AUTH_BAD_TOKEN, "auth: an invitation is single use");
	res = auth_invite_accept(s, "garbage", "carol", PW, T0 + 3, &u);
	CHECK(res == AUTH_BAD_TOKEN, "auth: a malformed invitation is refused");
	fprintf(stderr, "# an error about a non-admin inviter is expected next\n");
	r = auth_invite_new(s, bob, T0, tok2);
	CHECK(r == -1, "auth: a non-admin cannot invite");
	enum auth_result lr = auth_login(s, "bob", PW, "10.1.1.1", T0 + 4, &u, NULL);
	CHECK(lr == AUTH_OK && u.id == bob, "auth: the invited user can log in");

	// The user list, ordered by name case-insensitively.
	int64_t carol = make_user(s, alice, "Carol");
	int64_t dave = make_user(s, alice, "dave");
	char names[256] = "";
	r = auth_user_list(s, count_user, names);
	CHECK(r == 0 && strcmp(names, "alice,bob,Carol,dave,") == 0, "auth: users listed by name (%s)",
	      names);
	int calls = 0;
	r = auth_user_list(s, stop_at_first, &calls);
	CHECK(r == 7 && calls == 1, "auth: a non-zero callback return stops the list");
	r = auth_user_get(s, carol, &u);
	CHECK(r == 0 && u.id == carol && strcmp(u.name, "Carol") == 0, "auth: get a user by id");
	r = auth_user_get(s, 12345, &u);
	CHECK(r == 1, "auth: a missing user is 1");

	// Disabling ends sessions and blocks login; the last admin stays.
	char cookie[TOKEN_HEX_LEN + 1], csrf[TOKEN_HEX_LEN + 1], api[TOKEN_HEX_LEN + 1];
	auth_session_new(s, dave, T0, cookie, csrf);
	auth_api_token_new(s, dave, "cron", T0, api);
	r = auth_user_set_disabled(s, dave, true);
	char dave_id[24];
	snprintf(dave_id, sizeof(dave_id), "%lld", (long long)dave);
	long long sess = q_int(s, "SELECT count(*) FROM sessions WHERE user_id = CAST(?1 AS INTEGER)",
			       dave_id);
	int look = auth_session_lookup(s, cookie, T0 + 1, &u, NULL);
	CHECK(r == 0 && sess == 0 && look == 1, "auth: disabling a user ends their sessions");
	lr = auth_login(s, "dave", PW, "10.2.2.2", T0 + 2, &u, NULL);
	CHECK(lr == AUTH_DISABLED, "auth: a disabled user's right password gives AUTH_DISABLED");
	lr = auth_login(s, "dave", "wrong password", "10.2.2.2", T0 + 2, &u, NULL);
	CHECK(lr == AUTH_BAD_CREDENTIALS, "auth: a disabled user's wrong password is just wrong");
	look = auth_api_token_lookup(s, api, T0 + 3, &u);
	CHECK(look == 1, "auth: a disabled user's API tokens stop working");
	r = auth_session_new(s, dave, T0, cookie, csrf);
	CHECK(r == -1, "auth: no new session for a disabled user");
	r = auth_user_set_disabled(s, dave, false);
	lr = auth_login(s, "dave", PW, "10.2.2.2", T0 + 5, &u, NULL);
	look = auth_api_token_lookup(s, api, T0 + 5, &u);
	CHECK(r == 0 && lr == AUTH_OK && look == 0, "auth: enabling a user restores login and tokens");

	r = auth_user_set_disabled(s, alice, true);
	int ua = auth_user_get(s, alice, &u);
	CHECK(r == 1 && ua == 0 && !u.disabled, "auth: the last enabled admin cannot be disabled");
	sqlite3_exec(store_db(s), "UPDATE users SET is_admin = 1 WHERE name = 'bob'", NULL, NULL,
		     NULL);
	r = auth_invite_new(s, bob, T0, tok2);
	r2 = auth_user_set_disabled(s, alice, true);
	int r3 = auth_user_set_disabled(s, bob, true);
	CHECK(r == 0 && r2 == 0 && r3 == 1,
	      "auth: with two admins one may be disabled, then the other is the last");
	r = auth_user_set_disabled(s, alice, false);
	r2 = auth_user_set_disabled(s, bob, true);
	int chk = auth_invite_check(s, tok2, T0 + 1);
	CHECK(r == 0 && r2 == 0 && chk == 1,
	      "auth: an invitation from a disabled admin stops working");
	fprintf(stderr, "# an error about a missing user is expected next\n");
	r = auth_user_set_disabled(s, 999, true);
	CHECK(r == -1, "auth: disabling a missing user is an error");
	store_close(s);
}

struct tok_list {
	int n;
	struct api_token t[8];
};

static int collect_token(const struct api_token *t, void *arg)
{
	struct tok_list *l = arg;
	if (l->n < 8)
		l->t[l->n++] = *t;
	return 0;
}

static void test_api_tokens(void)
{
	struct store *s = fresh();
	if (!s)
		return;
	int64_t alice = make_admin(s, "alice");
	int64_t bob = make_user(s, alice, "bob");
	char t1[TOKEN_HEX_LEN + 1], t2[TOKEN_HEX_LEN + 1], h[TOKEN_HEX_LEN + 1];
	struct user u;
	int r = auth_api_token_new(s, alice, "backup", T0, t1);
	int r2 = auth_api_token_new(s, alice, "", T0 + 10, t2);
	CHECK(r == 0 && r2 == 0 && token_valid(t1) && strcmp(t1, t2) != 0,
	      "auth: API tokens are minted");
	token_hash(t1, h);
	long long raw = q_int(s, "SELECT count(*) FROM api_tokens WHERE hash = ?1", t1);
	long long hashed = q_int(s, "SELECT count(*) FROM api_tokens WHERE hash = ?1", h);
	CHECK(raw == 0 && hashed == 1, "auth: only the API token's hash is stored");
	fprintf(stderr, "# two errors about bad labels are expected next\n");
	char n65[66];
	memset(n65, 'l', 65);
	n65[65] = '\0';
	r = auth_api_token_new(s, alice, n65, T0, t2);
	r2 = auth_api_token_new(s, alice, "a\tb", T0, t2);
	CHECK(r == -1 && r2 == -1, "auth: labels over 64 bytes or with controls are refused");

	struct tok_list l = { 0 };
	r = auth_api_token_list(s, alice, collect_token, &l);
	CHECK(r == 0 && l.n == 2 && strcmp(l.t[0].label, "") == 0 &&
		      strcmp(l.t[1].label, "backup") == 0 && l.t[1].created == T0 &&
		      l.t[1].last_used == 0,
	      "auth: the list shows the user's tokens, newest first, never used");
	r = auth_api_token_lookup(s, t1, T0 + 100, &u);
	CHECK(r == 0 && u.id == alice, "auth: a token looks up its user");
	memset(&l, 0, sizeof(l));
	auth_api_token_list(s, alice, collect_token, &l);
	CHECK(l.n == 2 && l.t[1].last_used == T0 + 100, "auth: a lookup marks the last use");
	auth_api_token_lookup(s, t1, T0 + 130, &u);
	long long lu = q_int(s, "SELECT last_used FROM api_tokens WHERE hash = ?1", h);
	CHECK(lu == T0 + 100, "auth: last use is written at most once a minute");
	auth_api_token_lookup(s, t1, T0 + 160, &u);
	lu = q_int(s, "SELECT last_used FROM api_tokens WHERE hash = ?1", h);
	CHECK(lu == T0 + 160, "auth: ... and again a minute later");

	memset(&l, 0, sizeof(l));
	auth_api_token_list(s, bob, collect_token, &l);
	CHECK(l.n == 0, "auth: another user's list is empty");
	int64_t id1 = q_int(s, "SELECT id FROM api_tokens WHERE hash = ?1", h);
	r = auth_api_token_revoke(s, bob, id1);
	r2 = auth_api_token_lookup(s, t1, T0 + 200, &u);
	CHECK(r == 1 && r2 == 0, "auth: a user cannot revoke another's token");
	r = auth_api_token_revoke(s, alice, id1);
	r2 = auth_api_token_lookup(s, t1, T0 + 200, &u);
	int r3 = auth_api_token_revoke(s, alice, id1);
	CHECK(r == 0 && r2 == 1 && r3 == 1, "auth: a revoked token is not found; revoking twice is 1");
	memset(&l, 0, sizeof(l));
	auth_api_token_list(s, alice, collect_token, &l);
	CHECK(l.n == 1 && strcmp(l.t[0].label, "") == 0, "auth: revoked tokens leave the list");
	r = auth_api_token_lookup(s, "not a token", T0, &u);
	r2 = auth_api_token_lookup(s, h, T0, &u);
	CHECK(r == 1 && r2 == 1, "auth: malformed and unknown tokens are not found");
	store_close(s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	auth_set_pwhash_cost(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
	test_rules();
	test_setup();
	test_login();
	test_sessions();
	test_invites_and_users();
	test_api_tokens();
	for (size_t i = 0; i < ndirs; i++)
		nftw(dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
