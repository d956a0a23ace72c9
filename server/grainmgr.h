// SPDX-License-Identifier: MIT
// The front's view of grains: which are running or starting, their wire to the bridge,
// the per-session hosts ("ui-<id>.<base host>") that reach them, and stopping them when
// idle. Proxying one request is in proxy.c.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"

struct server;
struct web_req;
struct http_response;
struct gc;

#define GM_HOST_ID_LEN 32
#define GM_PERMS_MAX 1024   // bytes of a comma-separated permission list

// Who reaches which grain with which permissions: a session host, or a device's token.
struct gm_session {
	char host_id[GM_HOST_ID_LEN + 1];  // the session host's id; a device's share id
	char grain[33];
	int64_t user_id;                   // 0: anonymous
	char user_name[AUTH_NAME_MAX + 1];
	char share[17];                    // the link or token it came through; "": own access
	char perms[GM_PERMS_MAX];          // comma-separated, for X-Sandstorm-Permissions
	char user_pseudonym[33];           // X-Sandstorm-User-Id when made already, else ""
};

// Loads (or makes, once) the server's secret for user pseudonyms. 0 / -1.
int grainmgr_init(struct server *s);
// The key of X-Sandstorm-User-Id's per-grain pseudonyms (crypto_generichash_KEYBYTES).
const unsigned char *grainmgr_id_key(const struct server *s);
void grainmgr_fini(struct server *s);

// Opens a session host for user (NULL: anonymous) on grain, through share (NULL or "": the
// user's own access), with perms. url: where the browser goes first (it sets the session's
// cookie on that host and redirects to path). 0 / -1.
int grainmgr_session_new(struct server *s, const char *grain, const struct user *u,
			 const char *share, const char *perms, const char *path, char *url,
			 size_t urlsz);
// Ends every session of a grain (it was deleted or access was revoked).
void grainmgr_sessions_end(struct server *s, const char *grain);
// The host id when host (lowercase, no port) is a session host name, else NULL.
bool grainmgr_is_session_host(const struct server *s, const char *host, char id[GM_HOST_ID_LEN + 1]);
// Answers a request on a session host.
void grainmgr_handle(struct web_req *w, struct http_response *r, const char *host_id);

// Stops a grain now, if it runs (before deleting it). Whether it ran.
bool grainmgr_stop(struct server *s, const char *grain);
bool grainmgr_running(const struct server *s, const char *grain);

// For proxy.c: the grain's wire when it runs. Otherwise NULL, and either *wait is set and
// fn runs later (with the wire, or NULL and why it could not start), or *wait is NULL and
// *err says why the grain cannot start at all. fn never runs during this call.
typedef void gm_ready_fn(void *arg, struct gc *gc, const char *err);
struct gm_wait;
struct gc *grainmgr_acquire(struct server *s, const char *grain, gm_ready_fn *fn, void *arg,
			    struct gm_wait **wait, const char **err);
void grainmgr_wait_cancel(struct gm_wait *w);
// Starts a stopped grain now, ahead of the requests a page that frames it will make.
void grainmgr_prestart(struct server *s, const char *grain);
// A proxied exchange began or ended on a grain (idle accounting).
void grainmgr_busy(struct server *s, const char *grain, int delta);
