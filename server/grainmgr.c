// SPDX-License-Identifier: MIT
// The front's view of grains: running state, session hosts, starting and idle stop.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "access.h"
#include "conn.h"
#include "grain_client.h"
#include "grainmgr.h"
#include "grains.h"
#include "log.h"
#include "parent_client.h"
#include "proxy.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "web.h"

#define GM_MAX_SESSIONS 4096
#define GM_SESSION_IDLE (12 * 3600)   // seconds an unused session host lives
#define GM_STOP_GRACE_MS 5000         // after closing the wire, the parent kills a grain

enum rt_state { RT_STOPPED, RT_STARTING, RT_RUNNING, RT_STOPPING };

struct gm_wait {
	struct gm_wait *next;
	struct grain_rt *rt;
	gm_ready_fn *fn;
	void *arg;
};

struct grain_rt {
	struct grain_rt *next;
	struct server *srv;
	char id[33];
	enum rt_state state;
	struct gc *gc;
	uint32_t req;               // the parent request in flight
	struct gm_wait *waits;      // exchanges waiting for the start
	int busy;                   // exchanges in progress
	struct ev_timer idle;
};

struct session {
	struct session *next;
	struct gm_session s;
	char secret_hash[TOKEN_HEX_LEN + 1];   // of the cookie set on the session host
	char secret_seen[TOKEN_HEX_LEN + 1];   // that cookie, once a request showed it (no hash)
	char open_hash[TOKEN_HEX_LEN + 1];     // of the one-time token in the first URL
	char path[512];                        // where the first URL leads
	int64_t last_used;                     // unix seconds
	uint64_t gen;                          // access_gen when perms were last resolved
};

struct grainmgr {
	unsigned char id_key[crypto_generichash_KEYBYTES];   // for user pseudonyms
	struct ev_timer purge;      // trashed grains past GRAIN_TRASH_TTL go for good
	struct grain_rt *rts;
	struct session *sessions;
	size_t nsessions;
};

static struct grain_rt *rt_find(const struct server *s, const char *grain)
{
	for (struct grain_rt *rt = s->grains->rts; rt; rt = rt->next)
		if (strcmp(rt->id, grain) == 0)
			return rt;
	return NULL;
}

static struct grain_rt *rt_get(struct server *s, const char *grain)
{
	struct grain_rt *rt = rt_find(s, grain);
	if (rt)
		return rt;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	rt->srv = s;
	snprintf(rt->id, sizeof(rt->id), "%s", grain);
	rt->next = s->grains->rts;
	s->grains->rts = rt;
	return rt;
}

// Runs every waiting exchange's callback (with the wire, or with why it failed).
static void rt_release_waits(struct grain_rt *rt, const char *err)
{
	while (rt->waits) {
		struct gm_wait *w = rt->waits;
		rt->waits = w->next;
		w->fn(w->arg, err ? NULL : rt->gc, err);
		free(w);
	}
}

static void on_idle(struct ev_loop *loop, void *arg);
static const char *rt_start(struct grain_rt *rt);

static void rt_arm_idle(struct grain_rt *rt)
{
	ev_timer_set(rt->srv->loop, &rt->idle, rt->srv->cfg.grain_idle_timeout * 1000, on_idle, rt);
}

static void on_kill_reply(void *arg, const struct priv_msg *m, int fd)
{
	(void)arg;
	(void)m;
	if (fd >= 0)
		close(fd);
}

static void send_stop(struct server *s, const char *grain)
{
	struct priv_msg m = {.type = PRIV_GRAIN_STOP};
	snprintf(m.grain, sizeof(m.grain), "%s", grain);
	pc_request(s, &m, -1, on_kill_reply, NULL);
}

// Closing the wire asks the bridge to stop the app; the parent kills what is left later.
static void on_stop_grace(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct grain_rt *rt = arg;
	if (rt->state == RT_STOPPING)
		send_stop(rt->srv, rt->id);
}

static void rt_stop(struct grain_rt *rt)
{
	if (rt->state != RT_RUNNING)
		return;
	log_info("grain %s: stopping", rt->id);
	gc_free(rt->gc);
	rt->gc = NULL;
	rt->state = RT_STOPPING;
	ev_timer_set(rt->srv->loop, &rt->idle, GM_STOP_GRACE_MS, on_stop_grace, rt);
}

