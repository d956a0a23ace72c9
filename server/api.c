// SPDX-License-Identifier: MIT
// The JSON API (/api/v1/...) used by the pages' scripts, by tests and by scripts with an
// API token. Documented in docs/API.md.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "access.h"
#include "api.h"
#include "jsonbody.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "version.h"
#include "web.h"

// State-changing calls: same origin only, and with cookie auth the session's CSRF token
// in X-CSRF-Token. Bearer-token calls carry no ambient authority, so need no CSRF token.
bool api_write_ok(struct web_req *w, struct http_response *r)
{
	if (!web_origin_ok(w)) {
		resp_error(r, 403, "cross-origin request refused");
		return false;
	}
	if (w->logged_in && !w->via_token) {
		const char *t = http_header(w->http, "X-CSRF-Token");
		if (!t || !token_equal(t, w->csrf)) {
			resp_error(r, 403, "missing or wrong X-CSRF-Token header (see GET /api/v1/me)");
			return false;
		}
	}
	return true;
}

// Parses the JSON object body of a write call; NULL after answering the error.
json_t *api_body_object(struct web_req *w, struct http_response *r)
{
	if (!api_write_ok(w, r))
		return NULL;
	const char *ct = http_header(w->http, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		resp_error(r, 415, "the body must be JSON (Content-Type: application/json)");
		return NULL;
	}
	char err[256];
	json_t *o = jsonbody_parse(w->body, w->body_len, err, sizeof(err));
	if (!o)
		resp_error(r, 400, err);
	return o;
}

bool api_need_login(struct web_req *w, struct http_response *r)
{
	if (w->logged_in)
		return true;
	resp_error(r, 401, "not logged in");
	return false;
}

bool api_need_admin(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return false;
	if (!w->user.is_admin) {
		resp_error(r, 403, "only administrators may do this");
		return false;
	}
	return true;
}

static int auth_status(enum auth_result res)
{
	switch (res) {
	case AUTH_OK: return 200;
	case AUTH_BAD_CREDENTIALS: return 401;
	case AUTH_THROTTLED: return 429;
	case AUTH_DISABLED: return 403;
	case AUTH_BAD_TOKEN: return 403;
	case AUTH_NAME_TAKEN: case AUTH_ALREADY_SET_UP: return 409;
	case AUTH_ERROR: return 500;
	default: return 400;
	}
}

static json_t *user_json(const struct user *u)
{
	return json_pack("{s:I,s:s,s:b,s:b,s:I}", "id", (json_int_t)u->id, "name", u->name,
			 "is_admin", u->is_admin, "disabled", u->disabled, "created",
			 (json_int_t)u->created);
}

// Starts a cookie session for u and answers status with {name, is_admin, csrf}.
static void login_reply(struct web_req *w, struct http_response *r, int status,
			const struct user *u)
{
	char cookie[TOKEN_HEX_LEN + 1], csrf[TOKEN_HEX_LEN + 1];
	if (auth_session_new(w->srv->store, u->id, w->now, cookie, csrf) < 0) {
		resp_error(r, 500, "could not start a session");
		return;
	}
	web_set_session(w, r, cookie);
	resp_json(r, status, json_pack("{s:s,s:b,s:s}", "name", u->name, "is_admin", u->is_admin,
				       "csrf", csrf));
}

static void get_status(struct web_req *w, struct http_response *r)
{
	char name[AUTH_NAME_MAX + 1];
	web_server_name(w, name, sizeof(name));
	resp_json(r, 200, json_pack("{s:s,s:b,s:s}", "name", name, "setup_needed",
				    auth_setup_needed(w->srv->store) == 1, "version", SILO_VERSION));
}

