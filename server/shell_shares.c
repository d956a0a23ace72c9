// SPDX-License-Identifier: MIT
// The shell's pages for opening grains and sharing them: a grain open in its frame (for its
// owner, for people holding a grant, for anyone with a link), the Share dialog's form,
// "Who has access" with revocation, and device tokens.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "manifest.h"
#include "pages.h"
#include "server.h"
#include "sharing.h"
#include "shell_impl.h"
#include "util.h"
#include "web.h"

#define ACCESS_LOG_SHOWN 200

// "scheme://host[:port]" of url, for the page's CSP frame-src. 0 / -1.
static int url_origin(const char *url, char *out, size_t outsz)
{
	const char *h = strstr(url, "://");
	if (!h)
		return -1;
	size_t n = (size_t)(h + 3 - url) + strcspn(h + 3, "/?#");
	if (n >= outsz)
		return -1;
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}

// The roles a viewer holding bits may hand on (all of them for the owner).
struct roles {
	const char *names[MANIFEST_MAX_ROLES];
	const char *titles[MANIFEST_MAX_ROLES];
	size_t n, dflt;
};

static void shareable_roles(const struct manifest *m, uint64_t held, struct roles *out)
{
	out->n = out->dflt = 0;
	size_t d = access_role_default(m);
	for (size_t i = 0; i < access_role_count(m) && out->n < MANIFEST_MAX_ROLES; i++) {
		uint64_t b = 0;
		const char *name = access_role_name(m, i);
		if (access_role_bits(m, name, &b) < 0 || (b & ~held))
			continue;
		if (i == d)
			out->dflt = out->n;
		out->titles[out->n] = access_role_title(m, i);
		out->names[out->n++] = name;
	}
}

static const char *role_title(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < access_role_count(m); i++)
		if (strcmp(access_role_name(m, i), name) == 0)
			return access_role_title(m, i);
	return name;
}

// Opens g for the viewer (through share when not NULL) and renders it in its frame.
static void render_grain(struct web_req *w, struct http_response *r, const struct grain_info *g,
			 const char *share, const char *share_url, const char *share_error,
			 int status)
{
	struct access a;
	char url[512], origin[320];
	int res = sharing_open(w, g->id, share, &a, url, sizeof(url));
	if (res > 0) {
		shell_error(w, r, 403, "You do not have access to this grain any more.");
		return;
	}
	struct manifest *m = res == 0 ? apps_manifest_parsed(w->srv->store, g->package_id) : NULL;
	if (!m || url_origin(url, origin, sizeof(origin)) < 0 || resp_frame_src(r, origin) < 0) {
		manifest_free(m);
		shell_error(w, r, 500, "The grain could not be opened. Try again in a moment.");
		return;
	}
	struct roles roles = {0};
	if (w->logged_in)
		shareable_roles(m, a.bits, &roles);
	struct view v;
	shell_view_init(&v, w, r);
	struct page_grain_view pv = {
		.g = g, .frame_url = url, .owner = a.via == ACCESS_OWNER,
		.role = a.via == ACCESS_OWNER ? NULL : role_title(m, a.role),
		.role_names = roles.names, .role_titles = roles.titles, .nroles = roles.n,
		.default_role = roles.dflt, .share_url = share_url, .share_error = share_error,
	};
	page_grain(&r->body, &v.c, &pv);
	manifest_free(m);
	shell_html_done(r, status);
}

// The grain at args[0] when the viewer may open it: its owner (true) or someone it was
// shared with (false). -1 after answering with an error page.
static int viewer_grain(struct web_req *w, struct http_response *r, struct grain_info *g)
{
	enum sharing_role role = sharing_role_of(w, w->args[0], g);
	switch (role) {
	case SHARING_ROLE_OWNER:
		return 1;
	case SHARING_ROLE_SHARED:
		return 0;
	case SHARING_ROLE_TRASHED:
		shell_error(w, r, 410, "This grain is in the trash. Restore it from the trash to "
				       "open it again.");
		break;
	case SHARING_ROLE_NONE:
		shell_error(w, r, 403, "This grain belongs to someone else. Ask its owner to share "
				       "it with you.");
		break;
	case SHARING_ROLE_MISSING:
		shell_error(w, r, 404, "There is no grain at this address. Check the link.");
		break;
	case SHARING_ROLE_ERROR:
		shell_error(w, r, 500, "The grain could not be read. Try again.");
		break;
	}
	return -1;
}

