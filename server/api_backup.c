// SPDX-License-Identifier: MIT
// The backup endpoints: download a grain's backup, restore one as a new grain, download a
// whole server's backup. The parent writes and unpacks (parent_backup.c); the front checks
// who may, reads a restore's metadata first, and streams the finished file to the client.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "apps.h"
#include "backup.h"
#include "conn.h"
#include "grainmgr.h"
#include "grains.h"
#include "log.h"
#include "parent_client.h"
#include "server.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "version.h"
#include "web.h"

#define BK_CHUNK (64 * 1024)
#define BK_HIGH_WATER (256 * 1024)   // pause reading the file above this much unsent output

// One backup request: waiting for the parent, then streaming its file. The conn_wait goes
// away when the client leaves; the request is freed by whichever of its callbacks runs last.
struct bk {
	struct server *srv;
	struct conn_wait *cw;
	bool waiting;             // a parent reply is due
	bool pumping;             // bk_pump is on the stack
	int fd;                   // the backup being streamed
	struct ev_timer resume;
	struct user user;
	struct backup_meta meta;  // restore: what the upload says it is
	char grain[GRAIN_ID_LEN + 1];
	char filename[96];
	unsigned char buf[BK_CHUNK];
};

static void bk_free(struct bk *b)
{
	ev_timer_cancel(b->srv->loop, &b->resume);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static void bk_cancel(void *arg)
{
	struct bk *b = arg;
	b->cw = NULL;
	if (!b->waiting && !b->pumping)
		bk_free(b);
}

static struct bk *bk_new(struct web_req *w)
{
	struct bk *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->cw = conn_defer(w->conn);
	if (!b->cw) {
		free(b);
		return NULL;
	}
	b->srv = w->srv;
	b->user = w->user;
	b->fd = -1;
	conn_wait_on_cancel(b->cw, bk_cancel, b);
	return b;
}

// Answers the waiting client (if still there) with status and v, and frees b.
static void bk_reply(struct bk *b, int status, json_t *v)
{
	if (b->cw) {
		struct http_response *r = conn_wait_response(b->cw);
		resp_reset(r);
		resp_json(r, status, v);
		conn_wait_on_cancel(b->cw, NULL, NULL);
		conn_wait_done(b->cw);
	} else {
		json_decref(v);
	}
	bk_free(b);
}

static json_t *err_json(const char *fmt, const char *arg)
{
	char msg[1200];
	snprintf(msg, sizeof(msg), fmt, arg);
	return json_pack("{s:s}", "error", msg);
}

// --- streaming the file ---

static void bk_end(struct bk *b, bool ok)
{
	struct conn_wait *cw = b->cw;
	b->cw = NULL;
	conn_wait_on_cancel(cw, NULL, NULL);
	conn_wait_stream_end(cw, ok);
}

static void bk_resume(struct ev_loop *loop, void *arg);

// The client caught up: go on from the loop, not from inside the connection's flush.
static void bk_drain(void *arg)
{
	struct bk *b = arg;
	conn_wait_on_drain(b->cw, NULL, NULL);
	ev_timer_set(b->srv->loop, &b->resume, 0, bk_resume, b);
}

// Sends the file until the client's backlog is high or the file ends.
static void bk_pump(struct bk *b)
{
	b->pumping = true;
	while (b->cw) {
		if (conn_wait_backlog(b->cw) > BK_HIGH_WATER) {
			conn_wait_on_drain(b->cw, bk_drain, b);
			break;
		}
		ssize_t n = read(b->fd, b->buf, sizeof(b->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				log_err("api_backup: reading the backup: %s", strerror(errno));
			bk_end(b, n == 0);
			break;
		}
		conn_wait_stream_data(b->cw, b->buf, (size_t)n); // -1: the client left (cw NULL)
	}
	b->pumping = false;
	if (!b->cw)
		bk_free(b);
}

static void bk_resume(struct ev_loop *loop, void *arg)
{
	(void)loop;
	bk_pump(arg);
}

// The parent's answer to a backup: the finished file, streamed as an attachment.
static void on_backup(void *arg, const struct priv_msg *m, int fd)
{
	struct bk *b = arg;
	b->waiting = false;
	b->fd = fd;
	if (m->status || fd < 0) {
		log_err("api_backup: backup %s failed: %s", b->grain[0] ? b->grain : "of the server",
			m->text);
		bk_reply(b, m->status == EPIPE ? 503 : 500, err_json("the backup could not be made: %s",
								      m->text));
		return;
	}
	if (!b->cw) {
		bk_free(b);
		return;
	}
	struct http_response *r = conn_wait_response(b->cw);
	resp_reset(r);
	r->status = 200;
	resp_header(r, "Content-Type", "application/octet-stream");
	resp_header(r, "Content-Disposition", "attachment; filename=\"%s\"", b->filename);
	resp_header(r, "Cache-Control", "no-store");
	b->pumping = true;
	conn_wait_stream_head(b->cw); // -1: the client left, and cw is NULL
	b->pumping = false;
	if (b->cw)
		bk_pump(b);
	else
		bk_free(b);
}

// --- a grain's backup ---

static void on_backup_stopped(void *arg, const struct priv_msg *m, int fd)
{
	(void)arg;
	(void)m;
	if (fd >= 0)
		close(fd);
}

// The grain's metadata into a pipe for the parent, which checks it again. -1 on failure.
static int meta_pipe(const struct backup_meta *m)
{
	char *text = backup_meta_text(m);
	int p[2] = {-1, -1};
	if (!text || pipe2(p, O_CLOEXEC) < 0) {
		free(text);
		return -1;
	}
	// Far below the pipe's buffer (BACKUP_META_MAX), so this write cannot block.
	int r = util_write_all(p[1], text, strlen(text));
	close(p[1]);
	free(text);
	if (r < 0) {
		close(p[0]);
		return -1;
	}
	return p[0];
}

static void get_grain_backup(struct web_req *w, struct http_response *r)
{
	struct grain_info g;
	struct app_info a;
	if (!api_own_grain(w, r, &g))
		return;
	if (!web_origin_ok(w)) {
		resp_error(r, 403, "cross-origin request refused");
		return;
	}
	if (apps_get(w->srv->store, g.app_id, &a) != 0) {
		resp_error(r, 500, "the grain's app cannot be read");
		return;
	}
	struct backup_meta m = {.kind = BACKUP_GRAIN, .made = w->now, .created = g.created,
				.app_version = (uint32_t)a.version, .action = g.action};
	snprintf(m.silo_version, sizeof(m.silo_version), "%s", SILO_VERSION);
	snprintf(m.title, sizeof(m.title), "%s", g.title);
	snprintf(m.app_id, sizeof(m.app_id), "%s", g.app_id);
	snprintf(m.app_title, sizeof(m.app_title), "%s", a.title);
	snprintf(m.package_id, sizeof(m.package_id), "%s", a.package_id);
	int mfd = meta_pipe(&m);
	struct bk *b = mfd < 0 ? NULL : bk_new(w);
	if (!b) {
		if (mfd >= 0)
			close(mfd);
		resp_error(r, 500, "out of memory");
		return;
	}
	snprintf(b->grain, sizeof(b->grain), "%s", g.id);
	backup_filename(g.title, b->filename, sizeof(b->filename));
	// Consistent: the grain stops first (it starts again on its next request), and the
	// parent keeps it stopped until the file is written. Requests to the parent are
	// answered in order, so the stop is done before the backup begins.
	grainmgr_stop(w->srv, g.id);
	struct priv_msg stop = {.type = PRIV_GRAIN_STOP};
	snprintf(stop.grain, sizeof(stop.grain), "%s", g.id);
	struct priv_msg m2 = {.type = PRIV_GRAIN_BACKUP};
	snprintf(m2.grain, sizeof(m2.grain), "%s", g.id);
	b->waiting = true;
	if (!pc_request(w->srv, &stop, -1, on_backup_stopped, NULL) ||
	    !pc_request(w->srv, &m2, mfd, on_backup, b)) {
		b->waiting = false;
		bk_reply(b, 503, err_json("%s", "the privileged parent cannot be reached"));
	}
	close(mfd);
}

// --- restoring a grain ---

static void on_restored(void *arg, const struct priv_msg *m, int fd)
{
	struct bk *b = arg;
	struct server *s = b->srv;
	b->waiting = false;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		int status = m->status == EPIPE ? 503 : m->status == EINVAL ? 400 : 500;
		bk_reply(b, status, err_json("the backup was refused: %s", m->text));
		return;
	}
	const struct backup_meta *bm = &b->meta;
	int64_t now = util_unix_now();
	// A restored grain has run before: its next start runs the continue command.
	if (store_begin(s->store) < 0 ||
	    grains_create(s->store, b->grain, bm->app_id, b->user.id, bm->title, bm->action, now) < 0 ||
	    grains_touch(s->store, b->grain, now, true) != 0 || store_commit(s->store) < 0) {
		store_rollback(s->store);
		struct priv_msg d = {.type = PRIV_GRAIN_DESTROY};
		snprintf(d.grain, sizeof(d.grain), "%s", b->grain);
		pc_request(s, &d, -1, on_backup_stopped, NULL);
		bk_reply(b, 500, err_json("%s", "the restored grain could not be recorded"));
		return;
	}
	log_info("grains: %s restored grain %s (%s) from a backup", b->user.name, b->grain,
		 bm->title);
	bk_reply(b, 201, json_pack("{s:s,s:s,s:s}", "grain_id", b->grain, "title", bm->title,
				   "app_id", bm->app_id));
}

// Reads the upload's metadata and checks that its app is installed and not older. 0, or -1
// after answering.
static int restore_check(struct web_req *w, struct http_response *r, struct backup_meta *m)
{
	char err[512], msg[1024];
	struct backup_fd_src f;
	struct stream_src src;
	backup_src_fd(&src, &f, w->body_fd);
	enum backup_result br = backup_read_meta(&src, m, err, sizeof(err));
	if (br == BACKUP_E_IO) {
		resp_error(r, 500, "the upload cannot be read");
		return -1;
	}
	if (br) {
		snprintf(msg, sizeof(msg), "the backup was refused: %s", err);
		resp_error(r, 400, msg);
		return -1;
	}
	if (m->kind != BACKUP_GRAIN) {
		resp_error(r, 400, "the backup was refused: this is a whole server's backup; restore "
			   "it on a fresh server with `silo restore-server`");
		return -1;
	}
	struct app_info a;
	if (apps_get(w->srv->store, m->app_id, &a) != 0) {
		snprintf(msg, sizeof(msg), "the app '%s' (app id %s) is not installed; install it, "
			 "then restore the backup", m->app_title, m->app_id);
		resp_error(r, 422, msg);
		return -1;
	}
	if (a.version < (int64_t)m->app_version) {
		snprintf(msg, sizeof(msg), "the backup was made with version %u of %s, newer than the "
			 "installed version %lld; upgrade the app first", m->app_version, a.title,
			 (long long)a.version);
		resp_error(r, 409, msg);
		return -1;
	}
	return 0;
}

static void post_restore(struct web_req *w, struct http_response *r)
{
	if (!api_need_login(w, r) || !api_write_ok(w, r))
		return;
	if (w->body_fd < 0) {
		resp_error(r, 400, "send the backup file as the request body");
		return;
	}
	struct backup_meta m;
	if (restore_check(w, r, &m) < 0)
		return;
	struct bk *b = bk_new(w);
	if (!b) {
		resp_error(r, 500, "out of memory");
		return;
	}
	b->meta = m;
	char id[TOKEN_HEX_LEN + 1];
	token_new(id);
	memcpy(b->grain, id, GRAIN_ID_LEN);
	b->grain[GRAIN_ID_LEN] = '\0';
	struct priv_msg pm = {.type = PRIV_GRAIN_RESTORE};
	snprintf(pm.grain, sizeof(pm.grain), "%s", b->grain);
	b->waiting = true;
	if (!pc_request(w->srv, &pm, w->body_fd, on_restored, b)) {
		b->waiting = false;
		bk_reply(b, 503, err_json("%s", "the privileged parent cannot be reached"));
	}
}

// --- the whole server ---

// A consistent copy of the store (VACUUM INTO, one read transaction), opened and unlinked.
// -1 on failure (logged).
static int store_snapshot(struct server *s)
{
	char path[PATH_MAX], rnd[TOKEN_HEX_LEN + 1];
	token_new(rnd);
	if (util_path(path, sizeof(path), "%s/uploads/.snapshot-%.16s.db", s->cfg.data, rnd) < 0)
		return -1;
	sqlite3_stmt *st = store_stmt(s->store, "VACUUM INTO ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	int fd = rc == SQLITE_DONE ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (rc != SQLITE_DONE)
		log_err("api_backup: VACUUM INTO: %s", sqlite3_errmsg(store_db(s->store)));
	unlink(path);
	return fd;
}

static void get_server_backup(struct web_req *w, struct http_response *r)
{
	if (!api_need_admin(w, r))
		return;
	if (!web_origin_ok(w)) {
		resp_error(r, 403, "cross-origin request refused");
		return;
	}
	int fd = store_snapshot(w->srv);
	struct bk *b = fd < 0 ? NULL : bk_new(w);
	if (!b) {
		if (fd >= 0)
			close(fd);
		resp_error(r, 500, "could not take a snapshot of the store");
		return;
	}
	time_t now = (time_t)w->now;
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(b->filename, sizeof(b->filename), "silo-server-%04d-%02d-%02d" BACKUP_EXT,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	// The parent stops every grain first; each starts again on its next request.
	struct priv_msg m = {.type = PRIV_SERVER_BACKUP};
	b->waiting = true;
	if (!pc_request(w->srv, &m, fd, on_backup, b)) {
		b->waiting = false;
		bk_reply(b, 503, err_json("%s", "the privileged parent cannot be reached"));
	}
	close(fd);
	log_info("backup: %s asked for a server backup", w->user.name);
}

static const struct web_route routes[] = {
	{HTTP_GET, "/api/v1/grains/*/backup", get_grain_backup},
	{HTTP_POST, "/api/v1/grains/restore", post_restore},
	{HTTP_GET, "/api/v1/admin/backup", get_server_backup},
};

bool api_backup_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
