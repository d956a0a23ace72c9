// SPDX-License-Identifier: MIT
// The front's side of a grain's wire: stream multiplexing, the HELLO handshake, flow control
// both ways, and one teardown when the wire dies. Bytes from the grain are untrusted: every
// frame is decoded strictly and any break of the protocol ends the wire.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grain_client.h"
#include "log.h"

#define GC_READ_CHUNK 16384
#define GC_READS_PER_WAKEUP 4
#define GC_BUF_KEEP (256 * 1024)   // larger idle buffers are given back
#define GC_FLUSH_NOW 8192          // queued bytes that are sent at once, not after the batch
#define GC_BUCKETS 64              // stream ids are sequential: id % 64 spreads them evenly

struct gc_stream {
	struct gc *gc;
	struct gc_stream *prev, *next;
	struct gc_stream *hnext;    // the next in its bucket of gc->byid
	uint32_t id;
	const struct gc_stream_cbs *cb;
	void *arg;
	struct buf queued;          // request body waiting for credit
	size_t queued_off;
	int64_t credit;             // BODY bytes we may send
	int64_t recv_avail;         // BODY bytes the grain may send before our next WINDOW
	uint32_t owed;              // bytes delivered and not yet credited back
	bool paused;
	bool end_wanted, end_sent;
	bool response_received, end_received;
	bool over;                  // reset either way, or the wire died: no more callbacks
	bool closed;                // released by its owner
};

struct gc {
	struct ev_loop *loop;
	int fd;
	unsigned events;
	gc_dead_fn *on_dead;
	void *arg;
	struct buf in, out;
	size_t out_off;
	uint32_t next_id;
	bool hello_received;
	bool dead;
	bool freed;                 // gc_free ran inside a callback: free at the end of it
	int depth;                  // callbacks running
	struct gc_stream *streams;  // not yet released by their owners
	struct gc_stream *byid[GC_BUCKETS]; // the same, by id (a frame names its stream)
	size_t nstreams;
	struct gc_stream *zombies;  // released inside a callback, freed after it
	struct ev_timer die_timer;  // a write failed outside the loop: die from the loop
	struct ev_defer flush_defer; // frames queued during a batch of events go out in one send
	char why[160];
};

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);

static void set_events(struct gc *gc)
{
	if (gc->dead)
		return;
	unsigned ev = EV_READ | (gc->out_off < gc->out.len ? EV_WRITE : 0);
	if (ev != gc->events && ev_mod(gc->loop, gc->fd, ev) == 0)
		gc->events = ev;
}

static void stream_free(struct gc_stream *s)
{
	buf_free(&s->queued);
	free(s);
}

static void real_free(struct gc *gc)
{
	ev_timer_cancel(gc->loop, &gc->die_timer);
	ev_defer_cancel(gc->loop, &gc->flush_defer);
	if (gc->fd >= 0) {
		// Best effort for what was queued last (a RESET): the grain is told, if it listens.
		if (gc->out_off < gc->out.len)
			(void)send(gc->fd, gc->out.data + gc->out_off, gc->out.len - gc->out_off,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		ev_del(gc->loop, gc->fd);
		close(gc->fd);
	}
	for (struct gc_stream *s = gc->streams, *n; s; s = n) {
		n = s->next;
		stream_free(s);
	}
	for (struct gc_stream *s = gc->zombies, *n; s; s = n) {
		n = s->next;
		stream_free(s);
	}
	buf_free(&gc->in);
	buf_free(&gc->out);
	free(gc);
}

// The end of an entry from the loop: what callbacks released can go now.
static void leave(struct gc *gc)
{
	if (--gc->depth > 0)
		return;
	for (struct gc_stream *s = gc->zombies, *n; s; s = n) {
		n = s->next;
		stream_free(s);
	}
	gc->zombies = NULL;
	if (gc->freed)
		real_free(gc);
}

// Every stream its owner still holds and that is not over hears on_reset(LOST). Each
// callback may release any stream (or free the gc), so the scan restarts every time.
static void reset_all(struct gc *gc)
{
	for (bool again = true; again;) {
		again = false;
		for (struct gc_stream *s = gc->streams; s; s = s->next) {
			if (s->over || s->closed)
				continue;
			s->over = true;
			s->cb->on_reset(s, s->arg, WIRE_RESET_LOST);
			again = true;
			break;
		}
	}
}

// The wire is over: every open stream hears on_reset(LOST), then the owner on_dead.
static void gc_die(struct gc *gc, const char *why)
{
	if (gc->dead)
		return;
	gc->dead = true;
	if (why != gc->why)
		snprintf(gc->why, sizeof(gc->why), "%s", why);
	ev_timer_cancel(gc->loop, &gc->die_timer);
	ev_defer_cancel(gc->loop, &gc->flush_defer);
	ev_del(gc->loop, gc->fd);
	close(gc->fd);
	gc->fd = -1;
	// The buffers stay until the gc is freed: a callback up the stack may hold a pointer
	// into them.
	gc->out.len = gc->out_off = 0;
	reset_all(gc);
	if (!gc->freed && gc->on_dead)
		gc->on_dead(gc, gc->arg, gc->why);
}

static void on_die_timer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct gc *gc = arg;
	gc->depth++;
	gc_die(gc, gc->why);
	leave(gc);
}

