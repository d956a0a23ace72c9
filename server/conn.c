// SPDX-License-Identifier: MIT
// Client connections: the request/response state machine, timeouts and per-address caps.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "http.h"
#include "log.h"
#include "response.h"
#include "tls.h"
#include "server.h"
#include "util.h"
#include "web.h"

#define IN_CAP (HTTP_MAX_HEAD + 65536)   // bytes buffered ahead of parsing
#define OUT_HIGH_WATER (256 * 1024)      // stop reading pipelined requests above this
#define LINGER_MS 2000                   // drain the client's excess input before closing

// C_WAIT: a handler deferred its response (the parent or a grain answers later);
// C_STREAM: the response head is out and its body follows in chunks;
// C_RAW: an upgraded connection (WebSocket) whose bytes pass through both ways.
// C_HANDSHAKE: a TLS connection before its handshake finished.
enum conn_state { C_HANDSHAKE, C_HEAD, C_BODY, C_WAIT, C_STREAM, C_RAW, C_LINGER };

#define SPOOL_CHUNK 65536
#define WAIT_TIMEOUT 300   // seconds a deferred response may take before 504
#define RAW_IDLE_TIMEOUT 600   // seconds an upgraded connection may stay silent
#define OUT_LOW_WATER (64 * 1024)   // a paused stream resumes below this

struct conn {
	struct server *srv;
	struct conn *prev, *next;
	int fd;
	char peer[64];
	enum conn_state state;
	struct buf in, out;
	size_t out_off;
	struct http_request req;     // valid in C_BODY
	struct buf body;
	struct http_chunked chunked;
	struct http_response resp;
	struct ev_timer timer;
	struct ev_defer flush_later;  // streamed output goes out once per batch of events
	int64_t started_ms;          // first byte of the current request
	bool closing;                // close (lingering) once out is written
	bool head_started;
	bool keep;                   // keep-alive after the response in progress
	struct conn_wait *wait;      // the deferred response in progress
	int spool_fd;                // large bodies go to this file instead of memory
	uint64_t spooled;            // bytes written to spool_fd
	uint64_t body_max;           // this request's body limit
	bool in_eof;                 // the client shut down its side (C_RAW)
	bool in_handler;             // web_handle is running for this connection
	struct tls_conn *tls;        // NULL: plain HTTP
	struct ev_timer kick;        // reads bytes TLS decrypted that epoll cannot announce
};

struct conn_wait {
	struct conn *c;
	void (*cancel)(void *arg);   // the client went away: the owner must forget cw
	void *cancel_arg;
	void (*drain)(void *arg);    // the client caught up with a streamed body
	void *drain_arg;
	void (*input)(void *arg, const char *p, size_t n, bool eof);   // C_RAW bytes
	void *input_arg;
	bool chunked;                // the streamed body is chunk-encoded
	bool head_only;
	int64_t length;              // its announced Content-Length, -1: none
	size_t bytes;                // body bytes streamed, for the log
};

// Per-address counts: a small chained hash table.
struct addr_slot {
	struct addr_slot *next;
	unsigned count;
	char addr[64];
};
#define ADDR_BUCKETS 1024

static unsigned addr_hash(const char *a)
{
	unsigned h = 2166136261u;
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	return h % ADDR_BUCKETS;
}

static struct addr_slot *addr_find(struct server *s, const char *a, bool create)
{
	if (!s->addrs && !(s->addrs = calloc(ADDR_BUCKETS, sizeof(*s->addrs))))
		return NULL;
	struct addr_slot **b = &s->addrs[addr_hash(a)];
	for (struct addr_slot *p = *b; p; p = p->next)
		if (strcmp(p->addr, a) == 0)
			return p;
	if (!create)
		return NULL;
	struct addr_slot *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->addr, sizeof(p->addr), "%s", a);
	p->next = *b;
	*b = p;
	return p;
}

