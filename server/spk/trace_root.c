// SPDX-License-Identifier: MIT
// The package root of `spk trace`: copies recorded host paths into an output directory the
// way the kernel looks them up, keeping every symlink on the way as a symlink, creating
// every directory, and copying regular files with their mode and mtime.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "trace_priv.h"
#include "util.h"

// The kernel's limit on symlinks followed in one lookup (MAXSYMLINKS).
#define ROOT_MAX_LINKS 40
// Interpreters of interpreters (the kernel allows a handful of binfmt levels).
#define ROOT_MAX_INTERP 5
// Directory depth walked for an include entry.
#define ROOT_MAX_DEPTH 64
// Beyond this the packer refuses a file (DESIGN.md).
#define ROOT_WARN_FILE_BYTES (512ull << 20)

static void mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		die("trace: %s: path too long", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die_errno("trace: mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die_errno("trace: mkdir %s", p);
}

static bool dir_is_empty(int fd)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d)
		die_errno("trace: reading the output directory");
	bool empty = true;
	struct dirent *e;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

void trace_root_open(struct trace_root *r, const char *dir, bool add)
{
	*r = (struct trace_root){0};
	trace_set_init(&r->done);
	trace_set_init(&r->placed);
	mkdir_p(dir);
	char *canon = realpath(dir, NULL);
	if (!canon)
		die_errno("trace: %s", dir);
	if (strcmp(canon, "/") == 0)
		die("trace: the output directory cannot be /");
	r->dir = canon;
	r->dir_fd = open(canon, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dir_fd < 0)
		die_errno("trace: %s", canon);
	if (!add && !dir_is_empty(r->dir_fd))
		die("trace: %s is not empty (remove it, or pass --add to add to it)", canon);
}

void trace_root_close(struct trace_root *r)
{
	close(r->dir_fd);
	free((char *)r->dir);
	trace_set_free(&r->done);
	trace_set_free(&r->placed);
	trace_patterns_free(&r->exclude);
}

static bool root_excluded(const struct trace_root *r, const char *path)
{
	size_t n = strlen(r->dir);
	if (strncmp(path, r->dir, n) == 0 && (path[n] == '/' || path[n] == 0))
		return true;
	for (size_t i = 0; i < r->exclude.len; i++)
		if (fnmatch(r->exclude.pat[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static void place_dir(struct trace_root *r, const char *path, const struct stat *st)
{
	if (!trace_set_add(&r->done, path))
		return;
	// Owner-writable so the tree can be filled (and removed) without root.
	if (mkdirat(r->dir_fd, path + 1, (st->st_mode & 0777) | 0700) == 0) {
		r->dirs++;
		return;
	}
	struct stat have;
	if (errno != EEXIST || fstatat(r->dir_fd, path + 1, &have, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(have.st_mode))
		die_errno("trace: creating directory %s%s", r->dir, path);
}

// How many directories deep path's parent is: /etc/localtime -> 1, /lib64 -> 0.
static int parent_depth(const char *path)
{
	int d = -1;
	for (const char *s = path; *s; s++)
		if (*s == '/' && s[1] && s[1] != '/')
			d++;
	return d < 0 ? 0 : d;
}

// Would the packer take this relative target of a link whose directory is depth levels
// deep? It wants ".." only at the start and never above the root (server/archive.c).
static bool target_tidy(const char *t, int depth)
{
	int ups = 0;
	bool named = false;
	if (t[0] == '/' || t[0] == 0)
		return false;
	for (const char *p = t; *p;) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (named || ++ups > depth)
				return false;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			named = true;
		}
		p = *end ? end + 1 : end;
	}
	return true;
}

// Collapses "//", "." and ".." of an absolute path in place, lexically.
static void path_normalize(char *p)
{
	size_t o = 0;
	for (const char *s = p; *s;) {
		while (*s == '/')
			s++;
		const char *end = strchrnul(s, '/');
		size_t len = (size_t)(end - s);
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && p[--o] != '/')
				;
		} else if (len > 0 && !(len == 1 && s[0] == '.')) {
			p[o++] = '/';
			memmove(p + o, s, len);
			o += len;
		}
		s = end;
	}
	if (o == 0)
		p[o++] = '/';
	p[o] = 0;
}

// The link target as stored. A tidy relative target stays as it is. Anything else (an
// absolute target, or ".." after a name) becomes "../" up to the root followed by the
// absolute destination: the same file once the root is /, and a link the packer accepts.
// A destination holding "." or ".." is resolved on the host (exact), or lexically when it
// does not exist.
static int link_target(const char *link, const char *target, char *out, size_t size)
{
	int depth = parent_depth(link);
	if (target_tidy(target, depth))
		return snprintf(out, size, "%s", target) < (int)size ? 0 : -1;
	char dest[PATH_MAX];
	int n = target[0] == '/' ? snprintf(dest, sizeof(dest), "%s", target)
				 : snprintf(dest, sizeof(dest), "%.*s/%s",
					    (int)(strrchr(link, '/') - link), link, target);
	if (n < 0 || n >= (int)sizeof(dest))
		return -1;
	char real[PATH_MAX];
	char copy[PATH_MAX];
	memcpy(copy, dest, (size_t)n + 1);
	path_normalize(copy);
	// realpath() resolves every symlink: only needed when ".." could hide one.
	if (strcmp(copy, dest) != 0 && strstr(dest, "..") && realpath(dest, real))
		snprintf(copy, sizeof(copy), "%s", real);
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < depth; i++) {
		if (o + 3 >= size)
			return -1;
		memcpy(out + o, "../", 4);
		o += 3;
	}
	const char *rest = copy + 1;   // past the leading '/'
	if (!*rest) {
		if (o)
			out[o - 1] = 0;   // "../.." for the root itself
		else
			snprintf(out, size, ".");
		return 0;
	}
	return snprintf(out + o, size - o, "%s", rest) < (int)(size - o) ? 0 : -1;
}

