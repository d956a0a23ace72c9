// SPDX-License-Identifier: MIT
// Per-grain cgroups: find the caller's cgroup in each hierarchy, create a leaf beneath it,
// write limits, kill and remove it. Works on cgroup v1 (per-controller hierarchies) and v2.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "util.h"

static const char *const ctl_names[CGROUP_NCTL] = { "memory", "pids", "cpu", "io" };

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

// Reads a small file into buf (NUL-terminated); its length, or -1 with errno.
static ssize_t read_small(const char *path, char *buf, size_t sz)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	while (len + 1 < sz) {
		ssize_t n = read(fd, buf + len, sz - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

// Writes s in one write(2), as cgroup files want; 0 or -1 with errno.
static int write_small(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int write_u64(const char *dir, const char *file, uint64_t v)
{
	char path[CGROUP_PATH_MAX + 64], val[32];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(val, sizeof(val), "%" PRIu64, v);
	return write_small(path, val);
}

static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, seps);
		if (n == wl && strncmp(p, word, wl) == 0)
			return true;
		p += n;
		p += strspn(p, seps);
	}
	return false;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

// Finds the first mount of a hierarchy: cgroup2 (ctl NULL) or the v1 hierarchy holding ctl.
// Fills its mount point and the hierarchy path mounted there. 0, or -1 if none.
static int find_mount(const char *ctl, char *mnt, size_t mntsz, char *root, size_t rootsz)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char r[CGROUP_PATH_MAX], m[CGROUP_PATH_MAX], fstype[32], source[64], sopts[512];
		if (sscanf(line, "%*s %*s %*s %511s %511s", r, m) != 2)
			continue;
		if (sscanf(sep + 3, "%31s %63s %511s", fstype, source, sopts) != 3)
			continue;
		if (ctl ? strcmp(fstype, "cgroup") != 0 || !has_word(sopts, ctl, ",")
			: strcmp(fstype, "cgroup2") != 0)
			continue;
		unescape_octal(r);
		unescape_octal(m);
		snprintf(mnt, mntsz, "%s", m);
		snprintf(root, rootsz, "%s", r);
		found = 0;
	}
	free(line);
	return found;
}

// The calling process's cgroup path in a hierarchy, from /proc/self/cgroup: the "0::" line
// for cgroup2 (ctl NULL), else the v1 line whose controller list holds ctl.
static int self_cgroup(const char *ctl, char *out, size_t outsz)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *list = c1 + 1;
		bool match = ctl ? has_word(list, ctl, ",") : (strcmp(line, "0:") == 0 && !*list);
		if (!match)
			continue;
		snprintf(out, outsz, "%s", c2 + 1);
		found = 0;
	}
	free(line);
	return found;
}

