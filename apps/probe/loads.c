// SPDX-License-Identifier: MIT
// The probe's hostile loads, each bounded in time and size so a missing limit shows as a
// number in the report rather than a dead machine: fork bomb, memory hog, CPU spin.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Forks children that only wait, until fork fails (pids.max) or a cap or 5 s is reached,
// then kills and reaps them all.
static void forkbomb(struct json *j, long cap)
{
	if (cap <= 0 || cap > 20000)
		cap = 20000;
	pid_t *kids = calloc((size_t)cap, sizeof(*kids));
	if (!kids) {
		json_str(j, "error", "out of memory");
		return;
	}
	int64_t t0 = now_ms();
	long n = 0;
	int err = 0;
	while (n < cap && now_ms() - t0 < 5000) {
		pid_t p = fork();
		if (p == 0) {
			for (;;)
				pause();
		}
		if (p < 0) {
			err = errno;
			break;
		}
		kids[n++] = p;
	}
	for (long i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	json_int(j, "forks", n);
	json_str(j, "stopped_by", err ? probe_errname(err) : "cap");
	json_int(j, "ms", now_ms() - t0);
}

// A child allocates and touches 1 MiB at a time (up to cap MiB, 20 s), telling the parent
// its progress; the parent reports how far it got and how it ended (OOM kill or failure).
static void memhog(struct json *j, long cap)
{
	if (cap <= 0 || cap > 8192)
		cap = 8192;
	int p[2];
	if (pipe(p) < 0) {
		json_str(j, "error", probe_errname(errno));
		return;
	}
	int64_t t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (uint32_t mib = 1; mib <= (uint32_t)cap && now_ms() - t0 < 20000; mib++) {
			char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				_exit(3);
			memset(m, 0xa5, 1 << 20);
			if (write(p[1], &mib, sizeof(mib)) != sizeof(mib))
				_exit(4);
		}
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		json_str(j, "error", probe_errname(errno));
		return;
	}
	uint32_t mib = 0, got;
	while (read(p[0], &got, sizeof(got)) == sizeof(got))
		mib = got;
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	json_int(j, "mib", mib);
	if (WIFSIGNALED(st)) {
		json_str(j, "end", "killed");
		json_int(j, "signal", WTERMSIG(st));
	} else {
		int code = WEXITSTATUS(st);
		json_str(j, "end", code == 3 ? "allocation failed" : code == 0 ? "cap reached"
									 : "error");
	}
	json_int(j, "ms", now_ms() - t0);
}

static void cpuspin(struct json *j, long ms)
{
	if (ms <= 0 || ms > 10000)
		ms = 1000;
	int64_t t0 = now_ms();
	volatile uint64_t x = 0;
	uint64_t loops = 0;
	while (now_ms() - t0 < ms) {
		for (int i = 0; i < 100000; i++)
			x += (uint64_t)i;
		loops++;
	}
	struct timespec cpu;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	json_int(j, "loops", (long long)loops);
	json_int(j, "sum", (long long)(x & 0xffff)); // keeps the work from being optimized away
	json_int(j, "ms", now_ms() - t0);
	json_int(j, "cpu_ms", (long long)cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000);
}

int probe_load(struct json *j, const char *name, const struct probe_opts *o)
{
	if (strcmp(name, "forkbomb") == 0)
		forkbomb(j, o->arg);
	else if (strcmp(name, "memhog") == 0)
		memhog(j, o->arg);
	else if (strcmp(name, "cpuspin") == 0)
		cpuspin(j, o->arg);
	else
		return -1;
	return 0;
}
