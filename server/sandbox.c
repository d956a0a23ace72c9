// SPDX-License-Identifier: MIT
// The grain sandbox, parent side: checks the spec, creates the cgroup, clones the child into
// a new pid namespace, writes its uid/gid maps, waits for its exec; stops and reaps it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>

#include "sandbox_impl.h"
#include "seccomp_filter.h"
#include "util.h"

// How long the child may take from clone to exec before we give up on it.
#define SETUP_TIMEOUT_MS 10000

const char *const sandbox_phase_names[SBX_NPHASES] = {
	[SBX_SIGNALS] = "reset signals",
	[SBX_NO_NEW_PRIVS] = "no_new_privs",
	[SBX_RLIMITS] = "rlimits",
	[SBX_SESSION] = "setsid",
	[SBX_SETGROUPS] = "setgroups",
	[SBX_UNSHARE] = "unshare namespaces",
	[SBX_WAIT_PARENT] = "wait for the parent",
	[SBX_CGROUP_NS] = "cgroup namespace",
	[SBX_OPEN] = "open sources",
	[SBX_SETRESGID] = "setresgid",
	[SBX_SETRESUID] = "setresuid",
	[SBX_MOUNT] = "mount",
	[SBX_HOSTNAME] = "hostname",
	[SBX_LOOPBACK] = "loopback",
	[SBX_CAPS] = "capabilities",
	[SBX_FDS] = "descriptors",
	[SBX_SECCOMP] = "seccomp",
	[SBX_EXEC] = "exec",
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int is_kind(const char *path, mode_t kind)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static int check_spec(const struct sandbox_spec *s, char *err, size_t errsz)
{
	const char *bad = NULL;
	if (!s->package_root || s->package_root[0] != '/')
		bad = "package_root must be an absolute path";
	else if (!s->var_dir || s->var_dir[0] != '/')
		bad = "var_dir must be an absolute path";
	else if (!s->bridge_path || s->bridge_path[0] != '/')
		bad = "bridge_path must be an absolute path";
	else if (!s->argv || !s->argv[0] || s->argv[0][0] != '/')
		bad = "argv[0] must be an absolute path inside the grain";
	else if (s->host_uid == 0 || s->host_gid == 0 || s->host_uid == (uid_t)-1 ||
		 s->host_gid == (gid_t)-1)
		bad = "host_uid/host_gid must be an unprivileged id, never 0";
	else if (!s->name)
		bad = "name is missing";
	if (bad) {
		snprintf(err, errsz, "sandbox: %s", bad);
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", s->package_root, SANDBOX_BRIDGE_PATH);
	if (!is_kind(s->package_root, S_IFDIR))
		snprintf(err, errsz, "sandbox: package root %s: not a directory", s->package_root);
	else if (!is_kind(path, S_IFREG))
		snprintf(err, errsz, "sandbox: the package has no %s placeholder (%s)",
			 SANDBOX_BRIDGE_PATH, path);
	else if (!is_kind(s->var_dir, S_IFDIR))
		snprintf(err, errsz, "sandbox: var dir %s: not a directory", s->var_dir);
	else if (access(s->bridge_path, X_OK) < 0 || !is_kind(s->bridge_path, S_IFREG))
		snprintf(err, errsz, "sandbox: bridge %s: not an executable file", s->bridge_path);
	else
		return 0;
	return -1;
}

// Reads one report record: 1, 0 at EOF, -1 on timeout or error.
static int read_msg(int fd, struct sandbox_msg *m, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*m))
		return -1;
	m->what[sizeof(m->what) - 1] = '\0';
	return 1;
}

static void format_fail(const struct sandbox_msg *m, char *err, size_t errsz)
{
	if (m->err)
		snprintf(err, errsz, "sandbox: %s: %s", m->what, strerror(m->err));
	else
		snprintf(err, errsz, "sandbox: %s", m->what);
}

