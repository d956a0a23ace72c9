// SPDX-License-Identifier: MIT
// The grain's seccomp policy (an allow-list, errno for everything else, never a kill) and
// its one-time compilation to BPF with libseccomp.
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>

#include "seccomp_filter.h"
#include "util.h"

// What static C apps and Debian's python3 (threads, asyncio, subprocess, sockets, sqlite)
// need, after Sandstorm's allow-list. Names missing on an architecture are skipped.
static const char *const allowed[] = {
	// files and descriptors
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "lseek", "close", "close_range", "open", "openat", "openat2",
	"creat", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents",
	"getdents64", "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat", "lchown", "truncate",
	"ftruncate", "fsync", "fdatasync", "sync_file_range", "syncfs", "fallocate",
	"fadvise64", "readahead", "utime", "utimes", "utimensat", "futimesat", "umask", "dup",
	"dup2", "dup3", "fcntl", "flock", "pipe", "pipe2", "splice", "tee", "sendfile",
	"copy_file_range", "mknod", "mknodat", "getxattr", "lgetxattr", "fgetxattr",
	"listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr", "fsetxattr",
	"removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch", "memfd_create",
	// memory
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "mlock",
	"mlock2", "munlock", "mlockall", "munlockall", "membarrier", "pkey_alloc", "pkey_free",
	"pkey_mprotect", "map_shadow_stack", "mseal",
	// processes and threads (clone is argument-checked below)
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "kill",
	"tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp",
	"getsid", "setsid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
	"setfsuid", "setfsgid", "setgroups", "capget", "capset", "prctl", "arch_prctl",
	"set_tid_address", "set_robust_list", "rseq", "futex", "futex_waitv", "sched_yield",
	"sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
	"sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "sched_setattr",
	"getpriority", "setpriority", "getrlimit", "setrlimit", "prlimit64", "getrusage",
	"times", "sysinfo", "uname", "getrandom", "getcpu", "pidfd_open", "pidfd_send_signal",
	// time
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"alarm", "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime",
	"timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime",
	"timerfd_gettime",
	// signals
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
	"rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "signalfd",
	"signalfd4", "pause", "restart_syscall",
	// waiting for events
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
	// sockets (socket and socketpair are argument-checked below)
	"bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
	"setsockopt", "getsockopt",
	// System V and POSIX IPC, private to the grain's IPC namespace
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semctl", "semtimedop",
	"msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
	"mq_timedreceive", "mq_notify", "mq_getsetattr",
};

// Known-dangerous calls get EPERM, as an unprivileged user would see; everything else not
// allowed gets ENOSYS, so feature probes (io_uring, userfaultfd, bpf...) fall back cleanly.
static const char *const denied_eperm[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
	"open_tree", "move_mount", "mount_setattr", "unshare", "setns", "reboot", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module", "swapon", "swapoff",
	"acct", "quotactl", "quotactl_fd", "sethostname", "setdomainname", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "syslog", "name_to_handle_at",
	"open_by_handle_at", "iopl", "ioperm", "vhangup", "lookup_dcookie",
};

// Namespace flags that clone() may not carry. CLONE_NEWTIME is not here: in clone()'s
// flags word that bit is part of the exit signal; clone3 is refused outright (ENOSYS, its
// flags sit in memory a filter cannot read) and libc falls back to clone.
#define NS_FLAGS                                                                            \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |         \
	 CLONE_NEWUTS | CLONE_NEWCGROUP)

static size_t n_allowed;

static int add_named(scmp_filter_ctx ctx, uint32_t action, const char *name, bool count)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; // not a syscall on this architecture or unknown to this libseccomp
	int r = seccomp_rule_add(ctx, action, nr, 0);
	if (r == 0 && count)
		n_allowed++;
	return r;
}

// Adds rules giving `action` to every value of the low 32 bits of argument `arg` that is
// NOT in set[] (the kernel reads these arguments as 32-bit ints, so the upper half must not
// matter). libseccomp cannot express "not equal", and an unconditional rule would override
// conditional ones for the same syscall, so the complement is covered by masked-equality
// rules: split on one bit at a time; a branch holding no value of the set becomes one rule.
static int add_complement(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned arg,
			  const uint32_t *set, size_t n, uint32_t mask, uint32_t value)
{
	size_t left = 0;
	for (size_t i = 0; i < n; i++)
		if ((set[i] & mask) == value)
			left++;
	if (left == 0)
		return seccomp_rule_add(ctx, action, nr, 1,
					SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, (scmp_datum_t)mask,
						 (scmp_datum_t)value));
	if (mask == UINT32_MAX)
		return 0; // exactly a value of the set: not ours to cover
	uint32_t bit = 1;
	while (mask & bit)
		bit <<= 1;
	int r = add_complement(ctx, action, nr, arg, set, n, mask | bit, value);
	if (r == 0)
		r = add_complement(ctx, action, nr, arg, set, n, mask | bit, value | bit);
	return r;
}

