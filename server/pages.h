// SPDX-License-Identifier: MIT
// Server-rendered HTML pages of the shell. Each renders a whole document into b; none does I/O.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"

// What every page needs: the server's display name, the viewer (NULL when logged out),
// and the CSRF token every form carries in a hidden field named "csrf".
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
// The home page of a logged-in user (/): greeting, and the empty states of Apps and Grains
// that the apps issue fills in.
void page_home(struct buf *b, const struct page_ctx *c);
// An invitation at /invite/TOKEN; POSTs name, password, password2, csrf.
void page_invite(struct buf *b, const struct page_ctx *c, const char *token, const char *name);

// The admin page /admin: users (with a disable/enable form posting to
// /admin/users/ID/disable or /enable), and "Create invitation" posting to /admin/invites.
// invite_url: a freshly made invitation link to show once, or NULL.
struct page_user_row {
	const struct user *u;
};
void page_admin(struct buf *b, const struct page_ctx *c, const struct user *users, size_t n,
		const char *invite_url);

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
