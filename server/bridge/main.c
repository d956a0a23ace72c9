// SPDX-License-Identifier: MIT
// silo-bridge: a grain's PID 1. It starts the app, waits for its HTTP port, reaps every
// process, and turns the front's frames on fd 3 into HTTP/1.1 requests to 127.0.0.1:PORT.
// Usage: silo-bridge [--port PORT] [--start-timeout MS] [--pool-idle MS] -- CMD [ARG...]
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

static noreturn void usage(void)
{
	die("usage: silo-bridge [--port PORT] [--start-timeout MS] [--pool-idle MS] -- CMD [ARG...]");
}

static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || v < min || v > max)
		die("%s must be a number from %ld to %ld", what, min, max);
	return v;
}

static void parse_args(int argc, char **argv, struct bridge *b)
{
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--port") == 0)
			b->port = (int)parse_num(argv[++i], 1, 65535, "--port");
		else if (strcmp(argv[i], "--start-timeout") == 0)
			b->start_timeout_ms = parse_num(argv[++i], 1, 86400000, "--start-timeout");
		else if (strcmp(argv[i], "--pool-idle") == 0) // how long idle app connections stay open
			b->pool_idle_ms = parse_num(argv[++i], 1, 3600000, "--pool-idle");
		else
			usage();
	}
	if (i + 1 >= argc)
		usage();
	b->argv = argv + i + 1;
}

// fd 3 must be the connected stream socket the sandbox set up; everything else is a mistake
// that would make the grain silently unreachable.
static void check_wire_fd(void)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);
	if (fstat(BRIDGE_WIRE_FD, &st) < 0)
		die_errno("fd %d (the wire to the front)", BRIDGE_WIRE_FD);
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(BRIDGE_WIRE_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		die("fd %d is not a stream socket", BRIDGE_WIRE_FD);
	int fl = fcntl(BRIDGE_WIRE_FD, F_GETFL);
	if (fl < 0 || fcntl(BRIDGE_WIRE_FD, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(BRIDGE_WIRE_FD, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("fd %d: fcntl", BRIDGE_WIRE_FD);
}

void bridge_exit(struct bridge *b, int code)
{
	b->exit_code = code;
	ev_stop(b->loop);
}

int main(int argc, char **argv)
{
	struct bridge b = {
		.start_timeout_ms = BRIDGE_START_TIMEOUT_MS,
		.pool_idle_ms = BRIDGE_POOL_IDLE_MS,
		.wire_fd = -1,
		.probe_fd = -1,
		.sig_fd = -1,
	};
	parse_args(argc, argv, &b);
	check_wire_fd();
#ifdef M_MMAP_THRESHOLD
	// glibc (the sanitizer build): buffers of 32 KiB and more (a window of request body, the
	// wire's output) get their own mappings, returned to the kernel when freed, so a burst
	// does not leave the heap large. musl's allocator (the shipped bridge) does so itself.
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
#endif
	// Outside a pid namespace (tests, development) orphans still come to us to be reaped.
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die_errno("prctl(PR_SET_CHILD_SUBREAPER)");
	if (!(b.loop = ev_new()))
		die_errno("epoll");
	buf_init(&b.win);
	buf_init(&b.wout);

	bridge_signals_setup(&b);
	bridge_link_start(&b);
	bridge_app_start(&b);
	if (ev_run(b.loop) < 0)
		b.exit_code = 1;

	// Whatever the app answered before it went is still worth delivering.
	bridge_link_drain(&b, BRIDGE_DRAIN_MS);
	bridge_proxy_destroy_all(&b);
	bridge_link_close(&b);
	bridge_app_close(&b);
	buf_free(&b.win);
	buf_free(&b.wout);
	ev_free(b.loop);
	log_info("bridge: exiting with status %d", b.exit_code);
	return b.exit_code;
}