static void on_idle(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct grain_rt *rt = arg;
	if (rt->busy > 0 || (rt->gc && gc_nstreams(rt->gc) > 0)) {
		rt_arm_idle(rt);
		return;
	}
	rt_stop(rt);
}

static void on_dead(struct gc *gc, void *arg, const char *why)
{
	(void)gc;
	struct grain_rt *rt = arg;
	log_info("grain %s: wire closed (%s)", rt->id, why);
	gc_free(rt->gc);
	rt->gc = NULL;
	rt->state = RT_STOPPING;
	// The parent's exit notice makes it RT_STOPPED; make sure it comes.
	ev_timer_set(rt->srv->loop, &rt->idle, GM_STOP_GRACE_MS, on_stop_grace, rt);
}

static void on_exit_notice(struct server *s, const char *grain, int status)
{
	struct grain_rt *rt = rt_find(s, grain);
	log_info("grain %s: exited (status %d)", grain, status);
	if (!rt)
		return;
	ev_timer_cancel(s->loop, &rt->idle);
	if (rt->gc)
		gc_free(rt->gc); // streams still open get on_reset through on_dead first
	rt->gc = NULL;
	bool was_starting = rt->state == RT_STARTING;
	rt->state = RT_STOPPED;
	if (!rt->waits)
		return;
	// Requests came while it was stopping: start it again for them. One that dies while
	// starting fails them instead of looping.
	const char *err = was_starting ? "the grain stopped while starting" : rt_start(rt);
	if (err)
		rt_release_waits(rt, err);
}

static void on_started(void *arg, const struct priv_msg *m, int fd)
{
	struct grain_rt *rt = arg;
	struct server *s = rt->srv;
	rt->req = 0;
	if (m->status || fd < 0) {
		if (fd >= 0)
			close(fd);
		log_err("grain %s: cannot start: %s", rt->id, m->text);
		rt->state = RT_STOPPED;
		char err[sizeof(m->text) + 32];
		snprintf(err, sizeof(err), "the grain could not start: %s", m->text);
		rt_release_waits(rt, err);
		return;
	}
	rt->gc = gc_new(s->loop, fd, on_dead, rt);
	if (!rt->gc) {
		rt->state = RT_STOPPED;
		send_stop(s, rt->id);
		rt_release_waits(rt, "out of memory");
		return;
	}
	rt->state = RT_RUNNING;
	rt_arm_idle(rt);
	rt_release_waits(rt, NULL); // the waiting requests go first; the store write can wait
	grains_touch(s->store, rt->id, util_unix_now(), true);
}

// Asks the parent to start the grain; an error message when that cannot even be asked.
static const char *rt_start(struct grain_rt *rt)
{
	struct server *s = rt->srv;
	struct grain_info g;
	if (grains_get(s->store, rt->id, &g) != 0 || g.trashed)
		return "no such grain";
	struct priv_msg m = {.type = PRIV_GRAIN_START, .action = g.started_once ? -1 : g.action};
	snprintf(m.grain, sizeof(m.grain), "%s", rt->id);
	snprintf(m.package, sizeof(m.package), "%s", g.package_id);
	rt->req = pc_request(s, &m, -1, on_started, rt);
	if (!rt->req)
		return "the privileged parent cannot be reached";
	rt->state = RT_STARTING;
	return NULL;
}

struct gc *grainmgr_acquire(struct server *s, const char *grain, gm_ready_fn *fn, void *arg,
			    struct gm_wait **wait, const char **err)
{
	*wait = NULL;
	struct grain_rt *rt = rt_get(s, grain);
	if (!rt) {
		*err = "out of memory";
		return NULL;
	}
	if (rt->state == RT_RUNNING && rt->gc && gc_alive(rt->gc)) {
		rt_arm_idle(rt);
		return rt->gc;
	}
	if (rt->state == RT_STOPPED && (*err = rt_start(rt)))
		return NULL;
	// Starting; or stopping, and its exit notice starts it again for the waiting requests.
	struct gm_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		*err = "out of memory";
		return NULL;
	}
	w->rt = rt;
	w->fn = fn;
	w->arg = arg;
	w->next = rt->waits;
	rt->waits = w;
	*wait = w;
	return NULL;
}

