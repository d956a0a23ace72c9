// SPDX-License-Identifier: MIT
// silo-bridge's PID 1 duties: start the app in its own process group, probe its port until it
// accepts, reap every child, forward termination signals, and stop the app when told to.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

// Signals the bridge takes synchronously from a signalfd; the ones after SIGCHLD are passed
// on to the app (tini's behaviour), SIGTERM being how a grain is asked to stop.
static const int bridge_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int bridge_app_connect(struct bridge *b, int *out)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)b->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		*out = fd;
		return 0;
	}
	if (errno == EINPROGRESS) {
		*out = fd;
		return 1;
	}
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static void probe_close(struct bridge *b)
{
	if (b->probe_fd >= 0) {
		ev_del(b->loop, b->probe_fd);
		close(b->probe_fd);
		b->probe_fd = -1;
	}
}

static void probe_tick(struct ev_loop *loop, void *arg);

// One probe ended: err 0 means the app accepted.
static void probe_result(struct bridge *b, int err)
{
	probe_close(b);
	int64_t waited = ev_now(b->loop) - b->start_ms;
	if (!err) {
		log_info("bridge: the app accepts connections on 127.0.0.1:%d (after %lld ms)",
			 b->port, (long long)waited);
		b->app_state = APP_READY;
		bridge_proxy_app_ready(b);
		bridge_link_flush(b);
		return;
	}
	// The first second is when a small app comes up, and a grain's start waits on it:
	// probe every millisecond then, every BRIDGE_PROBE_MS after.
	ev_timer_set(b->loop, &b->probe_timer, waited < 1000 ? 1 : BRIDGE_PROBE_MS, probe_tick, b);
}

static void on_probe_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)events;
	struct bridge *b = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	probe_result(b, err);
}

static void probe_tick(struct ev_loop *loop, void *arg)
{
	struct bridge *b = arg;
	if (b->app_state != APP_STARTING)
		return;
	if (ev_now(loop) - b->start_ms >= b->start_timeout_ms) {
		probe_close(b);
		log_err("bridge: the app did not accept connections on 127.0.0.1:%d within %lld ms; "
			"requests get 503 while it does not", b->port, (long long)b->start_timeout_ms);
		b->app_state = APP_GAVE_UP;
		bridge_proxy_app_unavailable(b, "the app did not start listening on its port in time");
		bridge_link_flush(b);
		return;
	}
	if (b->probe_fd >= 0) { // a connect still in flight (a full backlog): wait for it
		ev_timer_set(loop, &b->probe_timer, BRIDGE_PROBE_MS, probe_tick, b);
		return;
	}
	int fd, r = bridge_app_connect(b, &fd);
	if (r == 1) {
		b->probe_fd = fd;
		if (ev_add(loop, fd, EV_WRITE, on_probe_io, b) < 0)
			probe_result(b, EIO);
		else
			ev_timer_set(loop, &b->probe_timer, BRIDGE_PROBE_MS, probe_tick, b);
		return;
	}
	if (r == 0)
		close(fd);
	probe_result(b, r == 0 ? 0 : errno);
}