static void get_grain(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (shell_require_login(w, r) && viewer_grain(w, r, &g) >= 0)
		render_grain(w, r, &g, NULL, NULL, NULL, 200);
}

static void form_field(struct web_req *w, const char *name, char *out, size_t outsz)
{
	if (web_form(w, name, out, outsz) < 0)
		out[0] = '\0';
}

static void post_share(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	if (!shell_require_login(w, r) || !shell_form_ok(w, r) || viewer_grain(w, r, &g) < 0)
		return;
	char role[SHARE_ROLE_MAX + 2], label[SHARE_LABEL_MAX * 4];
	form_field(w, "role", role, sizeof(role));
	form_field(w, "label", label, sizeof(label));
	struct sharing_new n;
	enum sharing_result res = sharing_create(w, g.id, SHARE_LINK, role, label, &n);
	if (res != SHARING_OK) {
		char msg[160];
		snprintf(msg, sizeof(msg), "The link could not be made: %s.", sharing_message(res));
		render_grain(w, r, &g, NULL, NULL, msg, sharing_status(res));
		return;
	}
	render_grain(w, r, &g, NULL, n.url, NULL, 200);
}

struct access_lists {
	struct share_info *links, *devices;
	size_t nlinks, ndevices, clinks, cdevices;
	struct grant_info *users;
	size_t nusers, cusers;
	struct access_entry *log;
	size_t nlog, clog;
};

static int collect_share(const struct share_info *sh, void *arg)
{
	struct access_lists *l = arg;
	bool dev = sh->kind == SHARE_DEVICE;
	struct share_info **arr = dev ? &l->devices : &l->links;
	size_t *n = dev ? &l->ndevices : &l->nlinks, *cap = dev ? &l->cdevices : &l->clinks;
	struct share_info *p = util_grow(*arr, *n, cap, sizeof(*p));
	if (!p)
		return -1;
	*arr = p;
	p[(*n)++] = *sh;
	return 0;
}

static int collect_user(const struct grant_info *g, void *arg)
{
	struct access_lists *l = arg;
	struct grant_info *p = util_grow(l->users, l->nusers, &l->cusers, sizeof(*p));
	if (!p)
		return -1;
	l->users = p;
	p[l->nusers++] = *g;
	return 0;
}

static int collect_log(const struct access_entry *e, void *arg)
{
	struct access_lists *l = arg;
	struct access_entry *p = util_grow(l->log, l->nlog, &l->clog, sizeof(*p));
	if (!p)
		return -1;
	l->log = p;
	p[l->nlog++] = *e;
	return 0;
}

static void render_access(struct web_req *w, struct http_response *r, const struct grain_info *g,
			  bool owner, const struct sharing_new *made, const char *error, int status)
{
	struct store *st = w->srv->store;
	struct access_lists l = {0};
	struct access a;
	struct manifest *m = apps_manifest_parsed(st, g->package_id);
	int rc = m ? access_resolve(st, g->id, w->user.id, NULL, &a) : -1;
	if (rc == 0)
		rc = shares_list(st, g->id, owner ? 0 : w->user.id, collect_share, &l);
	if (rc == 0 && owner)
		rc = grants_list(st, g->id, 0, collect_user, &l) < 0 ||
		     access_log_list(st, g->id, ACCESS_LOG_SHOWN, collect_log, &l) < 0;
	if (rc != 0) {
		shell_error(w, r, rc > 0 ? 403 : 500, rc > 0 ? "You do not have access to this grain "
							      "any more." : "The grain's sharing could "
							      "not be read. Try again.");
	} else {
		struct roles roles;
		shareable_roles(m, a.bits, &roles);
		struct view v;
		shell_view_init(&v, w, r);
		v.c.error = error;
		struct page_access pa = {
			.g = g, .owner = owner, .links = l.links, .devices = l.devices,
			.nlinks = l.nlinks, .ndevices = l.ndevices, .users = l.users,
			.nusers = l.nusers, .log = l.log, .nlog = l.nlog,
			.role_names = roles.names, .role_titles = roles.titles, .nroles = roles.n,
			.default_role = roles.dflt, .device_url = made ? made->url : NULL,
			.device_token = made ? made->token : NULL,
		};
		page_access(&r->body, &v.c, &pa);
		shell_html_done(r, status);
	}
	manifest_free(m);
	free(l.links);
	free(l.devices);
	free(l.users);
	free(l.log);
}

