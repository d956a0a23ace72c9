// SPDX-License-Identifier: MIT
// `silo restore-server --data DIR FILE`: a whole server's backup unpacked into a fresh data
// directory, with the owners and modes the server expects (datadir.h). The archive is read
// by a child under the installer's uid, never as root; root then checks the tree's shape
// and moves each piece into place.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "privsep.h"
#include "restore_server.h"
#include "util.h"

#define STAGE_NAME ".silo-restore"

// Each name in dir: fn(dir, name, arg); stops at the first -1. 0 / -1.
static int each_entry(const char *dir, int (*fn)(const char *dir, const char *name, void *arg),
		      void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = fn(dir, e->d_name, arg);
	closedir(d);
	return r;
}

static int count_one(const char *dir, const char *name, void *arg)
{
	(void)dir, (void)name;
	++*(int *)arg;
	return 0;
}

static int entries(const char *dir)
{
	int n = 0;
	return each_entry(dir, count_one, &n) < 0 ? -1 : n;
}

static bool is_dir(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;
	return util_path(p, sizeof(p), "%s/%s", dir, name) == 0 && lstat(p, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

// --- the tree's shape: silo.db, apps/<package id>/, grains/<grain id>/var/ ---

static int check_top(const char *dir, const char *name, void *arg)
{
	(void)arg;
	if ((strcmp(name, "apps") == 0 || strcmp(name, "grains") == 0) && is_dir(dir, name))
		return 0;
	char p[PATH_MAX];
	struct stat st;
	if (strcmp(name, "silo.db") == 0 && util_path(p, sizeof(p), "%s/%s", dir, name) == 0 &&
	    lstat(p, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	fprintf(stderr, "silo: restore-server: unexpected '%s' at the top of the backup\n", name);
	return -1;
}

static int check_app(const char *dir, const char *name, void *arg)
{
	(void)arg;
	if (priv_id_valid(name) && is_dir(dir, name))
		return 0;
	fprintf(stderr, "silo: restore-server: 'apps/%s' is not a package directory\n", name);
	return -1;
}

static int check_grain(const char *dir, const char *name, void *arg)
{
	(void)arg;
	char p[PATH_MAX];
	if (priv_id_valid(name) && is_dir(dir, name) &&
	    util_path(p, sizeof(p), "%s/%s", dir, name) == 0 && entries(p) == 1 && is_dir(p, "var"))
		return 0;
	fprintf(stderr, "silo: restore-server: 'grains/%s' is not a grain (a directory holding "
		"var/ only)\n", name);
	return -1;
}

static int check_tree(const char *tree)
{
	char p[PATH_MAX];
	if (each_entry(tree, check_top, NULL) < 0)
		return -1;
	if (util_path(p, sizeof(p), "%s/silo.db", tree) < 0 || access(p, F_OK) < 0) {
		fprintf(stderr, "silo: restore-server: the backup holds no store (silo.db)\n");
		return -1;
	}
	util_path(p, sizeof(p), "%s/apps", tree);
	if (is_dir(tree, "apps") && each_entry(p, check_app, NULL) < 0)
		return -1;
	util_path(p, sizeof(p), "%s/grains", tree);
	return is_dir(tree, "grains") ? each_entry(p, check_grain, NULL) : 0;
}

// --- moving into place ---

struct mover {
	const struct config *c;
	int grains;
	int apps;
};

static uid_t chown_uid;   // for the nftw callback, which takes no argument

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return lchown(path, chown_uid, chown_uid) < 0 ? -1 : 0;
}

static int move_app(const char *dir, const char *name, void *arg)
{
	struct mover *m = arg;
	char from[PATH_MAX], to[PATH_MAX];
	util_path(from, sizeof(from), "%s/%s", dir, name);
	util_path(to, sizeof(to), "%s/apps/%s", m->c->data, name);
	if (rename(from, to) < 0 || chmod(to, 0755) < 0) {
		fprintf(stderr, "silo: restore-server: %s: %s\n", to, strerror(errno));
		return -1;
	}
	m->apps++;
	return 0;
}

// Each grain gets the next uid of the grain range, and its files that owner.
static int move_grain(const char *dir, const char *name, void *arg)
{
	struct mover *m = arg;
	char from[PATH_MAX], to[PATH_MAX], var[PATH_MAX];
	util_path(from, sizeof(from), "%s/%s", dir, name);
	util_path(to, sizeof(to), "%s/grains/%s", m->c->data, name);
	util_path(var, sizeof(var), "%s/var", to);
	chown_uid = (uid_t)(m->c->grain_uid_base + m->grains);
	bool root = datadir_privileged();
	errno = 0;
	if (m->grains >= m->c->grain_uid_count || rename(from, to) < 0 ||
	    (root && chown(to, 0, 0) < 0) || chmod(to, 0711) < 0 ||
	    (root && nftw(var, chown_one, 64, FTW_PHYS) != 0) || chmod(var, 0700) < 0) {
		fprintf(stderr, "silo: restore-server: %s: %s\n", to,
			errno ? strerror(errno) : "no free grain uid");
		return -1;
	}
	m->grains++;
	return 0;
}

static int move_tree(const struct config *c, const char *tree, struct mover *m)
{
	char p[PATH_MAX], db[PATH_MAX];
	*m = (struct mover){.c = c};
	util_path(p, sizeof(p), "%s/apps", tree);
	if (is_dir(tree, "apps") && each_entry(p, move_app, m) < 0)
		return -1;
	util_path(p, sizeof(p), "%s/grains", tree);
	if (is_dir(tree, "grains") && each_entry(p, move_grain, m) < 0)
		return -1;
	// The store last: until it is there, the directory is not a server's.
	util_path(p, sizeof(p), "%s/silo.db", tree);
	util_path(db, sizeof(db), "%s/silo.db", c->data);
	uid_t fu = (uid_t)c->front_uid;
	if (rename(p, db) < 0 || (datadir_privileged() && chown(db, fu, fu) < 0) ||
	    chmod(db, 0600) < 0) {
		fprintf(stderr, "silo: restore-server: %s: %s\n", db, strerror(errno));
		return -1;
	}
	return 0;
}

// --- unpacking, unprivileged ---

static int unpack(const struct config *c, int fd, const char *file, const char *stage,
		  const char *tree)
{
	if (mkdir(stage, 0700) < 0) {
		fprintf(stderr, "silo: restore-server: %s: %s\n", stage, strerror(errno));
		return -1;
	}
	uid_t iu = (uid_t)c->front_uid + 1;
	if (datadir_privileged() && chown(stage, iu, iu) < 0)
		return fprintf(stderr, "silo: restore-server: %s: %s\n", stage, strerror(errno)), -1;
	pid_t pid = fork();
	if (pid < 0)
		return fprintf(stderr, "silo: restore-server: fork: %s\n", strerror(errno)), -1;
	if (pid == 0) {
		if (datadir_become_installer(c) < 0)
			_exit(3);
		struct archive_limits lim = BACKUP_SERVER_LIMITS;
		struct backup_fd_src f;
		struct stream_src src;
		struct backup_meta m;
		char err[512];
		backup_src_fd(&src, &f, fd);
		enum backup_result r = backup_read(&src, BACKUP_SERVER, tree, &lim, &m, NULL, err,
						   sizeof(err));
		if (r)
			fprintf(stderr, "silo: restore-server: %s: %s\n", file, err);
		_exit(r ? 1 : 0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int restore_server(const struct config *c, const char *file)
{
	char db[PATH_MAX], stage[PATH_MAX], tree[PATH_MAX], err[512];
	util_path(db, sizeof(db), "%s/silo.db", c->data);
	if (access(db, F_OK) == 0)
		die("%s already holds a store (silo.db); restore into a fresh directory", c->data);
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		die("%s: %s", file, strerror(errno));
	struct backup_fd_src f;
	struct stream_src src;
	struct backup_meta m;
	backup_src_fd(&src, &f, fd);
	enum backup_result r = backup_read_meta(&src, &m, err, sizeof(err));
	if (r)
		die("%s: %s", file, err);
	if (m.kind != BACKUP_SERVER)
		die("%s: this is the backup of one grain; restore it from the Grains page", file);
	if (datadir_prepare(c) < 0)
		die("cannot prepare the data directory %s (see the message above)", c->data);
	util_path(tree, sizeof(tree), "%s/apps", c->data);
	util_path(stage, sizeof(stage), "%s/grains", c->data);
	if (entries(tree) != 0 || entries(stage) != 0)
		die("%s already holds apps or grains; restore into a fresh directory", c->data);
	util_path(stage, sizeof(stage), "%s/" STAGE_NAME, c->data);
	util_path(tree, sizeof(tree), "%s/tree", stage);
	archive_remove_tree(AT_FDCWD, stage); // a run that was interrupted
	struct mover mv;
	int ok = unpack(c, fd, file, stage, tree) == 0 && check_tree(tree) == 0 &&
		 move_tree(c, tree, &mv) == 0;
	close(fd);
	archive_remove_tree(AT_FDCWD, stage);
	if (!ok)
		die("%s was not restored (see the message above)", file);
	printf("silo: restored %d apps and %d grains into %s (a backup made by silo %s)\n",
	       mv.apps, mv.grains, c->data, m.silo_version);
	return 0;
}
