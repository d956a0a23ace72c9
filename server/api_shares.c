// SPDX-License-Identifier: MIT
// The sharing endpoints of the JSON API: links and device tokens of a grain, revocation,
// the grain's access log, grains shared with the caller, and opening a link's session.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "jsonbody.h"
#include "server.h"
#include "sharing.h"
#include "web.h"

#define API_LOG_MAX 1000

// The grain in args[0] when the caller may see its sharing: its owner, or someone it was
// shared with. SHARING_ROLE_ERROR after answering.
static enum sharing_role grain_arg(struct web_req *w, struct http_response *r,
				   struct grain_info *g)
{
	if (!api_need_login(w, r))
		return SHARING_ROLE_ERROR;
	enum sharing_role role = sharing_role_of(w, w->args[0], g);
	if (role == SHARING_ROLE_OWNER || role == SHARING_ROLE_SHARED)
		return role;
	if (role == SHARING_ROLE_ERROR)
		resp_error(r, 500, "could not check access");
	else if (role == SHARING_ROLE_NONE)
		resp_error(r, 403, "this grain belongs to someone else");
	else if (role == SHARING_ROLE_TRASHED)
		resp_error(r, 409, "the grain is in the trash; restore it first");
	else
		resp_error(r, 404, "no such grain");
	return SHARING_ROLE_ERROR;
}

static void post_share(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (grain_arg(w, r, &g) == SHARING_ROLE_ERROR)
		return;
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	char err[160];
	const char *role, *label, *kind;
	if (jsonbody_str(o, "role", true, SHARE_ROLE_MAX, &role, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "label", false, SHARE_LABEL_MAX, &label, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "kind", false, 8, &kind, err, sizeof(err)) < 0) {
		json_decref(o);
		resp_error(r, 400, err);
		return;
	}
	if (kind && strcmp(kind, "link") != 0 && strcmp(kind, "device") != 0) {
		json_decref(o);
		resp_error(r, 400, "'kind' must be \"link\" or \"device\"");
		return;
	}
	enum share_kind k = kind && strcmp(kind, "device") == 0 ? SHARE_DEVICE : SHARE_LINK;
	struct sharing_new n;
	enum sharing_result res = sharing_create(w, g.id, k, role, label ? label : "", &n);
	json_decref(o);
	if (res != SHARING_OK) {
		resp_error(r, sharing_status(res), sharing_message(res));
		return;
	}
	json_t *v = json_pack("{s:s,s:s,s:s}", "share_id", n.id, "url", n.url, "kind",
			      k == SHARE_LINK ? "link" : "device");
	if (k == SHARE_DEVICE) // a device's client needs it apart from the URL
		json_object_set_new(v, "token", json_string(n.token));
	explicit_bzero(&n, sizeof(n));
	resp_json(r, 201, v);
}

static int add_share(const struct share_info *sh, void *arg)
{
	json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I}", "share_id", sh->id, "kind",
			      sh->kind == SHARE_LINK ? "link" : "device", "role", sh->role, "label",
			      sh->label, "created_by", (json_int_t)sh->created_by, "created_by_name",
			      sh->creator, "created", (json_int_t)sh->created, "last_used",
			      (json_int_t)sh->last_used, "uses", (json_int_t)sh->uses);
	if (sh->parent[0])
		json_object_set_new(v, "derived_from", json_string(sh->parent));
	return json_array_append_new(arg, v);
}

static int add_user(const struct grant_info *g, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I}", "user_id",
						   (json_int_t)g->user_id, "name", g->user_name,
						   "role", g->role, "share_id", g->share_id,
						   "created", (json_int_t)g->created, "last_used",
						   (json_int_t)g->last_used));
}

// The owner sees every link, token and user; anyone else what they made themselves.
static void get_shares(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	enum sharing_role role = grain_arg(w, r, &g);
	if (role == SHARING_ROLE_ERROR)
		return;
	json_t *shares = json_array(), *users = json_array();
	bool owner = role == SHARING_ROLE_OWNER;
	if (shares_list(w->srv->store, g.id, owner ? 0 : w->user.id, add_share, shares) < 0 ||
	    (owner && grants_list(w->srv->store, g.id, 0, add_user, users) < 0)) {
		json_decref(shares);
		json_decref(users);
		resp_error(r, 500, "could not read the grain's sharing");
		return;
	}
	resp_json(r, 200, json_pack("{s:o,s:o}", "shares", shares, "users", users));
}