void grainmgr_prestart(struct server *s, const char *grain)
{
	struct grain_rt *rt = rt_get(s, grain);
	const char *err = rt && rt->state == RT_STOPPED ? rt_start(rt) : NULL;
	if (err) // the first request will say so too
		log_err("grain %s: cannot start: %s", grain, err);
}

void grainmgr_wait_cancel(struct gm_wait *w)
{
	if (!w)
		return;
	for (struct gm_wait **pp = &w->rt->waits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			free(w);
			return;
		}
}

void grainmgr_busy(struct server *s, const char *grain, int delta)
{
	struct grain_rt *rt = rt_find(s, grain);
	if (!rt)
		return;
	rt->busy += delta;
	if (rt->state == RT_RUNNING)
		rt_arm_idle(rt);
}

bool grainmgr_stop(struct server *s, const char *grain)
{
	struct grain_rt *rt = rt_find(s, grain);
	if (!rt || rt->state == RT_STOPPED)
		return false;
	if (rt->gc)
		gc_free(rt->gc);
	rt->gc = NULL;
	rt->state = RT_STOPPING;
	send_stop(s, grain);
	return true;
}

bool grainmgr_running(const struct server *s, const char *grain)
{
	const struct grain_rt *rt = rt_find(s, grain);
	return rt && rt->state == RT_RUNNING;
}

// Session hosts.

static struct session *session_find(struct server *s, const char *host_id)
{
	for (struct session *x = s->grains->sessions; x; x = x->next)
		if (strcmp(x->s.host_id, host_id) == 0)
			return x;
	return NULL;
}

static void session_unlink(struct server *s, struct session *x)
{
	for (struct session **pp = &s->grains->sessions; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			s->grains->nsessions--;
			explicit_bzero(x, sizeof(*x));
			free(x);
			return;
		}
}

// Forgets sessions unused for GM_SESSION_IDLE, and the oldest when there are too many.
static void sessions_prune(struct server *s, int64_t now)
{
	struct session *oldest = NULL, *next;
	for (struct session *x = s->grains->sessions; x; x = next) {
		next = x->next;
		if (now - x->last_used > GM_SESSION_IDLE)
			session_unlink(s, x);
		else if (!oldest || x->last_used < oldest->last_used)
			oldest = x;
	}
	if (s->grains->nsessions >= GM_MAX_SESSIONS && oldest)
		session_unlink(s, oldest);
}

int grainmgr_session_new(struct server *s, const char *grain, const struct user *u,
			 const char *share, const char *perms, const char *path, char *url,
			 size_t urlsz)
{
	int64_t now = util_unix_now();
	sessions_prune(s, now);
	struct session *x = calloc(1, sizeof(*x));
	if (!x || strlen(perms) >= sizeof(x->s.perms) || strlen(path) >= sizeof(x->path)) {
		free(x);
		return -1;
	}
	char hid[TOKEN_HEX_LEN + 1], open[TOKEN_HEX_LEN + 1];
	token_new(hid);
	token_new(open);
	memcpy(x->s.host_id, hid, GM_HOST_ID_LEN); // 128 bits name the host
	snprintf(x->s.grain, sizeof(x->s.grain), "%s", grain);
	if (u) {
		x->s.user_id = u->id;
		snprintf(x->s.user_name, sizeof(x->s.user_name), "%s", u->name);
		proxy_user_id(s, u->id, grain, x->s.user_pseudonym);
	}
	snprintf(x->s.share, sizeof(x->s.share), "%s", share ? share : "");
	snprintf(x->s.perms, sizeof(x->s.perms), "%s", perms);
	x->gen = s->access_gen;
	snprintf(x->path, sizeof(x->path), "%s", path[0] == '/' ? path : "/");
	token_hash(open, x->open_hash);
	x->last_used = now;
	x->next = s->grains->sessions;
	s->grains->sessions = x;
	s->grains->nsessions++;
	// ui-<id>.<shell host>, with the base URL's scheme and port.
	const char *scheme = s->base_tls ? "https" : "http";
	if (snprintf(url, urlsz, "%s://ui-%s.%s/.silo/open?t=%s", scheme, x->s.host_id,
		     s->shell_host, open) >= (int)urlsz)
		return -1;
	explicit_bzero(open, sizeof(open));
	return 0;
}

