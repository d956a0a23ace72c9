// SPDX-License-Identifier: MIT
// A grain's init made ahead of time, on cgroup v1 hosts. Moving a process into a v1 cgroup
// waits for an RCU grace period (5-20 ms here), most of a grain's start; v2 avoids it with
// clone3's CLONE_INTO_CGROUP, v1 has no such thing. So while nothing waits, the parent clones
// one spare child into a new pid namespace and moves it into cgroups of its own; a grain's
// start then renames those cgroups to the grain's, writes its limits and sends the spare the
// grain's spec, and the spare runs the usual sandbox child from there.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "sandbox_impl.h"
#include "seccomp_filter.h"
#include "util.h"

#define SPARE_MSG_MAX 65536 // the spec: paths, argv and environment
#define SPARE_MAX_ARGS 256  // argv and envp entries each
#define SPARE_NFDS 4        // wire, log, go (read end), report (write end)

struct spare_head {
	uint32_t host_uid, host_gid;
	uint64_t memory_bytes, pids, cpu_weight, tmp_bytes;
	uint32_t argc, envc; // envc UINT32_MAX: no environment (envp NULL)
	int32_t has_wire, has_log;
};

static struct {
	pid_t pid;        // 0: none
	int sock;         // the parent's end
	struct cgroup cg;
	bool useless;     // not a v1 host: no spare is made again
	unsigned serial;
} spare = {.sock = -1};

// --- The spare's side ---

static int take_str(char **p, char *end, char **out)
{
	char *z = memchr(*p, '\0', (size_t)(end - *p));
	if (!z)
		return -1;
	*out = *p;
	*p = z + 1;
	return 0;
}

static int take_list(char **p, char *end, uint32_t n, char **list)
{
	if (n >= SPARE_MAX_ARGS)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (take_str(p, end, &list[i]) < 0)
			return -1;
	list[n] = NULL;
	return 0;
}

// Rebuilds the spec the parent sent; fds arrive close-on-exec, as the parent's own are.
static int decode(char *buf, size_t n, const int *fds, struct sandbox_spec *s, char **argv,
		  char **envp)
{
	struct spare_head h;
	if (n < sizeof(h))
		return -1;
	memcpy(&h, buf, sizeof(h));
	char *p = buf + sizeof(h), *end = buf + n;
	char *root, *var, *bridge, *name;
	if (take_str(&p, end, &root) < 0 || take_str(&p, end, &var) < 0 ||
	    take_str(&p, end, &bridge) < 0 || take_str(&p, end, &name) < 0 ||
	    take_list(&p, end, h.argc, argv) < 0 ||
	    (h.envc != UINT32_MAX && take_list(&p, end, h.envc, envp) < 0))
		return -1;
	*s = (struct sandbox_spec){
		.package_root = root, .var_dir = var, .bridge_path = bridge,
		.host_uid = h.host_uid, .host_gid = h.host_gid, .argv = argv,
		.envp = h.envc == UINT32_MAX ? NULL : envp,
		.wire_fd = h.has_wire ? fds[0] : -1, .log_fd = h.has_log ? fds[1] : -1, .name = name,
		.limits = {h.memory_bytes, h.pids, h.cpu_weight, h.tmp_bytes},
	};
	return 0;
}

