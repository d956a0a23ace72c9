// SPDX-License-Identifier: MIT
// Unit tests for grain_client.c against a scripted fake grain on a socketpair: the HELLO
// handshake and version check, what goes out for a request, flow control both ways, pause
// and resume, cancelling, and every way a hostile grain can break the protocol.
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "grain_client.h"
#include "test.h"
#include "wire.h"

#define STEP_MS 15

// What one stream's callbacks saw.
struct rec {
	struct gc_stream *s;
	int status;
	size_t nbody;
	int ends;
	int resets;
	unsigned code;
	int drains;
	bool close_in_cb;   // release the stream inside on_reset / on_end
	bool free_in_cb;    // gc_free inside on_body
};

// One scripted case: the fake grain's end of the wire, and what came back.
struct tc {
	struct ev_loop *loop;
	struct gc *gc;
	int peer;
	struct buf in;          // what the gc wrote, not yet looked at
	struct ev_timer t;
	void (*const *steps)(struct tc *);
	size_t step;
	bool dead;
	char why[160];
	struct rec r[4];
	// Frames the gc sent, by type, since the last peer_read.
	int n_hello, n_request, n_body, n_end, n_reset, n_window;
	size_t body_bytes;
	uint32_t window_sum;
	unsigned last_reset;
	struct wire_request req;   // the last REQUEST, decoded (points into req_copy)
	char *req_copy;
};

static struct tc T;

static void peer_write(struct buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(T.peer, b->data + off, b->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf_reset(b);
}

static void peer_hello(void)
{
	struct buf b;
	buf_init(&b);
	wire_put_hello(&b);
	peer_write(&b);
	buf_free(&b);
}

// Reads and counts every frame the gc has sent since the last call.
static void peer_read(void)
{
	T.n_hello = T.n_request = T.n_body = T.n_end = T.n_reset = T.n_window = 0;
	T.body_bytes = 0;
	T.window_sum = 0;
	for (;;) {
		buf_reserve(&T.in, 65536);
		ssize_t n = recv(T.peer, T.in.data + T.in.len, 65536, MSG_DONTWAIT);
		if (n <= 0)
			break;
		T.in.len += (size_t)n;
	}
	size_t off = 0, used;
	struct wire_frame f;
	while (wire_decode_frame(T.in.data + off, T.in.len - off, &f, &used) == WIRE_OK) {
		off += used;
		switch (f.type) {
		case WIRE_HELLO: T.n_hello++; break;
		case WIRE_REQUEST:
			T.n_request++;
			free(T.req_copy);
			T.req_copy = malloc(f.len + 1);
			memcpy(T.req_copy, f.payload, f.len);
			wire_decode_request(T.req_copy, f.len, &T.req);
			break;
		case WIRE_BODY: T.n_body++; T.body_bytes += f.len; break;
		case WIRE_END: T.n_end++; break;
		case WIRE_RESET: T.n_reset++; T.last_reset = f.code; break;
		case WIRE_WINDOW: T.n_window++; T.window_sum += f.increment; break;
		default: break;
		}
	}
	buf_consume(&T.in, off);
}

static void on_response(struct gc_stream *s, void *arg, const struct wire_response *r)
{
	(void)s;
	((struct rec *)arg)->status = r->status;
}

static void on_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	(void)s;
	(void)p;
	struct rec *r = arg;
	r->nbody += n;
	if (r->free_in_cb) {
		gc_free(T.gc);
		T.gc = NULL;
	}
}

static void on_end(struct gc_stream *s, void *arg)
{
	struct rec *r = arg;
	r->ends++;
	if (r->close_in_cb) {
		gc_stream_close(s);
		r->s = NULL;
	}
}

static void on_reset(struct gc_stream *s, void *arg, unsigned code)
{
	struct rec *r = arg;
	r->resets++;
	r->code = code;
	if (r->close_in_cb) {
		gc_stream_close(s);
		r->s = NULL;
	}
}

static void on_drain(struct gc_stream *s, void *arg)
{
	(void)s;
	((struct rec *)arg)->drains++;
}

static const struct gc_stream_cbs cbs = {
	.on_response = on_response, .on_body = on_body, .on_end = on_end, .on_reset = on_reset,
	.on_drain = on_drain,
};

static void on_dead(struct gc *gc, void *arg, const char *why)
{
	(void)gc;
	(void)arg;
	T.dead = true;
	snprintf(T.why, sizeof(T.why), "%s", why);
}

static void on_step(struct ev_loop *loop, void *arg)
{
	(void)arg;
	void (*fn)(struct tc *) = T.steps[T.step];
	if (!fn) {
		ev_stop(loop);
		return;
	}
	T.step++;
	fn(&T);
	ev_timer_set(loop, &T.t, STEP_MS, on_step, NULL);
}

