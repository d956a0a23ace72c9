// SPDX-License-Identifier: MIT
// Per-grain cgroups: one leaf beneath the caller's own cgroup, on cgroup v1 or v2, with limits.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_PATH_MAX 512
#define CGROUP_MAX_DIRS 4

// A limit of 0 means "not set": the controller is then optional. A non-zero memory or pids
// limit makes its controller required (cgroup_create fails without it); cpu and io weights
// are applied where the controller exists and skipped otherwise.
struct cgroup_limits {
	uint64_t memory_bytes;
	uint64_t pids;
	uint64_t cpu_weight; // 1..10000 (cgroup v2 scale); v1 cpu.shares = weight * 1024 / 100
};

enum cgroup_ctl { CGROUP_MEMORY, CGROUP_PIDS, CGROUP_CPU, CGROUP_IO, CGROUP_NCTL };

// One grain's leaves: on v2 a single directory; on v1 one per hierarchy used (memory, pids,
// cpu). ctl[c] indexes dirs[] for controller c, or is -1 when the controller is not used.
struct cgroup {
	int version; // 0: none (no limits asked and no hierarchy found), 1 or 2
	int ndirs;
	char dirs[CGROUP_MAX_DIRS][CGROUP_PATH_MAX];
	int ctl[CGROUP_NCTL];
};

// What a grain's cgroup has counted; a counter the hierarchy lacks reads as 0.
struct cgroup_stats {
	uint64_t memory_current;   // bytes in use
	uint64_t memory_max_hits;  // v1 memory.failcnt, v2 memory.events "max"
	uint64_t oom_kills;        // v1 memory.oom_control / v2 memory.events "oom_kill"
	uint64_t pids_current;
	uint64_t pids_max_hits;    // pids.events "max": forks refused at pids.max
};

// Creates the leaf "silo-NAME" beneath the calling process's cgroup in every hierarchy it
// needs (found from /proc/self/mountinfo and /proc/self/cgroup) and writes the limits. A stale
// empty leaf of the same name is replaced. 0 on success; -1 with a message in err.
int cgroup_create(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		  char *err, size_t errsz);
// cgroup v1 only (v2 refuses renames): gives the leaves the name "silo-NAME" (clearing a
// stale leaf of that name) and writes the limits, for a process moved in ahead of time.
// 0 on success; -1 with a message in err (the leaves keep whatever name they had then).
int cgroup_rename(struct cgroup *cg, const char *name, const struct cgroup_limits *lim,
		  char *err, size_t errsz);
// Moves pid into every leaf. 0 on success; -1 with a message in err.
int cgroup_attach(const struct cgroup *cg, pid_t pid, char *err, size_t errsz);
// Sends SIGKILL to every process in the leaves (cgroup.kill on v2 when present).
void cgroup_kill(const struct cgroup *cg);
// Removes the leaves, retrying while the kernel still counts exiting tasks; 0, or -1 with
// errno when a leaf would not go away within about a second. Idempotent.
int cgroup_destroy(struct cgroup *cg);
// Removes the empty silo-* leaves beneath the caller's cgroups: what grains of an earlier
// silo that was killed left behind. Leaves with processes stay. The number removed.
int cgroup_sweep(void);
// Reads the counters; 0, or -1 when the grain has no cgroup.
int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st);
// The path of FILE in controller c's leaf, or -1 if the controller is not used.
int cgroup_file(const struct cgroup *cg, enum cgroup_ctl c, const char *file, char *out,
		size_t outsz);