static void addr_release(struct server *s, const char *a)
{
	struct addr_slot **b = &s->addrs[addr_hash(a)];
	for (struct addr_slot *p = *b; p; b = &p->next, p = p->next) {
		if (strcmp(p->addr, a) != 0)
			continue;
		if (--p->count == 0) {
			*b = p->next;
			free(p);
		}
		return;
	}
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);
static void finish_request(struct conn *c);
static void raw_input(struct conn *c, bool eof);
static int flush(struct conn *c);
static void on_timer(struct ev_loop *loop, void *arg);
static void process(struct conn *c);

static void arm(struct conn *c, long seconds)
{
	ev_timer_set(c->srv->loop, &c->timer, seconds * 1000, on_timer, c);
}

void conn_open(struct server *s, int fd, const char *peer, bool tls)
{
	struct addr_slot *slot = addr_find(s, peer, false);
	// Over a cap: no response, the client sees the connection closed and may retry later.
	if ((long)s->nconns >= s->cfg.max_conns ||
	    (slot && (long)slot->count >= s->cfg.max_conns_per_addr)) {
		log_warn("conn_open: refusing %s: connection cap reached", peer);
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c || !(slot = addr_find(s, peer, true))) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->spool_fd = -1;
	c->state = tls ? C_HANDSHAKE : C_HEAD;
	if (tls && !(c->tls = tls_conn_new(s, fd))) {
		log_err("conn_open: no TLS session for %s", peer);
		free(c);
		close(fd);
		return;
	}
	slot->count++;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	buf_init(&c->in);
	buf_init(&c->out);
	buf_init(&c->body);
	resp_init(&c->resp);
	if (ev_add(s->loop, fd, EV_READ, on_io, c) < 0) {
		addr_release(s, peer);
		tls_conn_free(c->tls);
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	// A handshake has its own deadline: a stalled one holds a slot only this long.
	arm(c, tls ? s->cfg.tls_handshake_timeout : s->cfg.idle_timeout);
}

void conn_close(struct conn *c, const char *why)
{
	(void)why;
	struct server *s = c->srv;
	ev_timer_cancel(s->loop, &c->timer);
	ev_defer_cancel(s->loop, &c->flush_later);
	ev_timer_cancel(s->loop, &c->kick);
	ev_del(s->loop, c->fd);
	close(c->fd);
	tls_conn_free(c->tls);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	addr_release(s, c->peer);
	if (c->wait) {
		// Tell whoever would answer later that nobody is listening any more.
		if (c->wait->cancel)
			c->wait->cancel(c->wait->cancel_arg);
		free(c->wait);
		c->wait = NULL;
	}
	if (c->spool_fd >= 0)
		close(c->spool_fd);
	http_request_free(&c->req);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->body);
	resp_free(&c->resp);
	free(c);
	if (s->draining && !s->nconns)
		ev_stop(s->loop);
}

// An error answered before the request could be handled: reply and close.
static void fail(struct conn *c, int status, const char *msg)
{
	resp_reset(&c->resp);
	resp_error(&c->resp, status, msg);
	c->resp.close = true;
	resp_serialize(&c->resp, &c->out, false, false, c->tls);
	log_info("%s - %d %zuB %s", c->state == C_BODY && c->req.method_name ? c->req.method_name : "-",
		 status, c->resp.body.len, c->peer);
	c->closing = true;
	finish_request(c);
}

static const char *status_message(int status)
{
	switch (status) {
	case 414: return "request line too long";
	case 431: return "request headers too large";
	case 413: return "request body too large";
	case 417: return "unsupported Expect header";
	case 501: return "method or transfer coding not implemented";
	case 505: return "HTTP version not supported";
	case 500: return "out of memory";
	default: return "malformed request";
	}
}

static void finish_request(struct conn *c)
{
	http_request_free(&c->req);
	buf_reset(&c->body);
	if (c->body.cap > 65536)
		buf_free(&c->body); // do not keep a large upload's memory around
	if (c->spool_fd >= 0)
		close(c->spool_fd);
	c->spool_fd = -1;
	c->spooled = 0;
	c->state = C_HEAD;
	c->head_started = false;
}

static void log_request(struct conn *c, int status, size_t bytes)
{
	long long ms = (long long)(util_now_ms() - c->started_ms);
	log_access(c->req.method_name, c->req.target, status, bytes, ms, c->peer);
}

