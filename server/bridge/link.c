// SPDX-License-Identifier: MIT
// silo-bridge's side of the wire (fd 3): reads and dispatches the front's frames, writes
// ours, and tells the proxy when the front stops reading so apps stop being read too.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"
#include "util.h"

#define LINK_READS_PER_WAKEUP 4          // then let the other fds have a turn
#define LINK_BUF_KEEP (256 * 1024)       // larger idle buffers are given back

static void on_wire(struct ev_loop *loop, int fd, unsigned events, void *arg);

static void set_events(struct bridge *b)
{
	if (b->wire_fd < 0)
		return;
	size_t pending = b->wout.len - b->wout_off;
	// A front that stops reading our answers gets no new requests served either.
	unsigned ev = (pending > 4 * BRIDGE_OUT_HIGH ? 0 : EV_READ) | (pending ? EV_WRITE : 0);
	if (ev == b->wire_events)
		return;
	if (!b->wire_events)
		ev_add(b->loop, b->wire_fd, ev, on_wire, b);
	else if (!ev)
		ev_del(b->loop, b->wire_fd);
	else
		ev_mod(b->loop, b->wire_fd, ev);
	b->wire_events = ev;
}

void bridge_link_start(struct bridge *b)
{
	b->wire_fd = BRIDGE_WIRE_FD;
	if (wire_put_hello(&b->wout) != WIRE_OK)
		die("out of memory");
	bridge_link_flush(b);
	set_events(b);
}

void bridge_link_close(struct bridge *b)
{
	if (b->wire_fd < 0)
		return;
	if (b->wire_events)
		ev_del(b->loop, b->wire_fd);
	ev_defer_cancel(b->loop, &b->flush_defer);
	close(b->wire_fd);
	b->wire_fd = -1;
	b->wire_events = 0;
}

void bridge_link_lost(struct bridge *b, const char *why)
{
	if (b->wire_fd < 0)
		return;
	log_info("bridge: %s", why);
	bridge_link_close(b);
	buf_reset(&b->win);
	buf_reset(&b->wout);
	b->wout_off = 0;
	bridge_proxy_destroy_all(b);
	bridge_app_stop(b);
}

void bridge_link_flush(struct bridge *b)
{
	if (b->wire_fd < 0)
		return;
	while (b->wout_off < b->wout.len) {
		ssize_t n = send(b->wire_fd, b->wout.data + b->wout_off, b->wout.len - b->wout_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			b->wout_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			char why[128];
			snprintf(why, sizeof(why), "writing to the front: %s; stopping",
				 n < 0 ? strerror(errno) : "no progress");
			bridge_link_lost(b, why);
			return;
		}
	}
	if (b->wout_off == b->wout.len) {
		b->wout_off = 0;
		b->wout.len = 0;
		if (b->wout.cap > LINK_BUF_KEEP)
			buf_free(&b->wout);
	} else if (b->wout_off > b->wout.len / 2) {
		buf_consume(&b->wout, b->wout_off);
		b->wout_off = 0;
	}
	size_t pending = b->wout.len - b->wout_off;
	bool was = b->wire_congested;
	if (pending > BRIDGE_OUT_HIGH)
		b->wire_congested = true;
	else if (pending <= BRIDGE_OUT_LOW)
		b->wire_congested = false;
	set_events(b);
	if (was && !b->wire_congested)
		bridge_proxy_resume(b);
}

static void on_flush_defer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	bridge_link_flush(arg);
}

void bridge_link_flush_soon(struct bridge *b)
{
	if (b->wire_fd < 0)
		return;
	// Bulk data goes at once: held to the end of a batch, every stream's read would pile up
	// in wout before the congestion check saw any of it.
	if (b->wout.len - b->wout_off >= BRIDGE_OUT_LOW)
		bridge_link_flush(b);
	else
		ev_defer(b->loop, &b->flush_defer, on_flush_defer, b);
}

