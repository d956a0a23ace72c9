// SPDX-License-Identifier: MIT
// The recorder of `spk trace`: runs a command under ptrace with its whole process tree and
// records the absolute path of every successful open, stat, access, readlink, chdir and
// exec, reading path arguments from the tracee's memory.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>

#include "log.h"
#include "trace_priv.h"
#include "util.h"

// glibc names the kernel's struct ptrace_syscall_info this way (<sys/ptrace.h>).
typedef struct __ptrace_syscall_info syscall_info;

#if defined(__x86_64__)
#define TRACE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TRACE_ARCH AUDIT_ARCH_AARCH64
#else
#error "spk trace: add this architecture's AUDIT_ARCH value"
#endif

// A traced thread. A path read at syscall entry is kept until the exit stop tells whether
// the call succeeded.
struct task {
	pid_t tid;
	bool fresh;          // auto-attached, its first SIGSTOP not seen yet
	bool pending;        // path holds the argument of the syscall in progress
	char path[PATH_MAX];
};

struct tracer {
	struct task **tasks;
	size_t ntasks, cap;
	pid_t main_pid;
	struct trace_record *rec;
	long stops;
	bool warned_arch;
};

static struct task *task_find(struct tracer *t, pid_t tid)
{
	for (size_t i = 0; i < t->ntasks; i++)
		if (t->tasks[i]->tid == tid)
			return t->tasks[i];
	return NULL;
}

static struct task *task_add(struct tracer *t, pid_t tid, bool fresh)
{
	if (t->ntasks == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->tasks = realloc(t->tasks, t->cap * sizeof(*t->tasks));
		if (!t->tasks)
			die("trace: out of memory");
	}
	struct task *k = calloc(1, sizeof(*k));
	if (!k)
		die("trace: out of memory");
	k->tid = tid;
	k->fresh = fresh;
	t->tasks[t->ntasks++] = k;
	return k;
}

static void task_remove(struct tracer *t, pid_t tid)
{
	for (size_t i = 0; i < t->ntasks; i++) {
		if (t->tasks[i]->tid == tid) {
			free(t->tasks[i]);
			t->tasks[i] = t->tasks[--t->ntasks];
			return;
		}
	}
}

// Reads a NUL-terminated string from the tracee, page by page so that a string ending
// just before an unmapped page still reads. Falls back to PTRACE_PEEKDATA where
// process_vm_readv is unavailable.
static int read_string(pid_t tid, uint64_t addr, char *buf, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), got = 0;
	while (got < size) {
		size_t chunk = page - (size_t)((addr + got) % page);
		if (chunk > size - got)
			chunk = size - got;
		struct iovec local = {buf + got, chunk};
		struct iovec remote = {(void *)(uintptr_t)(addr + got), chunk};
		ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (n <= 0) {
			errno = 0;
			long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)(addr + got), 0);
			if (errno)
				return -1;
			n = (ssize_t)(sizeof(word) < size - got ? sizeof(word) : size - got);
			memcpy(buf + got, &word, (size_t)n);
		}
		if (memchr(buf + got, 0, (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -1;  // longer than PATH_MAX: the kernel would refuse it too
}

// The directory a dirfd-relative path starts from: the thread's cwd or the fd's target.
static int dir_of(pid_t tid, int dirfd, char *out, size_t size)
{
	char link[64];
	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)tid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)tid, dirfd);
	ssize_t n = readlink(link, out, size - 1);
	if (n <= 0 || (size_t)n >= size - 1)
		return -1;
	out[n] = 0;
	// Sockets, pipes and anon inodes have no path; deleted directories are gone.
	return out[0] == '/' ? 0 : -1;
}

// Makes the absolute form of the path argument at addr, relative to dirfd.
static int path_arg(pid_t tid, int dirfd, uint64_t addr, bool empty_ok, char *out,
		    size_t size)
{
	char rel[PATH_MAX];
	if (read_string(tid, addr, rel, sizeof(rel)) < 0)
		return -1;
	if (rel[0] == '/')
		return snprintf(out, size, "%s", rel) < (int)size ? 0 : -1;
	char dir[PATH_MAX];
	if (dir_of(tid, dirfd, dir, sizeof(dir)) < 0)
		return -1;
	if (rel[0] == 0)   // AT_EMPTY_PATH: the fd itself
		return empty_ok ? (snprintf(out, size, "%s", dir) < (int)size ? 0 : -1) : -1;
	return trace_path_join(out, size, dir, rel);
}

