// SPDX-License-Identifier: MIT
// The sandbox child: from a raw clone in a new pid namespace to execve of the bridge, one
// named phase at a time, each verified; any failure goes up the report pipe, typed.
// It runs in a copy of a possibly multi-threaded parent, so it never allocates, and it
// changes credentials with raw syscalls: glibc's set*id wrappers take nptl's thread-list
// lock and signal every thread glibc believes exists (the setxid broadcast), which in a raw
// clone are the parent's; that can hang (seen: setresuid right after a pthread_create).
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/securebits.h>
#include <linux/seccomp.h>

#include "sandbox_impl.h"
#include "util.h"

#define HOSTNAME "grain"

noreturn void sandbox_child_fail(const struct sandbox_child *c, enum sandbox_phase phase,
				 int err, const char *what)
{
	struct sandbox_msg m = { .kind = SBX_MSG_FAIL, .phase = phase, .err = err };
	snprintf(m.what, sizeof(m.what), "%s", what ? what : sandbox_phase_names[phase]);
	ssize_t n = write(c->report_fd, &m, sizeof(m));
	(void)n;
	_exit(127);
}

// Fails the phase with errno (from the call that just failed).
#define FAIL(c, phase, what) sandbox_child_fail((c), (phase), errno, (what))
// Fails a verification: the call succeeded but the state is not what it must be.
#define FAIL_VERIFY(c, phase, what) sandbox_child_fail((c), (phase), 0, (what))

static void send_msg(const struct sandbox_child *c, uint32_t kind, enum sandbox_phase phase)
{
	struct sandbox_msg m = { .kind = kind, .phase = phase };
	if (write(c->report_fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(127);
}

static void phase_signals(const struct sandbox_child *c)
{
	// Dispositions set to SIG_IGN would survive execve; the parent's mask would too.
	struct sigaction sa = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		FAIL(c, SBX_SIGNALS, NULL);
}

static void phase_no_new_privs(const struct sandbox_child *c)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL(c, SBX_NO_NEW_PRIVS, NULL);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		FAIL_VERIFY(c, SBX_NO_NEW_PRIVS, "no_new_privs is not set");
}

#define NOFILE_SOFT 1024 // as Sandstorm
#define NOFILE_HARD 4096

static void phase_rlimits(const struct sandbox_child *c)
{
	// RLIMIT_NOFILE comes last (phase_fds): the parent may hold more than 1024 descriptors,
	// and until they are closed our own open() calls must not fail. Its hard limit is raised
	// here if need be, while we still hold CAP_SYS_RESOURCE in the initial namespace.
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		FAIL(c, SBX_RLIMITS, NULL);
	if (nofile.rlim_max < NOFILE_HARD) {
		nofile.rlim_cur = nofile.rlim_max = NOFILE_HARD;
		if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			FAIL(c, SBX_RLIMITS, "raise RLIMIT_NOFILE");
	}
	static const struct {
		int res;
		rlim_t soft, hard;
	} lims[] = {
		{ RLIMIT_CORE, 0, 0 },            // no core files in /var
		{ RLIMIT_MEMLOCK, 64 << 10, 64 << 10 },
		{ RLIMIT_NICE, 0, 0 },            // no raising priority
		{ RLIMIT_RTPRIO, 0, 0 },          // no real-time scheduling
		{ RLIMIT_MSGQUEUE, 819200, 819200 },
	};
	for (size_t i = 0; i < ARRAY_LEN(lims); i++) {
		struct rlimit want = { lims[i].soft, lims[i].hard }, got;
		if (setrlimit(lims[i].res, &want) < 0)
			FAIL(c, SBX_RLIMITS, NULL);
		if (getrlimit(lims[i].res, &got) < 0 || got.rlim_cur != want.rlim_cur ||
		    got.rlim_max != want.rlim_max)
			FAIL_VERIFY(c, SBX_RLIMITS, "an rlimit did not take");
	}
}

static void phase_setgroups(const struct sandbox_child *c)
{
	// Must happen here: once the parent writes "deny" to setgroups, nothing can drop
	// the supplementary groups inherited from it (host groups like root's 0).
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		FAIL(c, SBX_SETGROUPS, NULL);
	if (getgroups(0, NULL) != 0)
		FAIL_VERIFY(c, SBX_SETGROUPS, "supplementary groups remain");
}

static void phase_unshare(const struct sandbox_child *c)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		FAIL(c, SBX_UNSHARE, NULL);
	send_msg(c, SBX_MSG_READY, SBX_UNSHARE);
	char go = 0;
	ssize_t n;
	do
		n = read(c->go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != 'G')
		_exit(127); // the parent gave up on us and reports it itself
	close(c->go_fd);
	if (unshare(CLONE_NEWCGROUP) < 0)
		FAIL(c, SBX_CGROUP_NS, NULL);
}