// set[] values get in_action, every other low-32-bit value gets out_action.
static int add_split(scmp_filter_ctx ctx, const char *name, unsigned arg, const uint32_t *set,
		     size_t n, uint32_t in_action, uint32_t out_action)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, in_action, nr, 1,
					 SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, (scmp_datum_t)UINT32_MAX,
						  (scmp_datum_t)set[i]));
		if (r < 0)
			return r;
	}
	int r = add_complement(ctx, out_action, nr, arg, set, n, 0, 0);
	if (r == 0)
		n_allowed++;
	return r;
}

static int add_clone_rules(scmp_filter_ctx ctx)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				 SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0));
	// One EPERM rule per namespace flag: any of them set refuses the call.
	static const unsigned long flags[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,
					       CLONE_NEWNET,  CLONE_NEWIPC, CLONE_NEWUTS,
					       CLONE_NEWCGROUP };
	for (size_t i = 0; r == 0 && i < ARRAY_LEN(flags); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
	// clone3 gets the default ENOSYS (libseccomp refuses a rule equal to the default).
	if (r == 0)
		n_allowed++;
	return r;
}

static int add_arg_rules(scmp_filter_ctx ctx)
{
	static const uint32_t families[] = { AF_UNIX, AF_INET, AF_INET6 };
	static const uint32_t unix_only[] = { AF_UNIX };
	// TIOCSTI pushes input into a terminal (CVE-2017-5226); TIOCLINUX reaches the console.
	static const uint32_t bad_ioctls[] = { TIOCSTI, TIOCLINUX };
	// personality(0xffffffff) only queries; PER_LINUX is the default.
	static const uint32_t personas[] = { PER_LINUX, 0xffffffffu };
	int r = add_clone_rules(ctx);
	if (r == 0)
		r = add_split(ctx, "socket", 0, families, ARRAY_LEN(families), SCMP_ACT_ALLOW,
			      SCMP_ACT_ERRNO(EAFNOSUPPORT));
	if (r == 0)
		r = add_split(ctx, "socketpair", 0, unix_only, ARRAY_LEN(unix_only), SCMP_ACT_ALLOW,
			      SCMP_ACT_ERRNO(EAFNOSUPPORT));
	if (r == 0)
		r = add_split(ctx, "ioctl", 1, bad_ioctls, ARRAY_LEN(bad_ioctls),
			      SCMP_ACT_ERRNO(EPERM), SCMP_ACT_ALLOW);
	if (r == 0)
		r = add_split(ctx, "personality", 0, personas, ARRAY_LEN(personas), SCMP_ACT_ALLOW,
			      SCMP_ACT_ERRNO(EPERM));
	return r;
}

static void ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

// Exports the compiled program through a memfd (libseccomp 2.5 writes BPF only to an fd).
static struct sock_fprog *export_bpf(scmp_filter_ctx ctx, char *err, size_t errsz)
{
	_cleanup_close_ int fd = memfd_create("silo-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "seccomp: memfd_create: %s", strerror(errno));
		return NULL;
	}
	int r = seccomp_export_bpf(ctx, fd);
	off_t len = lseek(fd, 0, SEEK_END);
	if (r < 0 || len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		snprintf(err, errsz, "seccomp: export failed (%s, %lld bytes)", strerror(-r),
			 (long long)len);
		return NULL;
	}
	_cleanup_free_ struct sock_filter *insns = malloc((size_t)len);
	_cleanup_free_ struct sock_fprog *prog = malloc(sizeof(*prog));
	if (!insns || !prog || pread(fd, insns, (size_t)len, 0) != len) {
		snprintf(err, errsz, "seccomp: reading the program back failed");
		return NULL;
	}
	prog->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	prog->filter = steal_pointer(&insns);
	return steal_pointer(&prog);
}

static struct sock_fprog *build(char *err, size_t errsz)
{
	// Errno for anything unlisted, also for a foreign architecture's syscalls (32-bit
	// int 0x80 from a 64-bit process): a blocked call must fail, never kill.
	__attribute__((cleanup(ctx_releasep))) scmp_filter_ctx ctx =
		seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (!ctx) {
		snprintf(err, errsz, "seccomp: seccomp_init failed");
		return NULL;
	}
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); // binary search tree
	n_allowed = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_LEN(allowed); i++)
		r = add_named(ctx, SCMP_ACT_ALLOW, allowed[i], true);
	for (size_t i = 0; r == 0 && i < ARRAY_LEN(denied_eperm); i++)
		r = add_named(ctx, SCMP_ACT_ERRNO(EPERM), denied_eperm[i], false);
	if (r == 0)
		r = add_arg_rules(ctx);
	if (r < 0) {
		snprintf(err, errsz, "seccomp: building the policy: %s", strerror(-r));
		return NULL;
	}
	return export_bpf(ctx, err, errsz);
}

const struct sock_fprog *seccomp_filter_grain(char *err, size_t errsz)
{
	static struct sock_fprog *prog;
	if (!prog)
		prog = build(err, errsz);
	return prog;
}

size_t seccomp_filter_allowed(void)
{
	return n_allowed;
}
