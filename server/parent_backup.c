// SPDX-License-Identifier: MIT
// The parent's backup jobs: children that write backups (as root, which alone can read every
// grain's files) or unpack a restored grain (as the new grain's uid, never as root).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "parent_backup.h"
#include "parent_files.h"
#include "util.h"
#include "version.h"

// What a child tells the parent before it exits.
struct job_report {
	int32_t status;   // 0, or an errno value
	char text[512];
};

struct job_ctx {
	const struct config *c;
	const char *grain;
	int in;           // metadata pipe, upload or store snapshot
	int file;         // the backup being written
	uid_t uid;        // restore: the grain's
	parent_job_fn *other; // parent_job_spawn's
};

typedef void job_fn(struct job_ctx *x, struct job_report *rep);

static int job_spawn(struct parent_job *j, job_fn *fn, struct job_ctx *x, char *err,
		     size_t errsz)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "cannot start the job: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "cannot start the job: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int keep[] = {p[1], x->in, x->file};
		util_close_except(keep, sizeof(keep) / sizeof(keep[0]));
		struct job_report rep = {0};
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(x, &rep);
		ssize_t n = write(p[1], &rep, sizeof(rep));
		_exit(n == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(p[1]);
	j->pid = pid;
	j->report = p[0];
	return 0;
}

// A nameless file for a backup being written, in DIR/backups (root's only).
static int backup_file(const struct config *c, char *err, size_t errsz)
{
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/backups", c->data);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		snprintf(err, errsz, "cannot make a file for the backup in %s: %s", dir,
			 strerror(errno));
	return fd;
}

static int file_write(void *ctx, const void *p, size_t n, char *err, size_t errsz)
{
	if (util_write_all(*(int *)ctx, p, n) < 0) {
		snprintf(err, errsz, "writing the backup: %s", strerror(errno));
		return STREAM_EIO;
	}
	return 0;
}

static void report(struct job_report *rep, int status, const char *text)
{
	rep->status = status;
	snprintf(rep->text, sizeof(rep->text), "%s", text);
}

// --- one grain's backup ---

static enum archive_result fill_grain(struct archive_writer *w, void *ctx)
{
	return archive_writer_tree(w, "", *(int *)ctx, "var");
}

static struct archive_limits grain_limits(const struct config *c)
{
	uint64_t max = (uint64_t)c->max_backup_unpacked_mb << 20;
	return (struct archive_limits){.max_entries = BACKUP_MAX_ENTRIES, .max_total_bytes = max,
				       .max_file_bytes = max};
}

static void grain_backup_child(struct job_ctx *x, struct job_report *rep)
{
	char *text = malloc(BACKUP_META_MAX + 1), err[512], var[PATH_MAX];
	size_t n = 0;
	ssize_t k = 1;
	while (text && n <= BACKUP_META_MAX && (k = read(x->in, text + n, BACKUP_META_MAX + 1 - n)) > 0)
		n += (size_t)k;
	struct backup_meta m;
	if (!text || k < 0 || backup_meta_parse(text, n, &m, err, sizeof(err)) != BACKUP_OK ||
	    m.kind != BACKUP_GRAIN) {
		free(text);
		return report(rep, EINVAL, "the front sent bad backup metadata");
	}
	free(text);
	util_path(var, sizeof(var), "%s/grains/%s/var", x->c->data, x->grain);
	int vfd = open(var, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0)
		return report(rep, ENOENT, "the grain has no files");
	struct archive_limits lim = grain_limits(x->c);
	struct stream_sink out = {.write = file_write, .ctx = &x->file};
	enum backup_result r = backup_write(&out, &m, &lim, ARCHIVE_WRITE_SKIP_SPECIAL, fill_grain,
					    &vfd, err, sizeof(err));
	close(vfd);
	report(rep, r == BACKUP_OK ? 0 : r == BACKUP_E_IO ? EIO : EINVAL, r ? err : "");
}

int parent_job_grain_backup(const struct config *c, const char *grain, int metafd,
			    struct parent_job *j, char *err, size_t errsz)
{
	*j = (struct parent_job){.kind = JOB_GRAIN_BACKUP, .file = -1, .report = -1};
	snprintf(j->grain, sizeof(j->grain), "%s", grain);
	if ((j->file = backup_file(c, err, errsz)) < 0)
		return -1;
	struct job_ctx x = {.c = c, .grain = grain, .in = metafd, .file = j->file};
	if (job_spawn(j, grain_backup_child, &x, err, errsz) < 0) {
		close(j->file);
		return -1;
	}
	return 0;
}

// --- restoring a grain ---