static void place_symlink(struct trace_root *r, const char *path, const char *target)
{
	if (!trace_set_add(&r->done, path))
		return;
	char stored[PATH_MAX];
	if (link_target(path, target, stored, sizeof(stored)) < 0) {
		fprintf(stderr, "trace: warning: %s: link target too long\n", path);
		return;
	}
	if (symlinkat(stored, r->dir_fd, path + 1) < 0) {
		if (errno != EEXIST || unlinkat(r->dir_fd, path + 1, 0) < 0 ||
		    symlinkat(stored, r->dir_fd, path + 1) < 0)
			die_errno("trace: creating symlink %s%s", r->dir, path);
	}
	trace_set_add(&r->placed, path);
	r->symlinks++;
}

static int copy_bytes(int in, int out, off_t size)
{
	// copy_file_range first (reflinks on filesystems that have them), plain I/O after.
	while (size > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)size, 0);
		if (n == 0)
			return 0;   // the file shrank meanwhile
		if (n < 0)
			break;
		size -= n;
	}
	char buf[65536];
	while (size > 0) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k < 0)
				return -1;
			w += k;
		}
		size -= n;
	}
	return 0;
}

// A __pycache__/NAME.TAG.pyc file: Python's cache of NAME.py.
static bool is_cached_pyc(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcmp(path + n - 4, ".pyc") == 0 && strstr(path, "/__pycache__/");
}

// Turns a timestamp-checked .pyc into an unchecked hash-based one (PEP 552: flags word 1).
// The packer does not keep mtimes, and a read-only root cannot take a fresh .pyc, so a
// checked one would be compiled again at every start (Radicale: 0.8 s); the package is
// signed and read-only, so its sources cannot change under the cache anyway.
static void pyc_make_unchecked(struct trace_root *r, int fd, const char *path)
{
	unsigned char head[8];
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		return;
	if (head[2] != '\r' || head[3] != '\n' || (head[4] | head[5] | head[6] | head[7]))
		return;   // not a pyc, or already hash-based
	static const unsigned char unchecked[4] = {1, 0, 0, 0};
	if (pwrite(fd, unchecked, sizeof(unchecked), 4) != (ssize_t)sizeof(unchecked))
		die_errno("trace: rewriting %s%s", r->dir, path);
	r->pycs++;
}

static void place_file(struct trace_root *r, const char *path)
{
	if (!trace_set_add(&r->done, path))
		return;
	_cleanup_close_ int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "trace: warning: cannot read %s: %s\n", path, strerror(errno));
		return;
	}
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	_cleanup_close_ int out = openat(r->dir_fd, path + 1, flags, 0600);
	if (out < 0 && errno == EEXIST && unlinkat(r->dir_fd, path + 1, 0) == 0)
		out = openat(r->dir_fd, path + 1, flags, 0600);
	if (out < 0)
		die_errno("trace: creating %s%s", r->dir, path);
	if (copy_bytes(in, out, st.st_size) < 0)
		die_errno("trace: copying %s", path);
	if (r->pyc_unchecked && is_cached_pyc(path))
		pyc_make_unchecked(r, out, path);
	// setuid/setgid never go into a package (the unpacker refuses them); the mtime must
	// survive, as Python trusts a .pyc only while its source's mtime matches.
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (fchmod(out, st.st_mode & 0777) < 0 || futimens(out, times) < 0)
		die_errno("trace: setting mode and times of %s%s", r->dir, path);
	if ((uint64_t)st.st_size > ROOT_WARN_FILE_BYTES)
		fprintf(stderr, "trace: warning: %s is larger than a package may hold\n", path);
	trace_set_add(&r->placed, path);
	r->files++;
	r->bytes += (uint64_t)st.st_size;
}

