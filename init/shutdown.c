// SPDX-License-Identifier: MIT
// Shutdown in s6-linux-init's fixed order; every wait is bounded so a stuck process cannot
// keep the box from powering off.
#include <errno.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "entropy.h"
#include "mounts.h"
#include "shutdown.h"
#include "util.h"

#define SILO_STOP_MS 20000   // silo's own shutdown_timeout is 10 s
#define TERM_GRACE_MS 3000

// Reaps until pid (or, for -1, every child) is gone or ms passed; 0 when gone.
static int reap_until(pid_t pid, int ms)
{
	int64_t end = util_now_ms() + ms;
	for (;;) {
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p == pid)
				return 0;
		if (p < 0 && errno == ECHILD)
			return 0;
		if (util_now_ms() >= end)
			return -1;
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

noreturn void shutdown_now(struct supervisor *s, enum shutdown_how how)
{
	console_log("%s: stopping silo", how == SHUTDOWN_REBOOT ? "reboot" : "power off");
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		if (reap_until(s->pid, SILO_STOP_MS) < 0)
			console_log("silo did not stop within %ds; killing it", SILO_STOP_MS / 1000);
		s->pid = 0;
	}
	kill(-1, SIGTERM);
	if (reap_until(-1, TERM_GRACE_MS) < 0) {
		kill(-1, SIGKILL);
		reap_until(-1, 2000);
	}
	entropy_save("/var/lib/silo/.random-seed");
	sync();
	mounts_unmount_all();
	sync();
	console_log("%s", how == SHUTDOWN_REBOOT ? "rebooting" : "powering off");
	reboot(how == SHUTDOWN_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
	// reboot(2) returns only on failure; PID 1 must not exit, so wait for the end.
	console_errno("reboot");
	for (;;)
		pause();
}
