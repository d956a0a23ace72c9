// SPDX-License-Identifier: MIT
// The JSON API for apps and grains: install packages, create, list, rename, trash, restore
// and purge grains, open a session host, read a grain's console log.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "access.h"
#include "api.h"
#include "apps.h"
#include "conn.h"
#include "grainmgr.h"
#include "grains.h"
#include "jsonbody.h"
#include "log.h"
#include "manifest.h"
#include "parent_client.h"
#include "server.h"
#include "sharing.h"
#include "token.h"
#include "util.h"
#include "web.h"

#define LOG_READ_MAX (512 * 1024)

// A request waiting for the parent. The conn_wait goes away if the client leaves first.
struct pending {
	struct server *srv;
	struct conn_wait *cw;
	struct user user;
	bool upgrade;
	char grain[33];
	char app[APPS_ID_LEN + 1];
	char title[GRAIN_TITLE_MAX + 1];
	int action;
	int outstanding;      // replies still to come (list)
	json_t *list;
};

static void pending_cancel(void *arg)
{
	struct pending *p = arg;
	p->cw = NULL;
}

static struct pending *pending_new(struct web_req *w)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cw = conn_defer(w->conn);
	if (!p->cw) {
		free(p);
		return NULL;
	}
	p->srv = w->srv;
	p->user = w->user;
	conn_wait_on_cancel(p->cw, pending_cancel, p);
	return p;
}

// Answers the waiting client (if still there) with v and frees p.
static void pending_reply(struct pending *p, int status, json_t *v)
{
	if (p->cw) {
		struct http_response *r = conn_wait_response(p->cw);
		resp_reset(r);
		resp_json(r, status, v);
		conn_wait_on_cancel(p->cw, NULL, NULL);
		conn_wait_done(p->cw);
	} else {
		json_decref(v);
	}
	json_decref(p->list);
	free(p);
}

static json_t *err_json(const char *msg)
{
	return json_pack("{s:s}", "error", msg);
}

// Reads an installed package's manifest (the front may read apps/*/silo-manifest.json).
static char *read_manifest(const struct server *s, const char *package)
{
	char path[PATH_MAX];
	if (util_path(path, sizeof(path), "%s/apps/%s/" MANIFEST_PATH, s->cfg.data, package) < 0)
		return NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *text = calloc(1, MANIFEST_MAX_BYTES + 1);
	if (text && fread(text, 1, MANIFEST_MAX_BYTES, f) == 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static json_t *app_json(const struct app_info *a)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "app_id", a->id, "package_id", a->package_id,
			 "title", a->title, "marketing_version", a->marketing_version, "version",
			 (json_int_t)a->version, "grains", (json_int_t)a->grains);
}

static void on_drop_reply(void *arg, const struct priv_msg *m, int fd)
{
	(void)arg;
	(void)m;
	if (fd >= 0)
		close(fd);
}

// A package the store did not take is removed again (unless something uses it).
static void drop_package(struct server *s, const char *package)
{
	if (apps_package_in_use(s->store, package) != 0)
		return;
	struct priv_msg m = {.type = PRIV_PKG_REMOVE};
	snprintf(m.package, sizeof(m.package), "%s", package);
	pc_request(s, &m, -1, on_drop_reply, NULL);
}