static void post_setup(struct web_req *w, struct http_response *r)
{
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *token, *name, *pw, *sname;
	char err[128];
	if (jsonbody_str(o, "token", true, 256, &token, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "name", true, 256, &name, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "password", true, AUTH_PASSWORD_MAX, &pw, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "server_name", false, 256, &sname, err, sizeof(err)) < 0) {
		resp_error(r, 400, err);
		json_decref(o);
		return;
	}
	struct user u;
	enum auth_result res = auth_setup(w->srv->store, token, name, pw, sname ? sname : "",
					  w->now, &u);
	if (res == AUTH_OK) {
		log_info("setup: admin %s created; setup token spent", u.name);
		web_server_name_changed();
		login_reply(w, r, 201, &u);
	} else {
		resp_error(r, auth_status(res), auth_result_str(res));
	}
	json_decref(o);
}

static void post_login(struct web_req *w, struct http_response *r)
{
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *name, *pw;
	char err[128];
	if (jsonbody_str(o, "name", true, 256, &name, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "password", true, AUTH_PASSWORD_MAX, &pw, err, sizeof(err)) < 0) {
		resp_error(r, 400, err);
		json_decref(o);
		return;
	}
	struct user u;
	int64_t retry = 0;
	enum auth_result res = auth_login(w->srv->store, name, pw, w->peer, w->now, &u, &retry);
	if (res == AUTH_OK) {
		log_info("auth: %s logged in from %s", u.name, w->peer);
		login_reply(w, r, 200, &u);
	} else {
		if (res == AUTH_THROTTLED)
			resp_header(r, "Retry-After", "%lld", (long long)retry);
		resp_error(r, auth_status(res), auth_result_str(res));
	}
	json_decref(o);
}

static void post_logout(struct web_req *w, struct http_response *r)
{
	if (!api_write_ok(w, r))
		return;
	if (w->logged_in && !w->via_token)
		auth_session_end(w->srv->store, w->cookie);
	web_clear_session(w, r);
	resp_json(r, 200, json_object());
}

static void get_me(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	resp_json(r, 200, json_pack("{s:I,s:s,s:b,s:s}", "id", (json_int_t)w->user.id, "name",
				    w->user.name, "is_admin", w->user.is_admin, "csrf",
				    w->via_token ? "" : w->csrf));
}

static void post_invites(struct web_req *w, struct http_response *r)
{
	if (!api_need_admin(w, r) || !api_write_ok(w, r))
		return;
	char token[TOKEN_HEX_LEN + 1], url[512];
	if (auth_invite_new(w->srv->store, w->user.id, w->now, token) < 0) {
		resp_error(r, 500, "could not save the invitation");
		return;
	}
	snprintf(url, sizeof(url), "%s/invite/%s", w->srv->base_url, token);
	resp_json(r, 201, json_pack("{s:s,s:I}", "url", url, "expires",
				    (json_int_t)(w->now + AUTH_INVITE_TTL)));
}

static void post_invite_accept(struct web_req *w, struct http_response *r)
{
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *name, *pw;
	char err[128];
	if (jsonbody_str(o, "name", true, 256, &name, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "password", true, AUTH_PASSWORD_MAX, &pw, err, sizeof(err)) < 0) {
		resp_error(r, 400, err);
		json_decref(o);
		return;
	}
	struct user u;
	enum auth_result res = auth_invite_accept(w->srv->store, w->args[0], name, pw, w->now, &u);
	if (res == AUTH_OK)
		login_reply(w, r, 201, &u);
	else
		resp_error(r, res == AUTH_BAD_TOKEN ? 410 : auth_status(res), auth_result_str(res));
	json_decref(o);
}

static int add_user(const struct user *u, void *arg)
{
	return json_array_append_new(arg, user_json(u));
}

static void get_users(struct web_req *w, struct http_response *r)
{
	if (!api_need_admin(w, r))
		return;
	json_t *a = json_array();
	if (auth_user_list(w->srv->store, add_user, a) < 0) {
		json_decref(a);
		resp_error(r, 500, "could not read the users");
		return;
	}
	resp_json(r, 200, json_pack("{s:o}", "users", a));
}

