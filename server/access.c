// SPDX-License-Identifier: MIT
// Access decisions: the owner, grants, links and device tokens, and chains of sharers.
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "apps.h"
#include "auth.h"
#include "grains.h"
#include "log.h"
#include "manifest.h"
#include "proxy.h"
#include "server.h"
#include "shares.h"

#define ACCESS_CHAIN_MAX 32   // sharers between the owner and a share; deeper is refused

static uint64_t all_bits(const struct manifest *m)
{
	return m->nperms >= 64 ? UINT64_MAX : (UINT64_C(1) << m->nperms) - 1;
}

size_t access_role_count(const struct manifest *m)
{
	return m->nroles ? m->nroles : 1;
}

const char *access_role_name(const struct manifest *m, size_t i)
{
	return m->nroles ? m->roles[i].name : ACCESS_ROLE_ALL;
}

const char *access_role_title(const struct manifest *m, size_t i)
{
	return m->nroles ? m->roles[i].title : "Full access";
}

size_t access_role_default(const struct manifest *m)
{
	for (size_t i = 0; i < m->nroles; i++)
		if (m->roles[i].is_default)
			return i;
	return 0;
}

int access_role_bits(const struct manifest *m, const char *role, uint64_t *out)
{
	if (!m->nroles) {
		if (strcmp(role, ACCESS_ROLE_ALL) != 0)
			return -1;
		*out = all_bits(m);
		return 0;
	}
	for (size_t i = 0; i < m->nroles; i++) {
		if (strcmp(m->roles[i].name, role) != 0)
			continue;
		uint64_t b = 0;
		for (size_t k = 0; k < m->roles[i].nperms; k++)
			if (m->roles[i].perms[k] < 64)
				b |= UINT64_C(1) << m->roles[i].perms[k];
		*out = b;
		return 0;
	}
	return -1;
}

static void perm_names(const struct manifest *m, uint64_t bits, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nperms && i < 64; i++) {
		if (!(bits & (UINT64_C(1) << i)))
			continue;
		int n = snprintf(out + o, outsz - o, "%s%s", o ? "," : "", m->perms[i].name);
		if (n < 0 || (size_t)n >= outsz - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)n;
	}
}

// A share's bits: its role's, within every sharer's up the chain. 0, 1 gone or not of this
// grain (or a sharer disabled), -1 error.
static int share_bits(struct store *s, const struct manifest *m, const char *grain,
		      const char *share, uint64_t *out, char role[SHARE_ROLE_MAX + 1])
{
	uint64_t bits = UINT64_MAX;
	char id[SHARE_ID_LEN + 1];
	snprintf(id, sizeof(id), "%s", share);
	for (int depth = 0; id[0]; depth++) {
		struct share_link l;
		int r = depth < ACCESS_CHAIN_MAX ? shares_link_of(s, id, &l) : 1;
		if (r != 0)
			return r;
		if (strcmp(l.grain, grain) != 0 || l.creator_disabled)
			return 1;
		uint64_t rb = 0;
		if (access_role_bits(m, l.role, &rb) < 0)
			rb = 0; // a role the current version dropped gives nothing
		bits &= rb;
		if (depth == 0 && role)
			snprintf(role, SHARE_ROLE_MAX + 1, "%s", l.role);
		memcpy(id, l.parent, sizeof(id));
	}
	*out = bits;
	return 0;
}

// How many shares lead from the owner to share (1: the owner's own); -1 on error.
static int chain_depth(struct store *s, const char *share)
{
	char id[SHARE_ID_LEN + 1];
	snprintf(id, sizeof(id), "%s", share);
	int depth = 0;
	while (id[0] && depth < ACCESS_CHAIN_MAX) {
		struct share_link l;
		if (shares_link_of(s, id, &l) != 0)
			return -1;
		memcpy(id, l.parent, sizeof(id));
		depth++;
	}
	return depth;
}

struct grant_walk {
	struct store *s;
	const struct manifest *m;
	const char *grain;
	uint64_t bits;
	bool any;
	int err;
	char role[SHARE_ROLE_MAX + 1];
	char want_role[SHARE_ROLE_MAX + 1];   // access_may_share: a grant covering these bits
	uint64_t want;
	char parent[SHARE_ID_LEN + 1];
};

