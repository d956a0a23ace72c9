// SPDX-License-Identifier: MIT
// The privileged parent: answers the front's requests about grains and packages, reaps
// grains, and stops everything when the front ends.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme_worker.h"
#include "appliance.h"
#include "cgroup.h"
#include "config.h"
#include "ev.h"
#include "log.h"
#include "parent.h"
#include "parent_backup.h"
#include "parent_https.h"
#include "parent_launch.h"
#include "parent_os.h"
#include "parent_tls.h"
#include "privsep.h"
#include "sandbox.h"
#include "util.h"

#define PARENT_JOBS_MAX 8   // backup and restore jobs at once
#define PARENT_CHECKS_MAX 4 // the HTTPS wizard's checks at once

struct parent {
	const struct config *cfg;
	struct ev_loop *loop;
	int sock;
	pid_t front;
	int front_status;
	struct grain_proc *procs;   // running grains
	size_t nprocs, capprocs;
	struct parent_job jobs[PARENT_JOBS_MAX];   // backups and restores in progress
	size_t njobs;
	pid_t acme;                 // the ACME worker (0: none running)
	struct ev_timer acme_timer; // restarts it after a crash
	struct config wcfg;         // the worker's: cfg with the wizard's choice applied
	struct https_check checks[PARENT_CHECKS_MAX];
	struct ev_defer spare_defer; // makes the next grain's init once nothing waits
};

static void on_spare_defer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	sandbox_spare_make();
}

// After the answer has gone out: a spare made now costs no one's start. Only once a grain
// has started: a server that runs none keeps its memory (the grain filter, the spare).
static void spare_soon(struct parent *p)
{
	ev_defer(p->loop, &p->spare_defer, on_spare_defer, p);
}

static void path_of(const struct parent *p, char *out, size_t outsz, const char *grain,
		    const char *leaf)
{
	util_path(out, outsz, "%s/grains/%s%s%s", p->cfg->data, grain, leaf ? "/" : "", leaf ? leaf : "");
}

static struct grain_proc *find_proc(struct parent *p, const char *grain)
{
	for (size_t i = 0; i < p->nprocs; i++)
		if (strcmp(p->procs[i].grain, grain) == 0)
			return &p->procs[i];
	return NULL;
}

// A job that holds the grain still: its backup or restore, or a whole server's backup.
static const struct parent_job *job_on(const struct parent *p, const char *grain)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i].kind == JOB_SERVER_BACKUP || strcmp(p->jobs[i].grain, grain) == 0)
			return &p->jobs[i];
	return NULL;
}

static void reply(struct parent *p, const struct priv_msg *req, int status, const char *text,
		  int fd)
{
	struct priv_msg r = {.type = PRIV_REPLY, .id = req->id, .status = status};
	snprintf(r.grain, sizeof(r.grain), "%s", req->grain);
	if (text)
		snprintf(r.text, sizeof(r.text), "%s", text);
	if (priv_send(p->sock, &r, fd) < 0)
		log_err("parent: cannot answer the front: %s", strerror(errno));
}

// The uid a grain runs as outside its sandbox: the owner of its var/ directory.
static int grain_uid(struct parent *p, const char *grain, uid_t *uid)
{
	char path[PATH_MAX];
	path_of(p, path, sizeof(path), grain, "var");
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	*uid = st.st_uid;
	return 0;
}

// The lowest uid of the grain range that no grain directory uses yet.
static int allocate_uid(struct parent *p, uid_t *out)
{
	char path[PATH_MAX];
	util_path(path, sizeof(path), "%s/grains", p->cfg->data);
	size_t n = (size_t)p->cfg->grain_uid_count;
	size_t words = n < 65536 ? (n + 63) / 64 : 1024; // track the first 65536 at most
	uint64_t *used = calloc(words, sizeof(uint64_t));
	if (!used)
		return -1;
	int r = parent_scan_uids(path, (uid_t)p->cfg->grain_uid_base, used, words * 64);
	for (size_t k = 0; k < p->njobs; k++) {
		// A grain being restored has no var/ yet; its uid is taken all the same.
		size_t i = (size_t)(p->jobs[k].uid - (uid_t)p->cfg->grain_uid_base);
		if (p->jobs[k].kind == JOB_GRAIN_RESTORE && i < words * 64)
			used[i / 64] |= 1ull << (i % 64);
	}
	for (size_t i = 0; r == 0 && i < words * 64 && i < n; i++)
		if (!(used[i / 64] & (1ull << (i % 64)))) {
			*out = (uid_t)(p->cfg->grain_uid_base + (long)i);
			free(used);
			return 0;
		}
	free(used);
	return -1;
}