// Writes queued frames. Outside the loop's callbacks a failure is reported from a timer, so
// that no callback runs inside the owner's own call.
static void flush(struct gc *gc)
{
	if (gc->dead)
		return;
	while (gc->out_off < gc->out.len) {
		ssize_t n = send(gc->fd, gc->out.data + gc->out_off, gc->out.len - gc->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			gc->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		snprintf(gc->why, sizeof(gc->why), "writing to the grain: %s",
			 n < 0 ? strerror(errno) : "no progress");
		if (gc->depth)
			gc_die(gc, gc->why);
		else
			ev_timer_set(gc->loop, &gc->die_timer, 0, on_die_timer, gc);
		return;
	}
	if (gc->out_off == gc->out.len) {
		gc->out.len = gc->out_off = 0;
		if (gc->out.cap > GC_BUF_KEEP)
			buf_free(&gc->out);
	} else if (gc->out_off > gc->out.len / 2) {
		buf_consume(&gc->out, gc->out_off);
		gc->out_off = 0;
	}
	set_events(gc);
}

static void on_flush_defer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct gc *gc = arg;
	gc->depth++;
	if (!gc->freed)
		flush(gc);
	leave(gc);
}

// Frames queued while the loop handles a batch of events (many requests at once under load)
// leave in one send when the batch is done, not one send each.
static void flush_soon(struct gc *gc)
{
	if (gc->dead)
		return;
	if (gc->out.len - gc->out_off >= GC_FLUSH_NOW)
		flush(gc); // bulk data (an upload) goes at once
	else
		ev_defer(gc->loop, &gc->flush_defer, on_flush_defer, gc);
}

struct gc *gc_new(struct ev_loop *loop, int fd, gc_dead_fn *on_dead, void *arg)
{
	struct gc *gc = calloc(1, sizeof(*gc));
	int fl = fcntl(fd, F_GETFL);
	if (!gc || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(gc);
		close(fd);
		return NULL;
	}
	gc->loop = loop;
	gc->fd = fd;
	gc->on_dead = on_dead;
	gc->arg = arg;
	gc->next_id = 1;
	buf_init(&gc->in);
	buf_init(&gc->out);
	if (wire_put_hello(&gc->out) != WIRE_OK || ev_add(loop, fd, EV_READ, on_io, gc) < 0) {
		buf_free(&gc->out);
		free(gc);
		close(fd);
		return NULL;
	}
	gc->events = EV_READ;
	flush(gc);
	return gc;
}

void gc_free(struct gc *gc)
{
	if (!gc || gc->freed)
		return;
	gc->freed = true; // from here on nothing opens
	gc->depth++;
	reset_all(gc);
	leave(gc); // frees now, or when the callback this runs in returns
}

bool gc_alive(const struct gc *gc)
{
	return !gc->dead;
}

size_t gc_nstreams(const struct gc *gc)
{
	return gc->nstreams;
}

uint32_t gc_stream_id(const struct gc_stream *s)
{
	return s->id;
}

static bool is_websocket(const struct wire_request *r)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (wire_str_caseeq(r->headers[i].name, "Upgrade") &&
		    wire_str_caseeq(r->headers[i].value, "websocket"))
			return true;
	return false;
}