static void record(struct trace_record *rec, const char *path, bool exec)
{
	bool fresh = trace_set_add(&rec->paths, path);
	if (exec)
		trace_set_add(&rec->execs, path);
	if (fresh && rec->verbose)
		fprintf(stderr, "trace: %s%s\n", exec ? "exec " : "", path);
}

// Which argument of a syscall is a path, and whether a dirfd precedes it.
struct path_call {
	int dirfd_arg;   // -1: AT_FDCWD
	int path_arg;
	int flags_arg;   // -1: none; else AT_EMPTY_PATH there allows ""
	bool exec;
};

static bool path_call_of(long nr, struct path_call *c)
{
	switch (nr) {
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_stat
	case SYS_stat:
#endif
#ifdef SYS_lstat
	case SYS_lstat:
#endif
#ifdef SYS_access
	case SYS_access:
#endif
#ifdef SYS_readlink
	case SYS_readlink:
#endif
	case SYS_chdir:
		*c = (struct path_call){-1, 0, -1, false};
		return true;
	case SYS_execve:
		*c = (struct path_call){-1, 0, -1, true};
		return true;
	case SYS_openat:
	case SYS_openat2:
	case SYS_faccessat:
	case SYS_faccessat2:
	case SYS_readlinkat:
		*c = (struct path_call){0, 1, -1, false};
		return true;
	case SYS_newfstatat:
		*c = (struct path_call){0, 1, 3, false};
		return true;
	case SYS_statx:
		*c = (struct path_call){0, 1, 2, false};
		return true;
	case SYS_execveat:
		*c = (struct path_call){0, 1, 4, true};
		return true;
	default:
		return false;
	}
}

static void on_entry(struct tracer *t, struct task *k, const syscall_info *si)
{
	struct path_call c;
	if (!path_call_of((long)si->entry.nr, &c))
		return;
	int dirfd = c.dirfd_arg < 0 ? AT_FDCWD : (int)si->entry.args[c.dirfd_arg];
	// An empty path with AT_EMPTY_PATH means the fd itself: recorded when it was opened,
	// except for execveat, whose fd may come from anywhere.
	bool empty_ok = c.exec && c.flags_arg >= 0 && (si->entry.args[c.flags_arg] & AT_EMPTY_PATH);
	if (path_arg(k->tid, dirfd, si->entry.args[c.path_arg], empty_ok, k->path,
		     sizeof(k->path)) < 0)
		return;
	// A successful exec never returns to the same program, so record it now; a failed
	// one (a PATH search) names a file that, if it exists, is worth having anyway.
	if (c.exec)
		record(t->rec, k->path, true);
	else
		k->pending = true;
}

static void on_syscall_stop(struct tracer *t, struct task *k)
{
	syscall_info si;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, k->tid, (void *)sizeof(si), &si);
	t->stops++;
	if (n <= 0)
		return;
	if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
		k->pending = false;
		if (si.arch == TRACE_ARCH)
			on_entry(t, k, &si);
		else if (!t->warned_arch) {
			t->warned_arch = true;
			fprintf(stderr, "trace: warning: a process uses a foreign syscall ABI "
					"(arch 0x%x); its files are not recorded\n", si.arch);
		}
	} else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
		if (k->pending && !si.exit.is_error)
			record(t->rec, k->path, false);
		k->pending = false;
	}
}

// Stop requests from the terminal or the caller: set by the signal loop below.
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

static pid_t start_child(char **argv, const sigset_t *old_mask)
{
	pid_t pid = fork();
	if (pid < 0)
		die_errno("trace: fork");
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
			die_errno("trace: PTRACE_TRACEME");
		// Stop until the tracer has set its options, so the exec below is traced.
		raise(SIGSTOP);
		execvp(argv[0], argv);
		fprintf(stderr, "silo: trace: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		die("trace: the command did not stop for tracing");
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)opts) < 0)
		die_errno("trace: PTRACE_SETOPTIONS");
	// PTRACE_GET_SYSCALL_INFO (Linux 5.3) keeps the recorder free of register layouts.
	syscall_info si;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(si), &si) < 0)
		die_errno("trace: PTRACE_GET_SYSCALL_INFO (needs Linux 5.3 or later)");
	return pid;
}

static void resume(pid_t tid, int sig)
{
	// ESRCH: the task died meanwhile (SIGKILL from elsewhere); its exit is reported later.
	if (ptrace(PTRACE_SYSCALL, tid, 0, (void *)(long)sig) < 0 && errno != ESRCH)
		log_warn("trace: PTRACE_SYSCALL %d: %s", (int)tid, strerror(errno));
}