static void grain_restore_child(struct job_ctx *x, struct job_report *rep)
{
	char var[PATH_MAX], err[512];
	util_path(var, sizeof(var), "%s/grains/%s/var", x->c->data, x->grain);
	if (datadir_become_grain(x->uid) < 0)
		return report(rep, EPERM, "the restore cannot drop its privileges");
	struct archive_limits lim = grain_limits(x->c);
	struct backup_fd_src f;
	struct stream_src src;
	backup_src_fd(&src, &f, x->in);
	struct backup_meta m;
	enum backup_result r = backup_read(&src, BACKUP_GRAIN, var, &lim, &m, NULL, err, sizeof(err));
	report(rep, r == BACKUP_OK ? 0 : r == BACKUP_E_IO ? EIO : EINVAL, r ? err : "");
}

int parent_job_grain_restore(const struct config *c, const char *grain, uid_t uid, int fd,
			     struct parent_job *j, char *err, size_t errsz)
{
	*j = (struct parent_job){.kind = JOB_GRAIN_RESTORE, .uid = uid, .file = -1, .report = -1};
	snprintf(j->grain, sizeof(j->grain), "%s", grain);
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/grains/%s", c->data, grain);
	// The grain's uid unpacks into it; parent_job_finish gives it back to root.
	if (mkdir(dir, 0700) < 0) {
		snprintf(err, errsz, "%s", errno == EEXIST ? "the grain exists already" : strerror(errno));
		return -1;
	}
	if (datadir_privileged() && chown(dir, uid, uid) < 0) {
		snprintf(err, errsz, "cannot prepare the grain: %s", strerror(errno));
		parent_remove_tree(dir);
		return -1;
	}
	struct job_ctx x = {.c = c, .grain = grain, .in = fd, .file = -1, .uid = uid};
	if (job_spawn(j, grain_restore_child, &x, err, errsz) < 0) {
		parent_remove_tree(dir);
		return -1;
	}
	return 0;
}

// The restored grain's directory back to root: only var/ may be in it, owned by the uid.
static int restore_settle(const struct config *c, const struct parent_job *j, char *err,
			  size_t errsz)
{
	char dir[PATH_MAX];
	util_path(dir, sizeof(dir), "%s/grains/%s", c->data, j->grain);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return snprintf(err, errsz, "the restored grain is gone"), -1;
	int r = 0;
	if (datadir_privileged() && fchown(dfd, 0, 0) < 0)
		r = -1;
	if (fchmod(dfd, 0711) < 0)
		r = -1;
	int lfd = dup(dfd);
	DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
	struct dirent *e;
	while (r == 0 && d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "var") &&
		    archive_remove_tree(dfd, e->d_name) < 0)
			r = -1;
	if (d)
		closedir(d);
	else if (lfd >= 0)
		close(lfd);
	struct stat st;
	int vfd = openat(dfd, "var", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r < 0 || vfd < 0 || fstat(vfd, &st) < 0 ||
	    (datadir_privileged() && st.st_uid != j->uid) || fchmod(vfd, 0700) < 0)
		r = -1;
	if (vfd >= 0)
		close(vfd);
	close(dfd);
	if (r < 0)
		snprintf(err, errsz, "the restored files are not as expected");
	return r;
}

// --- the whole server ---

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// The grain ids under DIR/grains, sorted (the archive's order). NULL-terminated; malloc'd.
// NULL when any could not be read: a server backup must not leave a grain out silently.
static char **grain_ids(const char *grains)
{
	DIR *d = opendir(grains);
	if (!d)
		return NULL;
	size_t n = 0, cap = 16;
	char **ids = calloc(cap + 1, sizeof(char *));
	struct dirent *e;
	bool failed = !ids;
	while (!failed && (e = readdir(d))) {
		if (!priv_id_valid(e->d_name))
			continue;
		if (n == cap) {
			char **m = realloc(ids, (cap * 2 + 1) * sizeof(char *));
			failed = !m;
			if (failed)
				break;
			ids = m;
			cap *= 2;
		}
		failed = !(ids[n] = strdup(e->d_name));
		if (!failed)
			ids[++n] = NULL;
	}
	closedir(d);
	if (failed) {
		for (size_t i = 0; ids && i < n; i++)
			free(ids[i]);
		free(ids);
		return NULL;
	}
	qsort(ids, n, sizeof(char *), name_cmp);
	return ids;
}