static void on_installed(void *arg, const struct priv_msg *m, int fd)
{
	struct pending *p = arg;
	struct server *s = p->srv;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		char msg[sizeof(m->text) + 40];
		snprintf(msg, sizeof(msg), "the package was refused: %s", m->text);
		pending_reply(p, m->status == EPIPE ? 503 : 400, err_json(msg));
		return;
	}
	char *manifest = read_manifest(s, m->package);
	enum apps_record_result res =
		manifest ? apps_record(s->store, m->package, m->text, (int64_t)m->value, manifest,
				       p->user.id, p->upgrade, util_unix_now())
			 : APPS_ERROR;
	free(manifest);
	struct app_info a;
	bool have = apps_get(s->store, m->text, &a) == 0;
	// A package this upload brought and the store did not take goes again.
	if ((res == APPS_NEEDS_CONFIRM || res == APPS_DOWNGRADE || res == APPS_ERROR) && !m->action)
		drop_package(s, m->package);
	if (res == APPS_ERROR || !have) {
		pending_reply(p, 500, err_json("the package could not be recorded"));
		return;
	}
	if (res == APPS_NEEDS_CONFIRM || res == APPS_DOWNGRADE) {
		char msg[APPS_TITLE_MAX + 160];
		if (res == APPS_DOWNGRADE)
			snprintf(msg, sizeof(msg), "version %llu of %s is not newer than the installed "
				 "version %lld", (unsigned long long)m->value, a.title, (long long)a.version);
		else
			snprintf(msg, sizeof(msg), "this upgrades %s from version %lld to %llu; confirm "
				 "with ?upgrade=1", a.title, (long long)a.version,
				 (unsigned long long)m->value);
		json_t *e = err_json(msg);
		json_object_set_new(e, "installed_version", json_integer(a.version));
		json_object_set_new(e, "version", json_integer((json_int_t)m->value));
		pending_reply(p, 409, e);
		return;
	}
	if (res == APPS_UPGRADED)
		access_changed(s); // the new version's roles may give other permissions
	log_info("apps: %s %s (version %lld) by %s", a.title,
		 res == APPS_INSTALLED ? "installed" : res == APPS_UPGRADED ? "upgraded" : "re-uploaded",
		 (long long)a.version, p->user.name);
	json_t *v = app_json(&a);
	json_object_set_new(v, "status", json_string(res == APPS_INSTALLED  ? "installed"
						     : res == APPS_UPGRADED ? "upgraded"
									    : "unchanged"));
	pending_reply(p, res == APPS_SAME ? 200 : 201, v);
}

static void post_app(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r) || !api_write_ok(w, r))
		return;
	if (w->body_fd < 0) {
		resp_error(r, 400, "send the .spk file as the request body");
		return;
	}
	struct pending *p = pending_new(w);
	if (!p) {
		resp_error(r, 500, "out of memory");
		return;
	}
	p->upgrade = web_query_flag(w, "upgrade");
	struct priv_msg m = {.type = PRIV_PKG_INSTALL};
	if (!pc_request(w->srv, &m, w->body_fd, on_installed, p))
		pending_reply(p, 503, err_json("the privileged parent cannot be reached"));
}

static int add_app(const struct app_info *a, void *arg)
{
	return json_array_append_new(arg, app_json(a));
}

static void get_apps(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	json_t *a = json_array();
	if (apps_list(w->srv->store, add_app, a) < 0) {
		json_decref(a);
		resp_error(r, 500, "could not read the apps");
		return;
	}
	resp_json(r, 200, json_pack("{s:o}", "apps", a));
}

bool api_own_grain(struct web_req *w, struct http_response *r, struct grain_info *g)
{
	if (!api_need_login(w, r))
		return false;
	if (strlen(w->args[0]) != GRAIN_ID_LEN || grains_get(w->srv->store, w->args[0], g) != 0) {
		resp_error(r, 404, "no such grain");
		return false;
	}
	if (g->owner_id != w->user.id) {
		resp_error(r, 403, "this grain belongs to someone else");
		return false;
	}
	return true;
}

static void on_created(void *arg, const struct priv_msg *m, int fd)
{
	struct pending *p = arg;
	struct server *s = p->srv;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		char msg[sizeof(m->text) + 40];
		snprintf(msg, sizeof(msg), "the grain could not be created: %s", m->text);
		pending_reply(p, 500, err_json(msg));
		return;
	}
	if (grains_create(s->store, p->grain, p->app, p->user.id, p->title, p->action,
			  util_unix_now()) < 0) {
		struct priv_msg d = {.type = PRIV_GRAIN_DESTROY};
		snprintf(d.grain, sizeof(d.grain), "%s", p->grain);
		pc_request(s, &d, -1, on_drop_reply, NULL);
		pending_reply(p, 500, err_json("the grain could not be recorded"));
		return;
	}
	log_info("grains: %s created grain %s (%s)", p->user.name, p->grain, p->title);
	pending_reply(p, 201, json_pack("{s:s,s:s,s:s}", "grain_id", p->grain, "title", p->title,
					"app_id", p->app));
}