// A signal-delivery stop passes the signal on; a group stop (no siginfo) is resumed, as a
// tracer without PTRACE_SEIZE cannot hold it.
static void on_signal_stop(struct task *k, int sig)
{
	if (sig == SIGSTOP && k->fresh) {
		k->fresh = false;
		resume(k->tid, 0);
		return;
	}
	siginfo_t info;
	if (ptrace(PTRACE_GETSIGINFO, k->tid, 0, &info) < 0 && errno == EINVAL) {
		resume(k->tid, 0);
		return;
	}
	resume(k->tid, sig);
}

static void on_event(struct tracer *t, struct task *k, int event)
{
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, k->tid, 0, &msg);
	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	    event == PTRACE_EVENT_CLONE) {
		// The child's first stop may already have been seen (then it is known).
		if (!task_find(t, (pid_t)msg))
			task_add(t, (pid_t)msg, true);
	} else if (event == PTRACE_EVENT_EXEC && (pid_t)msg != k->tid) {
		// A thread other than the leader exec'd: it now has the leader's tid, and its
		// old tid is gone without an exit report.
		task_remove(t, (pid_t)msg);
	}
	k->pending = false;
	resume(k->tid, 0);
}

// Handles one waitpid report. Returns true when the main command has ended.
static bool on_status(struct tracer *t, pid_t tid, int st, struct trace_result *res)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		task_remove(t, tid);
		if (tid != t->main_pid)
			return false;
		res->end = WIFEXITED(st) ? TRACE_END_EXITED : TRACE_END_SIGNALED;
		res->status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
		return true;
	}
	if (!WIFSTOPPED(st))
		return false;
	struct task *k = task_find(t, tid);
	int sig = WSTOPSIG(st);
	if (!k)   // a new child whose first stop came before its parent's fork event
		k = task_add(t, tid, sig == SIGSTOP);
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_stop(t, k);
		resume(tid, 0);
	} else if (sig == SIGTRAP && (st >> 16)) {
		on_event(t, k, st >> 16);
	} else {
		on_signal_stop(k, sig);
	}
	return false;
}

// Kills every traced process and collects them, so nothing the trace started outlives it.
static void kill_tree(struct tracer *t)
{
	for (size_t i = 0; i < t->ntasks; i++)
		kill(t->tasks[i]->tid, SIGKILL);
	int64_t deadline = util_now_ms() + 10000;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w < 0)
			break;   // ECHILD: all gone
		if (w == 0) {
			if (util_now_ms() > deadline) {
				fprintf(stderr, "trace: warning: traced processes did not die\n");
				break;
			}
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		if (WIFSTOPPED(st))   // one we had not seen yet (a child being born)
			kill(w, SIGKILL);
		task_remove(t, w);
	}
}

// Waits for the next signal: SIGCHLD (a tracee changed state), a stop request, or the
// one-second tick that bounds a missed notification. Returns the signal or 0.
static int wait_signal(const sigset_t *set, int64_t deadline)
{
	int64_t left = 1000;
	if (deadline) {
		left = deadline - util_now_ms();
		if (left <= 0)
			return SIGALRM;
		if (left > 1000)
			left = 1000;
	}
	struct timespec ts = {left / 1000, (left % 1000) * 1000000};
	int sig = sigtimedwait(set, NULL, &ts);
	return sig < 0 ? 0 : sig;
}

void trace_run(char **argv, int64_t timeout_ms, struct trace_record *rec,
	       struct trace_result *res)
{
	struct tracer t = {.rec = rec};
	*res = (struct trace_result){0};
	// Signals are taken synchronously: blocked here, picked up with sigtimedwait, so a
	// stop request between two waitpid calls cannot be lost.
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < ARRAY_LEN(stop_signals); i++)
		sigaddset(&set, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	t.main_pid = start_child(argv, &old);
	task_add(&t, t.main_pid, false);
	resume(t.main_pid, 0);
	int64_t deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
	bool done = false;
	while (!done) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w < 0)
			break;   // ECHILD: nothing left to trace
		if (w > 0) {
			done = on_status(&t, w, st, res);
			continue;
		}
		int sig = wait_signal(&set, deadline);
		if (sig && sig != SIGCHLD) {
			res->end = sig == SIGALRM ? TRACE_END_TIMEOUT : TRACE_END_INTERRUPTED;
			res->status = sig;
			break;
		}
	}
	kill_tree(&t);
	for (size_t i = 0; i < t.ntasks; i++)
		free(t.tasks[i]);
	free(t.tasks);
	// The stop signals stay blocked: a second Ctrl-C must not kill spk while it writes
	// the root from what was recorded.
	res->stops = t.stops;
}