static int write_proc(pid_t pid, const char *file, const char *text, char *err, size_t errsz)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		snprintf(err, errsz, "sandbox: write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

// Maps the grain's 1000 to its host ids, with setgroups denied (the child dropped its
// groups already), then joins it to its cgroup, so its cgroup namespace roots there.
static int configure_child(pid_t pid, const struct sandbox_spec *s, const struct cgroup *cg,
			   bool born_in, char *err, size_t errsz)
{
	char map[64];
	if (write_proc(pid, "setgroups", "deny", err, errsz) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", SANDBOX_UID, (unsigned)s->host_uid);
	if (write_proc(pid, "uid_map", map, err, errsz) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", SANDBOX_GID, (unsigned)s->host_gid);
	if (write_proc(pid, "gid_map", map, err, errsz) < 0)
		return -1;
	char cgerr[256];
	if (!born_in && cgroup_attach(cg, pid, cgerr, sizeof(cgerr)) < 0) {
		snprintf(err, errsz, "sandbox: %s", cgerr);
		return -1;
	}
	return 0;
}

// Drives the child from clone to exec: READY, (maps, cgroup, go), EXEC, EOF.
static int handshake(pid_t pid, const struct sandbox_spec *s, const struct cgroup *cg,
		     bool born_in, int go_fd, int rep_fd, char *err, size_t errsz)
{
	struct sandbox_msg m;
	int r = read_msg(rep_fd, &m, SETUP_TIMEOUT_MS);
	if (r == 1 && m.kind == SBX_MSG_FAIL) {
		format_fail(&m, err, errsz);
		return -1;
	}
	if (r != 1 || m.kind != SBX_MSG_READY) {
		snprintf(err, errsz, "sandbox: the child died or hung before unsharing");
		return -1;
	}
	if (configure_child(pid, s, cg, born_in, err, errsz) < 0)
		return -1;
	if (write(go_fd, "G", 1) != 1) {
		snprintf(err, errsz, "sandbox: wake the child: %s", strerror(errno));
		return -1;
	}
	int execing = 0;
	for (;;) {
		r = read_msg(rep_fd, &m, SETUP_TIMEOUT_MS);
		if (r == 1 && m.kind == SBX_MSG_FAIL) {
			format_fail(&m, err, errsz);
			return -1;
		}
		if (r == 1 && m.kind == SBX_MSG_EXEC) {
			execing = 1;
			continue;
		}
		if (r == 0 && execing)
			return 0; // the close-on-exec pipe closed: execve succeeded
		snprintf(err, errsz, "sandbox: the child %s during set-up",
			 r < 0 ? "hung" : "died");
		return -1;
	}
}

// fork() with a new pid namespace: the child is its namespace's PID 1 and returns 0 here on
// a copy of our stack, like bubblewrap's raw_clone. glibc's clone() would want a new stack.
// On cgroup v2 the child is born in its cgroup (clone3's CLONE_INTO_CGROUP, *born_in set):
// moving a process later takes the kernel a grace period, most of a grain's start.
static pid_t clone_pidns(const struct cgroup *cg, bool *born_in)
{
	*born_in = false;
	int cgfd = cg->version == 2 && cg->ndirs == 1
			   ? open(cg->dirs[0], O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (cgfd >= 0) {
		struct clone_args a = {
			.flags = CLONE_NEWPID | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (uint64_t)cgfd,
		};
		long pid = syscall(SYS_clone3, &a, sizeof(a));
		int e = errno;
		if (pid != 0)
			close(cgfd);
		if (pid >= 0) {
			*born_in = true;
			return (pid_t)pid;
		}
		errno = e;
		if (e != ENOSYS && e != E2BIG && e != EINVAL)
			return -1;
		// An older kernel: clone, then move the child in.
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | SIGCHLD), NULL, NULL,
			      NULL, NULL);
}

static void reap_blocking(struct sandbox *sb)
{
	int st = 0;
	pid_t r;
	do
		r = waitpid(sb->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	sb->status = r == sb->pid ? st : -1;
	sb->reaped = true;
	sb->pid = 0;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int sandbox_start(const struct sandbox_spec *spec, struct sandbox *out, char *err, size_t errsz)
{
	int64_t t0 = now_us();
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < CGROUP_NCTL; i++)
		out->cg.ctl[i] = -1;
	if (check_spec(spec, err, errsz) < 0)
		return -1;
	char why[256];
	const struct sock_fprog *filter = seccomp_filter_grain(why, sizeof(why));
	if (!filter) {
		snprintf(err, errsz, "sandbox: %s", why);
		return -1;
	}
	struct cgroup_limits lim = { spec->limits.memory_bytes, spec->limits.pids,
				     spec->limits.cpu_weight };
	_cleanup_free_ struct sandbox_child *c = calloc(1, sizeof(*c));
	int go[2] = { -1, -1 }, rep[2] = { -1, -1 };
	if (!c || pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    !(c->no_caps = cap_init())) {
		snprintf(err, errsz, "sandbox: set-up: %s", strerror(errno));
		close_pair(go);
		close_pair(rep);
		if (c)
			cap_free(c->no_caps);
		return -1;
	}
	// A spare made ahead of time is in its cgroups already (v1 hosts: sandbox_spare.c).
	bool born_in = true;
	pid_t pid = sandbox_spare_take(spec, &lim, go[0], rep[1], &out->cg);
	if (!pid) {
		if (cgroup_create(&out->cg, spec->name, &lim, why, sizeof(why)) < 0) {
			snprintf(err, errsz, "sandbox: %s", why);
			close_pair(go);
			close_pair(rep);
			cap_free(c->no_caps);
			return -1;
		}
		c->spec = spec;
		c->filter = filter;
		c->go_fd = go[0];
		c->report_fd = rep[1];
		c->pkg_fd = c->var_fd = c->bridge_fd = -1;
		pid = clone_pidns(&out->cg, &born_in);
		if (pid == 0)
			sandbox_child_main(c);
	}
	int clone_errno = errno;
	close(go[0]);
	close(rep[1]);
	int r = -1;
	if (pid < 0)
		snprintf(err, errsz, "sandbox: clone: %s", strerror(clone_errno));
	else
		r = handshake(pid, spec, &out->cg, born_in, go[1], rep[0], err, errsz);
	close(go[1]);
	close(rep[0]);
	cap_free(c->no_caps);
	if (r < 0) {
		if (pid > 0) {
			out->pid = pid;
			kill(pid, SIGKILL);
			reap_blocking(out);
		}
		cgroup_destroy(&out->cg);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->pid = pid;
	out->start_us = now_us() - t0;
	return 0;
}

int sandbox_reap(struct sandbox *sb, int *status)
{
	if (!sb->reaped) {
		if (sb->pid <= 0) {
			errno = ECHILD;
			return -1;
		}
		int st = 0;
		pid_t r;
		do
			r = waitpid(sb->pid, &st, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
		sb->status = st;
		sb->reaped = true;
		sb->pid = 0;
		cgroup_destroy(&sb->cg);
	}
	if (status)
		*status = sb->status;
	return 1;
}

int sandbox_stop(struct sandbox *sb, int grace_ms)
{
	if (!sb->reaped && sb->pid > 0) {
		// PID 1 of a namespace gets SIGTERM only if it has a handler (the bridge does);
		// SIGKILL from here always works and takes the whole namespace with it.
		kill(sb->pid, SIGTERM);
		int64_t deadline = now_us() + (int64_t)grace_ms * 1000;
		int r;
		while ((r = sandbox_reap(sb, NULL)) == 0 && now_us() < deadline)
			sleep_ms(2);
		if (r == 0) {
			cgroup_kill(&sb->cg);
			kill(sb->pid, SIGKILL);
			reap_blocking(sb);
		} else if (r < 0) {
			sb->reaped = true; // reaped elsewhere: nothing left to wait for
			sb->status = -1;
			sb->pid = 0;
		}
	}
	if (cgroup_destroy(&sb->cg) < 0)
		return -1;
	return sb->status;
}
