// SPDX-License-Identifier: MIT
// The data directory's layout and ownership.
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "datadir.h"
#include "log.h"

bool datadir_privileged(void)
{
	return geteuid() == 0;
}

static int ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, bool own)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		log_err("datadir: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("datadir: %s is not a directory", path);
		return -1;
	}
	if (own && ((st.st_uid != uid || st.st_gid != gid) && chown(path, uid, gid) < 0)) {
		log_err("datadir: chown %s: %s", path, strerror(errno));
		return -1;
	}
	if (own && (st.st_mode & 07777) != mode && chmod(path, mode) < 0) {
		log_err("datadir: chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

// The front, under its own uid, must be able to walk down to DIR.
static int check_reachable(const char *dir, uid_t fu)
{
	char p[PATH_MAX];
	if (!realpath(dir, p))
		return -1;
	for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
		*slash = '\0';
		const char *anc = *p ? p : "/";
		struct stat st;
		if (stat(anc, &st) < 0)
			return -1;
		if (!(st.st_mode & S_IXOTH) && st.st_uid != fu) {
			log_err("datadir: the front (uid %u) cannot pass through %s to reach %s; "
				"make it searchable (chmod o+x %s) or choose another --data",
				fu, anc, dir, anc);
			return -1;
		}
		if (!*p)
			break;
	}
	return 0;
}

int datadir_prepare(const struct config *c)
{
	bool root = datadir_privileged();
	uid_t fu = root ? (uid_t)c->front_uid : geteuid();
	gid_t fg = root ? (gid_t)c->front_uid : getegid();
	char p[PATH_MAX + 32];
	// Passable by everyone (grains reach apps/ through it), listable by the front only.
	if (ensure_dir(c->data, 0711, fu, fg, root) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/uploads", c->data);
	if (ensure_dir(p, 0700, fu, fg, root) < 0)
		return -1;
	// apps/ is readable by the front (it reads manifests), grains/ only passable.
	snprintf(p, sizeof(p), "%s/apps", c->data);
	uid_t iu = root ? (uid_t)c->front_uid + 1 : geteuid();
	if (ensure_dir(p, 0755, iu, iu, root) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/grains", c->data);
	if (ensure_dir(p, 0711, 0, 0, root) < 0)
		return -1;
	// Backups being written: the parent's only (they hold every grain's files).
	snprintf(p, sizeof(p), "%s/backups", c->data);
	if (ensure_dir(p, 0700, 0, 0, root) < 0)
		return -1;
	if (!root)
		return 0;
	if (check_reachable(c->data, fu) < 0)
		return -1;
	// Store files root may have created (admin-token as root, an older run) go to the front.
	static const char *const store_files[] = {"silo.db", "silo.db-wal", "silo.db-shm",
						  "silo.db-journal"};
	for (size_t i = 0; i < sizeof(store_files) / sizeof(store_files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", c->data, store_files[i]);
		if (lchown(p, fu, fg) < 0 && errno != ENOENT) {
			log_err("datadir: chown %s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int become(uid_t u, gid_t g)
{
	if (setgroups(0, NULL) < 0 || setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0) {
		log_err("datadir: cannot switch to uid %u: %s", u, strerror(errno));
		return -1;
	}
	uid_t ru, eu, su;
	if (getresuid(&ru, &eu, &su) < 0 || ru != u || eu != u || su != u || setuid(0) == 0) {
		log_err("datadir: the switch to uid %u did not take", u);
		return -1;
	}
	return 0;
}

int datadir_become_front(const struct config *c)
{
	if (!datadir_privileged())
		return 0;
	return become((uid_t)c->front_uid, (gid_t)c->front_uid);
}

int datadir_become_installer(const struct config *c)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (!datadir_privileged())
		return 0;
	return become((uid_t)c->front_uid + 1, (gid_t)c->front_uid + 1);
}

int datadir_become_grain(unsigned uid)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (!datadir_privileged())
		return 0;
	return become((uid_t)uid, (gid_t)uid);
}

int datadir_become_acme(const struct config *c)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (!datadir_privileged())
		return 0;
	return become((uid_t)c->front_uid + 2, (gid_t)c->front_uid + 2);
}

int datadir_prepare_acme(const struct config *c)
{
	bool root = datadir_privileged();
	uid_t u = root ? (uid_t)c->front_uid + 2 : geteuid();
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/tls", c->data);
	if (ensure_dir(p, 0711, 0, 0, root) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/tls/acme", c->data);
	if (ensure_dir(p, 0711, u, u, root) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/tls/acme/challenges", c->data);
	if (ensure_dir(p, 0755, u, u, root) < 0)
		return -1;
	// Files restored by root (a reinstall keeping its keys) go to the worker.
	static const char *const files[] = {"account.key", "cert.pem", "dyndns.key",
					    "dyndns.crt", "status.json"};
	for (size_t i = 0; root && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/tls/acme/%s", c->data, files[i]);
		if (lchown(p, u, u) < 0 && errno != ENOENT) {
			log_err("datadir: chown %s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}
