// SPDX-License-Identifier: MIT
// The grain's filesystem, built by the sandbox child: a fresh tmpfs root holding the
// package's top-level entries (bind-mounted read-only), the bridge, /var, /tmp and a minimal
// /dev; then pivot_root with the old root detached. No allocation: the child is a raw clone.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_impl.h"
#include "util.h"

// Names the grain gets from silo, never from the package.
static const char *const reserved[] = { "dev", "proc", "sys", "tmp", "var", "silo-bridge" };
static const char *const dev_nodes[] = { "null", "zero", "random", "urandom" };

#define DEFAULT_TMP_BYTES (16u << 20)

// Not inlined: the message is cut to fit on purpose, so no truncation warnings per caller.
__attribute__((noinline)) static int fail_at(struct sandbox_child *c, const char *fmt,
					     const char *arg)
{
	int saved = errno;
	snprintf(c->what, sizeof(c->what), fmt, arg);
	errno = saved;
	return -1;
}

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

static int add_entry(struct sandbox_child *c, const char *name)
{
	if (c->nentries >= SANDBOX_MAX_ENTRIES) {
		errno = E2BIG;
		return fail_at(c, "the package has more than %s top-level entries", "256");
	}
	struct stat st;
	if (fstatat(c->pkg_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_at(c, "stat /%s in the package", name);
	unsigned type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG
		: S_ISLNK(st.st_mode)       ? DT_LNK
					    : DT_UNKNOWN;
	if (type == DT_UNKNOWN)
		return 0; // devices, fifos and sockets never enter a grain
	struct sandbox_entry *e = &c->entries[c->nentries];
	e->fd = openat(c->pkg_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (e->fd < 0)
		return fail_at(c, "open /%s in the package", name);
	size_t len = strnlen(name, sizeof(e->name));
	if (len >= sizeof(e->name)) {
		close(e->fd);
		errno = ENAMETOOLONG;
		return fail_at(c, "a package entry name is too long%s", "");
	}
	memcpy(e->name, name, len + 1);
	e->type = type;
	c->nentries++;
	return 0;
}

int sandbox_mount_open(struct sandbox_child *c)
{
	const struct sandbox_spec *s = c->spec;
	c->pkg_fd = open(s->package_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->pkg_fd < 0)
		return fail_at(c, "open the package %s", s->package_root);
	c->var_fd = open(s->var_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->var_fd < 0)
		return fail_at(c, "open /var %s", s->var_dir);
	c->bridge_fd = open(s->bridge_path, O_PATH | O_CLOEXEC);
	if (c->bridge_fd < 0)
		return fail_at(c, "open the bridge %s", s->bridge_path);
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = getdents64(c->pkg_fd, buf, sizeof(buf));
		if (n < 0)
			return fail_at(c, "read the package %s", s->package_root);
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
			    is_reserved(d->d_name))
				continue;
			if (add_entry(c, d->d_name) < 0)
				return -1;
		}
	}
}

// Bind-mounts src on target, then applies flags (read-only, nosuid...) in a remount, keeping
// the flags the kernel locked on the source mount (a user namespace may not clear them).
static int bind_path(struct sandbox_child *c, const char *src, const char *target,
		     unsigned long flags)
{
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		return fail_at(c, "bind /%s", target);
	struct statfs sf;
	if (statfs(target, &sf) < 0)
		return fail_at(c, "statfs /%s", target);
	unsigned long locked =
		(unsigned long)sf.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags | locked, NULL) < 0)
		return fail_at(c, "remount /%s", target);
	return 0;
}

// Binds an open file via its /proc/self/fd link: the source stays the very file opened
// before the uid switch, whatever happened to its path since.
static int bind_fd(struct sandbox_child *c, int fd, const char *target, unsigned long flags)
{
	char src[64];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	return bind_path(c, src, target, flags);
}

// An empty file to mount a file on.
static int make_file(struct sandbox_child *c, const char *path)
{
	if (mknod(path, S_IFREG | 0444, 0) < 0 && errno != EEXIST)
		return fail_at(c, "create /%s", path);
	return 0;
}

static int mount_tmpfs(struct sandbox_child *c, const char *target, const char *mode,
		       uint64_t size, unsigned long flags)
{
	char opts[96];
	snprintf(opts, sizeof(opts), "mode=%s,size=%" PRIu64, mode, size);
	if (mount("tmpfs", target, "tmpfs", flags, opts) < 0)
		return fail_at(c, "tmpfs /%s", target);
	return 0;
}