// Checks the body of a new grain against the app's manifest; fills p. 0, or -1 answered.
static int new_grain_args(struct web_req *w, struct http_response *r, json_t *o,
			  struct pending *p)
{
	char err[160];
	const char *app, *title;
	json_t *act = json_object_get(o, "action");
	if (jsonbody_str(o, "app_id", true, APPS_ID_LEN, &app, err, sizeof(err)) < 0 ||
	    jsonbody_str(o, "title", false, GRAIN_TITLE_MAX, &title, err, sizeof(err)) < 0 ||
	    (act && !json_is_integer(act))) {
		resp_error(r, 400, act && !json_is_integer(act) ? "'action' must be an integer" : err);
		return -1;
	}
	struct app_info a;
	if (apps_get(w->srv->store, app, &a) != 0) {
		resp_error(r, 404, "no such app is installed");
		return -1;
	}
	char *text = read_manifest(w->srv, a.package_id);
	struct manifest *m = NULL;
	if (!text || manifest_parse(text, strlen(text), &m, err, sizeof(err)) != MANIFEST_OK) {
		free(text);
		resp_error(r, 500, "the app's manifest cannot be read");
		return -1;
	}
	free(text);
	json_int_t ai = act ? json_integer_value(act) : 0;
	if (ai < 0 || (size_t)ai >= m->nactions) {
		manifest_free(m);
		resp_error(r, 400, "'action' is not one of the app's actions");
		return -1;
	}
	if (title && !grains_title_valid(title)) {
		manifest_free(m);
		resp_error(r, 400, "'title' must be 1 to 256 bytes without control characters");
		return -1;
	}
	p->action = (int)ai;
	snprintf(p->app, sizeof(p->app), "%s", app);
	snprintf(p->title, sizeof(p->title), "%s", title ? title : m->actions[ai].title);
	manifest_free(m);
	return 0;
}

static void post_grain(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	struct pending tmp = {0};
	if (new_grain_args(w, r, o, &tmp) < 0) {
		json_decref(o);
		return;
	}
	json_decref(o);
	struct pending *p = pending_new(w);
	if (!p) {
		resp_error(r, 500, "out of memory");
		return;
	}
	memcpy(p->app, tmp.app, sizeof(p->app));
	memcpy(p->title, tmp.title, sizeof(p->title));
	p->action = tmp.action;
	char id[TOKEN_HEX_LEN + 1];
	token_new(id);
	memcpy(p->grain, id, GRAIN_ID_LEN);
	p->grain[GRAIN_ID_LEN] = '\0';
	struct priv_msg m = {.type = PRIV_GRAIN_CREATE};
	snprintf(m.grain, sizeof(m.grain), "%s", p->grain);
	if (!pc_request(w->srv, &m, -1, on_created, p))
		pending_reply(p, 503, err_json("the privileged parent cannot be reached"));
}

static json_t *grain_json(const struct server *s, const struct grain_info *g)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b,s:I}", "grain_id", g->id, "title",
			 g->title, "app_id", g->app_id, "app_title", g->app_title, "owner",
			 g->owner_name, "created", (json_int_t)g->created, "last_used",
			 (json_int_t)g->last_used, "trashed", (json_int_t)g->trashed, "running",
			 grainmgr_running(s, g->id), "size_bytes", (json_int_t)0);
}

struct list_ctx {
	const struct server *s;
	json_t *a;
};

static int add_grain(const struct grain_info *g, void *arg)
{
	struct list_ctx *l = arg;
	return json_array_append_new(l->a, grain_json(l->s, g));
}

// Sizes come from the parent (grain directories are not the front's to read).
static void on_size(void *arg, const struct priv_msg *m, int fd)
{
	struct pending *p = arg;
	if (fd >= 0)
		close(fd);
	size_t i;
	json_t *g;
	json_array_foreach(p->list, i, g)
	{
		if (strcmp(json_string_value(json_object_get(g, "grain_id")), m->grain) == 0 &&
		    m->status == 0)
			json_object_set_new(g, "size_bytes", json_integer((json_int_t)m->value));
	}
	if (--p->outstanding == 0) {
		json_t *v = json_pack("{s:O}", "grains", p->list);
		pending_reply(p, 200, v);
	}
}