static void get_access(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	int role;
	if (shell_require_login(w, r) && (role = viewer_grain(w, r, &g)) >= 0)
		render_access(w, r, &g, role == 1, NULL, NULL, 200);
}

static void post_device(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	int role;
	if (!shell_require_login(w, r) || !shell_form_ok(w, r) || (role = viewer_grain(w, r, &g)) < 0)
		return;
	char rname[SHARE_ROLE_MAX + 2], label[SHARE_LABEL_MAX * 4];
	form_field(w, "role", rname, sizeof(rname));
	form_field(w, "label", label, sizeof(label));
	struct sharing_new n;
	enum sharing_result res = sharing_create(w, g.id, SHARE_DEVICE, rname, label, &n);
	if (res != SHARING_OK) {
		char msg[160];
		snprintf(msg, sizeof(msg), "The device token could not be made: %s.",
			 sharing_message(res));
		render_access(w, r, &g, role == 1, NULL, msg, sharing_status(res));
		return;
	}
	render_access(w, r, &g, role == 1, &n, NULL, 200);
}

static void back_to_access(struct http_response *r, const char *grain)
{
	char loc[64];
	snprintf(loc, sizeof(loc), "/grain/%s/access", grain);
	resp_redirect(r, 303, loc);
}

static void post_revoke_share(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r) || !shell_form_ok(w, r))
		return;
	struct share_info sh;
	int res = shares_get(w->srv->store, w->args[1], &sh);
	if (res == 0 && strcmp(sh.grain, w->args[0]) != 0)
		res = 1;
	if (res == 0)
		res = sharing_revoke(w, sh.id);
	if (res != 0) {
		shell_error(w, r, res < 0 ? 500 : 404, res < 0 ? "The link could not be revoked. Try again."
							       : "There is no such link, or it is not "
								 "yours to revoke.");
		return;
	}
	back_to_access(r, sh.grain);
}

static void post_revoke_user(struct web_req *w, struct http_response *r)
{
	if (!shell_require_login(w, r) || !shell_form_ok(w, r))
		return;
	char *end;
	long long uid = strtoll(w->args[1], &end, 10);
	struct grain_info g;
	if (*end || uid <= 0 || strlen(w->args[0]) != GRAIN_ID_LEN ||
	    grains_get(w->srv->store, w->args[0], &g) != 0 || g.owner_id != w->user.id) {
		shell_error(w, r, 404, "There is no such grain, or it is not yours.");
		return;
	}
	if (sharing_revoke_user(w, g.id, uid) < 0) {
		shell_error(w, r, 500, "The access could not be revoked. Try again.");
		return;
	}
	back_to_access(r, w->args[0]);
}

// A sharing link: a logged-in visitor keeps the grant and goes to the grain's page; anyone
// else sees the grain here.
static void get_shared(struct web_req *w, struct http_response *r)
{
	struct share_info sh;
	struct grain_info g;
	int res = sharing_claim(w, w->args[0], &sh);
	if (res == 0)
		res = grains_get(w->srv->store, sh.grain, &g);
	if (res != 0) {
		shell_error(w, r, res < 0 ? 500 : 404,
			    res < 0 ? "The link could not be checked. Try again."
				    : "This sharing link is not valid. It may have been revoked, "
				      "or mistyped; ask the person who sent it for a new one.");
		return;
	}
	if (w->logged_in) {
		char loc[64];
		snprintf(loc, sizeof(loc), "/grain/%s", g.id);
		resp_redirect(r, 303, loc);
		return;
	}
	render_grain(w, r, &g, sh.id, NULL, NULL, 200);
}

static const struct web_route routes[] = {
	{HTTP_GET, "/grain/*", get_grain},
	{HTTP_POST, "/grain/*/shares", post_share},
	{HTTP_GET, "/grain/*/access", get_access},
	{HTTP_POST, "/grain/*/devices", post_device},
	{HTTP_POST, "/grain/*/shares/*/revoke", post_revoke_share},
	{HTTP_POST, "/grain/*/users/*/revoke", post_revoke_user},
	{HTTP_GET, "/shared/*", get_shared},
};

bool shell_shares_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
