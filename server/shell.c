// SPDX-License-Identifier: MIT
// The shell's HTML pages: setup wizard, login, home, apps, grains, trash, invitations,
// admin and account. Forms post back here; every post is checked for its CSRF token and
// Origin. Actions on apps and grains are the pages' scripts calling the JSON API.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "acme_status.h"
#include "apps.h"
#include "grainmgr.h"
#include "grains.h"
#include "log.h"
#include "manifest.h"
#include "pages.h"
#include "server.h"
#include "shell_impl.h"
#include "store.h"
#include "tls.h"
#include "util.h"
#include "web.h"

#define FIELD_MAX 1100   // a form field, decoded: past the longest password allowed

// Prepares the page context; for logged-out visitors, makes sure they hold a form token
// (double-submit cookie), since their forms have no session to tie a token to.
void shell_view_init(struct view *v, struct web_req *w, struct http_response *r)
{
	web_server_name(w, v->name, sizeof(v->name));
	memset(&v->c, 0, sizeof(v->c));
	v->c.server_name = v->name;
	v->c.user = w->logged_in ? &w->user : NULL;
	if (!w->logged_in) {
		char t[TOKEN_HEX_LEN + 2];
		if (web_cookie(w, "silo_csrf", t, sizeof(t)) && token_valid(t)) {
			memcpy(w->csrf, t, sizeof(w->csrf));
		} else {
			token_new(w->csrf);
			resp_header(r, "Set-Cookie", "silo_csrf=%s; Path=/; HttpOnly; SameSite=Strict%s",
				    w->csrf, w->srv->base_tls ? "; Secure" : "");
		}
	}
	v->c.csrf = w->csrf;
}

void shell_html_done(struct http_response *r, int status)
{
	r->status = status;
	r->shell_page = true;
	resp_header(r, "Content-Type", "text/html; charset=utf-8");
	resp_header(r, "Cache-Control", "no-store");
}

void shell_error(struct web_req *w, struct http_response *r, int status, const char *msg)
{
	struct view v;
	shell_view_init(&v, w, r);
	page_error(&r->body, &v.c, status, msg);
	shell_html_done(r, status);
}

// A form post is accepted when it comes from our own origin and carries the right token.
bool shell_form_ok(struct web_req *w, struct http_response *r)
{
	char got[TOKEN_HEX_LEN + 2];
	char want[TOKEN_HEX_LEN + 2];
	if (w->logged_in)
		memcpy(want, w->csrf, sizeof(w->csrf));
	else if (!web_cookie(w, "silo_csrf", want, sizeof(want)))
		want[0] = '\0';
	if (!web_origin_ok(w) || web_form(w, "csrf", got, sizeof(got)) < 0 ||
	    !token_valid(want) || !token_equal(got, want)) {
		shell_error(w, r, 403,
			   "This form has expired or was sent from another site. Go back, reload "
			   "the page and try again.");
		return false;
	}
	return true;
}

static void field(struct web_req *w, const char *name, char *out, size_t outsz)
{
	if (web_form(w, name, out, outsz) < 0)
		out[0] = '\0';
}

// A "next" path after login must stay on this site.
static const char *safe_next(const char *next)
{
	if (next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return "/";
	// Browsers drop tabs and newlines from URLs, so "/\t/evil" would become "//evil".
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return "/";
	return next;
}

bool shell_require_login(struct web_req *w, struct http_response *r)
{
	if (w->logged_in)
		return true;
	char loc[600];
	snprintf(loc, sizeof(loc), "/login?next=%s", w->http->path);
	resp_redirect(r, 303, strlen(w->http->path) < 500 ? loc : "/login");
	return false;
}

bool shell_require_admin(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r))
		return false;
	if (!w->user.is_admin) {
		shell_error(w, r, 403, "Only the server's administrators can open this page.");
		return false;
	}
	return true;
}

static void start_session(struct web_req *w, struct http_response *r, const struct user *u,
			  const char *next)
{
	char cookie[TOKEN_HEX_LEN + 1], csrf[TOKEN_HEX_LEN + 1];
	if (auth_session_new(w->srv->store, u->id, w->now, cookie, csrf) < 0) {
		shell_error(w, r, 500, "The server could not start a session. Try again.");
		return;
	}
	web_set_session(w, r, cookie);
	resp_redirect(r, 303, next);
}

