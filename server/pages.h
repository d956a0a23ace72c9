// SPDX-License-Identifier: MIT
// Server-rendered HTML pages of the shell. Each renders a whole document into b; none does I/O.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps.h"
#include "auth.h"
#include "buf.h"
#include "grains.h"
#include "shares.h"

struct manifest;

// What every page needs: the server's display name, the viewer (NULL when logged out),
// and the CSRF token every form carries in a hidden field named "csrf" (and, for logged-in
// viewers, <meta name="csrf"> holds for app.js's API calls, in X-CSRF-Token).
struct page_ctx {
	const char *server_name;   // "silo" before setup
	const struct user *user;   // NULL: not logged in
	const char *csrf;          // session's, or the pre-session double-submit token
	const char *notice;        // a one-line success message to show, or NULL
	const char *error;         // a one-line error message to show, or NULL
};

// The setup wizard at /setup/TOKEN; form POSTs to the same path with fields
// server_name, name, password, password2, csrf. name/server_name prefill after an error.
void page_setup(struct buf *b, const struct page_ctx *c, const char *token,
		const char *server_name, const char *name);
// Shown for a spent, expired or unknown setup token.
void page_setup_spent(struct buf *b, const struct page_ctx *c);
// Login at /login; POSTs name, password, csrf, next (a local path to return to).
void page_login(struct buf *b, const struct page_ctx *c, const char *name, const char *next);

// An installed app and its manifest (NULL when it cannot be read: no actions shown).
struct page_app {
	struct app_info info;
	struct manifest *m;        // the caller owns and frees it
};
// A grain of the viewer's, and whether it runs now.
struct page_grain {
	struct grain_info g;
	bool running;
};
// What the apps-and-grains pages list.
struct page_lists {
	const struct page_app *apps;
	size_t napps;
	const struct page_grain *grains;   // live ones (home) or trashed ones (trash)
	size_t ngrains;
	size_t ntrash;                     // home: how many are in the trash
	const struct page_grain *shared;   // home: others' grains shared with the viewer
	size_t nshared;
};

// The home page of a logged-in user (/): the "New ..." buttons of each app's actions
// (#new-<app id>-<action index>, for app.js to POST /api/v1/grains) and the grains list
// (#grains-list) linking to /grain/<id>.
void page_home(struct buf *b, const struct page_ctx *c, const struct page_lists *l);
// The apps page /apps: the upload control (#app-upload, #app-upload-button; app.js posts
// the file to /api/v1/apps and asks before an upgrade) and the installed apps (#apps-list).
void page_apps(struct buf *b, const struct page_ctx *c, const struct page_lists *l);
// A grain open: whose view it is, and what its Share dialog offers.
struct page_grain_view {
	const struct grain_info *g;
	const char *frame_url;        // a fresh session host's first URL
	bool owner;                   // rename, console log, trash
	const char *role;             // the viewer's role when not the owner, or NULL
	// Roles the viewer may share (nroles 0: no Share control, e.g. for anonymous visitors).
	const char *const *role_names;
	const char *const *role_titles;
	size_t nroles, default_role;
	const char *share_url;        // a link just made: the dialog opens showing it
	const char *share_error;      // why making one failed: the dialog opens saying it
};
// A grain open at /grain/<id> (or /shared/<token>): the grain's bar (#grain-title; for the
// owner rename, console log, trash; the Share dialog <details id="share"> with #share-form
// posting role and label to /grain/<id>/shares, #share-url once made, #share-access to
// /grain/<id>/access) and the app in an iframe (#grain-frame).
void page_grain(struct buf *b, const struct page_ctx *c, const struct page_grain_view *v);
// "Who has access" at /grain/<id>/access: links (#share-links), device tokens
// (#share-devices, with the "Connect a device" form posting role and label to
// /grain/<id>/devices), users holding grants (#share-users), each row with a revoke form
// (button.revoke), and the access log (#access-log).
struct page_access {
	const struct grain_info *g;
	bool owner;
	const struct share_info *links, *devices;
	size_t nlinks, ndevices;
	const struct grant_info *users;
	size_t nusers;
	const struct access_entry *log;
	size_t nlog;
	const char *const *role_names;
	const char *const *role_titles;
	size_t nroles, default_role;
	const char *device_url, *device_token;   // a device token just made, shown once
};
void page_access(struct buf *b, const struct page_ctx *c, const struct page_access *a);
// The trash /trash: trashed grains with Restore and Delete forever (app.js, the API).
void page_trash(struct buf *b, const struct page_ctx *c, const struct page_lists *l);
// An invitation at /invite/TOKEN; POSTs name, password, password2, csrf.
void page_invite(struct buf *b, const struct page_ctx *c, const char *token, const char *name);

// The admin page /admin: users (with a disable/enable form posting to
// /admin/users/ID/disable or /enable), and "Create invitation" posting to /admin/invites.
// invite_url: a freshly made invitation link to show once, or NULL.
// The admin page's HTTPS card: the certificate people can check, and ACME's progress.
struct page_https {
	const char *fingerprint;   // SHA-256 of the served certificate; "" without TLS
	const char *acme_state;    // "" when ACME is off
	const char *acme_error;    // the last error, "" when none
	const char *acme_names;
	int64_t acme_not_after;    // unix time; 0 when no certificate was issued yet
};
void page_admin(struct buf *b, const struct page_ctx *c, const struct page_https *https,
		const struct user *users, size_t n,
		const char *invite_url);

// The HTTPS step of the setup wizard, /admin/https (pages_https.c): three forms posting
// mode (dyndns, domain, lan), name, op (check, choose) and csrf to /admin/https.
struct page_https_wizard {
	const char *fingerprint;   // of the self-signed certificate served for the shell host
	const char *mode, *name;   // the stored choice ("" when none)
	const char *host;          // the name the choice makes the server reachable as
	const char *dyndns_zone;   // "" without a dynamic DNS service
	bool acme;                 // a certificate authority is configured
	long http_port;            // where HTTP-01 validation connects
	const char *acme_state;    // "" when no certificate is being fetched
	const char *acme_error;
};
void page_https_wizard(struct buf *b, const struct page_ctx *c,
		       const struct page_https_wizard *h);

// The account page /account: change nothing yet but API tokens: list (label, created, last
// used, revoke form posting to /account/tokens/ID/revoke) and a form posting label to
// /account/tokens. new_token: a freshly minted token to show once, or NULL.
void page_account(struct buf *b, const struct page_ctx *c, const struct api_token *tokens,
		  size_t n, const char *new_token);

// Any error page: status and a sentence saying what happened and what to do.
void page_error(struct buf *b, const struct page_ctx *c, int status, const char *msg);

// Static assets compiled into the binary (generated from server/assets/).
struct asset {
	const char *path;          // "/static/style.css"
	const char *content_type;
	const unsigned char *data;
	size_t len;
	const char *etag;          // quoted strong ETag from the content hash
};
const struct asset *asset_find(const char *path);
