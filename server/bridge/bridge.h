// SPDX-License-Identifier: MIT
// silo-bridge's shared state: the wire to the front (fd 3), the app it supervises, and the
// streams it proxies to the app's HTTP port. One process, one event loop, one struct bridge.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ev.h"
#include "http_resp.h"
#include "wire.h"

#define BRIDGE_WIRE_FD 3
#define BRIDGE_PROBE_MS 10             // how often to try the app's port while it starts
#define BRIDGE_START_TIMEOUT_MS 60000  // then give up waiting (requests get 503)
#define BRIDGE_STOP_GRACE_MS 3000      // SIGTERM to SIGKILL when the front hangs up
#define BRIDGE_DRAIN_MS 1000           // after the app exits: finish what it already wrote
#define BRIDGE_READ_CHUNK 16384        // one read from the app
#define BRIDGE_OUT_HIGH 32768          // stop reading apps above this many unsent wire bytes
#define BRIDGE_OUT_LOW 8192            // and resume below this
#define BRIDGE_BUCKETS 64             // stream ids are sequential: id % 64 spreads them
#define BRIDGE_POOL_MAX 64             // idle keep-alive connections to the app kept open
// Idle pooled connections are closed after this; apps such as notes close theirs after 30 s,
// so the bridge closes first and seldom sends a request on a connection the app just closed.
#define BRIDGE_POOL_IDLE_MS 20000
#define BRIDGE_REPLAY_MAX 65536        // a safe request is kept for one retry up to this size
// A request waiting this long on a new connection while others sit idle: the app may serve
// one connection at a time (blocked reading an idle one), so the idle ones are closed.
#define BRIDGE_STARVE_MS 50

enum app_state {
	APP_STARTING,   // probing 127.0.0.1:PORT; requests wait
	APP_READY,      // it accepted once: requests connect at once
	APP_GAVE_UP,    // it did not within the bound: requests try, 503 when refused
	APP_GONE,       // it exited: requests get 503 while the bridge drains and exits
};

struct bstream;
struct bridge;

// A connection to the app: owned by one stream at a time (never two requests on it at
// once: no pipelining), or idle in the pool. Registered with the loop for its whole life.
struct bconn {
	struct bridge *b;
	int fd;
	unsigned events;             // what fd is watched for (0: not registered)
	struct bstream *s;           // the stream using it; NULL while idle
	bool idle;
	struct bconn *prev, *next;   // the idle list, newest first
	int64_t idle_since;
};

struct bridge {
	struct ev_loop *loop;
	int exit_code;

	// The wire to the front.
	int wire_fd;                 // -1 once closed
	struct buf win, wout;
	size_t wout_off;
	struct ev_defer flush_defer; // wout goes out once per batch of events
	bool hello_received;
	bool wire_congested;         // unsent bytes over BRIDGE_OUT_HIGH: apps are not read
	unsigned wire_events;
	uint32_t last_stream;        // highest stream id the front opened
	struct bstream *streams;
	struct bstream *byid[BRIDGE_BUCKETS]; // the same, by id (a frame names its stream)
	size_t nstreams;

	// The app.
	int port;                    // 0: the app has no HTTP port
	char **argv;
	pid_t app_pid;               // 0 once reaped
	enum app_state app_state;
	int64_t start_ms;
	int64_t start_timeout_ms;
	int probe_fd;
	struct ev_timer probe_timer;
	struct ev_timer stop_timer;  // SIGKILL after the grace, or the end of the drain
	int sig_fd;
	bool stopping;               // the front hung up: the app is being stopped

	// Idle keep-alive connections to the app.
	struct bconn *idle_head, *idle_tail;
	size_t nidle;
	int64_t pool_idle_ms;
	struct ev_timer idle_timer;
	struct ev_timer starve_timer;
	bool starve_logged;
};

// main.c: leaves the event loop; main() then tears down and exits with code.
void bridge_exit(struct bridge *b, int code);

// app.c: the app process, readiness, signals, reaping.
void bridge_signals_setup(struct bridge *b);
void bridge_app_start(struct bridge *b);
// The front hung up: SIGTERM to the app's group, SIGKILL after the grace; exit once reaped.
void bridge_app_stop(struct bridge *b);
// Releases the signalfd, the probe and the timers (at exit).
void bridge_app_close(struct bridge *b);
// A non-blocking connection to 127.0.0.1:PORT in *fd: 0 connected, 1 in progress, -1 (errno).
int bridge_app_connect(struct bridge *b, int *fd);

// pool.c: connections to the app and the idle pool.
// A new connection in the returned conn: *r 0 connected, 1 in progress, -1 (errno; NULL).
struct bconn *bridge_conn_open(struct bridge *b, int *r);
// Watches the connection for ev (0: unregisters it).
void bridge_conn_set_events(struct bconn *c, unsigned ev);
void bridge_conn_close(struct bconn *c);
// A connection whose last response allows reuse goes idle (or is closed past the cap).
void bridge_pool_put(struct bconn *c);
// The newest idle connection, or NULL; checked for a close the loop has not reported yet
// unless the request can be sent again on a fresh connection (can_retry).
struct bconn *bridge_pool_take(struct bridge *b, bool can_retry);
void bridge_pool_close_all(struct bridge *b);
void bridge_conn_idle_event(struct bconn *c);
// proxy.c: a connection went idle: watch for requests starving on new connections.
void bridge_proxy_pooled(struct bridge *b);
// proxy.c: the loop's callback for every app connection.
void bridge_conn_on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);

// link.c: frames to and from the front.
void bridge_link_start(struct bridge *b);
// Writes what it can of the queued frames; call after queueing.
void bridge_link_flush(struct bridge *b);
// Sends wout once the loop's current batch of events is handled: the answers of many
// streams leave in one send.
void bridge_link_flush_soon(struct bridge *b);
// The front is gone (EOF, error or a broken frame): stop the app, drop every stream.
void bridge_link_lost(struct bridge *b, const char *why);
// At exit: keeps writing queued frames for up to timeout_ms.
void bridge_link_drain(struct bridge *b, int timeout_ms);
void bridge_link_close(struct bridge *b);

// proxy.c: one stream = one request to the app.
void bridge_proxy_open(struct bridge *b, uint32_t id, const struct wire_request *req);
struct bstream *bridge_proxy_find(struct bridge *b, uint32_t id);
void bridge_proxy_body(struct bstream *s, const char *p, size_t n);
void bridge_proxy_end(struct bstream *s);
void bridge_proxy_reset(struct bstream *s);
void bridge_proxy_window(struct bstream *s, uint32_t increment);
// The app became reachable (connect queued streams) or will not be (answer them 503).
void bridge_proxy_app_ready(struct bridge *b);
void bridge_proxy_app_unavailable(struct bridge *b, const char *why);
// The wire drained below its low mark: streams may read their apps again.
void bridge_proxy_resume(struct bridge *b);
void bridge_proxy_destroy_all(struct bridge *b);