// What the apps-and-grains pages list, read from the store.
struct lists {
	struct page_app *apps;
	size_t napps, capps;
	struct page_grain *grains;
	size_t ngrains, cgrains;
	size_t ntrash;
	struct page_grain *shared;
	size_t nshared, cshared;
	const struct server *srv;
};

static int collect_app(const struct app_info *a, void *arg)
{
	struct lists *l = arg;
	struct page_app *p = util_grow(l->apps, l->napps, &l->capps, sizeof(*p));
	if (!p)
		return -1;
	l->apps = p;
	l->apps[l->napps++] = (struct page_app){.info = *a};
	return 0;
}

static int collect_grain(const struct grain_info *g, void *arg)
{
	struct lists *l = arg;
	struct page_grain *p = util_grow(l->grains, l->ngrains, &l->cgrains, sizeof(*p));
	if (!p)
		return -1;
	l->grains = p;
	l->grains[l->ngrains++] =
		(struct page_grain){.g = *g, .running = grainmgr_running(l->srv, g->id)};
	return 0;
}

static int collect_shared(const struct grain_info *g, void *arg)
{
	struct lists *l = arg;
	struct page_grain *p = util_grow(l->shared, l->nshared, &l->cshared, sizeof(*p));
	if (!p)
		return -1;
	l->shared = p;
	l->shared[l->nshared++] =
		(struct page_grain){.g = *g, .running = grainmgr_running(l->srv, g->id)};
	return 0;
}

static int count_grain(const struct grain_info *g, void *arg)
{
	(void)g;
	((struct lists *)arg)->ntrash++;
	return 0;
}

static void lists_free(struct lists *l)
{
	for (size_t i = 0; i < l->napps; i++)
		manifest_free(l->apps[i].m);
	free(l->apps);
	free(l->grains);
	free(l->shared);
}

// The installed apps with their manifests (for their actions). 0 / -1.
static int read_apps(struct web_req *w, struct lists *l)
{
	if (apps_list(w->srv->store, collect_app, l) < 0)
		return -1;
	for (size_t i = 0; i < l->napps; i++)
		l->apps[i].m = apps_manifest_parsed(w->srv->store, l->apps[i].info.package_id);
	return 0;
}

static struct page_lists page_lists(const struct lists *l)
{
	return (struct page_lists){l->apps,   l->napps,  l->grains, l->ngrains,
				   l->ntrash, l->shared, l->nshared};
}

// After "Move to trash" the grain page comes home with ?trashed=ID: say where it went.
static void trashed_notice(struct web_req *w, char *out, size_t outsz)
{
	char id[GRAIN_ID_LEN + 2];
	struct grain_info g;
	if (web_query(w, "trashed", id, sizeof(id)) && strlen(id) == GRAIN_ID_LEN &&
	    grains_get(w->srv->store, id, &g) == 0 && g.owner_id == w->user.id && g.trashed)
		snprintf(out, outsz, "\u201c%s\u201d is in the trash. You can restore it from there "
			 "for 30 days.", g.title);
}

static void get_home(struct web_req *w, struct http_response *r)
{
	if (auth_setup_needed(w->srv->store) == 1) {
		shell_error(w, r, 503,
			   "This server has not been set up yet. Open the setup link printed on "
			   "the server's console, or run `silo admin-token` on the server to get one.");
		return;
	}
	if (!shell_require_login(w, r))
		return;
	struct lists l = {.srv = w->srv};
	if (read_apps(w, &l) < 0 ||
	    grains_list(w->srv->store, w->user.id, false, collect_grain, &l) < 0 ||
	    grains_list(w->srv->store, w->user.id, true, count_grain, &l) < 0 ||
	    grains_shared_with(w->srv->store, w->user.id, collect_shared, &l) < 0) {
		lists_free(&l);
		shell_error(w, r, 500, "Your apps and grains could not be read. Try again.");
		return;
	}
	char notice[GRAIN_TITLE_MAX + 96] = "";
	trashed_notice(w, notice, sizeof(notice));
	struct view v;
	shell_view_init(&v, w, r);
	v.c.notice = notice[0] ? notice : NULL;
	struct page_lists pl = page_lists(&l);
	page_home(&r->body, &v.c, &pl);
	lists_free(&l);
	shell_html_done(r, 200);
}