static void send_response(struct conn *c)
{
	struct http_request *req = &c->req;
	bool keep = req->keep_alive && !c->resp.close && !c->srv->draining;
	size_t before = c->out.len;
	resp_serialize(&c->resp, &c->out, req->method == HTTP_HEAD || c->resp.status == 304, keep,
		       c->tls);
	log_request(c, c->resp.status, c->out.len - before);
	if (!keep)
		c->closing = true;
	finish_request(c);
}

static void respond(struct conn *c)
{
	resp_reset(&c->resp);
	struct web_req w = {
		.srv = c->srv,
		.conn = c,
		.http = &c->req,
		.body = c->body.data ? c->body.data : "",
		.body_len = c->body.len,
		.body_fd = c->spool_fd,
		.peer = c->peer,
		.tls = c->tls != NULL,
	};
	c->in_handler = true;
	web_handle(&w, &c->resp);
	c->in_handler = false;
	if (c->wait) {
		// The handler answers later; pipelined requests wait their turn.
		c->state = C_WAIT;
		arm(c, WAIT_TIMEOUT);
		return;
	}
	send_response(c);
}

// Starts the body phase after a head; returns false when the request was refused.
static bool start_body(struct conn *c)
{
	struct http_request *req = &c->req;
	bool spool = false;
	c->body_max = web_body_limit(c->srv, req, &spool);
	if (req->content_length >= 0 && (uint64_t)req->content_length > c->body_max) {
		fail(c, 413, "request body too large");
		return false;
	}
	buf_reset(&c->body);
	http_chunked_init(&c->chunked);
	c->spooled = 0;
	if (req->chunked || req->content_length > 0) {
		if (spool && (c->spool_fd = web_spool_open(c->srv)) < 0) {
			fail(c, 500, "cannot store the upload");
			return false;
		}
		c->state = C_BODY;
		arm(c, c->srv->cfg.body_timeout);
		if (req->expect_continue)
			buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	return true;
}

// Moves what the memory buffer holds to the spool file. 0 / -1.
static int spool_flush(struct conn *c)
{
	size_t off = 0;
	while (off < c->body.len) {
		ssize_t n = write(c->spool_fd, c->body.data + off, c->body.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->spooled += c->body.len;
	buf_reset(&c->body);
	return 0;
}

// Moves body bytes from in to body (or the spool); true when the body is complete.
static bool read_body(struct conn *c)
{
	struct http_request *req = &c->req;
	bool done;
	if (!req->chunked) {
		uint64_t need = (uint64_t)req->content_length - c->spooled - c->body.len;
		size_t n = c->in.len < need ? c->in.len : (size_t)need;
		if (buf_append(&c->body, c->in.data, n) < 0) {
			fail(c, 500, "out of memory");
			return false;
		}
		buf_consume(&c->in, n);
		done = c->spooled + c->body.len == (uint64_t)req->content_length;
	} else {
		size_t used = 0;
		int r = http_chunked_feed(&c->chunked, c->in.data, c->in.len, &c->body,
					  (size_t)(c->body_max - c->spooled), &used);
		buf_consume(&c->in, used);
		if (r != HTTP_CHUNKED_DONE && r != HTTP_CHUNKED_MORE) {
			fail(c, r, r == 413 ? "request body too large" : "malformed chunked body");
			return false;
		}
		done = r == HTTP_CHUNKED_DONE;
	}
	if (c->spool_fd >= 0 && (done || c->body.len >= SPOOL_CHUNK) && spool_flush(c) < 0) {
		fail(c, 500, "cannot store the upload");
		return false;
	}
	if (done && c->spool_fd >= 0)
		lseek(c->spool_fd, 0, SEEK_SET);
	return done;
}

// Parses and answers as many complete requests as the input holds (pipelining), in order.
static void process(struct conn *c)
{
	while (!c->closing && c->out.len - c->out_off < OUT_HIGH_WATER &&
	       (c->state == C_HEAD || c->state == C_BODY)) {
		if (c->state == C_HEAD) {
			if (!c->in.len)
				break;
			if (!c->head_started) {
				c->head_started = true;
				c->started_ms = util_now_ms();
				arm(c, c->srv->cfg.header_timeout); // whole head within this time
			}
			int r = http_parse_head(c->in.data, c->in.len, &c->req);
			if (r == HTTP_PARSE_INCOMPLETE)
				break;
			if (r != HTTP_PARSE_OK) {
				fail(c, r, status_message(r));
				break;
			}
			buf_consume(&c->in, c->req.head_len);
			if (!start_body(c))
				break;
			if (c->state == C_HEAD) {
				respond(c);
				continue;
			}
		}
		if (c->state == C_BODY) {
			if (!read_body(c))
				break;
			respond(c);
		}
	}
}

static void linger_start(struct conn *c)
{
	// Half-close and read what the client still sends, so the kernel does not answer
	// unread input with a reset that destroys our response (RFC 9112 9.6). TLS says
	// goodbye first, so the client can tell our end from a truncation.
	if (c->tls)
		tls_close_notify(c->tls);
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	ev_mod(c->srv->loop, c->fd, EV_READ);
	ev_timer_set(c->srv->loop, &c->timer, LINGER_MS, on_timer, c);
}

// read(2) and write(2), through TLS when the connection has it: EAGAIN when it must wait.
static ssize_t io_read(struct conn *c, void *p, size_t n)
{
	if (!c->tls)
		return read(c->fd, p, n);
	ssize_t r = tls_read(c->tls, p, n);
	if (r >= 0)
		return r;
	errno = r == TLS_WANT_READ || r == TLS_WANT_WRITE ? EAGAIN : EPROTO;
	return -1;
}

static ssize_t io_write(struct conn *c, const void *p, size_t n)
{
	if (!c->tls)
		return write(c->fd, p, n);
	ssize_t r = tls_write(c->tls, p, n);
	if (r >= 0)
		return r;
	errno = r == TLS_WANT_READ || r == TLS_WANT_WRITE ? EAGAIN : EPROTO;
	return -1;
}

static void on_kick(struct ev_loop *loop, void *arg)
{
	struct conn *c = arg;
	on_io(loop, c->fd, EV_READ, c);
}

// Writes pending output. Returns -1 when the connection was closed.
static int flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = io_write(c, c->out.data + c->out_off, c->out.len - c->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c, "write failed");
			return -1;
		}
		c->out_off += (size_t)n;
		// Progress: the client is reading. A head, body or wait deadline keeps running.
		if ((c->state == C_HEAD && !c->head_started) || c->state == C_STREAM)
			arm(c, c->srv->cfg.idle_timeout);
		else if (c->state == C_RAW)
			arm(c, RAW_IDLE_TIMEOUT);
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
		if (c->out.cap > 1 << 20)
			buf_free(&c->out);
		if (c->closing) {
			linger_start(c);
			return 0;
		}
	}
	// Stop reading while the input buffer is full or the connection is on its way out,
	// so a level-triggered read event cannot spin.
	unsigned want = (c->in.len < IN_CAP && !c->closing && !c->in_eof ? EV_READ : 0) |
			(c->out_off < c->out.len ? EV_WRITE : 0);
	ev_mod(c->srv->loop, c->fd, want);
	if ((want & EV_READ) && c->tls && tls_pending(c->tls))
		ev_timer_set(c->srv->loop, &c->kick, 0, on_kick, c);
	// A streamed body paused for a slow client may go on.
	struct conn_wait *w = c->wait;
	if (w && w->drain && c->out.len - c->out_off < OUT_LOW_WATER)
		w->drain(w->drain_arg);
	return 0;
}