// The host's /tmp, /var, /home ... are skipped, except where the traced program itself
// lives: a program built in /tmp/app is the app.
static bool root_skipped(const struct trace_root *r, const char *path)
{
	size_t n = strlen(r->app_dir);
	bool own = n > 1 && strncmp(path, r->app_dir, n) == 0 && (path[n] == '/' || !path[n]);
	return (!own && trace_path_skipped(path)) || root_excluded(r, path);
}

// Follows the symlink at cur (already placed), then the rest of the path.
static int place_walk(struct trace_root *r, const char *path, int links, char *phys);

static int follow_link(struct trace_root *r, const char *cur, const char *rest, int links,
		       char *phys)
{
	char target[PATH_MAX], next[PATH_MAX];
	ssize_t n = readlink(cur, target, sizeof(target) - 1);
	if (n <= 0)
		return -1;
	target[n] = 0;
	place_symlink(r, cur, target);
	int len;
	if (target[0] == '/') {
		len = snprintf(next, sizeof(next), "%s%s", target, rest);
	} else {
		const char *slash = strrchr(cur, '/');
		len = snprintf(next, sizeof(next), "%.*s/%s%s", (int)(slash - cur), cur, target,
			       rest);
	}
	if (len < 0 || len >= (int)sizeof(next))
		return -1;
	return place_walk(r, next, links + 1, phys);
}

// Walks path one component at a time, as the kernel's lookup does: "." and ".." on the
// physical path, every symlink placed and followed, every directory placed. Returns the
// final file type (S_IFREG, S_IFDIR) and its physical path, or -1.
static int place_walk(struct trace_root *r, const char *path, int links, char *phys)
{
	if (links > ROOT_MAX_LINKS)
		return -1;
	// Only a path that resolves places the directories on its way: a PATH search or a
	// failed exec must not leave empty directories behind.
	struct stat whole;
	if (links == 0 && stat(path, &whole) < 0 && lstat(path, &whole) < 0)
		return -1;
	char cur[PATH_MAX] = "";
	size_t cl = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		const char *comp = p;
		p = end;
		if (len == 0 || (len == 1 && comp[0] == '.'))
			continue;
		if (len == 2 && comp[0] == '.' && comp[1] == '.') {
			while (cl > 0 && cur[--cl] != '/')
				;
			cur[cl] = 0;
			continue;
		}
		if (cl + 1 + len >= sizeof(cur))
			return -1;
		cur[cl++] = '/';
		memcpy(cur + cl, comp, len);
		cl += len;
		cur[cl] = 0;
		struct stat st;
		if (root_skipped(r, cur) || lstat(cur, &st) < 0)
			return -1;
		if (S_ISLNK(st.st_mode))
			return follow_link(r, cur, p, links, phys);
		if (S_ISDIR(st.st_mode)) {
			place_dir(r, cur, &st);
			continue;
		}
		while (*p == '/')
			p++;
		if (*p || !S_ISREG(st.st_mode)) {
			if (!*p)
				r->skipped_special++;   // fifo, socket, device node
			return -1;
		}
		place_file(r, cur);
		snprintf(phys, PATH_MAX, "%s", cur);
		return S_IFREG;
	}
	snprintf(phys, PATH_MAX, "%s", cl ? cur : "/");
	return S_IFDIR;
}

// Places host path (absolute, may hold symlinks and ..) in the root: every symlink on the
// way as a symlink, every directory, and the file itself. Returns 0, or -1 when the path
// does not exist, is skipped or excluded.
static int root_add(struct trace_root *r, const char *path)
{
	char phys[PATH_MAX];
	return place_walk(r, path, 0, phys) < 0 ? -1 : 0;
}

