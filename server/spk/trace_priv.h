// SPDX-License-Identifier: MIT
// What the parts of `spk trace` share: a set of paths, the ptrace recorder, the ELF and
// script inspector, and the builder that copies recorded paths into a package root.
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// --- A set of strings (paths), owned copies ---
struct trace_set {
	char **slots;   // open addressing; NULL is empty
	size_t cap, len;
};

void trace_set_init(struct trace_set *s);
void trace_set_free(struct trace_set *s);
// Adds a copy of str; true when it was not there yet. Aborts on out-of-memory (host tool).
bool trace_set_add(struct trace_set *s, const char *str);
// A sorted array of the set's strings (borrowed; free only the array).
const char **trace_set_sorted(const struct trace_set *s);

// --- The recorder ---
struct trace_record {
	struct trace_set paths;   // absolute paths of every successful lookup
	struct trace_set execs;   // absolute paths passed to execve/execveat
	bool verbose;             // print each new path to stderr as it is recorded
};

enum trace_end {
	TRACE_END_EXITED,        // CMD exited; status holds its exit status
	TRACE_END_SIGNALED,      // CMD was killed by a signal it got from elsewhere
	TRACE_END_INTERRUPTED,   // we got SIGINT/SIGTERM/SIGHUP: the tree was killed
	TRACE_END_TIMEOUT,       // --timeout passed: the tree was killed
};

struct trace_result {
	enum trace_end end;
	int status;    // exit status or signal number
	long stops;    // syscall stops seen, for the summary
};

// Runs argv under ptrace (with its whole process tree) until it exits, a stop signal
// arrives or timeout_ms passes (0: no limit), recording into rec. Dies on set-up errors.
void trace_run(char **argv, int64_t timeout_ms, struct trace_record *rec,
	       struct trace_result *res);

// --- Executables: what the kernel loads without an open the trace would see ---
enum trace_exec_kind {
	TRACE_EXEC_UNREADABLE,  // cannot open or read the file
	TRACE_EXEC_STATIC,      // ELF without PT_INTERP
	TRACE_EXEC_ELF,         // ELF with PT_INTERP: interp holds it
	TRACE_EXEC_SCRIPT,      // "#!": interp holds the interpreter
	TRACE_EXEC_OTHER,       // neither (binfmt_misc, garbage, malformed ELF)
};

enum trace_exec_kind trace_exec_interp(const char *path, char *interp, size_t size);

// --- Paths ---
// Joins base and rel with one '/' into out; -1 when it does not fit.
int trace_path_join(char *out, size_t size, const char *base, const char *rel);
// True for paths that never go into a package: /proc, /sys, /dev, /tmp, /var, /run, /home,
// /root (and anything under them).
bool trace_path_skipped(const char *path);

// --- The package root ---
struct trace_patterns {
	char **pat;
	size_t len, cap;
};

void trace_patterns_free(struct trace_patterns *p);
// Reads FILE: one path or glob a line, '#' starts a comment line, blank lines ignored.
// Relative entries are refused (dies with the file and line).
void trace_patterns_load(struct trace_patterns *p, const char *file);

struct trace_root {
	const char *dir;          // the output directory, canonical
	int dir_fd;
	struct trace_patterns exclude;
	struct trace_set done;    // host paths already placed (dirs, files, symlinks)
	struct trace_set placed;  // files and symlinks placed, for --list
	long files, symlinks, dirs, skipped_special;
	long pycs;                // .pyc files made unchecked
	uint64_t bytes;
	bool verbose;
	bool pyc_unchecked;       // rewrite timestamp-checked .pyc files (default)
	char app_dir[PATH_MAX];   // the traced program's own directory: never skipped
};

// Opens (creating) the output directory; dies unless it is empty or add is set.
void trace_root_open(struct trace_root *r, const char *dir, bool add);
void trace_root_close(struct trace_root *r);
// Places everything the record holds: paths, the interpreters of executed files, the
// Python sources of opened .pyc files.
void trace_root_add_record(struct trace_root *r, const struct trace_record *rec);
// Places what an include list names (globs expanded, directories recursively).
void trace_root_add_includes(struct trace_root *r, const struct trace_patterns *inc);
