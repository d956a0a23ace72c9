// SPDX-License-Identifier: MIT
// What shell.c's page handlers share with shell_shares.c: the page context, error pages,
// form checks and the login gate.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "pages.h"
#include "response.h"

struct web_req;

struct view {
	char name[AUTH_NAME_MAX + 1];
	struct page_ctx c;
};

// Prepares the page context; for logged-out visitors, makes sure they hold a form token
// (double-submit cookie), since their forms have no session to tie a token to.
void shell_view_init(struct view *v, struct web_req *w, struct http_response *r);
// Marks r as a finished shell page with status.
void shell_html_done(struct http_response *r, int status);
// An error page: status and a sentence saying what happened and what to do.
void shell_error(struct web_req *w, struct http_response *r, int status, const char *msg);
// A form post is accepted when it comes from our own origin and carries the right token;
// false after answering 403.
bool shell_form_ok(struct web_req *w, struct http_response *r);
// false after redirecting a logged-out visitor to the login page.
bool shell_require_login(struct web_req *w, struct http_response *r);
// shell_require_login, then false after a 403 page for someone who is not an administrator.
bool shell_require_admin(struct web_req *w, struct http_response *r);
// Routes for sharing pages (shell_shares.c); false when none matched the path.
bool shell_shares_route(struct web_req *w, struct http_response *r);
// The HTTPS step of the wizard (shell_https.c); false when none matched the path.
bool shell_https_route(struct web_req *w, struct http_response *r);
