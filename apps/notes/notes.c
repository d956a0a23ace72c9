// SPDX-License-Identifier: MIT
// notes: a shared notebook per grain, a small HTTP/1.1 server that silo runs in a sandbox.
// Usage: notes --port P [--data DIR]. Listens on 127.0.0.1:P (0: the kernel picks, and the
// chosen port is printed), keeps its notebook in DIR (default /var, the grain's storage).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "client.h"
#include "log.h"
#include "statics.h"

#define NOTES_ACCEPT_BATCH 64
#define NOTES_ACCEPT_PAUSE_MS 200

// Set-up failures: "notes: MESSAGE[: strerror]" and exit 1.
static noreturn void notes_vdie(int err, const char *fmt, va_list ap)
{
	fputs("notes: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

static noreturn __attribute__((format(printf, 1, 2))) void notes_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	notes_vdie(0, fmt, ap);
}

static noreturn __attribute__((format(printf, 1, 2))) void notes_die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	notes_vdie(err, fmt, ap);
}

struct options {
	int port;
	const char *data;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: notes --port PORT [--data DIR]\n"
		   "  --port PORT  listen on 127.0.0.1:PORT (0: any free port, printed on stderr)\n"
		   "  --data DIR   where the notebook is kept (default /var)\n");
}

static struct options parse_options(int argc, char **argv)
{
	struct options o = {.port = -1, .data = "/var"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc)
			notes_die("%s: expected a value (see --help)", a);
		const char *v = argv[++i];
		if (strcmp(a, "--port") == 0) {
			char *end;
			errno = 0;
			long p = strtol(v, &end, 10);
			if (errno || *end || end == v || p < 0 || p > 65535)
				notes_die("--port %s: not a port number", v);
			o.port = (int)p;
		} else if (strcmp(a, "--data") == 0) {
			if (!*v)
				notes_die("--data: empty directory name");
			o.data = v;
		} else {
			notes_die("%s: unknown option (see --help)", a);
		}
	}
	if (o.port < 0)
		notes_die("--port is required (see --help)");
	return o;
}

static int listen_loopback(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		notes_die_errno("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		notes_die_errno("bind 127.0.0.1:%d", port);
	if (listen(fd, 128) < 0)
		notes_die_errno("listen");
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		notes_die_errno("getsockname");
	fprintf(stderr, "notes: listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
	return fd;
}

static void on_accept(struct ev_loop *loop, int fd, unsigned events, void *arg);

static void accept_resume(struct ev_loop *loop, void *arg)
{
	struct app *app = arg;
	if (ev_add(loop, app->listen_fd, EV_READ, on_accept, app) < 0)
		ev_timer_set(loop, &app->accept_pause, NOTES_ACCEPT_PAUSE_MS, accept_resume, app);
}

static void on_accept(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events;
	struct app *app = arg;
	for (int i = 0; i < NOTES_ACCEPT_BATCH; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			client_open(app, c);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			// The pending connection stays readable, so a level-triggered loop would spin:
			// stop listening for a moment instead.
			log_warn("on_accept: %s; pausing for %d ms", strerror(errno),
				 NOTES_ACCEPT_PAUSE_MS);
			ev_del(loop, fd);
			ev_timer_set(loop, &app->accept_pause, NOTES_ACCEPT_PAUSE_MS, accept_resume, app);
		} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			log_warn("on_accept: %s", strerror(errno));
		}
		return;
	}
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events;
	(void)arg;
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		ev_stop(loop);
}

// SIGTERM and SIGINT end the loop; every change is already on disk, so stopping is quick.
static int signals_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		notes_die_errno("sigprocmask");
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		notes_die_errno("signalfd");
	return fd;
}

int main(int argc, char **argv)
{
	struct options o = parse_options(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	statics_init();

	static struct app app;
	char err[512];
	if (notebook_open(&app.nb, o.data, err, sizeof(err)) < 0)
		notes_die("cannot open the notebook: %s", err);
	app.loop = ev_new();
	if (!app.loop)
		notes_die_errno("ev_new");
	int sfd = signals_fd();
	app.listen_fd = listen_loopback(o.port);
	if (ev_add(app.loop, app.listen_fd, EV_READ, on_accept, &app) < 0 ||
	    ev_add(app.loop, sfd, EV_READ, on_signal, &app) < 0)
		notes_die("cannot watch the listening socket");
	log_info("notes: serving %zu notes from %s", app.nb.n, o.data);

	int r = ev_run(app.loop);

	client_close_all(&app);
	ev_timer_cancel(app.loop, &app.accept_pause);
	ev_del(app.loop, app.listen_fd);
	ev_del(app.loop, sfd);
	close(app.listen_fd);
	close(sfd);
	ev_free(app.loop);
	notebook_close(&app.nb);
	return r < 0 ? 1 : 0;
}