void bridge_link_drain(struct bridge *b, int timeout_ms)
{
	int64_t deadline = util_now_ms() + timeout_ms;
	while (b->wire_fd >= 0 && b->wout_off < b->wout.len) {
		int64_t left = deadline - util_now_ms();
		struct pollfd p = {.fd = b->wire_fd, .events = POLLOUT};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		ssize_t n = send(b->wire_fd, b->wout.data + b->wout_off, b->wout.len - b->wout_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return;
		if (n > 0)
			b->wout_off += (size_t)n;
	}
}

// Stream-level frames; ids at or below the highest one opened and no longer known are late
// frames for a finished stream, and dropped.
static void stream_frame(struct bridge *b, const struct wire_frame *f)
{
	struct bstream *s = bridge_proxy_find(b, f->stream);
	if (!s) {
		if (f->stream > b->last_stream && f->type != WIRE_RESET) {
			log_warn("bridge: %s for stream %u that was never opened",
				 wire_type_name(f->type), f->stream);
			wire_put_reset(&b->wout, f->stream, WIRE_RESET_PROTOCOL);
		}
		return;
	}
	switch (f->type) {
	case WIRE_BODY:
		bridge_proxy_body(s, f->payload, f->len);
		break;
	case WIRE_END:
		bridge_proxy_end(s);
		break;
	case WIRE_RESET:
		bridge_proxy_reset(s);
		break;
	case WIRE_WINDOW:
		bridge_proxy_window(s, f->increment);
		break;
	default:
		break;
	}
}

// Handles one frame; false when the wire is unusable from here on.
static bool handle_frame(struct bridge *b, const struct wire_frame *f)
{
	if (!b->hello_received) {
		if (f->type != WIRE_HELLO) {
			bridge_link_lost(b, "the front's first frame is not HELLO; stopping");
			return false;
		}
		b->hello_received = true;
		return true;
	}
	switch (f->type) {
	case WIRE_HELLO:
	case WIRE_RESPONSE: {
		char why[96];
		snprintf(why, sizeof(why), "unexpected %s from the front; stopping",
			 wire_type_name(f->type));
		bridge_link_lost(b, why);
		return false;
	}
	case WIRE_REQUEST: {
		struct wire_request req;
		enum wire_err e = wire_decode_request(f->payload, f->len, &req);
		if (e) {
			log_warn("bridge: stream %u: bad REQUEST: %s", f->stream, wire_strerror(e));
			if (f->stream > b->last_stream)
				b->last_stream = f->stream;
			wire_put_reset(&b->wout, f->stream, WIRE_RESET_PROTOCOL);
			return true;
		}
		bridge_proxy_open(b, f->stream, &req);
		return true;
	}
	default:
		stream_frame(b, f);
		return b->wire_fd >= 0;
	}
}

static void process_input(struct bridge *b)
{
	size_t off = 0;
	while (b->wire_fd >= 0) {
		struct wire_frame f;
		size_t used;
		enum wire_err e = wire_decode_frame(b->win.data + off, b->win.len - off, &f, &used);
		if (e == WIRE_INCOMPLETE)
			break;
		if (e) {
			char why[128];
			snprintf(why, sizeof(why), "bad frame from the front: %s; stopping",
				 wire_strerror(e));
			bridge_link_lost(b, why);
			return;
		}
		off += used;
		if (!handle_frame(b, &f))
			return;
	}
	if (b->wire_fd < 0)
		return;
	buf_consume(&b->win, off);
	if (!b->win.len && b->win.cap > LINK_BUF_KEEP)
		buf_free(&b->win);
}

static void read_wire(struct bridge *b)
{
	for (int i = 0; i < LINK_READS_PER_WAKEUP && b->wire_fd >= 0; i++) {
		if (buf_reserve(&b->win, BRIDGE_READ_CHUNK) < 0) {
			bridge_link_lost(b, "out of memory reading the wire; stopping");
			return;
		}
		ssize_t n = read(b->wire_fd, b->win.data + b->win.len, BRIDGE_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			char why[128];
			snprintf(why, sizeof(why), "the front closed the wire%s%s; stopping",
				 n ? ": " : "", n ? strerror(errno) : "");
			bridge_link_lost(b, why);
			return;
		}
		b->win.len += (size_t)n;
		process_input(b);
		if ((size_t)n < BRIDGE_READ_CHUNK)
			return;
	}
}

static void on_wire(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	struct bridge *b = arg;
	if (events & EV_READ)
		read_wire(b);
	if (events & EV_WRITE)
		bridge_link_flush(b);
	else
		bridge_link_flush_soon(b);
}