static int on_grant(const struct grant_info *g, void *arg)
{
	struct grant_walk *gw = arg;
	uint64_t b = 0;
	char role[SHARE_ROLE_MAX + 1] = "";
	int r = share_bits(gw->s, gw->m, gw->grain, g->share_id, &b, role);
	if (r < 0) {
		gw->err = -1;
		return 1;
	}
	if (r > 0)
		return 0;
	// The widest grant names the role shown; the union is what the user holds.
	if (!gw->any || __builtin_popcountll(b) > __builtin_popcountll(gw->bits))
		memcpy(gw->role, role, sizeof(gw->role));
	gw->bits |= b;
	gw->any = true;
	if (!gw->parent[0] && (gw->want & ~b) == 0)
		snprintf(gw->parent, sizeof(gw->parent), "%s", g->share_id);
	return 0;
}

// The grain's manifest and owner, when it is live. 0, 1 gone or trashed, -1.
static int grain_of(struct store *s, const char *grain, struct grain_info *g, struct manifest **m)
{
	int r = grains_get(s, grain, g);
	if (r != 0)
		return r;
	if (g->trashed)
		return 1;
	*m = apps_manifest_parsed(s, g->package_id);
	return *m ? 0 : -1;
}

static int user_live(struct store *s, int64_t user_id)
{
	struct user u;
	int r = auth_user_get(s, user_id, &u);
	return r < 0 ? -1 : r == 0 && !u.disabled ? 0 : 1;
}

int access_resolve(struct store *s, const char *grain, int64_t user_id, const char *share,
		   struct access *out)
{
	struct grain_info g;
	struct manifest *m = NULL;
	int r = grain_of(s, grain, &g, &m);
	if (r == 0 && user_id)
		r = user_live(s, user_id);
	if (r != 0) {
		manifest_free(m);
		return r;
	}
	memset(out, 0, sizeof(*out));
	if (share && *share) {
		// A presented share gives what it gives, whoever holds it (even the owner).
		struct share_info sh;
		r = shares_get(s, share, &sh);
		if (r == 0) {
			out->via = sh.kind == SHARE_DEVICE ? ACCESS_DEVICE : ACCESS_LINK;
			r = share_bits(s, m, grain, share, &out->bits, out->role);
		}
	} else if (user_id && user_id == g.owner_id) {
		out->via = ACCESS_OWNER;
		snprintf(out->role, sizeof(out->role), "owner");
		out->bits = all_bits(m);
	} else if (user_id) {
		struct grant_walk gw = {.s = s, .m = m, .grain = grain, .want = UINT64_MAX};
		if (grants_list(s, grain, user_id, on_grant, &gw) < 0 || gw.err)
			r = -1;
		else if (!gw.any)
			r = 1;
		out->via = ACCESS_GRANT;
		out->bits = gw.bits;
		memcpy(out->role, gw.role, sizeof(out->role));
	} else {
		r = 1;
	}
	if (r == 0)
		perm_names(m, out->bits, out->perms, sizeof(out->perms));
	manifest_free(m);
	return r;
}

int access_may_share(struct store *s, const char *grain, int64_t user_id, const char *role,
		     char parent[SHARE_ID_LEN + 1])
{
	struct grain_info g;
	struct manifest *m = NULL;
	int r = grain_of(s, grain, &g, &m);
	if (r == 0)
		r = user_live(s, user_id);
	uint64_t want = 0;
	if (r == 0 && access_role_bits(m, role, &want) < 0)
		r = 2;
	parent[0] = '\0';
	if (r == 0 && user_id != g.owner_id) {
		struct grant_walk gw = {.s = s, .m = m, .grain = grain, .want = want};
		if (grants_list(s, grain, user_id, on_grant, &gw) < 0 || gw.err)
			r = -1;
		else if (!gw.parent[0])
			r = 1; // no single share they hold covers the role
		else if ((r = chain_depth(s, gw.parent)) >= 0)
			r = r + 1 >= ACCESS_CHAIN_MAX ? 3 : 0; // a link beyond it would never open
		if (r == 0)
			memcpy(parent, gw.parent, SHARE_ID_LEN + 1);
	}
	manifest_free(m);
	return r;
}

void access_changed(struct server *srv)
{
	srv->access_gen++;
	proxy_revalidate(srv);
}
