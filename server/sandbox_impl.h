// SPDX-License-Identifier: MIT
// What the sandbox's parent side, child side and mount builder share: the child's context,
// its named phases and the typed report it sends up the pipe.
#pragma once
#include <stdint.h>
#include <stdnoreturn.h>

#include <linux/filter.h>
#include <sys/capability.h>

#include "sandbox.h"

// The child's phases, in the order it runs them (STYLE.md point 9 for the privilege drops).
enum sandbox_phase {
	SBX_SIGNALS,       // default dispositions, nothing blocked
	SBX_NO_NEW_PRIVS,
	SBX_RLIMITS,       // while still root in the initial user namespace (a hard limit may rise)
	SBX_SESSION,       // setsid: no controlling terminal
	SBX_SETGROUPS,     // drop supplementary groups before the user namespace denies setgroups
	SBX_UNSHARE,       // user, mount, net, ipc, uts namespaces
	SBX_WAIT_PARENT,   // the parent writes uid_map/gid_map and joins us to the cgroup
	SBX_CGROUP_NS,     // now rooted at the grain's own cgroup
	SBX_OPEN,          // open the package, /var and the bridge in the new mount namespace
	SBX_SETRESGID,
	SBX_SETRESUID,     // to 1000, keeping capabilities in the new user namespace for mounts
	SBX_MOUNT,         // the new root; pivot_root
	SBX_HOSTNAME,
	SBX_LOOPBACK,
	SBX_CAPS,          // every capability, the bounding set, ambient
	SBX_FDS,           // 0 /dev/null, 1-2 log, 3 wire, nothing else; RLIMIT_NOFILE; umask
	SBX_SECCOMP,
	SBX_EXEC,
	SBX_NPHASES
};

extern const char *const sandbox_phase_names[SBX_NPHASES];

enum { SBX_MSG_READY = 1, SBX_MSG_FAIL = 2, SBX_MSG_EXEC = 3 };

// One record up the pipe: READY after unsharing, EXEC right before execve, FAIL with the
// phase, errno and what. EOF after EXEC means the exec happened (the pipe is close-on-exec).
struct sandbox_msg {
	uint32_t kind;
	uint32_t phase;
	int32_t err;
	char what[180];
};

#define SANDBOX_MAX_ENTRIES 256

// One top-level entry of the package tree, opened (O_PATH) before the uid switch.
struct sandbox_entry {
	char name[256];
	int fd;
	unsigned type; // DT_DIR, DT_REG, DT_LNK
};

struct sandbox_child {
	const struct sandbox_spec *spec;
	const struct sock_fprog *filter;
	cap_t no_caps;      // allocated by the parent: the child never allocates
	int go_fd;          // read end: the parent's go-ahead
	int report_fd;      // write end, close-on-exec: EOF tells the parent exec happened
	// Opened by the child in its own mount namespace (a bind source must belong to it).
	int pkg_fd, var_fd, bridge_fd;
	struct sandbox_entry entries[SANDBOX_MAX_ENTRIES];
	int nentries;
	char what[160]; // the step a phase failed at, for the report
};

// sandbox_spare.c: hands the spare its grain (cgroups renamed with lim written, the spec
// and go/report fds sent); its pid, or 0 when there is no usable spare.
pid_t sandbox_spare_take(const struct sandbox_spec *spec, const struct cgroup_limits *lim,
			 int go_fd, int rep_fd, struct cgroup *cg);

// Runs every phase and execs; never returns (reports a failure and _exits 127).
noreturn void sandbox_child_main(struct sandbox_child *c);
// Reports a failure of a phase (with what failed, and errno) to the parent and exits.
noreturn void sandbox_child_fail(const struct sandbox_child *c, enum sandbox_phase phase,
				 int err, const char *what);

// sandbox_mount.c: opens the package, /var, the bridge and the package's top-level entries
// (before the uid switch), then builds and enters the new root (after it). -1 with errno
// and c->what naming the step on failure.
int sandbox_mount_open(struct sandbox_child *c);
int sandbox_mount_root(struct sandbox_child *c);
