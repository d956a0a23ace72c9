// SPDX-License-Identifier: MIT
// silo-bridge's streams: each REQUEST becomes a canonical HTTP/1.1 request (identity headers
// added) on a connection to the app, a kept-alive one from the pool when there is one; the
// app's response is parsed strictly and framed back as RESPONSE, BODY and END. After a 101
// the stream is a byte pipe both ways. Flow control: BODY we send spends the front's credit,
// and we only read the app while there is credit and the wire is not congested.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

enum phase {
	P_QUEUED,      // waiting for the app to listen
	P_CONNECTING,
	P_HEAD,        // connected: request going out, response head coming in
	P_BODY,        // response head sent to the front; body (or upgraded bytes) flowing
	P_DONE,        // END or an error went to the front; waiting for the front's END
};

struct bstream {
	struct bridge *b;
	struct bstream *prev, *next;
	struct bstream *hnext;      // the next in its bucket of b->byid
	uint32_t id;
	struct bconn *conn;         // the connection to the app, NULL when none
	enum phase phase;
	bool head_request;
	bool upgrade;               // a WebSocket upgrade was asked for
	bool reused;                // conn came from the pool
	bool retried;               // already sent again on a fresh connection once
	bool replay;                // to_app keeps the whole request for that retry
	bool got_bytes;             // the app sent something on conn
	bool keep_alive;            // the response so far allows conn to be reused
	int64_t wait_since;         // when a new conn was opened (waiting for its first byte)

	// Front -> app.
	struct buf to_app;          // request head, then body bytes, not yet written
	size_t to_app_off;
	int64_t req_left;           // body bytes still due (-1: unknown, sent chunked)
	bool front_end;             // the front sent END
	bool app_wr_closed;         // nothing more goes to the app (shut down, or it stopped reading)
	uint32_t owed;              // BODY bytes received since our last WINDOW
	int64_t recv_avail;         // bytes the front may still send without more credit

	// App -> front.
	struct buf head;            // the response head while incomplete
	enum http_body_kind kind;
	uint64_t resp_left;         // HTTP_BODY_LENGTH: bytes still to read
	struct http_dechunk dechunk;
	int64_t credit;             // BODY bytes we may still send
	bool response_sent, end_sent, app_eof;
};

// One read from an app at a time lands here before it is framed.
static char scratch[BRIDGE_READ_CHUNK];

// musl's allocator gives a page back as soon as its last object is freed, so buffers made
// and freed for every request cost an mmap and a munmap each: finished streams leave their
// buffers here for the next ones, and their structs too. Sized for a browser's burst or a
// load test's 64 streams at once; small buffers only, so that idle bridges stay small.
#define SPARE_MAX 64
#define SPARE_CAP_MAX (8 * 1024)
static struct buf spares[SPARE_MAX];
static size_t nspares;

static void buf_release(struct buf *b)
{
	if (b->data && !b->oom && !b->max && b->cap <= SPARE_CAP_MAX && nspares < SPARE_MAX) {
		b->len = 0;
		spares[nspares++] = *b;
		buf_init(b);
		return;
	}
	buf_free(b);
}

static void buf_acquire(struct buf *b)
{
	if (nspares)
		*b = spares[--nspares];
	else
		buf_init(b);
}

static struct bstream *spare_streams; // linked through next
static size_t nspare_streams;

static struct bstream *stream_new(void)
{
	struct bstream *s = spare_streams;
	if (!s)
		return calloc(1, sizeof(*s));
	spare_streams = s->next;
	nspare_streams--;
	memset(s, 0, sizeof(*s));
	return s;
}

static void stream_free(struct bstream *s)
{
	if (nspare_streams >= SPARE_MAX) {
		free(s);
		return;
	}
	s->next = spare_streams;
	spare_streams = s;
	nspare_streams++;
}

// Request headers the bridge writes itself, or that only make sense hop by hop.
static const struct wire_name dropped_headers[] = {
	WIRE_NAME("Host"), WIRE_NAME("Content-Length"), WIRE_NAME("Transfer-Encoding"),
	WIRE_NAME("Connection"), WIRE_NAME("Keep-Alive"), WIRE_NAME("TE"),
	WIRE_NAME("Trailer"), WIRE_NAME("Expect"), WIRE_NAME("Upgrade"),
	WIRE_NAME("Proxy-Connection"), WIRE_NAME("HTTP2-Settings"),
	WIRE_NAME("X-Forwarded-Proto"),
};