// Sends what the credit allows of the queued body, then END once asked for and all is out.
static void pump(struct gc_stream *s)
{
	struct gc *gc = s->gc;
	while (s->queued_off < s->queued.len && s->credit > 0) {
		size_t k = s->queued.len - s->queued_off;
		if (k > WIRE_BODY_CHUNK)
			k = WIRE_BODY_CHUNK;
		if ((int64_t)k > s->credit)
			k = (size_t)s->credit;
		if (wire_put_body(&gc->out, s->id, s->queued.data + s->queued_off, k) != WIRE_OK)
			return; // out of memory: retried at the next WINDOW or send
		s->queued_off += k;
		s->credit -= (int64_t)k;
	}
	if (s->queued_off == s->queued.len) {
		buf_free(&s->queued);
		s->queued_off = 0;
		if (s->end_wanted && !s->end_sent && wire_put_end(&gc->out, s->id) == WIRE_OK)
			s->end_sent = true;
	}
}

struct gc_stream *gc_open(struct gc *gc, const struct wire_request *req,
			  const struct gc_stream_cbs *cb, void *arg, enum wire_err *err)
{
	enum wire_err e = WIRE_OK; // not the request's fault: the wire is dead or full
	struct gc_stream *s = NULL;
	if (gc->dead || gc->freed || gc->nstreams >= WIRE_MAX_STREAMS || gc->next_id & WIRE_STREAM_GRAIN)
		goto fail;
	// The front strips identity headers a browser sent before they reach any frame. The
	// request is copied (4 KiB) only when it has one.
	struct wire_request r;
	const struct wire_request *out = req;
	for (size_t i = 0; i < req->nheaders && i < WIRE_MAX_HEADERS; i++) {
		if (!wire_header_reserved(req->headers[i].name))
			continue;
		r = *req;
		r.nheaders = 0;
		for (size_t j = 0; j < req->nheaders && j < WIRE_MAX_HEADERS; j++)
			if (!wire_header_reserved(req->headers[j].name))
				r.headers[r.nheaders++] = req->headers[j];
		out = &r;
		break;
	}
	e = WIRE_ERR_NOMEM;
	if (!(s = calloc(1, sizeof(*s))))
		goto fail;
	if ((e = wire_put_request(&gc->out, gc->next_id, out)) != WIRE_OK)
		goto fail;
	s->gc = gc;
	s->id = gc->next_id++;
	s->cb = cb;
	s->arg = arg;
	s->credit = WIRE_INITIAL_WINDOW;
	s->recv_avail = WIRE_INITIAL_WINDOW;
	buf_init(&s->queued);
	s->next = gc->streams;
	if (gc->streams)
		gc->streams->prev = s;
	gc->streams = s;
	s->hnext = gc->byid[s->id % GC_BUCKETS];
	gc->byid[s->id % GC_BUCKETS] = s;
	gc->nstreams++;
	if (req->content_length == 0 && !is_websocket(req)) {
		s->end_wanted = true;
		pump(s);
	}
	flush_soon(gc);
	return s;
fail:
	free(s);
	if (err)
		*err = e;
	return NULL;
}

int gc_send_body(struct gc_stream *s, const void *p, size_t n)
{
	if (s->over || s->closed || s->end_wanted || s->gc->dead)
		return -1;
	if (!n)
		return 0;
	if (buf_append(&s->queued, p, n) < 0)
		return -1;
	pump(s);
	flush_soon(s->gc);
	return 0;
}

int gc_send_end(struct gc_stream *s)
{
	if (s->over || s->closed || s->gc->dead)
		return -1;
	if (s->end_wanted)
		return 0;
	s->end_wanted = true;
	pump(s);
	flush_soon(s->gc);
	return 0;
}

size_t gc_stream_queued(const struct gc_stream *s)
{
	return s->queued.len - s->queued_off;
}

static void grant(struct gc_stream *s, bool all)
{
	if (s->paused || s->over || s->closed || !s->owed || (!all && s->owed < WIRE_INITIAL_WINDOW / 2))
		return;
	if (wire_put_window(&s->gc->out, s->id, s->owed) != WIRE_OK)
		return;
	s->recv_avail += s->owed;
	s->owed = 0;
}

void gc_stream_pause(struct gc_stream *s)
{
	s->paused = true;
}

void gc_stream_resume(struct gc_stream *s)
{
	if (!s->paused)
		return;
	s->paused = false;
	grant(s, true);
	flush_soon(s->gc);
}