// After an upload app.js comes back with ?installed=APP or ?upgraded=APP.
static void installed_notice(struct web_req *w, char *out, size_t outsz)
{
	char id[APPS_ID_LEN + 2];
	struct app_info a;
	bool up = false;
	if (!web_query(w, "installed", id, sizeof(id)) &&
	    !(up = web_query(w, "upgraded", id, sizeof(id))))
		return;
	if (apps_get(w->srv->store, id, &a) != 0)
		return;
	if (up)
		snprintf(out, outsz, "%s is upgraded to %s. Its grains run it from their next start.",
			 a.title, a.marketing_version);
	else
		snprintf(out, outsz, "%s %s is installed. Make a grain with it on the home page.",
			 a.title, a.marketing_version);
}

static void get_apps(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r))
		return;
	struct lists l = {.srv = w->srv};
	if (read_apps(w, &l) < 0) {
		lists_free(&l);
		shell_error(w, r, 500, "The apps could not be read. Try again.");
		return;
	}
	char notice[APPS_TITLE_MAX + 192] = "";
	installed_notice(w, notice, sizeof(notice));
	struct view v;
	shell_view_init(&v, w, r);
	v.c.notice = notice[0] ? notice : NULL;
	struct page_lists pl = page_lists(&l);
	page_apps(&r->body, &v.c, &pl);
	lists_free(&l);
	shell_html_done(r, 200);
}

static void get_trash(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r))
		return;
	struct lists l = {.srv = w->srv};
	if (grains_list(w->srv->store, w->user.id, true, collect_grain, &l) < 0) {
		lists_free(&l);
		shell_error(w, r, 500, "The trash could not be read. Try again.");
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	struct page_lists pl = page_lists(&l);
	page_trash(&r->body, &v.c, &pl);
	lists_free(&l);
	shell_html_done(r, 200);
}


