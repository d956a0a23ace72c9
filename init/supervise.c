// SPDX-License-Identifier: MIT
// Supervision of silo: start, log each exit on the console, restart with backoff.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "supervise.h"
#include "util.h"

#define SILO_BIN "/usr/bin/silo"
#define STABLE_MS 60000   // a run this long resets the delay

void supervise_start(struct supervisor *s)
{
	s->restart_ms = 0;
	pid_t pid = fork();
	if (pid < 0) {
		console_errno("cannot fork silo");
		s->restart_ms = util_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		// PID 1 blocks these to read them from a signalfd; silo wants them back.
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		setsid();
		char *argv[] = { SILO_BIN, "serve", "--base-url", (char *)s->base_url, NULL };
		char *envp[] = { "PATH=/usr/bin", "HOME=/var/lib/silo", "LANG=C.UTF-8", NULL };
		execve(SILO_BIN, argv, envp);
		console_errno("cannot run %s", SILO_BIN);
		_exit(127);
	}
	s->pid = pid;
	s->started_ms = util_now_ms();
}

int supervise_reaped(struct supervisor *s, pid_t pid, int status)
{
	if (pid != s->pid || pid <= 0)
		return 0;
	s->pid = 0;
	s->crashes++;
	if (util_now_ms() - s->started_ms >= STABLE_MS)
		s->backoff_s = 1;
	if (WIFSIGNALED(status))
		console_log("silo was killed by signal %d (%s); exit %u since boot; restarting in %us",
			    WTERMSIG(status), strsignal(WTERMSIG(status)), s->crashes, s->backoff_s);
	else
		console_log("silo exited with status %d; exit %u since boot; restarting in %us",
			    WEXITSTATUS(status), s->crashes, s->backoff_s);
	s->restart_ms = util_now_ms() + (int64_t)s->backoff_s * 1000;
	s->backoff_s = s->backoff_s * 2 > s->max_s ? s->max_s : s->backoff_s * 2;
	return 1;
}
