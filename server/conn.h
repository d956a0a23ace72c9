// SPDX-License-Identifier: MIT
// Client connections: read requests, hand them to the web layer, write responses; the
// per-address cap and the timeouts that keep slow or idle clients from holding the server.
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct server;
struct conn;

// Takes ownership of fd (non-blocking, accepted). peer: the client's address text; tls:
// a TLS handshake comes first. Refuses (closes fd) when the server or this address is at
// its connection cap.
void conn_open(struct server *s, int fd, const char *peer, bool tls);
// Closes a connection now; why is logged at debug level only.
void conn_close(struct conn *c, const char *why);
// For a graceful stop: idle connections close now, busy ones after their response.
void conn_drain_all(struct server *s);
// Closes every connection (end of the drain).
void conn_close_all(struct server *s);

// Deferred responses. A handler that cannot answer at once (it waits for the parent or a
// grain) calls conn_defer and returns; later its owner either fills conn_wait_response and
// calls conn_wait_done, or streams: sets status and headers, conn_wait_stream_head, then
// conn_wait_stream_data ... conn_wait_stream_end. When the client goes away first, the
// cancel callback runs and the conn_wait is gone: its owner must forget it. Any call below
// that returns -1 means the client went away during the call (cancel has run).
struct conn_wait;
struct http_response;
struct http_request;
struct conn_wait *conn_defer(struct conn *c);
void conn_wait_on_cancel(struct conn_wait *w, void (*fn)(void *arg), void *arg);
struct http_response *conn_wait_response(struct conn_wait *w);
const struct http_request *conn_wait_request(struct conn_wait *w);
void conn_wait_done(struct conn_wait *w);
// The request's body held in memory (spooled bodies are not): its length, and *body.
size_t conn_wait_body(struct conn_wait *w, const char **body);
// Streams: a 101 status turns the connection into a raw pipe (WebSocket); others send a
// chunked body (none for HEAD, 204, 304).
int conn_wait_stream_head(struct conn_wait *w);
int conn_wait_stream_data(struct conn_wait *w, const void *p, size_t n);
// Bytes queued for the client; above a high water mark, pause the source and resume in the
// drain callback (which must only resume, not write).
size_t conn_wait_backlog(struct conn_wait *w);
void conn_wait_on_drain(struct conn_wait *w, void (*fn)(void *arg), void *arg);
// For a raw pipe: the client's bytes, and eof when it shut down its side.
void conn_wait_on_input(struct conn_wait *w,
			void (*fn)(void *arg, const char *p, size_t n, bool eof), void *arg);
// Ends the stream; ok false (or a raw pipe) closes the connection. w is gone afterwards.
void conn_wait_stream_end(struct conn_wait *w, bool ok);
