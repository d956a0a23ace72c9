// SPDX-License-Identifier: MIT
// Sharing operations for the shell's pages and the JSON API.
#include <stdio.h>
#include <string.h>

#include "grainmgr.h"
#include "grains.h"
#include "log.h"
#include "server.h"
#include "sharing.h"
#include "store.h"
#include "web.h"

int sharing_status(enum sharing_result r)
{
	static const int st[] = {
		[SHARING_OK] = 200, [SHARING_FORBIDDEN] = 403,
		[SHARING_BAD_ROLE] = 400, [SHARING_BAD_LABEL] = 400, [SHARING_TOO_MANY] = 409,
		[SHARING_TOO_DEEP] = 409,
		[SHARING_ERROR] = 500,
	};
	return st[r];
}

const char *sharing_message(enum sharing_result r)
{
	switch (r) {
	case SHARING_OK:
		return "ok";
	case SHARING_FORBIDDEN:
		return "you can only share what you hold yourself";
	case SHARING_BAD_ROLE:
		return "role: the app has no such role";
	case SHARING_BAD_LABEL:
		return "label: at most 128 characters, without control characters";
	case SHARING_TOO_DEEP:
		return "this grain reached you through too many people to be shared further; ask "
		       "its owner for a link";
	case SHARING_TOO_MANY:
		return "this grain has too many sharing links and tokens; revoke some first";
	case SHARING_ERROR:
		break;
	}
	return "sharing failed; try again";
}

static int64_t caller(const struct web_req *w)
{
	return w->logged_in ? w->user.id : 0;
}

enum sharing_role sharing_role_of(struct web_req *w, const char *grain, struct grain_info *g)
{
	int r = strlen(grain) == GRAIN_ID_LEN ? grains_get(w->srv->store, grain, g) : 1;
	if (r < 0)
		return SHARING_ROLE_ERROR;
	bool own = r == 0 && w->logged_in && g->owner_id == w->user.id;
	if (r > 0 || (g->trashed && !own))
		return SHARING_ROLE_MISSING;
	if (own)
		return g->trashed ? SHARING_ROLE_TRASHED : SHARING_ROLE_OWNER;
	if (!w->logged_in)
		return SHARING_ROLE_NONE;
	struct access a;
	r = access_resolve(w->srv->store, grain, w->user.id, NULL, &a);
	return r < 0 ? SHARING_ROLE_ERROR : r == 0 ? SHARING_ROLE_SHARED : SHARING_ROLE_NONE;
}

enum sharing_result sharing_create(struct web_req *w, const char *grain, enum share_kind kind,
				   const char *role, const char *label, struct sharing_new *out)
{
	struct server *s = w->srv;
	int r;
	if (!shares_label_valid(label))
		return SHARING_BAD_LABEL;
	char parent[SHARE_ID_LEN + 1];
	r = access_may_share(s->store, grain, w->user.id, role, parent);
	if (r != 0)
		return r < 0 ? SHARING_ERROR : r == 2 ? SHARING_BAD_ROLE
		       : r == 3 ? SHARING_TOO_DEEP : SHARING_FORBIDDEN;
	char id[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	token_new(id);
	id[SHARE_ID_LEN] = '\0';
	token_new(out->token);
	token_hash(out->token, hash);
	r = shares_create(s->store, id, hash, grain, kind, role, label, w->user.id, parent, w->now);
	if (r != 0)
		return r > 0 ? SHARING_TOO_MANY : SHARING_ERROR;
	memcpy(out->id, id, sizeof(out->id));
	int n = kind == SHARE_LINK
			? snprintf(out->url, sizeof(out->url), "%s/shared/%s", s->base_url, out->token)
			: snprintf(out->url, sizeof(out->url), "%s://api-%s.%s/",
				   s->base_tls ? "https" : "http", id, s->shell_host);
	if (n < 0 || (size_t)n >= sizeof(out->url))
		return SHARING_ERROR;
	log_info("grain %s: %s %s for role %s made by user %lld", grain,
		 kind == SHARE_LINK ? "link" : "device token", id, role, (long long)w->user.id);
	return SHARING_OK;
}

static const char *via_name(enum access_via v)
{
	static const char *const names[] = {"owner", "grant", "link", "device"};
	return names[v];
}

int sharing_open(struct web_req *w, const char *grain, const char *share, struct access *a,
		 char *url, size_t urlsz)
{
	struct server *s = w->srv;
	int r = access_resolve(s->store, grain, caller(w), share, a);
	if (r != 0)
		return r;
	if (grainmgr_session_new(s, grain, w->logged_in ? &w->user : NULL, share, a->perms, "/",
				 url, urlsz) < 0)
		return -1;
	// The browser asks for the frame only after the page arrives: start the grain now.
	grainmgr_prestart(s, grain);
	// The log is for the owner to read; failing to write it must not lock people out.
	if (access_log_add(s->store, grain, caller(w), share, a->role, via_name(a->via), w->now) < 0)
		log_err("sharing_open: grain %s: the visit could not be logged", grain);
	if (a->via == ACCESS_OWNER)
		grains_touch(s->store, grain, w->now, false);
	return 0;
}

int sharing_claim(struct web_req *w, const char *token, struct share_info *out)
{
	struct store *st = w->srv->store;
	char hash[TOKEN_HEX_LEN + 1];
	if (!token_valid(token))
		return 1;
	token_hash(token, hash);
	int r = shares_by_token(st, hash, out);
	if (r != 0)
		return r;
	if (out->kind != SHARE_LINK)
		return 1; // device tokens open the API host only
	struct access a;
	r = access_resolve(st, out->grain, 0, out->id, &a);
	if (r != 0)
		return r;
	struct grain_info g;
	if (w->logged_in && grains_get(st, out->grain, &g) == 0 && g.owner_id != w->user.id &&
	    grants_add(st, out->grain, w->user.id, out->id, w->now) < 0)
		return -1;
	shares_used(st, out->id, w->now);
	return 0;
}

int sharing_revoke(struct web_req *w, const char *share_id)
{
	struct share_info sh;
	struct grain_info g;
	int r = shares_get(w->srv->store, share_id, &sh);
	if (r == 0)
		r = grains_get(w->srv->store, sh.grain, &g);
	if (r != 0)
		return r;
	if (!w->logged_in || (g.owner_id != w->user.id && sh.created_by != w->user.id))
		return 1;
	r = shares_delete(w->srv->store, share_id);
	if (r == 0) {
		log_info("grain %s: share %s revoked by user %lld", sh.grain, share_id,
			 (long long)w->user.id);
		access_changed(w->srv);
	}
	return r;
}

int sharing_revoke_user(struct web_req *w, const char *grain, int64_t user_id)
{
	struct grain_info g;
	int r = grains_get(w->srv->store, grain, &g);
	if (r != 0)
		return r;
	if (!w->logged_in || g.owner_id != w->user.id)
		return 1;
	r = grants_revoke_user(w->srv->store, grain, user_id);
	if (r == 0) {
		log_info("grain %s: user %lld's access revoked", grain, (long long)user_id);
		access_changed(w->srv);
	}
	return r;
}