static void grain_create(struct parent *p, const struct priv_msg *m)
{
	char dir[PATH_MAX], var[PATH_MAX];
	uid_t uid;
	path_of(p, dir, sizeof(dir), m->grain, NULL);
	path_of(p, var, sizeof(var), m->grain, "var");
	if (allocate_uid(p, &uid) < 0) {
		reply(p, m, ENOSPC, "no free grain uid left", -1);
		return;
	}
	if (mkdir(dir, 0711) < 0) {
		reply(p, m, errno, errno == EEXIST ? "the grain exists already" : strerror(errno), -1);
		return;
	}
	if (mkdir(var, 0700) < 0 || chown(var, uid, uid) < 0) {
		int e = errno;
		parent_remove_tree(dir);
		reply(p, m, e, strerror(e), -1);
		return;
	}
	log_info("parent: grain %s created (uid %u)", m->grain, uid);
	reply(p, m, 0, NULL, -1);
}

static void grain_start(struct parent *p, const struct priv_msg *m)
{
	uid_t uid;
	if (find_proc(p, m->grain)) {
		reply(p, m, EBUSY, "the grain is running already", -1);
		return;
	}
	if (job_on(p, m->grain)) {
		reply(p, m, EBUSY, "a backup of the grain is being made; try again in a moment", -1);
		return;
	}
	if (grain_uid(p, m->grain, &uid) < 0) {
		reply(p, m, ENOENT, "no such grain", -1);
		return;
	}
	if (p->nprocs == p->capprocs) {
		size_t cap = p->capprocs ? p->capprocs * 2 : 16;
		struct grain_proc *np = realloc(p->procs, cap * sizeof(*np));
		if (!np) {
			reply(p, m, ENOMEM, "out of memory", -1);
			return;
		}
		p->procs = np;
		p->capprocs = cap;
	}
	struct grain_proc *g = &p->procs[p->nprocs];
	memset(g, 0, sizeof(*g));
	snprintf(g->grain, sizeof(g->grain), "%s", m->grain);
	char err[512];
	int wire = -1;
	if (parent_launch(p->cfg, g, m->package, m->action, uid, &wire, err, sizeof(err)) < 0) {
		log_err("parent: grain %s did not start: %s", m->grain, err);
		reply(p, m, EIO, err, -1);
		spare_soon(p);
		return;
	}
	p->nprocs++;
	reply(p, m, 0, NULL, wire);
	close(wire);
	spare_soon(p);
}

static void notify_exit(struct parent *p, struct grain_proc *g, int status)
{
	struct priv_msg n = {.type = PRIV_GRAIN_EXITED, .value = (uint64_t)(unsigned)status};
	snprintf(n.grain, sizeof(n.grain), "%s", g->grain);
	priv_send(p->sock, &n, -1);
	*g = p->procs[--p->nprocs];
}

static void grain_stop(struct parent *p, const struct priv_msg *m)
{
	struct grain_proc *g = find_proc(p, m->grain);
	if (g)
		notify_exit(p, g, parent_stop(g, 0));
	reply(p, m, 0, NULL, -1);
}

static void grain_destroy(struct parent *p, const struct priv_msg *m)
{
	struct grain_proc *g = find_proc(p, m->grain);
	if (g || job_on(p, m->grain)) {
		reply(p, m, EBUSY, g ? "the grain is still running; stop it first"
				     : "a backup of the grain is being made", -1);
		return;
	}
	char dir[PATH_MAX];
	path_of(p, dir, sizeof(dir), m->grain, NULL);
	int r = parent_remove_tree(dir);
	if (r == 0)
		log_info("parent: grain %s deleted", m->grain);
	reply(p, m, r < 0 ? EIO : 0, r < 0 ? "could not delete every file" : NULL, -1);
}

static void grain_size(struct parent *p, const struct priv_msg *m)
{
	char var[PATH_MAX];
	path_of(p, var, sizeof(var), m->grain, "var");
	struct priv_msg r = {.type = PRIV_REPLY, .id = m->id};
	snprintf(r.grain, sizeof(r.grain), "%s", m->grain);
	uint64_t bytes = 0;
	r.status = parent_tree_size(var, &bytes) < 0 ? ENOENT : 0;
	r.value = bytes;
	priv_send(p->sock, &r, -1);
}

