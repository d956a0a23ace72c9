// SPDX-License-Identifier: MIT
// The front's side of a grain's wire (docs/WIRE.md): many HTTP exchanges multiplexed over
// the one connected socket to the grain's silo-bridge, on the server's event loop, with
// per-stream flow control both ways so neither a slow browser nor a slow app makes anyone
// buffer without bound.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "wire.h"

struct gc;
struct gc_stream;

// A stream's callbacks. Each may call any gc_* function, gc_stream_close and gc_free
// included; the memory they release is freed only after the callback returns.
struct gc_stream_cbs {
	// The app's status and headers; the strings are valid during the call only.
	void (*on_response)(struct gc_stream *s, void *arg, const struct wire_response *r);
	// Body bytes (after a 101: the app's side of the upgraded connection). Bytes count as
	// consumed when this returns, unless the stream is paused.
	void (*on_body)(struct gc_stream *s, void *arg, const char *p, size_t n);
	// The response is complete (after a 101: the app closed its side).
	void (*on_end)(struct gc_stream *s, void *arg);
	// The stream failed; code is a WIRE_RESET_*, WIRE_RESET_LOST when the wire died. No
	// callback follows. A reset before on_response means no response at all: answer 502.
	void (*on_reset)(struct gc_stream *s, void *arg, unsigned code);
	// Optional: the request body queued with gc_send_body has all been sent.
	void (*on_drain)(struct gc_stream *s, void *arg);
};

// Called once when the wire dies (the grain exited, hung up or broke the protocol), after
// on_reset for every open stream. The owner then calls gc_free (here or later).
typedef void gc_dead_fn(struct gc *gc, void *arg, const char *why);

// Takes ownership of fd (the front's end of the grain's wire), makes it non-blocking and
// says HELLO. NULL on out of memory (fd is closed).
struct gc *gc_new(struct ev_loop *loop, int fd, gc_dead_fn *on_dead, void *arg);
// Closes the wire. Streams still open first hear on_reset(WIRE_RESET_LOST), where their
// owners drop (or gc_stream_close) their handles: every handle is invalid once this returns.
// on_dead is not called. Safe inside any callback, on_dead included.
void gc_free(struct gc *gc);
bool gc_alive(const struct gc *gc);
// Streams not yet released with gc_stream_close.
size_t gc_nstreams(const struct gc *gc);

// Opens a stream: req is framed at once (X-Sandstorm-* headers other than X-Sandstorm-App-*
// are dropped first). When req->content_length is 0 and req is not a WebSocket upgrade,
// END is sent too. NULL with *err WIRE_OK when the wire is dead or WIRE_MAX_STREAMS are
// open (answer 503), WIRE_ERR_NOMEM when out of memory (503), else req broke the rule
// *err names (answer the browser 400).
struct gc_stream *gc_open(struct gc *gc, const struct wire_request *req,
			  const struct gc_stream_cbs *cb, void *arg, enum wire_err *err);
// Queues request body bytes (after a 101: the browser's side); they go out as the grain
// gives credit. 0, or -1 when the stream is over, ended or out of memory.
int gc_send_body(struct gc_stream *s, const void *p, size_t n);
// No more body from the front's side (sent after the queued bytes). 0 / -1.
int gc_send_end(struct gc_stream *s);
// Body bytes queued by gc_send_body and not sent yet: stop reading the browser while high.
size_t gc_stream_queued(const struct gc_stream *s);
// A paused stream returns no credit, so the grain stops sending once its window (at most
// WIRE_INITIAL_WINDOW bytes after the pause) is spent. Use while the browser's connection
// has too much unsent output; resume when it drained.
void gc_stream_pause(struct gc_stream *s);
void gc_stream_resume(struct gc_stream *s);
uint32_t gc_stream_id(const struct gc_stream *s);
// Releases the stream; the owner calls it exactly once, whenever it is done (after on_end,
// after on_reset, or to abandon the exchange: then the grain gets a RESET). No callback
// follows.
void gc_stream_close(struct gc_stream *s);

// A synchronous exchange for tests and tools: runs its own event loop over a dup of fd (a
// wire no other gc uses), sends req with body, and collects the response. 0 when a whole
// response came back; -1 otherwise (reset or timeout: res->reset is the code, or 0).
struct gc_result {
	int status;
	struct buf headers;   // "Name: value\n" per header
	struct buf body;
	unsigned reset;
};
int gc_fetch(int fd, const struct wire_request *req, const void *body, size_t n, int timeout_ms,
	     struct gc_result *res);
void gc_result_free(struct gc_result *res);