static bool has_cap_effective(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (capget(&h, d) < 0)
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static void phase_ids(const struct sandbox_child *c)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	if (syscall(SYS_setresgid, SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0)
		FAIL(c, SBX_SETRESGID, NULL);
	if (getresgid(&gr, &ge, &gs) < 0 || gr != SANDBOX_GID || ge != SANDBOX_GID ||
	    gs != SANDBOX_GID)
		FAIL_VERIFY(c, SBX_SETRESGID, "gids are not 1000");
	// Keep the capabilities (held in the grain's user namespace only) for the mounts.
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_setresuid, SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
		FAIL(c, SBX_SETRESUID, NULL);
	if (getresuid(&r, &e, &s) < 0 || r != SANDBOX_UID || e != SANDBOX_UID ||
	    s != SANDBOX_UID)
		FAIL_VERIFY(c, SBX_SETRESUID, "uids are not 1000");
	if (!has_cap_effective(CAP_SYS_ADMIN))
		FAIL_VERIFY(c, SBX_SETRESUID, "lost CAP_SYS_ADMIN in the grain's namespace");
	// A credential change makes us non-dumpable, which hides /proc/self/fd from us; the
	// mounts bind from there. execve sets it again by its own rules.
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		FAIL(c, SBX_SETRESUID, "set dumpable");
	// The credential change also cleared the parent-death signal: the grain dies with silo.
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		FAIL(c, SBX_SETRESUID, "set the parent-death signal");
}

static void phase_hostname(const struct sandbox_child *c)
{
	char got[64] = "";
	if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
		FAIL(c, SBX_HOSTNAME, NULL);
	if (gethostname(got, sizeof(got)) < 0 || strcmp(got, HOSTNAME) != 0)
		FAIL_VERIFY(c, SBX_HOSTNAME, "hostname is not " HOSTNAME);
}

// Brings lo up with ioctl(SIOCSIFFLAGS); the kernel gives it 127.0.0.1 and ::1.
static void phase_loopback(const struct sandbox_child *c)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		FAIL(c, SBX_LOOPBACK, NULL);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		FAIL(c, SBX_LOOPBACK, NULL);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		FAIL_VERIFY(c, SBX_LOOPBACK, "lo is not up");
}

static void phase_caps(const struct sandbox_child *c)
{
	cap_value_t max = cap_max_bits();
	for (cap_value_t cap = 0; cap < max; cap++)
		if (cap_drop_bound(cap) < 0)
			FAIL(c, SBX_CAPS, "drop the bounding set");
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		FAIL(c, SBX_CAPS, "clear the ambient set");
	// Lock root's special cases off too, for anything that would ever map uid 0 here.
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		FAIL(c, SBX_CAPS, "set securebits");
	if (cap_set_proc(c->no_caps) < 0)
		FAIL(c, SBX_CAPS, "clear the capability sets");
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (capget(&h, d) < 0)
		FAIL(c, SBX_CAPS, "capget");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			FAIL_VERIFY(c, SBX_CAPS, "capabilities remain");
	for (cap_value_t cap = 0; cap < max; cap++)
		if (cap_get_bound(cap) != 0 || cap_get_ambient(cap) > 0)
			FAIL_VERIFY(c, SBX_CAPS, "the bounding or ambient set is not empty");
	if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0 ||
	    (unsigned long)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != bits)
		FAIL_VERIFY(c, SBX_CAPS, "keepcaps or securebits are not as set");
}