// Runs the steps STEP_MS apart (the gc works in between), on a fresh wire.
static void run_case(void (*const *steps)(struct tc *))
{
	free(T.req_copy);
	buf_free(&T.in);
	memset(&T, 0, sizeof(T));
	buf_init(&T.in);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	T.peer = sv[1];
	T.loop = ev_new();
	T.gc = gc_new(T.loop, sv[0], on_dead, NULL);
	T.steps = steps;
	ev_timer_set(T.loop, &T.t, 0, on_step, NULL);
	ev_run(T.loop);
	ev_timer_cancel(T.loop, &T.t);
	gc_free(T.gc);
	ev_free(T.loop);
	close(T.peer);
}

static struct wire_request R;

static void get_request(int64_t clen)
{
	memset(&R, 0, sizeof(R));
	R.method = wire_s("GET");
	R.path = wire_s("/x");
	R.content_length = clen;
	R.user_id = wire_s("0123456789abcdef0123456789abcdef");
}

static void open_stream(int i, int64_t clen)
{
	get_request(clen);
	T.r[i].s = gc_open(T.gc, &R, &cbs, &T.r[i], NULL);
}

static void send_frames(void (*fill)(struct buf *b))
{
	struct buf b;
	buf_init(&b);
	fill(&b);
	peer_write(&b);
	buf_free(&b);
}

static void fill_response(struct buf *b, uint32_t stream, int status)
{
	struct wire_response r = {.status = status, .content_length = -1};
	wire_put_response(b, stream, &r);
}

// --- Case: a request goes out as it should ---

static void s_open_with_headers(struct tc *t)
{
	get_request(0);
	R.headers[0] = (struct wire_header){wire_s("Accept"), wire_s("*/*")};
	R.headers[1] = (struct wire_header){wire_s("X-Sandstorm-User-Id"), wire_s("evil")};
	R.headers[2] = (struct wire_header){wire_s("x-sandstorm-permissions"), wire_s("admin")};
	R.headers[3] = (struct wire_header){wire_s("X-Sandstorm-App-Theme"), wire_s("dark")};
	R.nheaders = 4;
	t->r[0].s = gc_open(t->gc, &R, &cbs, &t->r[0], NULL);
	CHECK(t->r[0].s && gc_stream_id(t->r[0].s) == 1, "gc: the first stream is 1");
	enum wire_err err = WIRE_OK;
	R.headers[0].value = wire_s("a\r\nInjected: 1");
	CHECK(!gc_open(t->gc, &R, &cbs, &t->r[1], &err) && err == WIRE_ERR_VALUE,
	      "gc: a request with CRLF in a header value is refused: %s", wire_strerror(err));
	get_request(0);
	R.path = wire_s("relative");
	CHECK(!gc_open(t->gc, &R, &cbs, &t->r[1], &err) && err == WIRE_ERR_VALUE,
	      "gc: a relative path is refused");
	get_request(0);
	R.headers[0] = (struct wire_header){wire_s("Upgrade"), wire_s("websocket")};
	R.nheaders = 1;
	t->r[1].s = gc_open(t->gc, &R, &cbs, &t->r[1], NULL);
	CHECK(t->r[1].s && gc_stream_id(t->r[1].s) == 2, "gc: failed opens use no stream id");
}

static void s_check_sent(struct tc *t)
{
	peer_read();
	CHECK(t->n_hello == 1, "gc: says HELLO");
	CHECK(t->n_request == 2, "gc: two REQUESTs went out");
	CHECK(t->n_end == 1, "gc: END follows a bodiless request, but not a WebSocket upgrade");
	// T.req is the last one (the upgrade); check the first by reopening? Instead: headers of
	// the upgrade stay, and the first request's were checked below.
	CHECK(t->req.nheaders == 1 && wire_str_eq(t->req.headers[0].name, "Upgrade"),
	      "gc: the upgrade's headers");
}

static void s_open_stripped(struct tc *t)
{
	get_request(0);
	R.headers[0] = (struct wire_header){wire_s("X-Sandstorm-Tab-Id"), wire_s("evil")};
	R.headers[1] = (struct wire_header){wire_s("Cookie"), wire_s("a=b")};
	R.headers[2] = (struct wire_header){wire_s("X-SANDSTORM-USERNAME"), wire_s("Mallory")};
	R.headers[3] = (struct wire_header){wire_s("X-Sandstorm-App-Foo"), wire_s("ok")};
	R.nheaders = 4;
	t->r[2].s = gc_open(t->gc, &R, &cbs, &t->r[2], NULL);
}