// The directory of the caller's own cgroup in a hierarchy: mount point + (path - mount root).
static int locate(const char *ctl, char *out, size_t outsz)
{
	char mnt[CGROUP_PATH_MAX], root[CGROUP_PATH_MAX], path[CGROUP_PATH_MAX];
	if (find_mount(ctl, mnt, sizeof(mnt), root, sizeof(root)) < 0 ||
	    self_cgroup(ctl, path, sizeof(path)) < 0)
		return -1;
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	// A mount of a sub-tree that does not hold our cgroup cannot be used.
	if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
		return -1;
	const char *rest = path + rl;
	if (strcmp(rest, "/") == 0)
		rest = "";
	int n = snprintf(out, outsz, "%s%s", mnt, rest);
	return n > 0 && (size_t)n < outsz ? 0 : -1;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static int kill_listed(const char *dir);

// Makes the leaf directory. An existing one is a leftover of this grain from a server that
// died (grain ids are unique): its processes may still be exiting, or linger; they are
// killed, and the removal retried for up to a second.
static int make_leaf(const char *leaf, char *err, size_t errsz)
{
	if (mkdir(leaf, 0755) == 0)
		return 0;
	for (int i = 0; errno == EEXIST && i < 100; i++) {
		if (rmdir(leaf) == 0 && mkdir(leaf, 0755) == 0)
			return 0;
		if (errno != EBUSY)
			break;
		kill_listed(leaf);
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
		errno = EEXIST;
	}
	snprintf(err, errsz, "cgroup: mkdir %s: %s", leaf, strerror(errno));
	return -1;
}

// Returns the index of dir in cg->dirs, adding it (and creating the leaf) if new.
static int add_dir(struct cgroup *cg, const char *base, const char *name, char *err,
		   size_t errsz)
{
	char leaf[CGROUP_PATH_MAX];
	int n = snprintf(leaf, sizeof(leaf), "%s/silo-%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(leaf)) {
		snprintf(err, errsz, "cgroup: path too long under %s", base);
		return -1;
	}
	for (int i = 0; i < cg->ndirs; i++)
		if (strcmp(cg->dirs[i], leaf) == 0)
			return i;
	if (cg->ndirs >= CGROUP_MAX_DIRS) {
		snprintf(err, errsz, "cgroup: too many hierarchies");
		return -1;
	}
	if (make_leaf(leaf, err, errsz) < 0)
		return -1;
	memcpy(cg->dirs[cg->ndirs], leaf, (size_t)n + 1);
	return cg->ndirs++;
}

static int set_limit(const struct cgroup *cg, enum cgroup_ctl c, const char *file, uint64_t v,
		     bool optional, char *err, size_t errsz)
{
	if (cg->ctl[c] < 0)
		return 0;
	if (write_u64(cg->dirs[cg->ctl[c]], file, v) == 0 || (optional && errno == ENOENT))
		return 0;
	snprintf(err, errsz, "cgroup: write %s/%s: %s", cg->dirs[cg->ctl[c]], file,
		 strerror(errno));
	return -1;
}

static int limits_v1(struct cgroup *cg, const struct cgroup_limits *lim, char *err, size_t errsz)
{
	if (lim->memory_bytes && cg->ctl[CGROUP_MEMORY] >= 0) {
		if (set_limit(cg, CGROUP_MEMORY, "memory.limit_in_bytes", lim->memory_bytes, false,
			      err, errsz) < 0)
			return -1;
		// memsw (memory + swap) exists only with swap accounting; without it, keep the grain
		// from swapping at all so the limit means what it says.
		char path[CGROUP_PATH_MAX + 64];
		cgroup_file(cg, CGROUP_MEMORY, "memory.memsw.limit_in_bytes", path, sizeof(path));
		if (access(path, F_OK) == 0) {
			if (set_limit(cg, CGROUP_MEMORY, "memory.memsw.limit_in_bytes",
				      lim->memory_bytes, false, err, errsz) < 0)
				return -1;
		} else {
			set_limit(cg, CGROUP_MEMORY, "memory.swappiness", 0, true, err, errsz);
		}
	}
	if (lim->pids && set_limit(cg, CGROUP_PIDS, "pids.max", lim->pids, false, err, errsz) < 0)
		return -1;
	if (lim->cpu_weight) {
		uint64_t shares = lim->cpu_weight * 1024 / 100;
		shares = shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
		if (set_limit(cg, CGROUP_CPU, "cpu.shares", shares, true, err, errsz) < 0)
			return -1;
	}
	return 0;
}

static int create_v1(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		     char *err, size_t errsz)
{
	for (int c = CGROUP_MEMORY; c <= CGROUP_CPU; c++) {
		char base[CGROUP_PATH_MAX];
		if (locate(ctl_names[c], base, sizeof(base)) < 0)
			continue;
		cg->ctl[c] = add_dir(cg, base, name, err, errsz);
		if (cg->ctl[c] < 0)
			return -1;
	}
	return limits_v1(cg, lim, err, errsz);
}

// cgroup v2 only distributes a controller to a leaf when every ancestor lists it in
// cgroup.subtree_control; the kernel refuses that (EBUSY) for a non-root cgroup that holds
// processes, so silo must run in the root cgroup or in one handed to it with controllers on.
static int enable_v2(const char *base, const char *ctl, bool required, char *err, size_t errsz)
{
	char path[CGROUP_PATH_MAX + 64], buf[512], op[16];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
	if (read_small(path, buf, sizeof(buf)) < 0 || !has_word(buf, ctl, " \n")) {
		if (required)
			snprintf(err, errsz, "cgroup v2: the %s controller is not available in %s",
				 ctl, base);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
	if (read_small(path, buf, sizeof(buf)) >= 0 && has_word(buf, ctl, " \n"))
		return 0;
	snprintf(op, sizeof(op), "+%s", ctl);
	if (write_small(path, op) == 0)
		return 0;
	if (required)
		snprintf(err, errsz, "cgroup v2: enable %s in %s: %s%s", ctl, path, strerror(errno),
			 errno == EBUSY ? " (the cgroup holds processes: run silo in the root "
					  "cgroup or a delegated one)"
					: "");
	return -1;
}

static int create_v2(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		     char *err, size_t errsz)
{
	char base[CGROUP_PATH_MAX];
	if (locate(NULL, base, sizeof(base)) < 0) {
		snprintf(err, errsz, "cgroup v2: cannot find this process's cgroup");
		return -1;
	}
	bool want[CGROUP_NCTL] = { lim->memory_bytes > 0, lim->pids > 0, lim->cpu_weight > 0,
				   lim->cpu_weight > 0 };
	bool required[CGROUP_NCTL] = { lim->memory_bytes > 0, lim->pids > 0, false, false };
	bool on[CGROUP_NCTL] = { false };
	for (int c = 0; c < CGROUP_NCTL; c++) {
		if (!want[c])
			continue;
		if (enable_v2(base, ctl_names[c], required[c], err, errsz) == 0)
			on[c] = true;
		else if (required[c])
			return -1;
	}
	int d = add_dir(cg, base, name, err, errsz);
	if (d < 0)
		return -1;
	for (int c = 0; c < CGROUP_NCTL; c++)
		if (on[c])
			cg->ctl[c] = d;
	if (lim->memory_bytes) {
		if (set_limit(cg, CGROUP_MEMORY, "memory.max", lim->memory_bytes, false, err,
			      errsz) < 0 ||
		    set_limit(cg, CGROUP_MEMORY, "memory.swap.max", 0, true, err, errsz) < 0)
			return -1;
		// An OOM kill takes the whole grain: an app missing a process is in no known state.
		set_limit(cg, CGROUP_MEMORY, "memory.oom.group", 1, true, err, errsz);
	}
	if (lim->pids && set_limit(cg, CGROUP_PIDS, "pids.max", lim->pids, false, err, errsz) < 0)
		return -1;
	if (lim->cpu_weight && set_limit(cg, CGROUP_CPU, "cpu.weight", lim->cpu_weight, true, err,
					 errsz) < 0)
		return -1;
	if (cg->ctl[CGROUP_IO] >= 0) {
		// io.weight exists only with an io scheduler or iocost that supports it.
		char path[CGROUP_PATH_MAX + 64], val[32];
		cgroup_file(cg, CGROUP_IO, "io.weight", path, sizeof(path));
		snprintf(val, sizeof(val), "default %" PRIu64, lim->cpu_weight);
		if (write_small(path, val) < 0)
			cg->ctl[CGROUP_IO] = -1;
	}
	return 0;
}

static int check_controllers(const struct cgroup *cg, const struct cgroup_limits *lim,
			     char *err, size_t errsz)
{
	if (lim->memory_bytes && cg->ctl[CGROUP_MEMORY] < 0) {
		snprintf(err, errsz, "cgroup: no memory controller for the grain's memory limit");
		return -1;
	}
	if (lim->pids && cg->ctl[CGROUP_PIDS] < 0) {
		snprintf(err, errsz, "cgroup: no pids controller for the grain's process limit");
		return -1;
	}
	return 0;
}

int cgroup_create(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		  char *err, size_t errsz)
{
	memset(cg, 0, sizeof(*cg));
	for (int c = 0; c < CGROUP_NCTL; c++)
		cg->ctl[c] = -1;
	if (!name_ok(name)) {
		snprintf(err, errsz, "cgroup: bad name");
		return -1;
	}
	if (lim->cpu_weight > 10000) {
		snprintf(err, errsz, "cgroup: cpu weight %" PRIu64 " out of 1..10000",
			 lim->cpu_weight);
		return -1;
	}
	char probe[CGROUP_PATH_MAX];
	// A v1 memory or pids hierarchy decides: hybrid systems keep their controllers on v1
	// and leave the v2 hierarchy empty.
	if (locate("memory", probe, sizeof(probe)) == 0 || locate("pids", probe, sizeof(probe)) == 0)
		cg->version = 1;
	else if (locate(NULL, probe, sizeof(probe)) == 0)
		cg->version = 2;
	int r = cg->version == 1 ? create_v1(cg, name, lim, err, errsz)
		: cg->version == 2 ? create_v2(cg, name, lim, err, errsz)
				   : 0;
	if (r == 0)
		r = check_controllers(cg, lim, err, errsz);
	if (r < 0) {
		int saved = errno;
		cgroup_destroy(cg);
		errno = saved;
	}
	return r;
}

int cgroup_rename(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		  char *err, size_t errsz)
{
	if (cg->version != 1 || !name_ok(name) || lim->cpu_weight > 10000) {
		snprintf(err, errsz, "cgroup: cannot rename to %s", name);
		return -1;
	}
	for (int i = 0; i < cg->ndirs; i++) {
		char leaf[CGROUP_PATH_MAX];
		const char *slash = strrchr(cg->dirs[i], '/');
		int n = slash ? snprintf(leaf, sizeof(leaf), "%.*s/silo-%s",
					 (int)(slash - cg->dirs[i]), cg->dirs[i], name) : -1;
		if (n < 0 || (size_t)n >= sizeof(leaf)) {
			snprintf(err, errsz, "cgroup: path too long for %s", name);
			return -1;
		}
		// A leftover of this grain (a server that died) is cleared first, as make_leaf does.
		if (make_leaf(leaf, err, errsz) < 0)
			return -1;
		if (rmdir(leaf) < 0 || rename(cg->dirs[i], leaf) < 0) {
			snprintf(err, errsz, "cgroup: rename %s to %s: %s", cg->dirs[i], leaf,
				 strerror(errno));
			return -1;
		}
		memcpy(cg->dirs[i], leaf, (size_t)n + 1);
	}
	if (limits_v1(cg, lim, err, errsz) < 0)
		return -1;
	return check_controllers(cg, lim, err, errsz);
}

int cgroup_attach(const struct cgroup *cg, pid_t pid, char *err, size_t errsz)
{
	char val[32];
	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int i = 0; i < cg->ndirs; i++) {
		char path[CGROUP_PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[i]);
		if (write_small(path, val) < 0) {
			snprintf(err, errsz, "cgroup: join %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

// Kills every pid listed in dir/cgroup.procs; the number found.
static int kill_listed(const char *dir)
{
	char path[CGROUP_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int n = 0, pid;
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid > 0)
			kill(pid, SIGKILL);
		n++;
	}
	return n;
}

void cgroup_kill(const struct cgroup *cg)
{
	for (int i = 0; i < cg->ndirs; i++) {
		char path[CGROUP_PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/cgroup.kill", cg->dirs[i]);
		if (cg->version == 2 && write_small(path, "1") == 0)
			continue;
		// v1 has no cgroup.kill: kill what is listed until nothing new appears (a fork
		// racing with the loop is caught by the next round; pids.max bounds the rounds).
		for (int round = 0; round < 100 && kill_listed(cg->dirs[i]) > 0; round++) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}

int cgroup_destroy(struct cgroup *cg)
{
	int result = 0;
	for (int i = cg->ndirs - 1; i >= 0; i--) {
		if (!cg->dirs[i][0])
			continue;
		// Tasks that have exited may hold the cgroup for a moment after waitpid returns.
		int tries = 0;
		bool gone = true;
		while (rmdir(cg->dirs[i]) < 0 && errno != ENOENT) {
			if (errno != EBUSY || ++tries > 200) {
				gone = false;
				result = -1;
				break;
			}
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
		if (gone)
			cg->dirs[i][0] = '\0';
	}
	return result;
}

int cgroup_file(const struct cgroup *cg, enum cgroup_ctl c, const char *file, char *out,
		size_t outsz)
{
	if (cg->ctl[c] < 0 || !cg->dirs[cg->ctl[c]][0])
		return -1;
	snprintf(out, outsz, "%s/%s", cg->dirs[cg->ctl[c]], file);
	return 0;
}

// A single number file, or a "key N" line of a keyed file; 0 when absent.
static uint64_t read_counter(const struct cgroup *cg, enum cgroup_ctl c, const char *file,
			     const char *key)
{
	char path[CGROUP_PATH_MAX + 64], buf[4096];
	if (cgroup_file(cg, c, file, path, sizeof(path)) < 0 ||
	    read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	if (!key)
		return strtoull(buf, NULL, 10);
	size_t kl = strlen(key);
	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cg->ndirs == 0)
		return -1;
	if (cg->version == 1) {
		st->memory_current = read_counter(cg, CGROUP_MEMORY, "memory.usage_in_bytes", NULL);
		st->memory_max_hits = read_counter(cg, CGROUP_MEMORY, "memory.failcnt", NULL);
		st->oom_kills = read_counter(cg, CGROUP_MEMORY, "memory.oom_control", "oom_kill");
	} else {
		st->memory_current = read_counter(cg, CGROUP_MEMORY, "memory.current", NULL);
		st->memory_max_hits = read_counter(cg, CGROUP_MEMORY, "memory.events", "max");
		st->oom_kills = read_counter(cg, CGROUP_MEMORY, "memory.events", "oom_kill");
	}
	st->pids_current = read_counter(cg, CGROUP_PIDS, "pids.current", NULL);
	st->pids_max_hits = read_counter(cg, CGROUP_PIDS, "pids.events", "max");
	return 0;
}

// Removes one hierarchy's empty leaves named silo-*; busy ones stay.
#define CGROUP_SWEEP_AGE 60   // seconds

static int sweep_dir(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "silo-", 5) != 0 || !name_ok(e->d_name + 5))
			continue;
		char path[CGROUP_PATH_MAX + 300];
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		// Another silo in the same cgroup may have made this one a moment ago and not
		// moved its grain in yet: only leftovers made over a minute ago go.
		struct stat st;
		if (stat(path, &st) == 0 && time(NULL) - st.st_mtime < CGROUP_SWEEP_AGE)
			continue;
		n += rmdir(path) == 0;
	}
	closedir(d);
	return n;
}

int cgroup_sweep(void)
{
	char base[CGROUP_PATH_MAX];
	int n = 0;
	for (int c = 0; c < CGROUP_NCTL; c++)
		if (locate(ctl_names[c], base, sizeof(base)) == 0)
			n += sweep_dir(base);
	if (locate(NULL, base, sizeof(base)) == 0)
		n += sweep_dir(base);
	return n;
}
