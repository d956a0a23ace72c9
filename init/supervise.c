// SPDX-License-Identifier: MIT
// Supervision of silo: start, log each exit on the console, restart with backoff.
#include <fcntl.h>
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
	if (s->ready_fd >= 0)
		close(s->ready_fd);
	s->ready_fd = -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		console_errno("cannot make silo's pipe");
		p[0] = p[1] = -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		console_errno("cannot fork silo");
		if (p[0] >= 0) {
			close(p[0]);
			close(p[1]);
		}
		s->restart_ms = util_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		// fd 3 is the pipe back (SILO_INIT_FD): silo writes "serving" on it once it serves.
		if (p[1] >= 0 && dup2(p[1], 3) < 0)
			_exit(127);
		// PID 1 blocks these to read them from a signalfd; silo wants them back.
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		setsid();
		char *argv[] = { SILO_BIN, "serve", "--base-url", (char *)s->base_url,
				 s->config ? "--config" : NULL, (char *)s->config, NULL };
		char *envp[] = { "PATH=/usr/bin", "HOME=/var/lib/silo", "LANG=C.UTF-8",
				 p[1] >= 0 ? "SILO_INIT_FD=3" : NULL, NULL };
		execve(SILO_BIN, argv, envp);
		console_errno("cannot run %s", SILO_BIN);
		_exit(127);
	}
	if (p[1] >= 0) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	s->ready_fd = p[0];
	s->pid = pid;
	s->started_ms = util_now_ms();
}

int supervise_parse_ready(const char *msg, size_t n, char fp[SUPERVISE_FP_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	const size_t fp_at = sizeof("serving sha256 ") - 1;
	fp[0] = '\0';
	while (n && msg[n - 1] == '\n')
		n--;
	if (n == 7 && memcmp(msg, "serving", 7) == 0)
		return 1;
	if (n != fp_at + SUPERVISE_FP_HEX || memcmp(msg, "serving sha256 ", fp_at) != 0)
		return 0;
	for (size_t i = 0; i < SUPERVISE_FP_HEX; i++)
		if (!memchr(hex, msg[fp_at + i], 16))
			return 0;
	memcpy(fp, msg + fp_at, SUPERVISE_FP_HEX);
	fp[SUPERVISE_FP_HEX] = '\0';
	return 1;
}

int supervise_ready(struct supervisor *s)
{
	// silo writes its one line (under PIPE_BUF) in one write.
	char buf[128];
	ssize_t n = read(s->ready_fd, buf, sizeof(buf));
	if (n < 0)
		return 0;
	close(s->ready_fd);
	s->ready_fd = -1;
	if (!supervise_parse_ready(buf, (size_t)n, s->tls_fp))
		return 0;
	s->serving = 1;
	return 1;
}

int supervise_reaped(struct supervisor *s, pid_t pid, int status)
{
	if (pid != s->pid || pid <= 0)
		return 0;
	s->pid = 0;
	s->crashes++;
	if (!s->serving)
		s->early_exits++;
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