static void grain_log(struct parent *p, const struct priv_msg *m)
{
	char path[PATH_MAX];
	path_of(p, path, sizeof(path), m->grain, "log");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	reply(p, m, fd < 0 ? errno : 0, fd < 0 ? "no log yet" : NULL, fd);
	if (fd >= 0)
		close(fd);
}

static void pkg_install(struct parent *p, const struct priv_msg *m, int fd)
{
	struct priv_msg r = {.type = PRIV_REPLY, .id = m->id};
	if (fd < 0) {
		r.status = EINVAL;
		snprintf(r.text, sizeof(r.text), "no package file passed");
	} else {
		parent_install(p->cfg, fd, &r);
	}
	priv_send(p->sock, &r, -1);
}

static void pkg_remove(struct parent *p, const struct priv_msg *m)
{
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/apps/%s", p->cfg->data, m->package);
	int r = m->package[0] ? parent_remove_tree(dir) : -1;
	reply(p, m, r < 0 ? EIO : 0, NULL, -1);
}

static struct parent_job *job_slot(struct parent *p, const struct priv_msg *m)
{
	if (p->njobs == PARENT_JOBS_MAX) {
		reply(p, m, EBUSY, "too many backups, restores or updates at once; try again in a "
				   "moment", -1);
		return NULL;
	}
	return &p->jobs[p->njobs];
}

static void job_started(struct parent *p, const struct priv_msg *m, int r, const char *err)
{
	if (r < 0) {
		log_err("parent: job for %s: %s", m->grain[0] ? m->grain : "the server", err);
		reply(p, m, EIO, err, -1);
		return;
	}
	p->jobs[p->njobs].req_id = m->id;
	p->njobs++;
}

static void grain_backup(struct parent *p, const struct priv_msg *m, int fd)
{
	char err[512];
	struct parent_job *j;
	if (fd < 0 || find_proc(p, m->grain) || job_on(p, m->grain)) {
		reply(p, m, fd < 0 ? EINVAL : EBUSY, fd < 0 ? "no metadata passed"
				     : "the grain is running or being backed up; try again", -1);
		return;
	}
	if (!(j = job_slot(p, m)))
		return;
	job_started(p, m, parent_job_grain_backup(p->cfg, m->grain, fd, j, err, sizeof(err)), err);
}

static void grain_restore(struct parent *p, const struct priv_msg *m, int fd)
{
	char err[512];
	uid_t uid;
	struct parent_job *j;
	if (fd < 0) {
		reply(p, m, EINVAL, "no backup file passed", -1);
		return;
	}
	if (!(j = job_slot(p, m)))
		return;
	if (allocate_uid(p, &uid) < 0) {
		reply(p, m, ENOSPC, "no free grain uid left", -1);
		return;
	}
	job_started(p, m, parent_job_grain_restore(p->cfg, m->grain, uid, fd, j, err, sizeof(err)),
		    err);
}

// Every grain stops first (they start again on their next request) and stays stopped
// until the backup is written.
static void server_backup(struct parent *p, const struct priv_msg *m, int fd)
{
	char err[512];
	struct parent_job *j;
	if (fd < 0) {
		reply(p, m, EINVAL, "no store snapshot passed", -1);
		return;
	}
	if (!(j = job_slot(p, m)))
		return;
	while (p->nprocs)
		notify_exit(p, &p->procs[0], parent_stop(&p->procs[0], 0));
	job_started(p, m, parent_job_server_backup(p->cfg, fd, j, err, sizeof(err)), err);
}

// The answer goes out first: silo-init stops silo (front included) once signalled.
static void power(struct parent *p, const struct priv_msg *m)
{
	char err[256];
	bool reboot = m->action == 1;
	if (!appliance_active()) {
		appliance_power(reboot, err, sizeof(err));
		reply(p, m, ENOTSUP, err, -1);
		return;
	}
	reply(p, m, 0, NULL, -1);
	log_info("parent: asking silo-init to %s", reboot ? "reboot" : "power off");
	if (appliance_power(reboot, err, sizeof(err)) < 0)
		log_err("parent: %s", err);
}

// Verified and written by a job (a child process): the front's request waits for it, the
// parent's loop does not.
static void os_update(struct parent *p, const struct priv_msg *m, int fd)
{
	char err[512];
	if (!appliance_active()) {
		reply(p, m, ENOTSUP, "not running as the appliance: update this machine's system "
				     "with its own tools", -1);
		return;
	}
	if (fd < 0) {
		reply(p, m, EINVAL, "no update file passed", -1);
		return;
	}
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i].kind == JOB_OS_UPDATE) {
			reply(p, m, EBUSY, "an OS update is being installed already", -1);
			return;
		}
	// Verifying and writing the slot takes seconds: a child does it, grains keep starting.
	struct parent_job *j = job_slot(p, m);
	if (!j)
		return;
	int r = parent_job_spawn(p->cfg, JOB_OS_UPDATE, fd, parent_os_update_job, j, err,
				 sizeof(err));
	job_started(p, m, r, err);
}