static void get_login(struct web_req *w, struct http_response *r)
{
	char next[512];
	const char *q = w->http->query;
	if (strncmp(q, "next=", 5) != 0 ||
	    http_url_decode(q + 5, strcspn(q + 5, "&"), next, sizeof(next), true) < 0)
		strcpy(next, "/");
	if (w->logged_in) {
		resp_redirect(r, 303, safe_next(next));
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	page_login(&r->body, &v.c, "", safe_next(next));
	shell_html_done(r, 200);
}

static void post_login(struct web_req *w, struct http_response *r)
{
	if (!shell_form_ok(w, r))
		return;
	char name[FIELD_MAX], pw[FIELD_MAX], next[512];
	field(w, "name", name, sizeof(name));
	field(w, "password", pw, sizeof(pw));
	field(w, "next", next, sizeof(next));
	struct user u;
	int64_t retry = 0;
	enum auth_result res = auth_login(w->srv->store, name, pw, w->peer, w->now, &u, &retry);
	explicit_bzero(pw, sizeof(pw));
	if (res == AUTH_OK) {
		log_info("auth: %s logged in from %s", u.name, w->peer);
		start_session(w, r, &u, safe_next(next));
		return;
	}
	int status = res == AUTH_THROTTLED ? 429 : res == AUTH_DISABLED ? 403
					     : res == AUTH_ERROR    ? 500
								    : 401;
	if (res == AUTH_THROTTLED)
		resp_header(r, "Retry-After", "%lld", (long long)retry);
	struct view v;
	shell_view_init(&v, w, r);
	v.c.error = auth_result_str(res);
	page_login(&r->body, &v.c, name, safe_next(next));
	shell_html_done(r, status);
}

static void post_logout(struct web_req *w, struct http_response *r)
{
	if (w->logged_in && !shell_form_ok(w, r))
		return;
	if (w->logged_in && !w->via_token)
		auth_session_end(w->srv->store, w->cookie);
	web_clear_session(w, r);
	resp_redirect(r, 303, "/login");
}

static void get_setup(struct web_req *w, struct http_response *r)
{
	struct view v;
	shell_view_init(&v, w, r);
	if (auth_setup_needed(w->srv->store) != 1 ||
	    auth_setup_token_check(w->srv->store, w->args[0], w->now) != 0) {
		page_setup_spent(&r->body, &v.c);
		shell_html_done(r, 410);
		return;
	}
	page_setup(&r->body, &v.c, w->args[0], "", "");
	shell_html_done(r, 200);
}

static void post_setup(struct web_req *w, struct http_response *r)
{
	if (!shell_form_ok(w, r))
		return;
	char sname[FIELD_MAX], name[FIELD_MAX], pw[FIELD_MAX], pw2[FIELD_MAX];
	field(w, "server_name", sname, sizeof(sname));
	field(w, "name", name, sizeof(name));
	field(w, "password", pw, sizeof(pw));
	field(w, "password2", pw2, sizeof(pw2));
	struct user u;
	enum auth_result res = strcmp(pw, pw2) != 0 ? AUTH_PASSWORD_MISMATCH
			       : auth_setup(w->srv->store, w->args[0], name, pw, sname, w->now, &u);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(pw2, sizeof(pw2));
	if (res == AUTH_OK) {
		log_info("setup: admin %s created; setup token spent", u.name);
		web_server_name_changed();
		// Next step of the wizard: how people will reach the server (when it speaks TLS).
		start_session(w, r, &u, w->srv->cfg.nlisten_tls ? "/admin/https" : "/");
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	if (res == AUTH_BAD_TOKEN || res == AUTH_ALREADY_SET_UP) {
		page_setup_spent(&r->body, &v.c);
		shell_html_done(r, 410);
		return;
	}
	v.c.error = auth_result_str(res);
	page_setup(&r->body, &v.c, w->args[0], sname, name);
	shell_html_done(r, res == AUTH_ERROR ? 500 : 400);
}

static void get_invite(struct web_req *w, struct http_response *r)
{
	if (auth_invite_check(w->srv->store, w->args[0], w->now) != 0) {
		shell_error(w, r, 410, "This invitation has been used or has expired. Ask the "
				      "server's administrator for a new one.");
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	page_invite(&r->body, &v.c, w->args[0], "");
	shell_html_done(r, 200);
}

static void post_invite(struct web_req *w, struct http_response *r)
{
	if (!shell_form_ok(w, r))
		return;
	char name[FIELD_MAX], pw[FIELD_MAX], pw2[FIELD_MAX];
	field(w, "name", name, sizeof(name));
	field(w, "password", pw, sizeof(pw));
	field(w, "password2", pw2, sizeof(pw2));
	struct user u;
	enum auth_result res = strcmp(pw, pw2) != 0
				       ? AUTH_PASSWORD_MISMATCH
				       : auth_invite_accept(w->srv->store, w->args[0], name, pw, w->now, &u);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(pw2, sizeof(pw2));
	if (res == AUTH_OK) {
		log_info("invite: %s joined", u.name);
		start_session(w, r, &u, "/");
		return;
	}
	if (res == AUTH_BAD_TOKEN) {
		shell_error(w, r, 410, auth_result_str(res));
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	v.c.error = auth_result_str(res);
	page_invite(&r->body, &v.c, w->args[0], name);
	shell_html_done(r, res == AUTH_ERROR ? 500 : 400);
}

// Users for the admin page, collected from the store.
struct user_list {
	struct user *u;
	size_t n, cap;
};

static int collect_user(const struct user *u, void *arg)
{
	struct user_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct user *p = realloc(l->u, cap * sizeof(*p));
		if (!p)
			return -1;
		l->u = p;
		l->cap = cap;
	}
	l->u[l->n++] = *u;
	return 0;
}

static void render_admin(struct web_req *w, struct http_response *r, const char *invite_url,
			 const char *notice, const char *error)
{
	struct user_list l = {0};
	if (auth_user_list(w->srv->store, collect_user, &l) < 0) {
		free(l.u);
		shell_error(w, r, 500, "The user list could not be read.");
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	v.c.notice = notice;
	v.c.error = error;
	struct acme_status as;
	bool acme = w->srv->cfg.acme_directory[0] && acme_status_read(w->srv->cfg.data, &as) == 0;
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(w->srv->shell_host, ":"), w->srv->shell_host);
	struct page_https https = {
		.fingerprint = tls_fingerprint(w->srv, host),
		.acme_state = acme ? as.state : w->srv->cfg.acme_directory[0] ? "starting" : "",
		.acme_error = acme ? as.error : "",
		.acme_names = acme ? as.names : "",
		.acme_not_after = acme ? as.not_after : 0,
	};
	page_admin(&r->body, &v.c, &https, l.u, l.n, invite_url);
	free(l.u);
	shell_html_done(r, error ? 400 : 200);
}

static void get_admin(struct web_req *w, struct http_response *r)
{
	if (shell_require_admin(w, r))
		render_admin(w, r, NULL, NULL, NULL);
}

static void post_admin_invite(struct web_req *w, struct http_response *r)
{
	if (!shell_require_admin(w, r) || !shell_form_ok(w, r))
		return;
	char token[TOKEN_HEX_LEN + 1], url[512];
	if (auth_invite_new(w->srv->store, w->user.id, w->now, token) < 0) {
		shell_error(w, r, 500, "The invitation could not be saved. Try again.");
		return;
	}
	snprintf(url, sizeof(url), "%s/invite/%s", w->srv->base_url, token);
	render_admin(w, r, url, "Invitation created.", NULL);
}

static void set_disabled(struct web_req *w, struct http_response *r, bool disabled)
{
	if (!shell_require_admin(w, r) || !shell_form_ok(w, r))
		return;
	char *end;
	long long id = strtoll(w->args[0], &end, 10);
	if (*end || id <= 0) {
		shell_error(w, r, 404, "There is no such user.");
		return;
	}
	int res = id == w->user.id && disabled ? 1 : auth_user_set_disabled(w->srv->store, id, disabled);
	if (res == 0 && disabled)
		access_changed(w->srv); // their open grain sessions end now
	if (res < 0)
		shell_error(w, r, 500, "The change could not be saved. Try again.");
	else if (res > 0)
		render_admin(w, r, NULL, NULL, "You cannot disable your own account or the last administrator.");
	else
		resp_redirect(r, 303, "/admin");
}

static void post_user_disable(struct web_req *w, struct http_response *r)
{
	set_disabled(w, r, true);
}

static void post_user_enable(struct web_req *w, struct http_response *r)
{
	set_disabled(w, r, false);
}

struct token_list {
	struct api_token *t;
	size_t n, cap;
};

static int collect_token(const struct api_token *t, void *arg)
{
	struct token_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct api_token *p = realloc(l->t, cap * sizeof(*p));
		if (!p)
			return -1;
		l->t = p;
		l->cap = cap;
	}
	l->t[l->n++] = *t;
	return 0;
}

static void render_account(struct web_req *w, struct http_response *r, const char *new_token)
{
	struct token_list l = {0};
	if (auth_api_token_list(w->srv->store, w->user.id, collect_token, &l) < 0) {
		free(l.t);
		shell_error(w, r, 500, "Your API tokens could not be read.");
		return;
	}
	struct view v;
	shell_view_init(&v, w, r);
	page_account(&r->body, &v.c, l.t, l.n, new_token);
	free(l.t);
	shell_html_done(r, 200);
}

static void get_account(struct web_req *w, struct http_response *r)
{
	if (shell_require_login(w, r))
		render_account(w, r, NULL);
}

static void post_token(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r) || !shell_form_ok(w, r))
		return;
	char label[FIELD_MAX], token[TOKEN_HEX_LEN + 1];
	field(w, "label", label, sizeof(label));
	if (!auth_api_label_valid(label) || auth_api_token_new(w->srv->store, w->user.id, label[0] ? label : "token",
						     w->now, token) < 0) {
		shell_error(w, r, 400, "The token could not be made: its label must be at most 64 characters, without control characters.");
		return;
	}
	render_account(w, r, token);
}