// Reads what is available. 0, 1 at end of input, -1 when the connection was closed.
static int fill(struct conn *c)
{
	for (int i = 0; i < 4 && c->in.len < IN_CAP; i++) {
		if (buf_reserve(&c->in, 16384) < 0) {
			conn_close(c, "out of memory");
			return -1;
		}
		size_t room = c->in.cap - c->in.len - 1;
		if (room > IN_CAP - c->in.len)
			room = IN_CAP - c->in.len;
		ssize_t n = io_read(c, c->in.data + c->in.len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0)
			return 1;
		if (n < 0) {
			conn_close(c, "read failed");
			return -1;
		}
		c->in.len += (size_t)n;
		// A short read drained the socket; under TLS a read is one record, so ask it.
		if (c->tls ? tls_drained(c->tls) : (size_t)n < room)
			return 0;
	}
	return 0;
}

static void linger_read(struct conn *c)
{
	char sink[16384];
	for (;;) {
		ssize_t n = read(c->fd, sink, sizeof(sink));
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		conn_close(c, "lingering close done");
		return;
	}
}

// Drives the TLS handshake; true when it is done and requests may be read.
static bool handshake(struct conn *c)
{
	int r = tls_handshake(c->tls);
	if (r == TLS_DONE) {
		c->state = C_HEAD;
		arm(c, c->srv->cfg.idle_timeout);
		return true;
	}
	if (r == TLS_FAIL)
		conn_close(c, "TLS handshake failed");
	else
		ev_mod(c->srv->loop, c->fd, r == TLS_WANT_WRITE ? EV_WRITE : EV_READ);
	return false;
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	struct conn *c = arg;
	if (c->state == C_HANDSHAKE) {
		if (!handshake(c))
			return;
		// The request may have come with the client's last flight: read it now.
		events |= EV_READ;
	}
	if (c->state == C_LINGER) {
		linger_read(c);
		return;
	}
	if ((events & EV_WRITE) && flush(c) < 0)
		return;
	if (c->state == C_LINGER)
		return;
	int r = events & EV_READ ? fill(c) : 0;
	if (r < 0)
		return;
	if (c->state == C_RAW) {
		raw_input(c, r == 1);
		return;
	}
	process(c);
	if (r == 1) {
		// The client finished sending: answer what it asked, then close.
		if (c->out_off == c->out.len) {
			conn_close(c, "peer closed");
			return;
		}
		c->closing = true;
	}
	flush(c);
}