// The child between fork and exec: undo what the bridge changed for itself, then become
// the app. The exec error goes back through errfd (close-on-exec, so silence means success).
static noreturn void exec_app(struct bridge *b, int errfd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	execvp(b->argv[0], b->argv);
	int e = errno;
	ssize_t w = write(errfd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

void bridge_app_start(struct bridge *b)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die_errno("pipe2");
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0)
		exec_app(b, pfd[1]);
	close(pfd[1]);
	setpgid(pid, pid); // also in the child: whichever runs first
	b->app_pid = pid;
	b->start_ms = ev_now(b->loop);
	int e = 0;
	ssize_t n;
	while ((n = read(pfd[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	if (n == (ssize_t)sizeof(e)) {
		log_err("bridge: cannot run %s: %s", b->argv[0], strerror(e));
		return; // the child exits 127; reaping it ends the bridge with that status
	}
	log_info("bridge: started %s (pid %d)%s", b->argv[0], (int)pid,
		 b->port ? "" : "; it has no HTTP port");
	if (b->port)
		ev_timer_set(b->loop, &b->probe_timer, 0, probe_tick, b);
	else
		b->app_state = APP_GAVE_UP;
}

// Sends sig to the app's process group, or to the app alone if it left the group.
static void signal_app(struct bridge *b, int sig)
{
	if (!b->app_pid)
		return;
	if (kill(-b->app_pid, sig) < 0)
		kill(b->app_pid, sig);
}

static void on_grace_over(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct bridge *b = arg;
	if (b->app_pid) {
		log_warn("bridge: the app did not stop within %d ms: killing it", BRIDGE_STOP_GRACE_MS);
		signal_app(b, SIGKILL);
	}
}

void bridge_app_stop(struct bridge *b)
{
	if (b->stopping)
		return;
	b->stopping = true;
	bridge_pool_close_all(b);
	ev_timer_cancel(b->loop, &b->probe_timer);
	probe_close(b);
	if (!b->app_pid) {
		bridge_exit(b, b->exit_code);
		return;
	}
	log_info("bridge: stopping the app (pid %d)", (int)b->app_pid);
	signal_app(b, SIGTERM);
	ev_timer_set(b->loop, &b->stop_timer, BRIDGE_STOP_GRACE_MS, on_grace_over, b);
}

static void on_drain_over(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct bridge *b = arg;
	bridge_exit(b, b->exit_code);
}

static void app_exited(struct bridge *b, int status)
{
	b->app_pid = 0;
	int code;
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		log_info("bridge: the app exited with status %d", code);
	} else {
		code = 128 + WTERMSIG(status);
		log_info("bridge: the app was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	}
	ev_timer_cancel(b->loop, &b->probe_timer);
	probe_close(b);
	bridge_pool_close_all(b);
	b->app_state = APP_GONE;
	b->exit_code = code;
	if (b->stopping || b->wire_fd < 0) {
		bridge_exit(b, b->stopping ? 0 : code);
		return;
	}
	// Keep serving for a moment: responses the app wrote before exiting are still in its
	// sockets. New requests get 503; the bridge exits once no stream is left.
	bridge_proxy_app_unavailable(b, "the app has exited");
	if (!b->nstreams)
		bridge_exit(b, code);
	else
		ev_timer_set(b->loop, &b->stop_timer, BRIDGE_DRAIN_MS, on_drain_over, b);
}

// PID 1 reaps everything: its own child and every orphan the kernel hands it.
static void reap(struct bridge *b)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		if (pid == b->app_pid)
			app_exited(b, status);
	}
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)events;
	struct bridge *b = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			reap(b);
			continue;
		}
		if (!b->app_pid) {
			bridge_exit(b, b->exit_code);
			continue;
		}
		log_info("bridge: passing %s on to the app", strsignal(sig));
		signal_app(b, sig);
	}
	bridge_link_flush(b);
}

void bridge_signals_setup(struct bridge *b)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(bridge_signals) / sizeof(bridge_signals[0]); i++)
		sigaddset(&set, bridge_signals[i]);
	// Blocked signals stay pending for the signalfd; as PID 1 of a namespace that is also
	// what lets them reach us at all (the kernel drops unhandled ones sent to an init).
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die_errno("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	b->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (b->sig_fd < 0)
		die_errno("signalfd");
	if (ev_add(b->loop, b->sig_fd, EV_READ, on_signal, b) < 0)
		die("cannot watch the signalfd");
}

void bridge_app_close(struct bridge *b)
{
	ev_timer_cancel(b->loop, &b->probe_timer);
	ev_timer_cancel(b->loop, &b->stop_timer);
	probe_close(b);
	if (b->sig_fd >= 0) {
		ev_del(b->loop, b->sig_fd);
		close(b->sig_fd);
		b->sig_fd = -1;
	}
}