void grainmgr_sessions_end(struct server *s, const char *grain)
{
	struct session *next;
	for (struct session *x = s->grains->sessions; x; x = next) {
		next = x->next;
		if (strcmp(x->s.grain, grain) == 0)
			session_unlink(s, x);
	}
}

bool grainmgr_is_session_host(const struct server *s, const char *host,
			      char id[GM_HOST_ID_LEN + 1])
{
	if (strncmp(host, "ui-", 3) != 0)
		return false;
	const char *p = host + 3;
	for (int i = 0; i < GM_HOST_ID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	if (p[GM_HOST_ID_LEN] != '.' || !server_is_shell_host(s, p + GM_HOST_ID_LEN + 1))
		return false;
	memcpy(id, p, GM_HOST_ID_LEN);
	id[GM_HOST_ID_LEN] = '\0';
	return true;
}

static void deny(struct http_response *r, int status, const char *msg)
{
	r->status = status;
	resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	resp_header(r, "Cache-Control", "no-store");
	buf_printf(&r->body, "%s\n", msg);
}

// The first request on a session host trades the one-time token for a host-only cookie.
static void session_open(struct web_req *w, struct http_response *r, struct session *x)
{
	const char *q = w->http->query;
	char hash[TOKEN_HEX_LEN + 1], secret[TOKEN_HEX_LEN + 1];
	if (strncmp(q, "t=", 2) != 0 || !token_valid(q + 2) || !x->open_hash[0]) {
		deny(r, 403, "This link has been used already. Open the grain again from the shell.");
		return;
	}
	token_hash(q + 2, hash);
	if (!token_equal(hash, x->open_hash)) {
		deny(r, 403, "This link is not valid. Open the grain again from the shell.");
		return;
	}
	x->open_hash[0] = '\0'; // spent
	token_new(secret);
	token_hash(secret, x->secret_hash);
	x->secret_seen[0] = '\0';
	resp_header(r, "Set-Cookie", "silo_grain=%s; Path=/; HttpOnly; SameSite=Lax%s", secret,
		    w->srv->base_tls ? "; Secure" : "");
	resp_header(r, "Cache-Control", "no-store");
	resp_redirect(r, 303, x->path);
	explicit_bzero(secret, sizeof(secret));
}

void grainmgr_handle(struct web_req *w, struct http_response *r, const char *host_id)
{
	struct session *x = session_find(w->srv, host_id);
	if (!x) {
		deny(r, 404, "This grain session has ended. Open the grain again, from the shell or "
			     "the link you were given.");
		return;
	}
	x->last_used = w->now;
	if (strcmp(w->http->path, "/.silo/open") == 0) {
		session_open(w, r, x);
		return;
	}
	char cookie[TOKEN_HEX_LEN + 2], hash[TOKEN_HEX_LEN + 1];
	bool ok = web_cookie(w, "silo_grain", cookie, sizeof(cookie)) && token_valid(cookie) &&
		  x->secret_hash[0];
	// The cookie is hashed once; later requests compare it with the one that matched.
	if (ok && !(x->secret_seen[0] && token_equal(cookie, x->secret_seen))) {
		token_hash(cookie, hash);
		ok = token_equal(hash, x->secret_hash);
		if (ok)
			memcpy(x->secret_seen, cookie, sizeof(x->secret_seen));
	}
	if (!ok) {
		deny(r, 403, "This grain session belongs to another browser. Open the grain from "
			     "the shell.");
		return;
	}
	// Access is resolved again after anything that may have taken it away, so a
	// revocation takes effect on the next request.
	if (x->gen != w->srv->access_gen) {
		struct access a;
		int res = access_resolve(w->srv->store, x->s.grain, x->s.user_id, x->s.share, &a);
		if (res != 0) {
			deny(r, res < 0 ? 500 : 403, res < 0 ? "Access could not be checked; try again."
							 : "You no longer have access to this grain.");
			return; // the session stays, refused, so it keeps saying why
		}
		snprintf(x->s.perms, sizeof(x->s.perms), "%s", a.perms);
		x->gen = w->srv->access_gen;
	}
	proxy_request(w, r, &x->s, false);
}

struct purge_job {
	struct server *srv;
	char grain[33];
};

static void on_purged(void *arg, const struct priv_msg *m, int fd)
{
	struct purge_job *j = arg;
	if (fd >= 0)
		close(fd);
	if (m->status == 0 && grains_delete(j->srv->store, j->grain) == 0)
		log_info("grains: grain %s purged from the trash", j->grain);
	free(j);
}

#define PURGE_EVERY_MS (3600 * 1000)
#define PURGE_BATCH 32

static void on_purge_timer(struct ev_loop *loop, void *arg)
{
	struct server *s = arg;
	char ids[PURGE_BATCH][GRAIN_ID_LEN + 1];
	int n = grains_expired(s->store, util_unix_now() - GRAIN_TRASH_TTL, ids, PURGE_BATCH);
	for (int i = 0; i < n; i++) {
		struct purge_job *j = calloc(1, sizeof(*j));
		if (!j)
			break;
		j->srv = s;
		memcpy(j->grain, ids[i], sizeof(j->grain));
		grainmgr_stop(s, ids[i]);
		grainmgr_sessions_end(s, ids[i]);
		struct priv_msg m = {.type = PRIV_GRAIN_DESTROY};
		memcpy(m.grain, ids[i], sizeof(m.grain));
		if (!pc_request(s, &m, -1, on_purged, j))
			free(j);
	}
	// A full batch means more may be waiting: come back soon.
	ev_timer_set(loop, &s->grains->purge, n == PURGE_BATCH ? 1000 : PURGE_EVERY_MS,
		     on_purge_timer, s);
}

// The pseudonym key lives in the store, so a user's id in a grain survives restarts.
static int load_id_key(struct server *s)
{
	char hex[2 * crypto_generichash_KEYBYTES + 1];
	size_t n = 0;
	if (store_setting_get(s->store, "grain_id_key", hex, sizeof(hex)) == 0 &&
	    sodium_hex2bin(s->grains->id_key, sizeof(s->grains->id_key), hex, strlen(hex), NULL,
			   &n, NULL) == 0 && n == sizeof(s->grains->id_key))
		return 0;
	randombytes_buf(s->grains->id_key, sizeof(s->grains->id_key));
	sodium_bin2hex(hex, sizeof(hex), s->grains->id_key, sizeof(s->grains->id_key));
	int r = store_setting_set(s->store, "grain_id_key", hex);
	sodium_memzero(hex, sizeof(hex));
	return r;
}

const unsigned char *grainmgr_id_key(const struct server *s)
{
	return s->grains->id_key;
}

int grainmgr_init(struct server *s)
{
	s->grains = calloc(1, sizeof(*s->grains));
	if (!s->grains)
		return -1;
	if (load_id_key(s) < 0) {
		log_err("grainmgr_init: cannot keep the pseudonym key in the store");
		return -1;
	}
	pc_on_grain_exit(s, on_exit_notice);
	ev_timer_set(s->loop, &s->grains->purge, 60 * 1000, on_purge_timer, s);
	return 0;
}

void grainmgr_fini(struct server *s)
{
	struct grainmgr *g = s->grains;
	if (!g)
		return;
	ev_timer_cancel(s->loop, &g->purge);
	while (g->rts) {
		struct grain_rt *rt = g->rts;
		g->rts = rt->next;
		ev_timer_cancel(s->loop, &rt->idle);
		rt_release_waits(rt, "the server is stopping");
		if (rt->gc)
			gc_free(rt->gc);
		free(rt);
	}
	while (g->sessions)
		session_unlink(s, g->sessions);
	sodium_memzero(g, sizeof(*g));
	free(g);
	s->grains = NULL;
}