static void on_timer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct conn *c = arg;
	if (c->state == C_WAIT) {
		// The answer did not come in time: tell its owner, and the client.
		struct conn_wait *w = c->wait;
		if (w->cancel)
			w->cancel(w->cancel_arg);
		free(w);
		c->wait = NULL;
		c->state = C_HEAD;
		fail(c, 504, "the server did not answer in time");
		flush(c);
		return;
	}
	if (c->state == C_LINGER || c->state == C_STREAM || c->state == C_RAW ||
	    c->out_off < c->out.len || !c->head_started) {
		conn_close(c, "timeout");
		return;
	}
	// A client that started a request and did not finish it in time.
	fail(c, 408, "request not received in time");
	flush(c);
}

void conn_drain_all(struct server *s)
{
	struct conn *next;
	for (struct conn *c = s->conns; c; c = next) {
		next = c->next;
		if ((c->state == C_HEAD && !c->head_started && c->out_off == c->out.len) ||
		    c->state == C_HANDSHAKE)
			conn_close(c, "server stopping");
	}
}

void conn_close_all(struct server *s)
{
	while (s->conns)
		conn_close(s->conns, "server stopped");
}

// Upgraded connections: client bytes go to the owner as they come.
static void raw_input(struct conn *c, bool eof)
{
	struct conn_wait *w = c->wait;
	if (c->in.len && w && w->input)
		w->input(w->input_arg, c->in.data, c->in.len, false);
	buf_reset(&c->in);
	if (eof) {
		c->in_eof = true;
		if (w && w->input)
			w->input(w->input_arg, NULL, 0, true);
	}
	if (c->wait)
		flush(c);
}

struct conn_wait *conn_defer(struct conn *c)
{
	if (c->wait)
		return NULL;
	c->wait = calloc(1, sizeof(*c->wait));
	if (c->wait)
		c->wait->c = c;
	return c->wait;
}

void conn_wait_on_cancel(struct conn_wait *w, void (*fn)(void *arg), void *arg)
{
	w->cancel = fn;
	w->cancel_arg = arg;
}

struct http_response *conn_wait_response(struct conn_wait *w)
{
	return &w->c->resp;
}

const struct http_request *conn_wait_request(struct conn_wait *w)
{
	return &w->c->req;
}