static void acme_start(struct ev_loop *loop, void *arg);

static void https_check(struct parent *p, const struct priv_msg *m)
{
	size_t i = 0;
	while (i < PARENT_CHECKS_MAX && p->checks[i].pid)
		i++;
	char err[512];
	if (i == PARENT_CHECKS_MAX)
		reply(p, m, EBUSY, "too many checks at once; try again in a moment", -1);
	else if (parent_https_check_start(p->cfg, m, &p->checks[i], err, sizeof(err)) < 0)
		reply(p, m, EINVAL, err, -1);
}

// The wizard's choice: the worker starts again with the chosen names (or stops). Its old
// status goes, so nobody reads the previous choice's state as this one's.
static void https_apply(struct parent *p, const struct priv_msg *m)
{
	char err[512], path[PATH_MAX];
	static struct config next;
	if (parent_https_apply(p->cfg, &next, m->action, m->text, err, sizeof(err)) < 0) {
		reply(p, m, EINVAL, err, -1);
		return;
	}
	ev_timer_cancel(p->loop, &p->acme_timer);
	if (p->acme > 0) {
		kill(p->acme, SIGTERM);
		waitpid(p->acme, NULL, 0);
		p->acme = 0;
	}
	p->wcfg = next;
	util_path(path, sizeof(path), "%s/tls/acme/status.json", p->cfg->data);
	unlink(path);
	if (acme_worker_wanted(&p->wcfg))
		acme_start(p->loop, p);
	log_info("parent: HTTPS choice %d (%s) applied", m->action, m->text[0] ? m->text : "-");
	reply(p, m, 0, NULL, -1);
}

static void on_front(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events;
	struct parent *p = arg;
	struct priv_msg m;
	int mfd;
	int r = priv_recv(fd, &m, &mfd);
	if (r == 1) {
		ev_del(loop, fd); // the front is gone; SIGCHLD ends the loop
		return;
	}
	if (r < 0) {
		log_err("parent: malformed message from the front; ignored");
		return;
	}
	// Every request but an install names a valid grain id; priv_recv checked its form.
	bool needs_grain = (m.type >= PRIV_GRAIN_CREATE && m.type <= PRIV_GRAIN_LOG) ||
			   m.type == PRIV_GRAIN_BACKUP || m.type == PRIV_GRAIN_RESTORE;
	if (needs_grain && !m.grain[0]) {
		reply(p, &m, EINVAL, "no grain named", -1);
	} else if (m.type == PRIV_GRAIN_CREATE) {
		grain_create(p, &m);
	} else if (m.type == PRIV_GRAIN_START) {
		grain_start(p, &m);
	} else if (m.type == PRIV_GRAIN_STOP) {
		grain_stop(p, &m);
	} else if (m.type == PRIV_GRAIN_DESTROY) {
		grain_destroy(p, &m);
	} else if (m.type == PRIV_GRAIN_SIZE) {
		grain_size(p, &m);
	} else if (m.type == PRIV_GRAIN_LOG) {
		grain_log(p, &m);
	} else if (m.type == PRIV_PKG_INSTALL) {
		pkg_install(p, &m, mfd);
	} else if (m.type == PRIV_PKG_REMOVE) {
		pkg_remove(p, &m);
	} else if (m.type == PRIV_GRAIN_BACKUP) {
		grain_backup(p, &m, mfd);
	} else if (m.type == PRIV_GRAIN_RESTORE) {
		grain_restore(p, &m, mfd);
	} else if (m.type == PRIV_SERVER_BACKUP) {
		server_backup(p, &m, mfd);
	} else if (m.type == PRIV_POWER) {
		power(p, &m);
	} else if (m.type == PRIV_OS_UPDATE) {
		os_update(p, &m, mfd);
	} else if (m.type == PRIV_TLS_BUNDLE) {
		parent_tls_answer(p->cfg, p->sock, &m);
	} else if (m.type == PRIV_HTTPS_CHECK) {
		https_check(p, &m);
	} else if (m.type == PRIV_HTTPS_APPLY) {
		https_apply(p, &m);
	} else {
		reply(p, &m, EINVAL, "unknown request", -1);
	}
	if (mfd >= 0)
		close(mfd);
}