static void post_token_revoke(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r) || !shell_form_ok(w, r))
		return;
	long long id = strtoll(w->args[0], NULL, 10);
	if (auth_api_token_revoke(w->srv->store, w->user.id, id) < 0) {
		shell_error(w, r, 500, "The token could not be revoked. Try again.");
		return;
	}
	resp_redirect(r, 303, "/account");
}

static void get_favicon(struct web_req *w, struct http_response *r)
{
	(void)w;
	resp_redirect(r, 301, "/static/icon.svg");
}

static const struct web_route routes[] = {
	{HTTP_GET, "/", get_home},
	{HTTP_GET, "/apps", get_apps},
	{HTTP_GET, "/trash", get_trash},
	{HTTP_GET, "/login", get_login},
	{HTTP_POST, "/login", post_login},
	{HTTP_POST, "/logout", post_logout},
	{HTTP_GET, "/setup/*", get_setup},
	{HTTP_POST, "/setup/*", post_setup},
	{HTTP_GET, "/invite/*", get_invite},
	{HTTP_POST, "/invite/*", post_invite},
	{HTTP_GET, "/admin", get_admin},
	{HTTP_POST, "/admin/invites", post_admin_invite},
	{HTTP_POST, "/admin/users/*/disable", post_user_disable},
	{HTTP_POST, "/admin/users/*/enable", post_user_enable},
	{HTTP_GET, "/account", get_account},
	{HTTP_POST, "/account/tokens", post_token},
	{HTTP_POST, "/account/tokens/*/revoke", post_token_revoke},
	{HTTP_GET, "/favicon.ico", get_favicon},
};

bool shell_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0 ||
	       shell_shares_route(w, r) || shell_https_route(w, r);
}