// Continues with pipelined requests after a deferred response went out.
static void wait_release(struct conn *c)
{
	free(c->wait);
	c->wait = NULL;
	arm(c, c->srv->cfg.idle_timeout);
	process(c);
	flush(c);
}

void conn_wait_done(struct conn_wait *w)
{
	struct conn *c = w->c;
	if (c->in_handler) {
		// Answered before the handler even returned: respond() sends it.
		free(w);
		c->wait = NULL;
		return;
	}
	c->state = C_HEAD; // send_response logs and resets the request
	send_response(c);
	wait_release(c);
}

static void on_flush_later(struct ev_loop *loop, void *arg)
{
	(void)loop;
	flush(arg);
}

// A streamed head and body often arrive in one batch of events (one read of a grain's
// wire): writing them once, when the batch is done, saves the client's side a packet each.
static int flush_soon(struct conn *c)
{
	if (c->out.oom) {
		conn_close(c, "out of memory");
		return -1;
	}
	ev_defer(c->srv->loop, &c->flush_later, on_flush_later, c);
	return 0;
}

int conn_wait_stream_head(struct conn_wait *w)
{
	struct conn *c = w->c;
	struct http_response *r = &c->resp;
	c->keep = c->req.keep_alive && !r->close && !c->srv->draining;
	w->head_only = c->req.method == HTTP_HEAD || r->status == 304 || r->status == 204;
	w->length = r->status == 101 ? -1 : r->stream_length;
	w->chunked = !w->head_only && r->status != 101 && w->length < 0;
	resp_serialize_head(r, &c->out, c->keep, c->tls, w->chunked);
	c->state = r->status == 101 ? C_RAW : C_STREAM;
	if (c->state == C_RAW) {
		c->keep = false;
		arm(c, RAW_IDLE_TIMEOUT);
		raw_input(c, false); // bytes the client sent right after its upgrade request
		if (!c->wait)
			return -1;
	} else {
		arm(c, c->srv->cfg.idle_timeout);
	}
	return c->state == C_RAW ? flush(c) : flush_soon(c);
}

int conn_wait_stream_data(struct conn_wait *w, const void *p, size_t n)
{
	struct conn *c = w->c;
	if (!n || w->head_only)
		return 0;
	if (w->length >= 0 && (uint64_t)w->length - w->bytes < n) {
		// More than the length the head announced: the client could not frame it.
		log_request(c, c->resp.status, w->bytes);
		conn_close(c, "stream longer than its Content-Length");
		return -1;
	}
	if (w->chunked)
		buf_printf(&c->out, "%zx\r\n", n);
	buf_append(&c->out, p, n);
	if (w->chunked)
		buf_puts(&c->out, "\r\n");
	w->bytes += n;
	return flush_soon(c);
}

size_t conn_wait_body(struct conn_wait *w, const char **body)
{
	if (body)
		*body = w->c->body.data ? w->c->body.data : "";
	return w->c->body.len;
}

size_t conn_wait_backlog(struct conn_wait *w)
{
	return w->c->out.len - w->c->out_off;
}

void conn_wait_on_drain(struct conn_wait *w, void (*fn)(void *arg), void *arg)
{
	w->drain = fn;
	w->drain_arg = arg;
}

void conn_wait_on_input(struct conn_wait *w, void (*fn)(void *, const char *, size_t, bool),
			void *arg)
{
	w->input = fn;
	w->input_arg = arg;
}

void conn_wait_stream_end(struct conn_wait *w, bool ok)
{
	struct conn *c = w->c;
	// Short of the announced length the body is broken: only a close tells the client.
	if (ok && !w->head_only && w->length >= 0 && w->bytes != (uint64_t)w->length)
		ok = false;
	if (!ok || c->state == C_RAW) {
		// A broken stream cannot be told apart from a complete one otherwise.
		log_request(c, c->resp.status, w->bytes);
		w->cancel = NULL;
		conn_close(c, ok ? "upgraded connection done" : "stream broken");
		return;
	}
	if (w->chunked)
		buf_puts(&c->out, "0\r\n\r\n");
	log_request(c, c->resp.status, w->bytes);
	if (!c->keep)
		c->closing = true;
	finish_request(c);
	wait_release(c);
}