static int mount_entries(struct sandbox_child *c)
{
	for (int i = 0; i < c->nentries; i++) {
		struct sandbox_entry *e = &c->entries[i];
		int r = 0;
		if (e->type == DT_DIR) {
			if (mkdir(e->name, 0755) < 0)
				return fail_at(c, "mkdir /%s", e->name);
			r = bind_fd(c, e->fd, e->name, MS_RDONLY | MS_NOSUID | MS_NODEV);
		} else if (e->type == DT_REG) {
			r = make_file(c, e->name);
			if (r == 0)
				r = bind_fd(c, e->fd, e->name, MS_RDONLY | MS_NOSUID | MS_NODEV);
		} else {
			// A symlink is recreated, so it resolves inside the grain, never on the host.
			char target[4096];
			ssize_t n = readlinkat(e->fd, "", target, sizeof(target) - 1);
			if (n < 0)
				return fail_at(c, "readlink /%s", e->name);
			target[n] = '\0';
			if (symlink(target, e->name) < 0)
				return fail_at(c, "symlink /%s", e->name);
		}
		if (r < 0)
			return -1;
		close(e->fd);
		e->fd = -1;
	}
	return 0;
}

static int mount_dev(struct sandbox_child *c, uint64_t shm_bytes)
{
	if (mkdir("dev", 0755) < 0)
		return fail_at(c, "mkdir /%s", "dev");
	if (mount_tmpfs(c, "dev", "0755", 65536, MS_NOSUID | MS_NOEXEC) < 0)
		return -1;
	// mknod is impossible in a user namespace: bind the host's nodes instead.
	for (size_t i = 0; i < ARRAY_LEN(dev_nodes); i++) {
		char host[32], target[32];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		snprintf(target, sizeof(target), "dev/%s", dev_nodes[i]);
		if (make_file(c, target) < 0 ||
		    bind_path(c, host, target, MS_RDONLY | MS_NOSUID | MS_NOEXEC) < 0)
			return -1;
	}
	if (mkdir("dev/shm", 0755) < 0)
		return fail_at(c, "mkdir /%s", "dev/shm");
	if (mount_tmpfs(c, "dev/shm", "1777", shm_bytes, MS_NOSUID | MS_NODEV) < 0)
		return -1;
	if (mount(NULL, "dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  NULL) < 0)
		return fail_at(c, "remount /%s read-only", "dev");
	return 0;
}

// The tmpfs that becomes "/", mounted over a directory of our private copy of the host's
// tree; the host sees nothing of it.
static int mount_base(struct sandbox_child *c)
{
	static const char *const bases[] = { "/tmp", "/mnt", "/run" };
	for (size_t i = 0; i < ARRAY_LEN(bases); i++) {
		if (mount("tmpfs", bases[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") == 0)
			return chdir(bases[i]) == 0 ? 0 : fail_at(c, "chdir %s", bases[i]);
	}
	return fail_at(c, "tmpfs %s", "root");
}

int sandbox_mount_root(struct sandbox_child *c)
{
	const struct sandbox_spec *s = c->spec;
	uint64_t tmp = s->limits.tmp_bytes ? s->limits.tmp_bytes : DEFAULT_TMP_BYTES;
	// Nothing we mount may propagate back to the host's namespace.
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail_at(c, "make %s private", "/");
	if (mount_base(c) < 0 || mount_entries(c) < 0)
		return -1;
	if (make_file(c, "silo-bridge") < 0 ||
	    bind_fd(c, c->bridge_fd, "silo-bridge", MS_RDONLY | MS_NOSUID | MS_NODEV) < 0)
		return -1;
	if (mkdir("var", 0755) < 0)
		return fail_at(c, "mkdir /%s", "var");
	if (bind_fd(c, c->var_fd, "var", MS_NOSUID | MS_NODEV) < 0)
		return -1;
	if (mkdir("tmp", 0755) < 0)
		return fail_at(c, "mkdir /%s", "tmp");
	if (mount_tmpfs(c, "tmp", "1777", tmp, MS_NOSUID | MS_NODEV) < 0 || mount_dev(c, tmp) < 0)
		return -1;
	// pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the new
	// root alone, and with it the grain's /var no longer has a host path it could name.
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail_at(c, "%s", "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail_at(c, "detach the old %s", "root");
	if (chdir("/") < 0)
		return fail_at(c, "chdir %s", "/");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return fail_at(c, "remount %s read-only", "/");
	close(c->pkg_fd);
	close(c->var_fd);
	close(c->bridge_fd);
	c->pkg_fd = c->var_fd = c->bridge_fd = -1;
	return 0;
}