// 0 /dev/null, 1 and 2 the log, 3 the wire, the report pipe at 4 (close-on-exec), no more.
static void phase_fds(struct sandbox_child *c)
{
	const struct sandbox_spec *s = c->spec;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		FAIL(c, SBX_FDS, "open /dev/null");
	// Copies above 10 first, so no dup2 below overwrites a source still needed.
	int wire = s->wire_fd >= 0 ? fcntl(s->wire_fd, F_DUPFD_CLOEXEC, 10) : -1;
	int log = fcntl(s->log_fd >= 0 ? s->log_fd : null, F_DUPFD_CLOEXEC, 10);
	int rep = fcntl(c->report_fd, F_DUPFD_CLOEXEC, 10);
	int nul = fcntl(null, F_DUPFD_CLOEXEC, 10);
	if ((s->wire_fd >= 0 && wire < 0) || log < 0 || rep < 0 || nul < 0)
		FAIL(c, SBX_FDS, "dup");
	c->report_fd = rep;
	if (dup2(nul, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup3(rep, 4, O_CLOEXEC) < 0)
		FAIL(c, SBX_FDS, "dup2");
	if (wire >= 0 ? dup2(wire, 3) < 0 : close(3) < 0 && errno != EBADF)
		FAIL(c, SBX_FDS, "dup2 the wire");
	c->report_fd = 4;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		FAIL(c, SBX_FDS, "getrlimit");
	if (syscall(SYS_close_range, 5u, ~0u, 0u) < 0) {
		// Before Linux 5.9: every descriptor the limit allows.
		int max = rl.rlim_max > (1u << 20) ? 1 << 20 : (int)rl.rlim_max;
		for (int fd = 5; fd < max; fd++)
			close(fd);
	}
	for (int fd = 5; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			FAIL_VERIFY(c, SBX_FDS, "a descriptor above 4 is still open");
	struct rlimit want = { NOFILE_SOFT, NOFILE_HARD };
	if (setrlimit(RLIMIT_NOFILE, &want) < 0)
		FAIL(c, SBX_FDS, "set RLIMIT_NOFILE");
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != NOFILE_SOFT ||
	    rl.rlim_max != NOFILE_HARD)
		FAIL_VERIFY(c, SBX_FDS, "RLIMIT_NOFILE is not 1024/4096");
	umask(0007);
}

static void phase_seccomp(const struct sandbox_child *c)
{
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->filter, 0, 0) < 0)
		FAIL(c, SBX_SECCOMP, NULL);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER)
		FAIL_VERIFY(c, SBX_SECCOMP, "the filter is not in place");
}

noreturn void sandbox_child_main(struct sandbox_child *c)
{
	const struct sandbox_spec *s = c->spec;
	phase_signals(c);
	phase_no_new_privs(c);
	phase_rlimits(c);
	if (setsid() < 0)
		FAIL(c, SBX_SESSION, NULL);
	phase_setgroups(c);
	phase_unshare(c);
	if (sandbox_mount_open(c) < 0)
		FAIL(c, SBX_OPEN, c->what);
	phase_ids(c);
	if (sandbox_mount_root(c) < 0)
		FAIL(c, SBX_MOUNT, c->what);
	phase_hostname(c);
	phase_loopback(c);
	phase_caps(c);
	phase_fds(c);
	phase_seccomp(c);
	static char *const no_env[] = { NULL };
	send_msg(c, SBX_MSG_EXEC, SBX_EXEC);
	execve(s->argv[0], s->argv, s->envp ? s->envp : no_env);
	snprintf(c->what, sizeof(c->what), "exec %s", s->argv[0]);
	FAIL(c, SBX_EXEC, c->what);
}