static void set_disabled(struct web_req *w, struct http_response *r, bool disabled)
{
	if (!api_need_admin(w, r) || !api_write_ok(w, r))
		return;
	char *end;
	long long id = strtoll(w->args[0], &end, 10);
	struct user u;
	if (*end || id <= 0 || auth_user_get(w->srv->store, id, &u) != 0) {
		resp_error(r, 404, "no such user");
		return;
	}
	int res = id == w->user.id && disabled ? 1 : auth_user_set_disabled(w->srv->store, id, disabled);
	if (res == 0 && disabled)
		access_changed(w->srv); // their open grain sessions end now
	if (res < 0)
		resp_error(r, 500, "could not save the change");
	else if (res > 0)
		resp_error(r, 409, "you cannot disable your own account or the last administrator");
	else
		resp_json(r, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "disabled", disabled));
}

static void post_user_disable(struct web_req *w, struct http_response *r)
{
	set_disabled(w, r, true);
}

static void post_user_enable(struct web_req *w, struct http_response *r)
{
	set_disabled(w, r, false);
}

static int add_token(const struct api_token *t, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)t->id,
						    "label", t->label, "created",
						    (json_int_t)t->created, "last_used",
						    (json_int_t)t->last_used));
}

static void get_tokens(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	json_t *a = json_array();
	if (auth_api_token_list(w->srv->store, w->user.id, add_token, a) < 0) {
		json_decref(a);
		resp_error(r, 500, "could not read the tokens");
		return;
	}
	resp_json(r, 200, json_pack("{s:o}", "tokens", a));
}

static void post_tokens(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *label;
	char err[128], token[TOKEN_HEX_LEN + 1];
	if (jsonbody_str(o, "label", false, 64, &label, err, sizeof(err)) < 0) {
		resp_error(r, 400, err);
	} else if (label && !auth_api_label_valid(label)) {
		resp_error(r, 400, "'label' must be at most 64 bytes without control characters");
	} else if (auth_api_token_new(w->srv->store, w->user.id, label ? label : "token", w->now,
				      token) < 0) {
		resp_error(r, 500, "could not save the token");
	} else {
		resp_json(r, 201, json_pack("{s:s,s:s}", "token", token, "label", label ? label : "token"));
	}
	json_decref(o);
}

static void delete_token(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r) || !api_write_ok(w, r))
		return;
	char *end;
	long long id = strtoll(w->args[0], &end, 10);
	int res = *end || id <= 0 ? 1 : auth_api_token_revoke(w->srv->store, w->user.id, id);
	if (res < 0)
		resp_error(r, 500, "could not revoke the token");
	else if (res > 0)
		resp_error(r, 404, "no such token");
	else
		resp_json(r, 200, json_object());
}

static const struct web_route routes[] = {
	{HTTP_GET, "/api/v1/status", get_status},
	{HTTP_POST, "/api/v1/setup", post_setup},
	{HTTP_POST, "/api/v1/login", post_login},
	{HTTP_POST, "/api/v1/logout", post_logout},
	{HTTP_GET, "/api/v1/me", get_me},
	{HTTP_POST, "/api/v1/invites", post_invites},
	{HTTP_POST, "/api/v1/invites/*/accept", post_invite_accept},
	{HTTP_GET, "/api/v1/users", get_users},
	{HTTP_POST, "/api/v1/users/*/disable", post_user_disable},
	{HTTP_POST, "/api/v1/users/*/enable", post_user_enable},
	{HTTP_GET, "/api/v1/tokens", get_tokens},
	{HTTP_POST, "/api/v1/tokens", post_tokens},
	{HTTP_DELETE, "/api/v1/tokens/*", delete_token},
};

bool api_route(struct web_req *w, struct http_response *r)
{
	if (web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0)
		return true;
	// Backups first: POST /api/v1/grains/restore would match the grains' /api/v1/grains/*
	// (with other methods) and get a 405.
	return api_https_route(w, r) || api_backup_route(w, r) || api_grains_route(w, r) ||
	       api_shares_route(w, r) || api_system_route(w, r);
}