static void s_check_stripped(struct tc *t)
{
	peer_read();
	CHECK(t->n_request == 1 && t->req.nheaders == 2 && wire_str_eq(t->req.headers[0].name, "Cookie") &&
	      wire_str_eq(t->req.headers[1].name, "X-Sandstorm-App-Foo"),
	      "gc: X-Sandstorm-* headers are stripped before framing, X-Sandstorm-App-* kept");
}

static void (*const case_request[])(struct tc *) = {
	s_open_with_headers, s_check_sent, s_open_stripped, s_check_stripped, NULL,
};

// --- Case: request body flow control ---

static char big[200000];

static void s_body_open(struct tc *t)
{
	peer_hello();
	open_stream(0, sizeof(big));
	CHECK(gc_send_body(t->r[0].s, big, sizeof(big)) == 0 && gc_send_end(t->r[0].s) == 0,
	      "gc: 200000 body bytes queued");
}

static void s_body_window1(struct tc *t)
{
	peer_read();
	CHECK(t->body_bytes == WIRE_INITIAL_WINDOW && t->n_end == 0,
	      "gc: only one window of body goes out before credit (%zu)", t->body_bytes);
	CHECK(gc_stream_queued(t->r[0].s) == sizeof(big) - WIRE_INITIAL_WINDOW, "gc: the rest stays queued");
	struct buf b;
	buf_init(&b);
	wire_put_window(&b, 1, 100000);
	peer_write(&b);
	buf_free(&b);
}

static void s_body_window2(struct tc *t)
{
	peer_read();
	CHECK(t->body_bytes == 100000 && t->n_end == 0 && t->r[0].drains == 0,
	      "gc: a WINDOW of 100000 lets exactly that much out");
	struct buf b;
	buf_init(&b);
	wire_put_window(&b, 1, 50000);
	peer_write(&b);
	buf_free(&b);
}

static void s_body_done(struct tc *t)
{
	peer_read();
	CHECK(t->body_bytes == sizeof(big) - WIRE_INITIAL_WINDOW - 100000 && t->n_end == 1,
	      "gc: the last bytes and END go out with enough credit");
	CHECK(t->r[0].drains == 1 && gc_stream_queued(t->r[0].s) == 0,
	      "gc: on_drain once the queue is empty");
	CHECK(gc_send_body(t->r[0].s, "x", 1) < 0, "gc: no body after END");
}

static void (*const case_body[])(struct tc *) = {
	s_body_open, s_body_window1, s_body_window2, s_body_done, NULL,
};

// --- Case: response flow control, pause and resume ---

static void fill_body_only(struct buf *b)
{
	for (int i = 0; i < 4; i++)
		wire_put_body(b, 1, big, 10000);
}

static void fill_resp_body(struct buf *b)
{
	fill_response(b, 1, 200);
	for (int i = 0; i < 4; i++)
		wire_put_body(b, 1, big, 10000);
}

static void s_resp_open(struct tc *t)
{
	peer_hello();
	open_stream(0, 0);
	send_frames(fill_resp_body);
	(void)t;
}

static void s_resp_granted(struct tc *t)
{
	peer_read();
	CHECK(t->r[0].status == 200 && t->r[0].nbody == 40000, "gc: a response and 40000 body bytes arrive");
	CHECK(t->n_window == 1 && t->window_sum == 40000, "gc: credit goes back after half a window");
	gc_stream_pause(t->r[0].s);
	send_frames(fill_body_only);
}

static void s_resp_paused(struct tc *t)
{
	peer_read();
	CHECK(t->n_window == 0, "gc: a paused stream gives no credit");
	gc_stream_resume(t->r[0].s);
}

static void s_resp_resumed(struct tc *t)
{
	peer_read();
	CHECK(t->n_window == 1 && t->window_sum == 40000 && t->r[0].nbody == 80000,
	      "gc: resuming gives back the credit held while paused");
	// Paused again, the grain sends 80000 bytes into a window of 65536.
	gc_stream_pause(t->r[0].s);
	send_frames(fill_body_only);
	send_frames(fill_body_only);
}

static void s_resp_flow(struct tc *t)
{
	peer_read();
	CHECK(t->r[0].nbody == 140000 && t->r[0].resets == 1 && t->r[0].code == WIRE_RESET_FLOW &&
	      t->n_reset == 1 &&
	      t->last_reset == WIRE_RESET_FLOW,
	      "gc: BODY past the window: on_reset(FLOW) and a RESET to the grain");
}