static enum archive_result fill_server(struct archive_writer *w, void *ctx)
{
	struct job_ctx *x = ctx;
	char path[PATH_MAX], name[PRIV_ID_LEN * 2 + 32];
	util_path(path, sizeof(path), "%s/apps", x->c->data);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	enum archive_result r = fd < 0 ? ARCHIVE_E_IO : archive_writer_dir(w, "apps", 0755);
	if (!r)
		r = archive_writer_tree(w, "apps", fd, path);
	if (fd >= 0)
		close(fd);
	if (!r)
		r = archive_writer_dir(w, "grains", 0711);
	util_path(path, sizeof(path), "%s/grains", x->c->data);
	char **ids = r ? NULL : grain_ids(path);
	if (!r && !ids)
		r = ARCHIVE_E_IO;
	for (size_t i = 0; !r && ids[i]; i++) {
		util_path(path, sizeof(path), "%s/grains/%s/var", x->c->data, ids[i]);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; // not a grain (yet): being created or restored
		if (fd < 0) {
			r = ARCHIVE_E_IO;
			break;
		}
		snprintf(name, sizeof(name), "grains/%s", ids[i]);
		r = archive_writer_dir(w, name, 0711);
		snprintf(name, sizeof(name), "grains/%s/var", ids[i]);
		if (!r)
			r = archive_writer_dir(w, name, 0700);
		if (!r)
			r = archive_writer_tree(w, name, fd, path);
		close(fd);
	}
	for (size_t i = 0; ids && ids[i]; i++)
		free(ids[i]);
	free(ids);
	if (!r)
		r = archive_writer_file(w, "silo.db", x->in, 0600, "the store snapshot");
	return r;
}

static void server_backup_child(struct job_ctx *x, struct job_report *rep)
{
	char err[512];
	struct backup_meta m = {.kind = BACKUP_SERVER, .made = util_unix_now()};
	snprintf(m.silo_version, sizeof(m.silo_version), "%s", SILO_VERSION);
	struct archive_limits lim = BACKUP_SERVER_LIMITS;
	struct stream_sink out = {.write = file_write, .ctx = &x->file};
	enum backup_result r = backup_write(&out, &m, &lim, ARCHIVE_WRITE_SKIP_SPECIAL, fill_server,
					    x, err, sizeof(err));
	report(rep, r == BACKUP_OK ? 0 : EIO, r ? err : "");
}

int parent_job_server_backup(const struct config *c, int dbfd, struct parent_job *j, char *err,
			     size_t errsz)
{
	*j = (struct parent_job){.kind = JOB_SERVER_BACKUP, .file = -1, .report = -1};
	if ((j->file = backup_file(c, err, errsz)) < 0)
		return -1;
	struct job_ctx x = {.c = c, .in = dbfd, .file = j->file};
	if (job_spawn(j, server_backup_child, &x, err, errsz) < 0) {
		close(j->file);
		return -1;
	}
	return 0;
}

// --- another room's job ---

static void other_child(struct job_ctx *x, struct job_report *rep)
{
	rep->status = x->other(x->c, x->in, rep->text, sizeof(rep->text));
}

int parent_job_spawn(const struct config *c, enum parent_job_kind kind, int in,
		     parent_job_fn *fn, struct parent_job *j, char *err, size_t errsz)
{
	*j = (struct parent_job){.kind = kind, .file = -1, .report = -1};
	struct job_ctx x = {.c = c, .in = in, .file = -1, .other = fn};
	return job_spawn(j, other_child, &x, err, errsz);
}

// --- the end of a job ---

int parent_job_finish(const struct config *c, struct parent_job *j, int status,
		      struct priv_msg *reply)
{
	struct job_report rep = {0};
	ssize_t n = read(j->report, &rep, sizeof(rep));
	close(j->report);
	if (n != (ssize_t)sizeof(rep) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rep.status = EIO;
		snprintf(rep.text, sizeof(rep.text), "the %s job failed",
			 j->kind == JOB_OS_UPDATE ? "OS update" : "backup");
	}
	rep.text[sizeof(rep.text) - 1] = '\0';
	int fd = -1;
	if (j->kind == JOB_GRAIN_RESTORE) {
		char dir[PATH_MAX];
		util_path(dir, sizeof(dir), "%s/grains/%s", c->data, j->grain);
		if (rep.status == 0 && restore_settle(c, j, rep.text, sizeof(rep.text)) < 0)
			rep.status = EIO;
		if (rep.status != 0)
			parent_remove_tree(dir);
	} else if (rep.status == 0 && j->file >= 0) {
		// The front reads from the start, through its own open file description.
		char self[64];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", j->file);
		fd = open(self, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rep.status = EIO;
			snprintf(rep.text, sizeof(rep.text), "cannot reopen the backup: %s",
				 strerror(errno));
		}
	}
	if (j->file >= 0)
		close(j->file);
	j->file = -1;
	reply->status = rep.status;
	snprintf(reply->text, sizeof(reply->text), "%s", rep.text);
	return fd;
}