static void get_grains(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r))
		return;
	struct list_ctx l = {w->srv, json_array()};
	bool trash = web_query_flag(w, "trash");
	if (grains_list(w->srv->store, w->user.id, trash, add_grain, &l) < 0) {
		json_decref(l.a);
		resp_error(r, 500, "could not read the grains");
		return;
	}
	if (json_array_size(l.a) == 0) {
		resp_json(r, 200, json_pack("{s:o}", "grains", l.a));
		return;
	}
	struct pending *p = pending_new(w);
	if (!p) {
		json_decref(l.a);
		resp_error(r, 500, "out of memory");
		return;
	}
	p->list = l.a;
	size_t i;
	json_t *g;
	p->outstanding = (int)json_array_size(l.a) + 1; // +1 until every request is out
	json_array_foreach(l.a, i, g)
	{
		struct priv_msg m = {.type = PRIV_GRAIN_SIZE};
		snprintf(m.grain, sizeof(m.grain), "%s", json_string_value(json_object_get(g, "grain_id")));
		if (!pc_request(w->srv, &m, -1, on_size, p))
			p->outstanding--;
	}
	struct priv_msg none = {.status = 1};
	on_size(p, &none, -1);
}

static void patch_grain(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (!api_own_grain(w, r, &g))
		return;
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *title;
	char err[128];
	if (jsonbody_str(o, "title", true, GRAIN_TITLE_MAX, &title, err, sizeof(err)) < 0)
		resp_error(r, 400, err);
	else if (!grains_title_valid(title))
		resp_error(r, 400, "'title' must be 1 to 256 bytes without control characters");
	else if (grains_rename(w->srv->store, g.id, title) != 0)
		resp_error(r, 500, "could not rename the grain");
	else
		resp_json(r, 200, json_pack("{s:s,s:s}", "grain_id", g.id, "title", title));
	json_decref(o);
}

static void on_destroyed(void *arg, const struct priv_msg *m, int fd)
{
	struct pending *p = arg;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		pending_reply(p, 500, err_json(m->text[0] ? m->text : "could not delete the files"));
		return;
	}
	if (grains_delete(p->srv->store, p->grain) < 0) {
		pending_reply(p, 500, err_json("could not delete the grain"));
		return;
	}
	log_info("grains: grain %s purged", p->grain);
	pending_reply(p, 200, json_pack("{s:s,s:b}", "grain_id", p->grain, "purged", 1));
}

// Purging: the grain must be stopped, then its files go, then its row.
static void purge(struct web_req *w, struct http_response *r, const struct grain_info *g)
{
	struct pending *p = pending_new(w);
	if (!p) {
		resp_error(r, 500, "out of memory");
		return;
	}
	snprintf(p->grain, sizeof(p->grain), "%s", g->id);
	grainmgr_stop(w->srv, g->id);
	struct priv_msg m = {.type = PRIV_GRAIN_STOP};
	snprintf(m.grain, sizeof(m.grain), "%s", g->id);
	pc_request(w->srv, &m, -1, on_drop_reply, NULL); // answered in order, before DESTROY
	m.type = PRIV_GRAIN_DESTROY;
	if (!pc_request(w->srv, &m, -1, on_destroyed, p))
		pending_reply(p, 503, err_json("the privileged parent cannot be reached"));
}

static void delete_grain(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (!api_own_grain(w, r, &g) || !api_write_ok(w, r))
		return;
	grainmgr_sessions_end(w->srv, g.id);
	if (web_query_flag(w, "purge")) {
		purge(w, r, &g);
		return;
	}
	if (g.trashed) {
		resp_error(r, 409, "the grain is in the trash already; purge it with ?purge=1");
		return;
	}
	if (grains_trash(w->srv->store, g.id, w->now) != 0) {
		resp_error(r, 500, "could not move the grain to the trash");
		return;
	}
	grainmgr_stop(w->srv, g.id);
	access_changed(w->srv);
	resp_json(r, 200, json_pack("{s:s,s:b,s:I}", "grain_id", g.id, "trashed", 1, "purge_after",
				    (json_int_t)(w->now + GRAIN_TRASH_TTL)));
}