void gc_stream_close(struct gc_stream *s)
{
	if (s->closed)
		return;
	struct gc *gc = s->gc;
	s->closed = true;
	bool complete = s->end_sent && s->end_received;
	if (!s->over && !complete && !gc->dead) {
		wire_put_reset(&gc->out, s->id, WIRE_RESET_CANCEL);
		flush_soon(gc);
	}
	s->over = true;
	if (s->prev)
		s->prev->next = s->next;
	else
		gc->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	for (struct gc_stream **pp = &gc->byid[s->id % GC_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	gc->nstreams--;
	if (gc->depth) {
		s->prev = NULL;
		s->next = gc->zombies;
		gc->zombies = s;
	} else {
		stream_free(s);
	}
}

// --- Frames from the grain ---

// The grain broke a stream rule: it gets a RESET, the owner on_reset.
static void stream_error(struct gc_stream *s, unsigned code, const char *why)
{
	log_warn("gc: stream %u: %s", s->id, why);
	wire_put_reset(&s->gc->out, s->id, (uint16_t)code);
	s->over = true;
	s->cb->on_reset(s, s->arg, code);
}

static void on_body(struct gc_stream *s, const struct wire_frame *f)
{
	if (!s->response_received || s->end_received) {
		stream_error(s, WIRE_RESET_PROTOCOL, "BODY outside a response");
		return;
	}
	if ((int64_t)f->len > s->recv_avail) {
		stream_error(s, WIRE_RESET_FLOW, "BODY past the window");
		return;
	}
	s->recv_avail -= (int64_t)f->len;
	s->cb->on_body(s, s->arg, f->payload, f->len);
	if (s->closed || s->over)
		return;
	s->owed += (uint32_t)f->len;
	grant(s, false);
}

static void on_window(struct gc_stream *s, uint32_t increment)
{
	if (s->credit + increment > (int64_t)WIRE_MAX_CREDIT) {
		stream_error(s, WIRE_RESET_FLOW, "WINDOW past the largest window");
		return;
	}
	bool had = gc_stream_queued(s) > 0;
	s->credit += increment;
	pump(s);
	if (had && !gc_stream_queued(s) && s->cb->on_drain)
		s->cb->on_drain(s, s->arg);
}

static void stream_frame(struct gc *gc, const struct wire_frame *f)
{
	struct gc_stream *s = gc->byid[f->stream % GC_BUCKETS];
	while (s && s->id != f->stream)
		s = s->hnext;
	if (!s) {
		if (f->stream >= gc->next_id)
			gc_die(gc, "the grain used a stream the front never opened");
		return; // a late frame for a stream already released
	}
	if (s->over)
		return;
	switch (f->type) {
	case WIRE_RESPONSE: {
		struct wire_response r;
		enum wire_err e = wire_decode_response(f->payload, f->len, &r);
		if (s->response_received || e) {
			char why[96];
			snprintf(why, sizeof(why), "bad RESPONSE: %s",
				 e ? wire_strerror(e) : "a second one");
			stream_error(s, WIRE_RESET_PROTOCOL, why);
			return;
		}
		s->response_received = true;
		s->cb->on_response(s, s->arg, &r);
		return;
	}
	case WIRE_BODY:
		on_body(s, f);
		return;
	case WIRE_END:
		if (!s->response_received || s->end_received) {
			stream_error(s, WIRE_RESET_PROTOCOL, "END outside a response");
			return;
		}
		s->end_received = true;
		s->cb->on_end(s, s->arg);
		return;
	case WIRE_RESET:
		s->over = true;
		s->cb->on_reset(s, s->arg, f->code);
		return;
	case WIRE_WINDOW:
		on_window(s, f->increment);
		return;
	default:
		return;
	}
}

static void handle_frame(struct gc *gc, const struct wire_frame *f)
{
	if (!gc->hello_received) {
		if (f->type != WIRE_HELLO)
			gc_die(gc, "the grain's first frame is not HELLO");
		gc->hello_received = true;
		return;
	}
	if (f->type == WIRE_HELLO || f->type == WIRE_REQUEST) {
		char why[64];
		snprintf(why, sizeof(why), "unexpected %s from the grain", wire_type_name(f->type));
		gc_die(gc, why);
		return;
	}
	stream_frame(gc, f);
}

static void process_input(struct gc *gc)
{
	size_t off = 0;
	while (!gc->dead && !gc->freed) {
		struct wire_frame f;
		size_t used;
		enum wire_err e = wire_decode_frame(gc->in.data + off, gc->in.len - off, &f, &used);
		if (e == WIRE_INCOMPLETE)
			break;
		if (e) {
			char why[96];
			snprintf(why, sizeof(why), "bad frame from the grain: %s", wire_strerror(e));
			gc_die(gc, why);
			return;
		}
		off += used;
		handle_frame(gc, &f);
	}
	if (gc->dead || gc->freed)
		return;
	buf_consume(&gc->in, off);
	if (!gc->in.len && gc->in.cap > GC_BUF_KEEP)
		buf_free(&gc->in);
}

static void read_in(struct gc *gc)
{
	for (int i = 0; i < GC_READS_PER_WAKEUP && !gc->dead && !gc->freed; i++) {
		if (buf_reserve(&gc->in, GC_READ_CHUNK) < 0) {
			gc_die(gc, "out of memory");
			return;
		}
		ssize_t n = read(gc->fd, gc->in.data + gc->in.len, GC_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			char why[96];
			snprintf(why, sizeof(why), "the grain closed the wire%s%s", n ? ": " : "",
				 n ? strerror(errno) : "");
			gc_die(gc, why);
			return;
		}
		gc->in.len += (size_t)n;
		process_input(gc);
		if ((size_t)n < GC_READ_CHUNK)
			return;
	}
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	struct gc *gc = arg;
	gc->depth++;
	if (events & EV_READ)
		read_in(gc);
	if (!gc->freed)
		flush(gc);
	leave(gc);
}

// --- A synchronous exchange ---

struct fetch {
	struct gc_result *res;
	struct ev_loop *loop;
	bool done;
};

static void fetch_response(struct gc_stream *s, void *arg, const struct wire_response *r)
{
	(void)s;
	struct fetch *f = arg;
	f->res->status = r->status;
	for (size_t i = 0; i < r->nheaders; i++) {
		buf_append(&f->res->headers, r->headers[i].name.p, r->headers[i].name.len);
		buf_puts(&f->res->headers, ": ");
		buf_append(&f->res->headers, r->headers[i].value.p, r->headers[i].value.len);
		buf_putc(&f->res->headers, '\n');
	}
}

static void fetch_body(struct gc_stream *s, void *arg, const char *p, size_t n)
{
	(void)s;
	struct fetch *f = arg;
	buf_append(&f->res->body, p, n);
}

static void fetch_end(struct gc_stream *s, void *arg)
{
	(void)s;
	struct fetch *f = arg;
	f->done = true;
	ev_stop(f->loop);
}

static void fetch_reset(struct gc_stream *s, void *arg, unsigned code)
{
	(void)s;
	struct fetch *f = arg;
	f->res->reset = code ? code : WIRE_RESET_INTERNAL;
	ev_stop(f->loop);
}

static void fetch_timeout(struct ev_loop *loop, void *arg)
{
	(void)arg;
	ev_stop(loop);
}

int gc_fetch(int fd, const struct wire_request *req, const void *body, size_t n, int timeout_ms,
	     struct gc_result *res)
{
	static const struct gc_stream_cbs cbs = {
		.on_response = fetch_response,
		.on_body = fetch_body,
		.on_end = fetch_end,
		.on_reset = fetch_reset,
	};
	memset(res, 0, sizeof(*res));
	buf_init(&res->headers);
	buf_init(&res->body);
	struct fetch f = {.res = res, .loop = ev_new()};
	int wfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (!f.loop || wfd < 0) {
		if (wfd >= 0)
			close(wfd);
		ev_free(f.loop);
		return -1;
	}
	struct gc *gc = gc_new(f.loop, wfd, NULL, NULL);
	struct gc_stream *s = gc ? gc_open(gc, req, &cbs, &f, NULL) : NULL;
	struct ev_timer t = {0};
	if (s) {
		if (n)
			gc_send_body(s, body, n);
		gc_send_end(s);
		ev_timer_set(f.loop, &t, timeout_ms, fetch_timeout, NULL);
		ev_run(f.loop);
		ev_timer_cancel(f.loop, &t);
	}
	gc_free(gc);
	ev_free(f.loop);
	return f.done && !res->headers.oom && !res->body.oom ? 0 : -1;
}

void gc_result_free(struct gc_result *res)
{
	buf_free(&res->headers);
	buf_free(&res->body);
}
