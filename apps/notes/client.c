// SPDX-License-Identifier: MIT
// One HTTP/1.1 connection: reads requests, hands them to routes_handle, writes responses.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "http.h"
#include "log.h"
#include "response.h"
#include "routes.h"

#define CLIENT_READ_CHUNK 65536
// A head, a whole body, and some pipelined bytes: never more buffered than this.
#define CLIENT_IN_MAX (HTTP_MAX_HEAD + APP_MAX_BODY + CLIENT_READ_CHUNK)
// After an error answer the rest of the request is read and dropped (so the peer sees the
// answer rather than a reset), up to this much and this long.
#define CLIENT_DRAIN_MAX (8u << 20)
#define CLIENT_DRAIN_MS 3000
// Buffers grown past this are released between requests, to keep the RSS small.
#define CLIENT_KEEP_BUF 16384

enum client_state { C_READ, C_WRITE, C_DRAIN };

struct client {
	struct client *prev, *next;
	struct app *app;
	int fd;
	enum client_state state;
	bool have_req;      // req holds a parsed head; its body is being read
	bool peer_eof;      // the peer sends no more
	bool close_after;   // close once out is written
	struct http_request req;
	struct http_chunked chunked;
	struct buf in, out, body;
	size_t out_off;
	size_t drained;
	struct ev_timer timer;
};

// What a step did: wait for I/O, go on with the new state, or the client is gone.
enum step { STEP_WAIT, STEP_AGAIN, STEP_CLOSED };

static void client_io(struct ev_loop *loop, int fd, unsigned events, void *arg);

// The one teardown: after it, c is freed and must not be touched.
static void client_close(struct client *c, const char *why)
{
	struct app *app = c->app;
	if (why)
		log_info("client_close: fd %d: %s", c->fd, why);
	ev_timer_cancel(app->loop, &c->timer);
	ev_del(app->loop, c->fd);
	close(c->fd);
	if (c->have_req)
		http_request_free(&c->req);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->body);
	if (c->prev)
		c->prev->next = c->next;
	else
		app->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	app->nclients--;
	free(c);
}

static void client_timeout(struct ev_loop *loop, void *arg)
{
	(void)loop;
	struct client *c = arg;
	client_close(c, c->state == C_READ && !c->have_req && !c->in.len ? NULL : "timed out");
}

static void client_arm(struct client *c, int64_t ms)
{
	ev_timer_set(c->app->loop, &c->timer, ms, client_timeout, c);
}