static noreturn void spare_main(int sock, const struct sock_fprog *filter, cap_t no_caps)
{
	// Nothing of the parent's but the socket: it holds the front's and other grains' fds.
	int keep[1] = {sock};
	util_close_except(keep, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	static char buf[SPARE_MSG_MAX];
	static char *argv[SPARE_MAX_ARGS], *envp[SPARE_MAX_ARGS];
	static struct sandbox_spec spec;
	static struct sandbox_child c;
	union {
		char b[CMSG_SPACE(SPARE_NFDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(SPARE_NFDS * sizeof(int)))
		_exit(n == 0 ? 0 : 127); // the parent dropped us (or is gone)
	int fds[SPARE_NFDS];
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	close(sock);
	c.spec = &spec;
	c.filter = filter;
	c.no_caps = no_caps;
	c.go_fd = fds[2];
	c.report_fd = fds[3];
	c.pkg_fd = c.var_fd = c.bridge_fd = -1;
	if (decode(buf, (size_t)n, fds, &spec, argv, envp) < 0)
		sandbox_child_fail(&c, SBX_SIGNALS, EINVAL, "the spec from the parent");
	sandbox_child_main(&c);
}

// --- The parent's side ---

static void put(char *buf, size_t *off, const char *s, bool *fits)
{
	size_t n = strlen(s) + 1;
	if (*off + n > SPARE_MSG_MAX) {
		*fits = false;
		return;
	}
	memcpy(buf + *off, s, n);
	*off += n;
}

static uint32_t count(char *const *list)
{
	uint32_t n = 0;
	while (list && list[n])
		n++;
	return n;
}

static int send_spec(const struct sandbox_spec *s, int go_fd, int rep_fd)
{
	static char buf[SPARE_MSG_MAX];
	uint32_t argc = count(s->argv), envc = s->envp ? count(s->envp) : UINT32_MAX;
	if (argc >= SPARE_MAX_ARGS || (s->envp && envc >= SPARE_MAX_ARGS))
		return -1;
	struct spare_head h = {
		.host_uid = s->host_uid, .host_gid = s->host_gid,
		.memory_bytes = s->limits.memory_bytes, .pids = s->limits.pids,
		.cpu_weight = s->limits.cpu_weight, .tmp_bytes = s->limits.tmp_bytes,
		.argc = argc, .envc = envc, .has_wire = s->wire_fd >= 0, .has_log = s->log_fd >= 0,
	};
	memcpy(buf, &h, sizeof(h));
	size_t off = sizeof(h);
	bool fits = true;
	put(buf, &off, s->package_root, &fits);
	put(buf, &off, s->var_dir, &fits);
	put(buf, &off, s->bridge_path, &fits);
	put(buf, &off, s->name, &fits);
	for (uint32_t i = 0; i < argc; i++)
		put(buf, &off, s->argv[i], &fits);
	for (uint32_t i = 0; s->envp && i < envc; i++)
		put(buf, &off, s->envp[i], &fits);
	if (!fits)
		return -1;
	// Absent fds travel as go_fd, a placeholder the spare ignores (SCM_RIGHTS needs real ones).
	int fds[SPARE_NFDS] = {s->wire_fd >= 0 ? s->wire_fd : go_fd,
			       s->log_fd >= 0 ? s->log_fd : go_fd, go_fd, rep_fd};
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {buf, off};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ssize_t n;
	do
		n = sendmsg(spare.sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)off ? 0 : -1;
}

static void forget(void)
{
	if (spare.sock >= 0)
		close(spare.sock);
	spare.sock = -1;
	spare.pid = 0;
}

void sandbox_spare_drop(void)
{
	if (!spare.pid)
		return;
	kill(spare.pid, SIGKILL);
	int st;
	while (waitpid(spare.pid, &st, 0) < 0 && errno == EINTR)
		;
	cgroup_destroy(&spare.cg);
	forget();
}

void sandbox_spare_reap(void)
{
	int st;
	if (!spare.pid || waitpid(spare.pid, &st, WNOHANG) != spare.pid)
		return;
	log_warn("sandbox: the spare grain init %d ended (status %d); another is made later",
		 (int)spare.pid, st);
	cgroup_destroy(&spare.cg);
	forget();
}

void sandbox_spare_make(void)
{
	if (spare.pid || spare.useless)
		return;
	char why[256] = "";
	const struct sock_fprog *filter = seccomp_filter_grain(why, sizeof(why));
	char name[64];
	snprintf(name, sizeof(name), "spare-%d-%u", (int)getpid(), spare.serial++);
	struct cgroup_limits none = {0};
	if (!filter || cgroup_create(&spare.cg, name, &none, why, sizeof(why)) < 0) {
		log_warn("sandbox: no spare grain init: %s", why);
		return;
	}
	if (spare.cg.version != 1) {
		spare.useless = true; // v2: clone3 puts a grain's init in its cgroup at birth
		cgroup_destroy(&spare.cg);
		return;
	}
	int sv[2];
	cap_t no_caps = cap_init(); // the child's copy is what it drops to
	if (!no_caps || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("sandbox: no spare grain init: %s", strerror(errno));
		if (no_caps)
			cap_free(no_caps);
		cgroup_destroy(&spare.cg);
		return;
	}
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | SIGCHLD), NULL, NULL,
				   NULL, NULL);
	if (pid == 0)
		spare_main(sv[1], filter, no_caps);
	cap_free(no_caps);
	close(sv[1]);
	spare.sock = sv[0];
	if (pid < 0) {
		log_warn("sandbox: no spare grain init: clone: %s", strerror(errno));
		cgroup_destroy(&spare.cg);
		forget();
		return;
	}
	spare.pid = pid;
	if (cgroup_attach(&spare.cg, pid, why, sizeof(why)) < 0) {
		log_warn("sandbox: no spare grain init: %s", why);
		sandbox_spare_drop();
	}
}

pid_t sandbox_spare_take(const struct sandbox_spec *spec, const struct cgroup_limits *lim,
			 int go_fd, int rep_fd, struct cgroup *cg)
{
	if (!spare.pid)
		return 0;
	char why[256] = "";
	if (cgroup_rename(&spare.cg, spec->name, lim, why, sizeof(why)) < 0 ||
	    send_spec(spec, go_fd, rep_fd) < 0) {
		log_warn("sandbox: the spare grain init is not used: %s",
			 why[0] ? why : "the spec does not fit");
		sandbox_spare_drop();
		return 0;
	}
	pid_t pid = spare.pid;
	*cg = spare.cg;
	forget();
	return pid;
}
