// SPDX-License-Identifier: MIT
// libFuzzer target for grain_client.c: the front's side of a grain's wire fed arbitrary
// bytes as a hostile grain would send them (after a valid HELLO), with three streams open,
// one of them still sending a request body. Checks that callbacks keep their promises (no
// callback after on_reset, one on_end at most) and that the gc always notices the end.
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grain_client.h"
#include "log.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The protocol warnings would flood the fuzzer's output: this target logs nothing.
void log_msg(const char *level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

struct st {
	struct gc_stream *s;
	bool response, ended, reset;
};

static struct st streams[3];
static bool dead;

static void on_response(struct gc_stream *s, void *arg, const struct wire_response *r)
{
	struct st *t = arg;
	if (t->reset || t->response || t->ended || r->status < 101 || r->status > 599)
		abort();
	t->response = true;
	if (r->status & 1)
		gc_stream_pause(s);
}

static void on_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	struct st *t = arg;
	if (t->reset || !t->response || t->ended || !n || (n && !p))
		abort();
	if (n % 3 == 0)
		gc_stream_resume(s);
	if (n % 5 == 0)
		gc_send_body(s, p, n); // echo, as a WebSocket proxy would
}

static void on_end(struct gc_stream *s, void *arg)
{
	struct st *t = arg;
	if (t->reset || !t->response || t->ended)
		abort();
	t->ended = true;
	gc_stream_close(s);
	t->s = NULL;
}

static void on_reset(struct gc_stream *s, void *arg, unsigned code)
{
	(void)code;
	struct st *t = arg;
	if (t->reset || t->ended)
		abort();
	t->reset = true;
	gc_stream_close(s);
	t->s = NULL;
}

static void on_dead(struct gc *gc, void *arg, const char *why)
{
	(void)gc;
	struct ev_loop *loop = arg;
	if (dead || !why || !*why)
		abort();
	dead = true;
	ev_stop(loop);
}

static void on_timeout(struct ev_loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	abort(); // the gc read everything and an EOF, and did not notice
}

static const struct gc_stream_cbs cbs = {
	.on_response = on_response, .on_body = on_body, .on_end = on_end, .on_reset = on_reset,
};

static void open_streams(struct gc *gc)
{
	static struct wire_request r;
	static char body[100000];
	memset(&r, 0, sizeof(r));
	r.method = wire_s("GET");
	r.path = wire_s("/");
	streams[0].s = gc_open(gc, &r, &cbs, &streams[0], NULL);
	r.method = wire_s("POST");
	r.content_length = sizeof(body);
	streams[1].s = gc_open(gc, &r, &cbs, &streams[1], NULL);
	if (streams[1].s)
		gc_send_body(streams[1].s, body, sizeof(body));
	r.method = wire_s("GET");
	r.content_length = 0;
	r.headers[0] = (struct wire_header){wire_s("Upgrade"), wire_s("websocket")};
	r.nheaders = 1;
	streams[2].s = gc_open(gc, &r, &cbs, &streams[2], NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	int sz = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(streams, 0, sizeof(streams));
	dead = false;
	struct ev_loop *loop = ev_new();
	struct gc *gc = gc_new(loop, sv[0], on_dead, loop);
	if (!loop || !gc)
		abort();
	open_streams(gc);
	static const char hello[] = {0, 0, 0, 9, 0, 0, 0, 0, WIRE_HELLO, 0, WIRE_VERSION, 0, 0};
	if (write(sv[1], hello, sizeof(hello)) != (ssize_t)sizeof(hello) ||
	    (size && write(sv[1], data, size) != (ssize_t)size))
		abort();
	shutdown(sv[1], SHUT_WR);
	struct ev_timer t = {0};
	ev_timer_set(loop, &t, 3000, on_timeout, NULL);
	ev_run(loop);
	ev_timer_cancel(loop, &t);
	if (!dead)
		abort();
	for (int i = 0; i < 3; i++)
		if (streams[i].s && !streams[i].reset)
			abort(); // the wire died: every stream still held heard on_reset
	if (gc_alive(gc))
		abort();
	for (int i = 0; i < 3; i++)
		if (streams[i].s)
			gc_stream_close(streams[i].s);
	if (gc_nstreams(gc))
		abort();
	gc_free(gc);
	ev_free(loop);
	close(sv[1]);
	return 0;
}
