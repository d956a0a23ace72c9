// SPDX-License-Identifier: MIT
// Confinement of the front: uid, capabilities, no_new_privs, seccomp allow-list.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>

#include "config.h"
#include "datadir.h"
#include "front.h"

// What a TLS/HTTP server with SQLite needs; everything else fails with EPERM (not a kill,
// so an unexpected library path degrades into an error message, not a dead front).
static const char *const allowed[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "close",
	"fstat", "newfstatat", "statx", "lstat", "stat", "lseek", "mmap", "munmap", "mremap",
	"mprotect", "brk", "madvise", "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sigaltstack", "epoll_wait", "epoll_pwait", "epoll_ctl", "epoll_create1", "accept4",
	"accept", "sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown", "setsockopt",
	"getsockopt", "getsockname", "getpeername", "openat", "open", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "fsync", "fdatasync", "ftruncate", "fallocate",
	"fcntl", "flock", "getpid", "gettid", "getppid", "getrandom", "clock_gettime",
	"clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "exit",
	"exit_group", "signalfd4", "tgkill", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "access", "faccessat", "faccessat2", "getcwd", "mkdir",
	"mkdirat", "rmdir", "uname", "sched_yield", "sched_getaffinity", "prlimit64",
	"getrlimit", "set_robust_list", "rseq", "restart_syscall", "dup", "dup2", "dup3",
	"pipe2", "poll", "ppoll", "select", "pselect6", "readlink", "readlinkat", "getdents64",
	"fchmod", "fchown", "timerfd_create", "timerfd_settime", "eventfd2", "prctl",
	"sysinfo", "membarrier", "set_tid_address", "statfs", "fstatfs",
	"getitimer", "setitimer", "alarm",
};

static __attribute__((unused)) int install_seccomp(char *err, size_t errsz)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	// Every syscall of the front runs the filter: a binary tree beats a linear list.
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; // not on this architecture
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0) {
			snprintf(err, errsz, "seccomp: cannot allow %s", allowed[i]);
			seccomp_release(ctx);
			return -1;
		}
	}
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		snprintf(err, errsz, "seccomp_load: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static int caps_empty(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return !(d[0].effective | d[0].permitted | d[0].inheritable | d[1].effective |
		 d[1].permitted | d[1].inheritable);
}

int front_confine(const struct config *c, char *err, size_t errsz)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errsz, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (datadir_privileged()) {
		// The bounding set can only shrink while we still hold CAP_SETPCAP, i.e. as root.
		for (int cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
				snprintf(err, errsz, "drop bounding capability %d: %s", cap, strerror(errno));
				return -1;
			}
		if (datadir_become_front(c) < 0) {
			snprintf(err, errsz, "cannot switch to the front's uid %ld", c->front_uid);
			return -1;
		}
		if (!caps_empty() || prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) {
			snprintf(err, errsz, "capabilities remain after dropping them");
			return -1;
		}
	}
	// Die with the parent: a front without its parent cannot start grains.
	prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
#if defined(__SANITIZE_ADDRESS__)
	// LeakSanitizer stops the process with ptrace at exit, which neither the filter nor a
	// non-dumpable process allows; the release build's tests cover the filter.
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
#else
	return install_seccomp(err, errsz);
#endif
}