// Places a path and, when it is a directory, everything below it.
static void add_tree(struct trace_root *r, const char *path, int depth)
{
	char phys[PATH_MAX];
	if (place_walk(r, path, 0, phys) != S_IFDIR || depth > ROOT_MAX_DEPTH)
		return;
	DIR *d = opendir(phys);
	if (!d) {
		fprintf(stderr, "trace: warning: cannot list %s: %s\n", phys, strerror(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char child[PATH_MAX];
		struct stat st;
		if (trace_path_join(child, sizeof(child), phys, e->d_name) < 0 ||
		    lstat(child, &st) < 0)
			continue;
		// Real subdirectories are walked; a symlink to a directory is kept with its
		// target directory, but not walked (it may point anywhere, / included).
		if (S_ISDIR(st.st_mode))
			add_tree(r, child, depth + 1);
		else
			root_add(r, child);
	}
	closedir(d);
}

// The kernel runs an ELF file's PT_INTERP and a script's "#!" interpreter without an
// open(2) in the traced process: add them, and their own interpreters.
static void add_interpreters(struct trace_root *r, const char *exec)
{
	char path[PATH_MAX], phys[PATH_MAX], interp[PATH_MAX];
	snprintf(path, sizeof(path), "%s", exec);
	for (int level = 0; level < ROOT_MAX_INTERP; level++) {
		if (place_walk(r, path, 0, phys) != S_IFREG)
			return;
		enum trace_exec_kind kind = trace_exec_interp(phys, interp, sizeof(interp));
		if (kind != TRACE_EXEC_ELF && kind != TRACE_EXEC_SCRIPT)
			return;
		if (interp[0] != '/') {
			fprintf(stderr, "trace: warning: %s: relative interpreter %s not added\n",
				exec, interp);
			return;
		}
		if (r->verbose)
			fprintf(stderr, "trace: interpreter of %s: %s\n", path, interp);
		snprintf(path, sizeof(path), "%s", interp);
	}
}

// Python compares a .pyc with its source's mtime and size before trusting it, and
// tracebacks read the source: a __pycache__/NAME.TAG.pyc brings NAME.py along.
static void add_python_source(struct trace_root *r, const char *path)
{
	size_t n = strlen(path);
	const char *base = strrchr(path, '/');
	if (n < 5 || strcmp(path + n - 4, ".pyc") != 0 || !base || base == path)
		return;
	const char *cache = base - 1;
	while (cache > path && *cache != '/')
		cache--;
	if ((size_t)(base - cache) != strlen("/__pycache__") ||
	    strncmp(cache, "/__pycache__", (size_t)(base - cache)) != 0)
		return;
	const char *dot = strchr(base + 1, '.');
	char src[PATH_MAX];
	int len = snprintf(src, sizeof(src), "%.*s/%.*s.py", (int)(cache - path), path,
			   (int)(dot - base - 1), base + 1);
	if (len > 0 && len < (int)sizeof(src))
		root_add(r, src);
}

void trace_root_add_record(struct trace_root *r, const struct trace_record *rec)
{
	const char **paths = trace_set_sorted(&rec->paths);
	for (size_t i = 0; paths[i]; i++) {
		root_add(r, paths[i]);
		add_python_source(r, paths[i]);
	}
	free(paths);
	const char **execs = trace_set_sorted(&rec->execs);
	for (size_t i = 0; execs[i]; i++)
		add_interpreters(r, execs[i]);
	free(execs);
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

void trace_root_add_includes(struct trace_root *r, const struct trace_patterns *inc)
{
	for (size_t i = 0; i < inc->len; i++) {
		const char *pat = inc->pat[i];
		struct stat st;
		if (!has_glob(pat)) {
			if (lstat(pat, &st) < 0)
				fprintf(stderr, "trace: warning: include %s: %s\n", pat,
					strerror(errno));
			else
				add_tree(r, pat, 0);
			continue;
		}
		glob_t g;
		int rc = glob(pat, GLOB_NOESCAPE, NULL, &g);
		if (rc == GLOB_NOMATCH)
			fprintf(stderr, "trace: warning: include %s matches nothing\n", pat);
		else if (rc != 0)
			die("trace: include %s: glob failed", pat);
		for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++)
			add_tree(r, g.gl_pathv[k], 0);
		if (rc == 0)
			globfree(&g);
	}
}

void trace_patterns_free(struct trace_patterns *p)
{
	for (size_t i = 0; i < p->len; i++)
		free(p->pat[i]);
	free(p->pat);
	*p = (struct trace_patterns){0};
}

static void patterns_push(struct trace_patterns *p, const char *s)
{
	if (p->len == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->pat = realloc(p->pat, p->cap * sizeof(*p->pat));
		if (!p->pat)
			die("trace: out of memory");
	}
	if (!(p->pat[p->len++] = strdup(s)))
		die("trace: out of memory");
}

void trace_patterns_load(struct trace_patterns *p, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		die_errno("trace: %s", file);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (int lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
				 line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = 0;
		char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		if (*s != '/')
			die("trace: %s:%d: not an absolute path: %s", file, lineno, s);
		if (strlen(s) >= PATH_MAX)
			die("trace: %s:%d: path too long", file, lineno);
		// A trailing slash would keep fnmatch from matching the directory itself.
		for (size_t l = strlen(s); l > 1 && s[l - 1] == '/';)
			s[--l] = 0;
		patterns_push(p, s);
	}
	free(line);
	fclose(f);
}