static void acme_start(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct parent *p = arg;
	pid_t pid = fork();
	if (pid < 0) {
		log_err("parent: cannot start the ACME worker: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		// Nothing of the parent's (the front's channel, jobs' files) goes along.
		int none[1] = {-1};
		util_close_except(none, 1);
		_exit(acme_worker_main(&p->wcfg));
	}
	p->acme = pid;
}

static void reap(struct parent *p)
{
	int status;
	if (p->acme > 0 && waitpid(p->acme, &status, WNOHANG) == p->acme) {
		// It only ends by crashing or failing to start: try again in a minute.
		log_err("parent: the ACME worker ended (status %d); restarting it in 60s", status);
		p->acme = 0;
		ev_timer_set(p->loop, &p->acme_timer, 60 * 1000, acme_start, p);
	}
	for (size_t i = 0; i < PARENT_CHECKS_MAX; i++) {
		struct https_check *k = &p->checks[i];
		if (k->pid && waitpid(k->pid, &status, WNOHANG) == k->pid) {
			struct priv_msg r;
			parent_https_check_finish(k, &r);
			if (priv_send(p->sock, &r, -1) < 0)
				log_err("parent: cannot answer the front: %s", strerror(errno));
		}
	}
	if (p->front > 0 && waitpid(p->front, &status, WNOHANG) == p->front) {
		p->front = 0;
		p->front_status = status;
		ev_stop(p->loop);
	}
	for (size_t i = 0; i < p->njobs;) {
		struct parent_job *j = &p->jobs[i];
		if (waitpid(j->pid, &status, WNOHANG) != j->pid) {
			i++;
			continue;
		}
		struct priv_msg req = {.id = j->req_id};
		snprintf(req.grain, sizeof(req.grain), "%s", j->grain);
		struct priv_msg r = {0};
		int fd = parent_job_finish(p->cfg, j, status, &r);
		if (j->kind == JOB_OS_UPDATE && !r.status)
			log_info("parent: OS update %s written; it boots next", r.text);
		else if (j->kind == JOB_OS_UPDATE)
			log_err("parent: OS update refused: %s", r.text);
		else
			log_info("parent: %s %s %s%s", j->kind == JOB_GRAIN_RESTORE ? "restore of grain"
						   : j->kind == JOB_GRAIN_BACKUP ? "backup of grain"
										 : "server backup",
				 j->grain, r.status ? "failed: " : "done", r.text);
		reply(p, &req, r.status, r.text, fd);
		if (fd >= 0)
			close(fd);
		*j = p->jobs[--p->njobs];
	}
	sandbox_spare_reap();
	// Grains are reaped by their sandbox (it also removes their cgroups).
	for (size_t i = 0; i < p->nprocs;) {
		if (parent_reap(&p->procs[i], &status) == 1)
			notify_exit(p, &p->procs[i], status);
		else
			i++;
	}
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)events;
	struct parent *p = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(p);
		else if (p->front > 0)
			kill(p->front, (int)si.ssi_signo); // the front drains, then exits
	}
}

int parent_main(const struct config *c, int sock, pid_t front)
{
	static struct parent p;
	p = (struct parent){.cfg = c, .sock = sock, .front = front, .wcfg = *c};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	p.loop = ev_new();
	if (sfd < 0 || !p.loop || ev_add(p.loop, sfd, EV_READ, on_signal, &p) < 0 ||
	    ev_add(p.loop, sock, EV_READ, on_front, &p) < 0) {
		log_err("parent: cannot set up its event loop");
		kill(front, SIGKILL);
		return 1;
	}
	int swept = cgroup_sweep();
	if (swept)
		log_info("parent: removed %d empty grain cgroups an earlier run left", swept);
	reap(&p); // the front may have died before the signalfd existed
	if (acme_worker_wanted(c))
		acme_start(p.loop, &p);
	if (p.front)
		ev_run(p.loop);
	ev_timer_cancel(p.loop, &p.acme_timer);
	if (p.acme > 0) {
		kill(p.acme, SIGTERM);
		waitpid(p.acme, NULL, 0);
	}
	ev_defer_cancel(p.loop, &p.spare_defer);
	sandbox_spare_drop();
	// The front is gone: every grain gets a moment to save its work, then goes.
	for (size_t i = 0; i < p.nprocs; i++)
		parent_stop(&p.procs[i], 2000);
	free(p.procs);
	ev_free(p.loop);
	close(sfd);
	int st = p.front_status;
	if (WIFSIGNALED(st))
		log_err("parent: the front died of signal %d", WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