static void (*const case_flow[])(struct tc *) = {
	s_resp_open, s_resp_granted, s_resp_paused, s_resp_resumed, s_resp_flow, NULL,
};

// --- Case: hostile grains ---

// Framed well, but a header value holding CR LF: status 200, no length, X: "a\r\nb".
static void fill_bad_response(struct buf *b)
{
	static const char frame[] = {
		0, 0, 0, 26, 0, 0, 0, 1, WIRE_RESPONSE,
		0, (char)200, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 0, 1, 'X', 0, 4, 'a', '\r', '\n', 'b',
	};
	buf_append(b, frame, sizeof(frame));
}

static void fill_body_first(struct buf *b)
{
	wire_put_body(b, 2, "x", 1);
}

static void fill_end_first(struct buf *b)
{
	wire_put_end(b, 3);
}

static void s_hostile_open(struct tc *t)
{
	peer_hello();
	for (int i = 0; i < 3; i++)
		open_stream(i, 0);
	t->r[0].close_in_cb = true;
	send_frames(fill_bad_response);
	send_frames(fill_body_first);
	send_frames(fill_end_first);
}

static void s_hostile_check(struct tc *t)
{
	peer_read();
	CHECK(t->r[0].resets == 1 && t->r[0].code == WIRE_RESET_PROTOCOL && t->r[0].status == 0,
	      "gc: a RESPONSE with CRLF in a header: on_reset(PROTOCOL), no on_response");
	CHECK(t->r[1].resets == 1 && t->r[1].code == WIRE_RESET_PROTOCOL,
	      "gc: BODY before RESPONSE: on_reset(PROTOCOL)");
	CHECK(t->r[2].resets == 1 && t->r[2].ends == 0, "gc: END before RESPONSE: on_reset(PROTOCOL)");
	CHECK(t->n_reset == 3 && !t->dead, "gc: each gets a RESET, the wire lives on");
}

static void fill_unknown_stream(struct buf *b)
{
	wire_put_end(b, 40);
}

static void s_hostile_unknown(struct tc *t)
{
	send_frames(fill_unknown_stream);
	(void)t;
}

static void s_hostile_dead(struct tc *t)
{
	CHECK(t->dead && strstr(t->why, "never opened"),
	      "gc: a frame for a stream never opened kills the wire (%s)",
	      t->why);
	CHECK(t->r[1].resets == 1 && t->r[2].resets == 1, "gc: streams already reset hear nothing more");
	enum wire_err err = WIRE_ERR_VALUE;
	CHECK(!gc_alive(t->gc) && !gc_open(t->gc, &R, &cbs, &t->r[3], &err) && err == WIRE_OK,
	      "gc: a dead wire opens no stream (err WIRE_OK: 503)");
	gc_stream_close(t->r[1].s);
	gc_stream_close(t->r[2].s);
	CHECK(gc_nstreams(t->gc) == 0, "gc: every stream released");
}

static void (*const case_hostile[])(struct tc *) = {
	s_hostile_open, s_hostile_check, s_hostile_unknown, s_hostile_dead, NULL,
};

// --- Case: version and first frame ---

static void s_v2(struct tc *t)
{
	static const char hello2[] = {0, 0, 0, 9, 0, 0, 0, 0, 1, 0, 2, 0, 0};
	open_stream(0, 0);
	t->r[0].close_in_cb = true;
	ssize_t n = write(t->peer, hello2, sizeof(hello2));
	(void)n;
}

static void s_v2_check(struct tc *t)
{
	CHECK(t->dead && strstr(t->why, "unsupported wire version"),
	      "gc: a grain of wire version 2 is refused (%s)",
	      t->why);
	CHECK(t->r[0].resets == 1 && t->r[0].code == WIRE_RESET_LOST && !t->r[0].s,
	      "gc: open streams hear on_reset(LOST) and may close inside it");
}

static void (*const case_version[])(struct tc *) = {s_v2, s_v2_check, NULL};

static void fill_end1(struct buf *b)
{
	wire_put_end(b, 1);
}

static void s_nohello(struct tc *t)
{
	open_stream(0, 0);
	send_frames(fill_end1);
	(void)t;
}

static void s_nohello_check(struct tc *t)
{
	CHECK(t->dead && strstr(t->why, "not HELLO"), "gc: a first frame other than HELLO kills the wire");
	CHECK(t->r[0].resets == 1 && t->r[0].code == WIRE_RESET_LOST, "gc: and resets the open stream");
	gc_stream_close(t->r[0].s);
}

static void (*const case_nohello[])(struct tc *) = {s_nohello, s_nohello_check, NULL};

// --- Case: completion, cancel, the grain hanging up, gc_free inside a callback ---