void client_open(struct app *app, int fd)
{
	if (app->nclients >= APP_MAX_CLIENTS) {
		close(fd);
		return;
	}
	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->app = app;
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
	buf_init(&c->body);
	if (ev_add(app->loop, fd, EV_READ, client_io, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = app->clients;
	if (c->next)
		c->next->prev = c;
	app->clients = c;
	app->nclients++;
	client_arm(c, APP_TIMEOUT_MS);
}

void client_close_all(struct app *app)
{
	while (app->clients)
		client_close(app->clients, NULL);
}

// Reads once (level-triggered epoll calls again while more is there).
static int client_fill(struct client *c)
{
	size_t want = CLIENT_IN_MAX - c->in.len;
	if (want > CLIENT_READ_CHUNK)
		want = CLIENT_READ_CHUNK;
	if (!want)
		return 0;
	if (buf_reserve(&c->in, want) < 0)
		return -1;
	ssize_t n = read(c->fd, c->in.data + c->in.len, want);
	if (n > 0)
		c->in.len += (size_t)n;
	else if (n == 0)
		c->peer_eof = true;
	else if (errno != EAGAIN && errno != EINTR)
		return -1;
	return 0;
}

// Queues a response for writing.
static void client_queue(struct client *c, struct http_response *resp, bool head_only)
{
	bool keep = c->have_req && c->req.keep_alive && !resp->close;
	if (!keep)
		c->close_after = true;
	resp_serialize(resp, &c->out, head_only, keep, false);
	c->state = C_WRITE;
	client_arm(c, APP_TIMEOUT_MS);
}

// Answers an error found while reading a request; the connection closes after it.
static void client_fail(struct client *c, int status)
{
	struct http_response resp;
	resp_init(&resp);
	const struct http_request *req = c->have_req ? &c->req : NULL;
	routes_error(req, status, &resp);
	resp.close = true;
	client_queue(c, &resp, req && req->method == HTTP_HEAD);
	resp_free(&resp);
}

static void client_dispatch(struct client *c, const char *body, size_t len)
{
	struct http_response resp;
	resp_init(&resp);
	routes_handle(c->app, &c->req, body, len, &resp);
	client_queue(c, &resp, c->req.method == HTTP_HEAD);
	resp_free(&resp);
	http_request_free(&c->req);
	c->have_req = false;
}

// Starts a request: parses its head. STEP_WAIT when more bytes are needed.
static enum step client_begin(struct client *c)
{
	if (!c->in.len) {
		if (!c->peer_eof)
			return STEP_WAIT;
		client_close(c, NULL);
		return STEP_CLOSED;
	}
	int r = http_parse_head(c->in.data, c->in.len, &c->req);
	if (r == HTTP_PARSE_INCOMPLETE) {
		if (!c->peer_eof)
			return STEP_WAIT;
		client_close(c, "the peer closed in the middle of a request head");
		return STEP_CLOSED;
	}
	if (r != HTTP_PARSE_OK) {
		client_fail(c, r);
		return STEP_AGAIN;
	}
	buf_consume(&c->in, c->req.head_len);
	c->have_req = true;
	buf_reset(&c->body);
	if (c->req.chunked)
		http_chunked_init(&c->chunked);
	if (c->req.content_length > (int64_t)APP_MAX_BODY) {
		client_fail(c, 413);
		return STEP_AGAIN;
	}
	// RFC 9110 10.1.1: a client waiting for 100 gets it only when a body is wanted.
	bool body = c->req.chunked || c->req.content_length > 0;
	if (c->req.expect_continue && body && !c->in.len) {
		buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->state = C_WRITE;
	}
	return STEP_AGAIN;
}

// Reads the body of the parsed request and dispatches it when complete.
static enum step client_body(struct client *c)
{
	if (c->req.chunked) {
		size_t used = 0;
		int r = http_chunked_feed(&c->chunked, c->in.data, c->in.len, &c->body,
					  APP_MAX_BODY, &used);
		buf_consume(&c->in, used);
		if (r == HTTP_CHUNKED_DONE) {
			client_dispatch(c, c->body.data ? c->body.data : "", c->body.len);
			return STEP_AGAIN;
		}
		if (r != HTTP_CHUNKED_MORE) {
			client_fail(c, r);
			return STEP_AGAIN;
		}
	} else {
		size_t need = c->req.content_length > 0 ? (size_t)c->req.content_length : 0;
		if (c->in.len >= need) {
			client_dispatch(c, need ? c->in.data : "", need);
			buf_consume(&c->in, need);
			return STEP_AGAIN;
		}
	}
	if (!c->peer_eof)
		return STEP_WAIT;
	client_close(c, "the peer closed in the middle of a request body");
	return STEP_CLOSED;
}

// After the last byte of a response: close, drain, or wait for the next request.
static enum step client_written(struct client *c)
{
	c->out_off = 0;
	if (c->out.cap > CLIENT_KEEP_BUF)
		buf_free(&c->out);
	else
		buf_reset(&c->out);
	if (!c->close_after) {
		c->state = C_READ;
		if (!c->have_req) {
			if (!c->in.len && c->in.cap > CLIENT_KEEP_BUF)
				buf_free(&c->in);
			if (c->body.cap > CLIENT_KEEP_BUF)
				buf_free(&c->body);
			client_arm(c, APP_TIMEOUT_MS);
		}
		return STEP_AGAIN;
	}
	if (c->peer_eof) {
		client_close(c, NULL);
		return STEP_CLOSED;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAIN;
	buf_free(&c->in);
	client_arm(c, CLIENT_DRAIN_MS);
	return STEP_AGAIN;
}

static enum step client_flush(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return STEP_WAIT;
		if (n <= 0) {
			client_close(c, NULL);   // the peer went away; nothing to report
			return STEP_CLOSED;
		}
		c->out_off += (size_t)n;
	}
	return client_written(c);
}

// Reads and drops what the peer still sends after an error answer.
static enum step client_drain(struct client *c)
{
	char sink[16384];
	ssize_t n = read(c->fd, sink, sizeof(sink));
	if (n > 0) {
		c->drained += (size_t)n;
		if (c->drained < CLIENT_DRAIN_MAX)
			return STEP_WAIT;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return STEP_WAIT;
	}
	client_close(c, NULL);
	return STEP_CLOSED;
}

// Runs the connection's state machine until it has to wait for I/O.
static void client_run(struct client *c, bool readable)
{
	for (;;) {
		enum step s;
		if (c->state == C_DRAIN) {
			s = readable ? client_drain(c) : STEP_WAIT;
			readable = false;
		} else if (c->state == C_WRITE) {
			s = client_flush(c);
		} else {
			if (readable) {
				readable = false;
				if (client_fill(c) < 0) {
					client_close(c, "read failed");
					return;
				}
			}
			s = c->have_req ? client_body(c) : client_begin(c);
			if (s == STEP_WAIT && c->in.len >= CLIENT_IN_MAX) {
				client_close(c, "input buffer full");
				return;
			}
		}
		if (s == STEP_CLOSED)
			return;
		if (s == STEP_WAIT)
			break;
	}
	ev_mod(c->app->loop, c->fd, c->state == C_WRITE ? EV_WRITE : EV_READ);
}

static void client_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	struct client *c = arg;
	client_run(c, (events & EV_READ) != 0);
}