// Response headers whose meaning the frames carry instead.
static const struct wire_name hop_headers[] = {
	WIRE_NAME("Connection"), WIRE_NAME("Keep-Alive"), WIRE_NAME("Transfer-Encoding"),
	WIRE_NAME("TE"), WIRE_NAME("Trailer"), WIRE_NAME("Proxy-Connection"),
	WIRE_NAME("Content-Length"),
};

static void destroy(struct bstream *s);

struct bstream *bridge_proxy_find(struct bridge *b, uint32_t id)
{
	for (struct bstream *s = b->byid[id % BRIDGE_BUCKETS]; s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static void update_events(struct bstream *s)
{
	if (!s->conn)
		return;
	unsigned ev = 0;
	if (s->phase == P_CONNECTING) {
		ev = EV_WRITE;
	} else if (s->phase == P_HEAD || s->phase == P_BODY) {
		if (!s->app_wr_closed && s->to_app.len > s->to_app_off)
			ev |= EV_WRITE;
		if (!s->app_eof && (s->phase == P_HEAD || (s->credit > 0 && !s->b->wire_congested)))
			ev |= EV_READ;
	}
	bridge_conn_set_events(s->conn, ev);
}

// Done with the app connection: closed, or (reuse) handed to the idle pool.
static void close_app(struct bstream *s, bool reuse)
{
	if (s->conn) {
		if (reuse)
			bridge_pool_put(s->conn);
		else
			bridge_conn_close(s->conn);
		s->conn = NULL;
	}
	s->app_wr_closed = true;
	s->replay = false;
	buf_release(&s->to_app);
	s->to_app_off = 0;
	buf_release(&s->head);
}

// Returns credit for BODY bytes that left our buffer (or were dropped): in halves of the
// window, so WINDOW frames stay rare, and at once when nothing goes to the app any more.
static void grant(struct bstream *s)
{
	size_t buffered = s->to_app.len - s->to_app_off;
	bool later = buffered >= WIRE_INITIAL_WINDOW / 2 || s->owed < WIRE_INITIAL_WINDOW / 2;
	if (!s->owed || (!s->app_wr_closed && later))
		return;
	if (wire_put_window(&s->b->wout, s->id, s->owed) != WIRE_OK)
		return; // out of memory: the front stalls on this stream and will give up on it
	s->recv_avail += s->owed;
	s->owed = 0;
}

static void destroy(struct bstream *s)
{
	struct bridge *b = s->b;
	close_app(s, false);
	if (s->prev)
		s->prev->next = s->next;
	else
		b->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	for (struct bstream **pp = &b->byid[s->id % BRIDGE_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	b->nstreams--;
	stream_free(s);
	if (b->app_state == APP_GONE && !b->nstreams)
		bridge_exit(b, b->exit_code);
}

// The stream is over for both sides once our END is out and the front's END came in.
static bool maybe_done(struct bstream *s)
{
	if (s->end_sent && s->front_end && (s->app_wr_closed || !s->conn)) {
		destroy(s);
		return true;
	}
	return false;
}

static void abort_stream(struct bstream *s, uint16_t code, const char *why)
{
	log_warn("bridge: stream %u: %s (reset: %s)", s->id, why, wire_reset_name(code));
	wire_put_reset(&s->b->wout, s->id, code);
	destroy(s);
}

// The connection may carry another request after this response (RFC 9112 9.3): the
// response allowed it and ended where its framing said, and the whole request went out.
static bool reusable(const struct bstream *s)
{
	return s->conn && s->keep_alive && !s->upgrade && s->front_end && !s->app_wr_closed &&
	       s->to_app_off == s->to_app.len;
}

// The response is complete: END, and the app connection goes back to the pool or is closed.
static void finish(struct bstream *s)
{
	if (wire_put_end(&s->b->wout, s->id) != WIRE_OK) {
		abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
		return;
	}
	s->end_sent = true;
	s->phase = P_DONE;
	close_app(s, reusable(s));
	grant(s);
	maybe_done(s);
}

// An error the front should show: our own short response while none was sent yet, else a
// RESET (a response cannot be taken back).
static void fail(struct bstream *s, int status, uint16_t code, const char *why)
{
	if (s->response_sent) {
		abort_stream(s, code, why);
		return;
	}
	s->keep_alive = false;
	log_warn("bridge: stream %u: %s (answering %d)", s->id, why, status);
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s: %s\n", status, http_reason(status), why);
	struct wire_response r = {.status = status, .content_length = n, .nheaders = 1};
	r.headers[0].name = wire_s("Content-Type");
	r.headers[0].value = wire_s("text/plain; charset=utf-8");
	struct buf *o = &s->b->wout;
	if (wire_put_response(o, s->id, &r) || wire_put_body(o, s->id, body, (size_t)n)) {
		abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
		return;
	}
	s->response_sent = true;
	finish(s);
}

// --- The request to the app ---

static int put_line(struct buf *o, const char *name, struct wire_str v)
{
	buf_puts(o, name);
	buf_puts(o, ": ");
	buf_append(o, v.p, v.len);
	return buf_puts(o, "\r\n");
}

// Writes the canonical request head into s->to_app (docs/WIRE.md lists what it holds).
static int build_head(struct bstream *s, const struct wire_request *r)
{
	struct buf *o = &s->to_app;
	buf_append(o, r->method.p, r->method.len);
	buf_putc(o, ' ');
	buf_append(o, r->path.p, r->path.len);
	if (r->query.len) {
		buf_putc(o, '?');
		buf_append(o, r->query.p, r->query.len);
	}
	buf_puts(o, " HTTP/1.1\r\n");
	if (r->host.len)
		put_line(o, "Host", r->host);
	else {
		buf_puts(o, "Host: 127.0.0.1:");
		buf_put_u64(o, (uint64_t)s->b->port);
		buf_puts(o, "\r\n");
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct wire_header *h = &r->headers[i];
		// The front strips X-Sandstorm-* already; a second check costs nothing.
		if (wire_header_reserved(h->name) || wire_name_in(h->name, WIRE_NAMES(dropped_headers)))
			continue;
		buf_append(o, h->name.p, h->name.len);
		put_line(o, "", h->value);
	}
	buf_puts(o, r->https ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n");
	if (r->host.len) {
		buf_puts(o, r->https ? "X-Sandstorm-Base-Path: https://"
				     : "X-Sandstorm-Base-Path: http://");
		buf_append(o, r->host.p, r->host.len);
		buf_puts(o, "\r\n");
	}
	if (r->user_id.len)
		put_line(o, "X-Sandstorm-User-Id", r->user_id);
	put_line(o, "X-Sandstorm-Username", r->username.len ? r->username : wire_s("Anonymous%20User"));
	buf_puts(o, "X-Sandstorm-Permissions: ");
	for (size_t i = 0; i < r->npermissions; i++) {
		if (i)
			buf_putc(o, ',');
		buf_append(o, r->permissions[i].p, r->permissions[i].len);
	}
	buf_puts(o, "\r\n");
	if (r->session_id.len)
		put_line(o, "X-Sandstorm-Session-Id", r->session_id);
	if (r->tab_id.len)
		put_line(o, "X-Sandstorm-Tab-Id", r->tab_id);
	if (s->upgrade) {
		buf_puts(o, "Upgrade: websocket\r\nConnection: Upgrade\r\n");
	} else {
		// HTTP/1.1 without Connection: the app may keep the connection open (RFC 9112 9.3).
		// RFC 9110 8.6: no Content-Length where the method expects no content and has none.
		bool wants_body = wire_str_eq(r->method, "POST") || wire_str_eq(r->method, "PUT") ||
				  wire_str_eq(r->method, "PATCH");
		if (r->content_length < 0)
			buf_puts(o, "Transfer-Encoding: chunked\r\n");
		else if (r->content_length > 0 || wants_body) {
			buf_puts(o, "Content-Length: ");
			buf_put_u64(o, (uint64_t)r->content_length);
			buf_puts(o, "\r\n");
		}
	}
	buf_puts(o, "\r\n");
	return o->oom ? -1 : 0;
}

// A WebSocket upgrade is passed on; any other Upgrade (h2c, ...) is dropped.
static bool wants_websocket(const struct wire_request *r)
{
	if (!wire_str_eq(r->method, "GET"))
		return false;
	for (size_t i = 0; i < r->nheaders; i++)
		if (wire_str_caseeq(r->headers[i].name, "Upgrade") &&
		    wire_str_caseeq(r->headers[i].value, "websocket"))
			return true;
	return false;
}

static void start_connect(struct bstream *s);

// RFC 9110 9.2.1's safe methods, plus WebDAV's read-only PROPFIND and REPORT: the only
// requests sent a second time when a kept-alive connection turns out dead (RFC 9110 9.2.2
// allows retrying idempotent ones; PUT and DELETE are left out as the app may have acted).
static bool safe_method(struct wire_str m)
{
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "REPORT"};
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (wire_str_eq(m, safe[i]))
			return true;
	return false;
}

// Stops keeping the request for a retry: what was written already is freed.
static void drop_replay(struct bstream *s)
{
	if (!s->replay)
		return;
	s->replay = false;
	if (s->app_wr_closed) {
		buf_release(&s->to_app);
		s->to_app_off = 0;
	} else if (s->to_app_off) {
		buf_consume(&s->to_app, s->to_app_off);
		s->to_app_off = 0;
	}
}

void bridge_proxy_open(struct bridge *b, uint32_t id, const struct wire_request *req)
{
	if (id <= b->last_stream) {
		log_warn("bridge: REQUEST reuses stream id %u", id);
		wire_put_reset(&b->wout, id, WIRE_RESET_PROTOCOL);
		return;
	}
	b->last_stream = id;
	if (b->nstreams >= WIRE_MAX_STREAMS || b->stopping) {
		wire_put_reset(&b->wout, id, WIRE_RESET_REFUSED);
		return;
	}
	struct bstream *s = stream_new();
	if (!s) {
		wire_put_reset(&b->wout, id, WIRE_RESET_INTERNAL);
		return;
	}
	s->b = b;
	s->id = id;
	s->credit = WIRE_INITIAL_WINDOW;
	s->recv_avail = WIRE_INITIAL_WINDOW;
	s->head_request = wire_str_eq(req->method, "HEAD");
	s->upgrade = wants_websocket(req);
	s->req_left = s->upgrade ? 0 : req->content_length;
	s->replay = !s->upgrade && safe_method(req->method);
	buf_acquire(&s->to_app);
	buf_acquire(&s->head);
	s->next = b->streams;
	if (b->streams)
		b->streams->prev = s;
	b->streams = s;
	s->hnext = b->byid[id % BRIDGE_BUCKETS];
	b->byid[id % BRIDGE_BUCKETS] = s;
	b->nstreams++;
	if (build_head(s, req) < 0) {
		abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
		return;
	}
	switch (b->app_state) {
	case APP_STARTING:
		s->phase = P_QUEUED;
		break;
	case APP_READY:
	case APP_GAVE_UP:
		if (!b->port)
			fail(s, 503, WIRE_RESET_REFUSED, "this app has no HTTP port");
		else
			start_connect(s);
		break;
	case APP_GONE:
		fail(s, 503, WIRE_RESET_REFUSED, "the app has exited");
		break;
	}
}

// --- Writing to the app ---

// Writes what the app will take.
static void write_app(struct bstream *s)
{
	while (!s->app_wr_closed && s->to_app_off < s->to_app.len) {
		ssize_t n = send(s->conn->fd, s->to_app.data + s->to_app_off, s->to_app.len - s->to_app_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			s->to_app_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			// The app stopped reading (it may have answered early, e.g. 413): the rest of
			// the body is dropped and the response still read. A request kept for a
			// retry stays whole (a dead pooled connection fails like this too).
			s->app_wr_closed = true;
			if (!s->replay) {
				buf_release(&s->to_app);
				s->to_app_off = 0;
			}
		}
	}
	if (s->to_app_off == s->to_app.len && !s->replay) {
		buf_release(&s->to_app);
		s->to_app_off = 0;
		// An upgraded stream passes the front's END on as a half-close.
		if (s->front_end && s->kind == HTTP_BODY_UPGRADE && s->phase == P_BODY && !s->app_wr_closed) {
			shutdown(s->conn->fd, SHUT_WR);
			s->app_wr_closed = true;
		}
	}
	grant(s);
}

static void attach(struct bstream *s, struct bconn *c)
{
	s->conn = c;
	c->s = s;
	s->got_bytes = false;
	s->app_wr_closed = false;
	s->app_eof = false;
}

// A new connection: the first try when the pool is empty, or the one retry. False when
// it failed (the stream was answered 503 and may be gone).
static bool connect_fresh(struct bstream *s)
{
	int r;
	struct bconn *c = bridge_conn_open(s->b, &r);
	if (!c) {
		char why[160];
		snprintf(why, sizeof(why), "cannot connect to the app on 127.0.0.1:%d: %s", s->b->port,
			 strerror(errno));
		fail(s, 503, WIRE_RESET_REFUSED, why);
		return false;
	}
	attach(s, c);
	s->reused = false;
	s->wait_since = ev_now(s->b->loop);
	drop_replay(s); // nothing to retry on a fresh connection (nothing is written yet)
	s->phase = r == 0 ? P_HEAD : P_CONNECTING;
	if (s->phase == P_HEAD)
		write_app(s);
	update_events(s);
	return true;
}

// An idle kept-alive connection when there is one; WebSocket upgrades get their own.
static void start_connect(struct bstream *s)
{
	struct bconn *c = s->upgrade ? NULL : bridge_pool_take(s->b, s->replay && s->req_left == 0);
	if (!c) {
		connect_fresh(s);
		return;
	}
	attach(s, c);
	s->reused = true;
	s->phase = P_HEAD;
	write_app(s);
	update_events(s);
}

// The pooled connection was dead (the app closed it as the request went out): the kept
// request goes once more, on a fresh connection. Nothing of a response came, and the
// method is safe, so sending it again cannot do anything twice that matters.
static bool retry(struct bstream *s)
{
	log_info("bridge: stream %u: the app closed a kept-alive connection; retrying the request "
		 "on a new one", s->id);
	bridge_conn_close(s->conn);
	s->conn = NULL;
	s->retried = true;
	s->to_app_off = 0;
	buf_release(&s->head);
	return connect_fresh(s);
}

// A single-threaded app that keeps connections alive serves one at a time: while it waits
// for the next request on a connection we hold idle, a request on a new connection is not
// even accepted. Such a request waiting BRIDGE_STARVE_MS with connections idle closes them.
static void on_starve_timer(struct ev_loop *loop, void *arg)
{
	struct bridge *b = arg;
	int64_t now = ev_now(loop), next = -1;
	if (!b->nidle)
		return;
	for (struct bstream *s = b->streams; s; s = s->next) {
		if (!s->conn || s->reused || s->got_bytes || (s->phase != P_CONNECTING && s->phase != P_HEAD))
			continue;
		int64_t left = s->wait_since + BRIDGE_STARVE_MS - now;
		if (left <= 0) {
			if (!b->starve_logged)
				log_info("bridge: stream %u waits on a new connection while %zu are idle: "
					 "closing them (the app may serve one connection at a time)",
					 s->id, b->nidle);
			b->starve_logged = true;
			bridge_pool_close_all(b);
			return;
		}
		if (next < 0 || left < next)
			next = left;
	}
	if (next >= 0)
		ev_timer_set(loop, &b->starve_timer, next, on_starve_timer, b);
}

void bridge_proxy_pooled(struct bridge *b)
{
	if (!b->starve_timer.heap_idx)
		ev_timer_set(b->loop, &b->starve_timer, BRIDGE_STARVE_MS, on_starve_timer, b);
}

void bridge_proxy_app_ready(struct bridge *b)
{
	struct bstream *next;
	for (struct bstream *s = b->streams; s; s = next) {
		next = s->next;
		if (s->phase == P_QUEUED)
			start_connect(s);
	}
}

void bridge_proxy_app_unavailable(struct bridge *b, const char *why)
{
	struct bstream *next;
	for (struct bstream *s = b->streams; s; s = next) {
		next = s->next;
		if (s->phase == P_QUEUED)
			fail(s, 503, WIRE_RESET_REFUSED, why);
	}
}

void bridge_proxy_resume(struct bridge *b)
{
	for (struct bstream *s = b->streams; s; s = s->next)
		update_events(s);
}

void bridge_proxy_destroy_all(struct bridge *b)
{
	while (b->streams)
		destroy(b->streams);
	bridge_pool_close_all(b);
}

// --- Frames from the front ---

void bridge_proxy_body(struct bstream *s, const char *p, size_t n)
{
	if (s->front_end) {
		abort_stream(s, WIRE_RESET_PROTOCOL, "BODY after END");
		return;
	}
	if ((int64_t)n > s->recv_avail) {
		abort_stream(s, WIRE_RESET_FLOW, "BODY past the window");
		return;
	}
	s->recv_avail -= (int64_t)n;
	s->owed += (uint32_t)n;
	if (s->app_wr_closed && !s->replay) {
		grant(s); // dropped: the app or the response is done with the request body
		return;
	}
	struct buf *o = &s->to_app;
	if (s->upgrade) {
		buf_append(o, p, n);
	} else if (s->req_left >= 0) {
		if ((int64_t)n > s->req_left) {
			abort_stream(s, WIRE_RESET_PROTOCOL, "request body longer than its Content-Length");
			return;
		}
		s->req_left -= (int64_t)n;
		buf_append(o, p, n);
	} else {
		buf_printf(o, "%zx\r\n", n);
		buf_append(o, p, n);
		buf_puts(o, "\r\n");
	}
	if (o->oom) {
		abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
		return;
	}
	if (s->replay && o->len > BRIDGE_REPLAY_MAX)
		drop_replay(s); // too large to keep: not retried
	if (s->phase == P_HEAD || s->phase == P_BODY)
		write_app(s);
	update_events(s);
}

void bridge_proxy_end(struct bstream *s)
{
	if (s->front_end) {
		abort_stream(s, WIRE_RESET_PROTOCOL, "a second END");
		return;
	}
	s->front_end = true;
	if ((!s->app_wr_closed || s->replay) && !s->upgrade) {
		if (s->req_left > 0) {
			abort_stream(s, WIRE_RESET_PROTOCOL, "request body shorter than its Content-Length");
			return;
		}
		if (s->req_left < 0 && buf_puts(&s->to_app, "0\r\n\r\n") < 0) {
			abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
			return;
		}
	}
	if (maybe_done(s))
		return;
	if (s->phase == P_HEAD || s->phase == P_BODY)
		write_app(s);
	if (!maybe_done(s))
		update_events(s);
}

void bridge_proxy_reset(struct bstream *s)
{
	destroy(s);
}

void bridge_proxy_window(struct bstream *s, uint32_t increment)
{
	if (s->credit + increment > (int64_t)WIRE_MAX_CREDIT) {
		abort_stream(s, WIRE_RESET_FLOW, "WINDOW past the largest window");
		return;
	}
	s->credit += increment;
	update_events(s);
}

// --- Reading from the app ---

// Frames n body bytes (n never exceeds the credit: reads are sized by it).
static bool send_body(struct bstream *s, const char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		size_t k = n - off < WIRE_BODY_CHUNK ? n - off : WIRE_BODY_CHUNK;
		if (wire_put_body(&s->b->wout, s->id, p + off, k) != WIRE_OK) {
			abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
			return false;
		}
		off += k;
	}
	s->credit -= (int64_t)n;
	return true;
}

// Body bytes as read from the app, decoded per the response's framing. False: s is gone.
static bool on_body_bytes(struct bstream *s, const char *p, size_t n)
{
	switch (s->kind) {
	case HTTP_BODY_LENGTH:
		if (n > s->resp_left) {
			n = (size_t)s->resp_left; // bytes past the body are not ours to pass on
			s->keep_alive = false;
		}
		if (!send_body(s, p, n))
			return false;
		s->resp_left -= n;
		if (!s->resp_left) {
			finish(s);
			return false;
		}
		return true;
	case HTTP_BODY_CHUNKED:
		for (size_t off = 0; off < n;) {
			size_t used, doff, dlen;
			int r = http_dechunk_feed(&s->dechunk, p + off, n - off, &used, &doff, &dlen);
			if (dlen && !send_body(s, p + off + doff, dlen))
				return false;
			off += used;
			if (r == HTTP_DECHUNK_DONE) {
				if (off < n)
					s->keep_alive = false; // bytes after the body: out of step
				finish(s);
				return false;
			}
			if (r == HTTP_DECHUNK_BAD) {
				abort_stream(s, WIRE_RESET_APP_BAD, "the app sent a malformed chunked body");
				return false;
			}
		}
		return true;
	case HTTP_BODY_NONE:
		return true;
	case HTTP_BODY_CLOSE:
	case HTTP_BODY_UPGRADE:
		return send_body(s, p, n);
	}
	return true;
}

// The app's response head, minus what the frames express themselves.
static bool send_response(struct bstream *s, const struct http_resp *hr)
{
	struct wire_response r = {.status = hr->status, .content_length = hr->content_length};
	for (size_t i = 0; i < hr->nheaders; i++) {
		struct wire_str name = wire_s(hr->headers[i].name);
		if (wire_name_in(name, WIRE_NAMES(hop_headers)))
			continue;
		if (hr->status != 101 && wire_str_caseeq(name, "Upgrade"))
			continue;
		r.headers[r.nheaders].name = name;
		r.headers[r.nheaders].value = wire_s(hr->headers[i].value);
		r.nheaders++;
	}
	enum wire_err e = wire_put_response(&s->b->wout, s->id, &r);
	if (e) {
		char why[128];
		snprintf(why, sizeof(why), "the app's response head cannot be framed: %s",
			 wire_strerror(e));
		fail(s, 502, WIRE_RESET_APP_BAD, why);
		return false;
	}
	s->response_sent = true;
	return true;
}

// Parses what arrived of the head: in[0..n) just read, after what s->head holds of it.
// Most heads come whole in one read and are parsed where they are, never copied. False: s
// is gone.
static bool on_head_bytes(struct bstream *s, const char *in, size_t n)
{
	const char *p = in;
	size_t len = n;
	bool in_head = s->head.len > 0; // p points into s->head, not into in
	if (in_head) {
		if (buf_append(&s->head, in, n) < 0) {
			fail(s, 502, WIRE_RESET_INTERNAL, "out of memory");
			return false;
		}
		p = s->head.data;
		len = s->head.len;
	}
	for (;;) {
		struct http_resp hr;
		enum http_resp_err e = http_resp_parse(p, len, &hr);
		if (e == HTTP_RESP_INCOMPLETE) {
			// Keep the unfinished head (an app may write it in pieces); drop interim
			// heads that came before it.
			if (in_head) {
				buf_consume(&s->head, (size_t)(p - s->head.data));
			} else if (buf_append(&s->head, p, len) < 0) {
				fail(s, 502, WIRE_RESET_INTERNAL, "out of memory");
				return false;
			}
			return true;
		}
		if (e) {
			char why[128];
			snprintf(why, sizeof(why), "the app sent an invalid response: %s",
				 http_resp_strerror(e));
			fail(s, 502, WIRE_RESET_APP_BAD, why);
			return false;
		}
		if (hr.status < 200 && hr.status != 101) { // interim (100, 103): dropped
			p += hr.head_len;
			len -= hr.head_len;
			http_resp_free(&hr);
			continue;
		}
		if (hr.status == 101 && !s->upgrade) {
			http_resp_free(&hr);
			fail(s, 502, WIRE_RESET_APP_BAD, "the app switched protocols unasked");
			return false;
		}
		s->kind = http_resp_body_kind(&hr, s->head_request);
		s->resp_left = hr.content_length > 0 ? (uint64_t)hr.content_length : 0;
		http_dechunk_init(&s->dechunk);
		// Never after a close-delimited body, a 101, or when the app says it will close
		// (HTTP/1.0 without keep-alive included: the parser sets close for it).
		s->keep_alive = !hr.close && (s->kind == HTTP_BODY_LENGTH ||
					      s->kind == HTTP_BODY_CHUNKED || s->kind == HTTP_BODY_NONE);
		bool ok = send_response(s, &hr);
		size_t head_len = hr.head_len;
		http_resp_free(&hr);
		if (!ok)
			return false;
		// What came with the head is body: less than one read, so it fits the fresh window.
		size_t rest = len - head_len;
		memmove(scratch, p + head_len, rest);
		buf_release(&s->head);
		s->phase = P_BODY;
		if (s->kind == HTTP_BODY_NONE || (s->kind == HTTP_BODY_LENGTH && !s->resp_left)) {
			if (rest)
				s->keep_alive = false; // a body where none belongs: out of step
			finish(s);
			return false;
		}
		if (s->kind == HTTP_BODY_UPGRADE)
			write_app(s); // the front's bytes that came before the 101
		return on_body_bytes(s, scratch, rest);
	}
}

// The app closed its side (or broke the connection, err != 0). False: s is gone.
static bool on_app_eof(struct bstream *s, int err)
{
	s->app_eof = true;
	if (s->phase == P_HEAD && s->reused && !s->retried && !s->got_bytes && s->replay)
		return retry(s);
	if (s->phase == P_HEAD) {
		fail(s, 502, WIRE_RESET_APP_CLOSED,
		     s->head.len ? "the app closed the connection in the middle of its response head"
				 : "the app closed the connection without a response");
		return false;
	}
	if (err || s->kind == HTTP_BODY_LENGTH || s->kind == HTTP_BODY_CHUNKED) {
		abort_stream(s, WIRE_RESET_APP_CLOSED,
			     "the app closed the connection before the end of its response");
		return false;
	}
	if (s->kind == HTTP_BODY_CLOSE) {
		finish(s);
		return false;
	}
	// Upgraded: END is a half-close; the front may still be sending.
	if (wire_put_end(&s->b->wout, s->id) != WIRE_OK) {
		abort_stream(s, WIRE_RESET_INTERNAL, "out of memory");
		return false;
	}
	s->end_sent = true;
	if (s->front_end && s->app_wr_closed) {
		destroy(s);
		return false;
	}
	return true;
}

static bool read_app(struct bstream *s)
{
	if (s->phase == P_HEAD) {
		ssize_t n = recv(s->conn->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? true : on_app_eof(s, errno);
		if (n == 0)
			return on_app_eof(s, 0);
		s->got_bytes = true;
		drop_replay(s); // a response is coming: the request will not be sent again
		return on_head_bytes(s, scratch, (size_t)n);
	}
	size_t want = sizeof(scratch);
	if ((int64_t)want > s->credit)
		want = (size_t)s->credit;
	if (s->kind == HTTP_BODY_LENGTH && want > s->resp_left)
		want = (size_t)s->resp_left;
	if (!want || s->b->wire_congested)
		return true;
	ssize_t n = recv(s->conn->fd, scratch, want, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? true : on_app_eof(s, errno);
	if (n == 0)
		return on_app_eof(s, 0);
	return on_body_bytes(s, scratch, (size_t)n);
}

static bool connected(struct bstream *s)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(s->conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		char why[160];
		snprintf(why, sizeof(why), "cannot connect to the app on 127.0.0.1:%d: %s", s->b->port,
			 strerror(err));
		fail(s, 503, WIRE_RESET_REFUSED, why);
		return false;
	}
	s->phase = P_HEAD;
	return true;
}

void bridge_conn_on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	struct bconn *c = arg;
	struct bstream *s = c->s;
	if (!s) {
		bridge_conn_idle_event(c);
		return;
	}
	struct bridge *b = s->b;
	if (s->phase == P_CONNECTING && !connected(s))
		goto out;
	if (events & EV_WRITE)
		write_app(s);
	if ((events & EV_READ) && !read_app(s))
		goto out;
	update_events(s);
out:
	bridge_link_flush_soon(b);
}