static void post_restore(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (!api_own_grain(w, r, &g) || !api_write_ok(w, r))
		return;
	if (!g.trashed) {
		resp_error(r, 409, "the grain is not in the trash");
		return;
	}
	if (grains_restore(w->srv->store, g.id) != 0) {
		resp_error(r, 500, "could not restore the grain");
		return;
	}
	resp_json(r, 200, json_pack("{s:s,s:b}", "grain_id", g.id, "trashed", 0));
}

// A session host for the owner, or for someone the grain was shared with.
static void post_session(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r) || !api_write_ok(w, r))
		return;
	struct grain_info g;
	enum sharing_role role = sharing_role_of(w, w->args[0], &g);
	if (role == SHARING_ROLE_TRASHED) {
		resp_error(r, 409, "the grain is in the trash; restore it first");
		return;
	}
	if (role != SHARING_ROLE_OWNER && role != SHARING_ROLE_SHARED) {
		resp_error(r, role == SHARING_ROLE_ERROR ? 500 : role == SHARING_ROLE_NONE ? 403 : 404,
			   role == SHARING_ROLE_ERROR ? "could not check access"
			   : role == SHARING_ROLE_NONE ? "this grain belongs to someone else"
						       : "no such grain");
		return;
	}
	struct access a;
	char url[512];
	if (sharing_open(w, g.id, NULL, &a, url, sizeof(url)) != 0) {
		resp_error(r, 500, "could not open a session");
		return;
	}
	resp_json(r, 201, json_pack("{s:s,s:s,s:s}", "url", url, "grain_id", g.id, "role", a.role));
}

static void on_log(void *arg, const struct priv_msg *m, int fd)
{
	struct pending *p = arg;
	if (m->status || fd < 0) {
		if (fd >= 0)
			close(fd);
		pending_reply(p, 404, err_json("the grain has no console log yet"));
		return;
	}
	// The last LOG_READ_MAX bytes are what a person wants to see.
	off_t end = lseek(fd, 0, SEEK_END);
	lseek(fd, end > LOG_READ_MAX ? end - LOG_READ_MAX : 0, SEEK_SET);
	char *text = malloc(LOG_READ_MAX + 1);
	ssize_t n = text ? read(fd, text, LOG_READ_MAX) : -1;
	close(fd);
	if (n < 0) {
		free(text);
		pending_reply(p, 500, err_json("could not read the log"));
		return;
	}
	text[n] = '\0';
	json_t *v = json_pack("{s:s,s:s%}", "grain_id", p->grain, "log", text, (size_t)n);
	free(text);
	pending_reply(p, 200, v ? v : err_json("the log is not valid text"));
}

static void get_log(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (!api_own_grain(w, r, &g))
		return;
	struct pending *p = pending_new(w);
	if (!p) {
		resp_error(r, 500, "out of memory");
		return;
	}
	snprintf(p->grain, sizeof(p->grain), "%s", g.id);
	struct priv_msg m = {.type = PRIV_GRAIN_LOG};
	snprintf(m.grain, sizeof(m.grain), "%s", g.id);
	if (!pc_request(w->srv, &m, -1, on_log, p))
		pending_reply(p, 503, err_json("the privileged parent cannot be reached"));
}

static const struct web_route routes[] = {
	{HTTP_GET, "/api/v1/apps", get_apps},
	{HTTP_POST, "/api/v1/apps", post_app},
	{HTTP_GET, "/api/v1/grains", get_grains},
	{HTTP_POST, "/api/v1/grains", post_grain},
	{HTTP_PATCH, "/api/v1/grains/*", patch_grain},
	{HTTP_DELETE, "/api/v1/grains/*", delete_grain},
	{HTTP_POST, "/api/v1/grains/*/restore", post_restore},
	{HTTP_POST, "/api/v1/grains/*/session", post_session},
	{HTTP_GET, "/api/v1/grains/*/log", get_log},
};

bool api_grains_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