static void delete_share(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r) || !api_write_ok(w, r))
		return;
	int res = strlen(w->args[0]) == SHARE_ID_LEN ? sharing_revoke(w, w->args[0]) : 1;
	if (res != 0) {
		resp_error(r, res < 0 ? 500 : 404, res < 0 ? "could not revoke the share"
							   : "no such share, or not yours to revoke");
		return;
	}
	resp_json(r, 200, json_pack("{s:s,s:b}", "share_id", w->args[0], "revoked", 1));
}

static void delete_user(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (grain_arg(w, r, &g) == SHARING_ROLE_ERROR || !api_write_ok(w, r))
		return;
	char *end;
	long long uid = strtoll(w->args[1], &end, 10);
	if (g.owner_id != w->user.id) {
		resp_error(r, 403, "only the grain's owner can take access away from people");
		return;
	}
	int res = *end || uid <= 0 ? 1 : sharing_revoke_user(w, g.id, uid);
	if (res != 0) {
		resp_error(r, res < 0 ? 500 : 404, res < 0 ? "could not revoke the access"
							   : "that user holds no access to this grain");
		return;
	}
	resp_json(r, 200, json_pack("{s:I,s:b}", "user_id", (json_int_t)uid, "revoked", 1));
}

static int add_entry(const struct access_entry *e, void *arg)
{
	json_t *v = json_pack("{s:I,s:s,s:s}", "at", (json_int_t)e->at, "role", e->role, "via",
			      e->via);
	if (e->user_id) {
		json_object_set_new(v, "user_id", json_integer(e->user_id));
		json_object_set_new(v, "name", json_string(e->user_name));
	}
	return json_array_append_new(arg, v);
}

static void get_access_log(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	enum sharing_role role = grain_arg(w, r, &g);
	if (role == SHARING_ROLE_ERROR)
		return;
	if (role != SHARING_ROLE_OWNER) {
		resp_error(r, 403, "only the grain's owner can read its access log");
		return;
	}
	json_t *a = json_array();
	if (access_log_list(w->srv->store, g.id, API_LOG_MAX, add_entry, a) < 0) {
		json_decref(a);
		resp_error(r, 500, "could not read the access log");
		return;
	}
	resp_json(r, 200, json_pack("{s:o}", "entries", a));
}

static int add_shared(const struct grain_info *g, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:I}", "grain_id", g->id,
						   "title", g->title, "app_id", g->app_id,
						   "owner", g->owner_name, "last_used",
						   (json_int_t)g->last_used));
}

static void get_shared_with_me(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	json_t *a = json_array();
	if (grains_shared_with(w->srv->store, w->user.id, add_shared, a) < 0) {
		json_decref(a);
		resp_error(r, 500, "could not read the grains shared with you");
		return;
	}
	resp_json(r, 200, json_pack("{s:o}", "grains", a));
}

// Whoever holds a link's token, logged in or not, gets a session host; a logged-in caller
// keeps the grant.
static void post_shared_session(struct web_req *w, struct http_response *r)
{
	if (!api_write_ok(w, r))
		return;
	struct share_info sh;
	int res = sharing_claim(w, w->args[0], &sh);
	struct access a;
	char url[512];
	// A logged-in non-owner now holds a grant: open with what they hold in all.
	if (res == 0)
		res = sharing_open(w, sh.grain, w->logged_in ? NULL : sh.id, &a, url, sizeof(url));
	if (res != 0) {
		resp_error(r, res < 0 ? 500 : 404, res < 0 ? "could not open the grain"
							   : "this sharing link is not valid; it may "
							     "have been revoked");
		return;
	}
	resp_json(r, 201, json_pack("{s:s,s:s,s:s,s:s}", "url", url, "grain_id", sh.grain, "role",
				    a.role, "permissions", a.perms));
}

static const struct web_route routes[] = {
	{HTTP_POST, "/api/v1/grains/*/shares", post_share},
	{HTTP_GET, "/api/v1/grains/*/shares", get_shares},
	{HTTP_DELETE, "/api/v1/grains/*/users/*", delete_user},
	{HTTP_GET, "/api/v1/grains/*/access-log", get_access_log},
	{HTTP_DELETE, "/api/v1/shares/*", delete_share},
	{HTTP_GET, "/api/v1/shared-with-me", get_shared_with_me},
	{HTTP_POST, "/api/v1/shared/*/session", post_shared_session},
};

bool api_shares_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