static void fill_complete(struct buf *b)
{
	fill_response(b, 1, 204);
	wire_put_end(b, 1);
	fill_response(b, 2, 200);
	wire_put_body(b, 2, "abc", 3);
}

static void s_done_open(struct tc *t)
{
	(void)t;
	peer_hello();
	open_stream(0, 0);
	open_stream(1, 0);
	open_stream(2, 0);
	send_frames(fill_complete);
}

static void s_done_check(struct tc *t)
{
	peer_read();
	CHECK(t->r[0].status == 204 && t->r[0].ends == 1, "gc: a complete exchange ends");
	gc_stream_close(t->r[0].s); // complete both ways: no RESET
	gc_stream_close(t->r[1].s); // mid-body: RESET CANCEL
}

// Frames queued outside the loop's I/O go out when the batch is done: read them a step later.
static void s_done_reset(struct tc *t)
{
	peer_read();
	CHECK(t->n_reset == 1 && t->last_reset == WIRE_RESET_CANCEL,
	      "gc: closing a finished stream sends nothing, an unfinished one RESET(CANCEL)");
	CHECK(gc_nstreams(t->gc) == 1, "gc: two streams released");
	close(t->peer); // the grain goes away
	t->peer = open("/dev/null", O_RDWR | O_CLOEXEC);
}

static void s_done_dead(struct tc *t)
{
	CHECK(t->dead && strstr(t->why, "closed the wire"), "gc: the grain hanging up kills the wire");
	CHECK(t->r[2].resets == 1 && t->r[2].code == WIRE_RESET_LOST,
	      "gc: the open stream hears on_reset(LOST)");
}

static void (*const case_done[])(struct tc *) = {s_done_open, s_done_check, s_done_reset, s_done_dead,
						  NULL};

static void fill_two_bodies(struct buf *b)
{
	fill_response(b, 1, 200);
	wire_put_body(b, 1, "abc", 3);
	wire_put_body(b, 1, "def", 3);
	wire_put_end(b, 1);
}

static void s_free_open(struct tc *t)
{
	peer_hello();
	open_stream(0, 0);
	t->r[0].free_in_cb = true;
	send_frames(fill_two_bodies);
}

static void s_free_check(struct tc *t)
{
	CHECK(!t->gc && t->r[0].nbody == 3 && t->r[0].ends == 0 && t->r[0].resets == 1 &&
	      t->r[0].code == WIRE_RESET_LOST,
	      "gc: gc_free inside on_body: on_reset(LOST), then nothing more, nothing touched after (ASan)");
}

static void s_free_open2(struct tc *t)
{
	peer_hello();
	open_stream(0, 0);
	open_stream(1, 0);
	t->r[1].close_in_cb = true;
	gc_free(t->gc);
	t->gc = NULL;
	CHECK(t->r[0].resets == 1 && t->r[0].code == WIRE_RESET_LOST && t->r[1].resets == 1 && !t->r[1].s &&
	      !t->dead, "gc: gc_free resets the streams still open (LOST), no on_dead");
}

static void (*const case_free[])(struct tc *) = {s_free_open, s_free_check, NULL};
static void (*const case_free2[])(struct tc *) = {s_free_open2, NULL};

// --- Case: the stream cap ---

static void s_cap(struct tc *t)
{
	static struct gc_stream *all[WIRE_MAX_STREAMS];
	static struct rec r;
	get_request(0);
	size_t n = 0;
	while (n < WIRE_MAX_STREAMS && (all[n] = gc_open(t->gc, &R, &cbs, &r, NULL)))
		n++;
	enum wire_err err = WIRE_ERR_VALUE;
	CHECK(n == WIRE_MAX_STREAMS && !gc_open(t->gc, &R, &cbs, &r, &err) && err == WIRE_OK,
	      "gc: %d streams open, one more is refused (err WIRE_OK: 503)", WIRE_MAX_STREAMS);
	gc_stream_close(all[0]);
	struct gc_stream *again = gc_open(t->gc, &R, &cbs, &r, NULL);
	CHECK(again && gc_stream_id(again) == WIRE_MAX_STREAMS + 1, "gc: a released stream makes room");
}

static void (*const case_cap[])(struct tc *) = {s_cap, NULL};

int main(void)
{
	run_case(case_request);
	run_case(case_body);
	run_case(case_flow);
	run_case(case_hostile);
	run_case(case_version);
	run_case(case_nohello);
	run_case(case_done);
	run_case(case_free);
	run_case(case_free2);
	run_case(case_cap);
	free(T.req_copy);
	buf_free(&T.in);
	return test_done();
}
