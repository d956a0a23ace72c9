// SPDX-License-Identifier: MIT
// The grain sandbox: starts a command as PID 1 of fresh namespaces with the package as its
// root, confined by capabilities, seccomp and a cgroup; stops and reaps it.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

// Inside the sandbox the app runs as this uid/gid; host_uid/host_gid are what it is outside.
#define SANDBOX_UID 1000
#define SANDBOX_GID 1000
// The path in the package tree where the host's silo-bridge is mounted.
#define SANDBOX_BRIDGE_PATH "/silo-bridge"

struct sandbox_spec {
	const char *package_root; // unpacked package; must hold a /silo-bridge file to mount on
	const char *var_dir;      // the grain's own directory, mounted read-write at /var
	const char *bridge_path;  // the host's silo-bridge, mounted read-only over /silo-bridge
	uid_t host_uid;           // never 0: the grain's own unprivileged ids on the host
	gid_t host_gid;
	char *const *argv;        // argv[0] is the path executed inside (normally /silo-bridge)
	char *const *envp;        // NULL: empty environment
	int wire_fd;              // becomes fd 3 (-1: fd 3 stays closed)
	int log_fd;               // becomes fds 1 and 2 (-1: /dev/null)
	const char *name;         // for the cgroup leaf "silo-NAME": [A-Za-z0-9._-]{1,64}
	struct {
		uint64_t memory_bytes; // 0: none
		uint64_t pids;         // 0: none
		uint64_t cpu_weight;   // 1..10000, 0: the default (100)
		uint64_t tmp_bytes;    // size of /tmp and of /dev/shm; 0: 16 MiB
	} limits;
};

struct sandbox {
	pid_t pid;          // the grain's init (silo-bridge) as seen from the host; 0 once reaped
	int status;         // waitpid status once reaped
	bool reaped;
	struct cgroup cg;   // the grain's cgroup leaves (paths in cg.dirs)
	int64_t start_us;   // how long sandbox_start took, from the call to the exec
};

// Starts the sandbox and returns once the command has been exec'd (or failed to be): a few
// milliseconds, blocking. The grain's init is a child of the calling thread (it gets
// SIGKILL when that thread exits), which must reap it only through sandbox_reap() or
// sandbox_stop(), never with waitpid(-1). 0 on success; -1 with "sandbox: WHAT: why" in err
// (e.g. "sandbox: bind /var: Permission denied"), with no process or cgroup left behind.
int sandbox_start(const struct sandbox_spec *spec, struct sandbox *out, char *err, size_t errsz);

// A spare grain init made ahead of time (sandbox_spare.c), used by the next sandbox_start:
// on cgroup v1 hosts, where moving a process into its cgroups costs most of a start. Make it
// when nothing waits (it blocks 5-20 ms); reap it on SIGCHLD; drop it at exit. No-ops where
// a spare does not help.
void sandbox_spare_make(void);
void sandbox_spare_reap(void);
void sandbox_spare_drop(void);

// For the owner of the event loop, on SIGCHLD: reaps the grain if it has exited (removing
// its cgroup). 1 when reaped (*status set), 0 while it runs, -1 on error (errno).
int sandbox_reap(struct sandbox *sb, int *status);

// Stops the grain: SIGTERM to its init, up to grace_ms for it to exit, then SIGKILL to the
// whole cgroup and pid namespace; waits for it and removes the cgroup. Returns the wait
// status, or -1 if the cgroup could not be removed. Safe to call after sandbox_reap().
int sandbox_stop(struct sandbox *sb, int grace_ms);
