// SPDX-License-Identifier: MIT
// silo-bridge's connections to the app and the small pool of idle ones kept alive between
// requests. A connection stays registered with the event loop for its whole life, so handing
// it from one stream to the next costs no epoll_ctl; while idle, a readable socket means the
// app closed it (or misbehaved) and it is dropped.
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"

struct bconn *bridge_conn_open(struct bridge *b, int *r)
{
	struct bconn *c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		*r = -1;
		return NULL;
	}
	*r = bridge_app_connect(b, &c->fd);
	if (*r < 0) {
		int e = errno;
		free(c);
		errno = e;
		return NULL;
	}
	c->b = b;
	return c;
}

void bridge_conn_set_events(struct bconn *c, unsigned ev)
{
	if (ev == c->events)
		return;
	struct ev_loop *loop = c->b->loop;
	// Not registered at all when nothing is wanted, so a hang-up cannot spin the loop.
	if (!c->events)
		ev_add(loop, c->fd, ev, bridge_conn_on_io, c);
	else if (!ev)
		ev_del(loop, c->fd);
	else
		ev_mod(loop, c->fd, ev);
	c->events = ev;
}

static void unlink_idle(struct bridge *b, struct bconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		b->idle_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		b->idle_tail = c->prev;
	c->prev = c->next = NULL;
	b->nidle--;
}

void bridge_conn_close(struct bconn *c)
{
	if (!c)
		return;
	if (c->idle)
		unlink_idle(c->b, c);
	if (c->events)
		ev_del(c->b->loop, c->fd);
	close(c->fd);
	free(c);
}

static void on_idle_timer(struct ev_loop *loop, void *arg);

static void arm_idle_timer(struct bridge *b)
{
	if (!b->idle_tail) {
		ev_timer_cancel(b->loop, &b->idle_timer);
		return;
	}
	int64_t left = b->idle_tail->idle_since + b->pool_idle_ms - ev_now(b->loop);
	ev_timer_set(b->loop, &b->idle_timer, left > 0 ? left : 0, on_idle_timer, b);
}

// The oldest idle connections are at the tail: close those idle for the whole timeout.
static void on_idle_timer(struct ev_loop *loop, void *arg)
{
	struct bridge *b = arg;
	while (b->idle_tail && ev_now(loop) - b->idle_tail->idle_since >= b->pool_idle_ms)
		bridge_conn_close(b->idle_tail);
	arm_idle_timer(b);
}

void bridge_pool_put(struct bconn *c)
{
	struct bridge *b = c->b;
	c->s = NULL;
	if (b->nidle >= BRIDGE_POOL_MAX || b->stopping || b->app_state == APP_GONE) {
		bridge_conn_close(c);
		return;
	}
	c->idle = true;
	c->idle_since = ev_now(b->loop);
	c->prev = NULL;
	c->next = b->idle_head;
	if (b->idle_head)
		b->idle_head->prev = c;
	else
		b->idle_tail = c;
	b->idle_head = c;
	b->nidle++;
	bridge_conn_set_events(c, EV_READ);
	if (!b->idle_timer.heap_idx)
		arm_idle_timer(b);
	bridge_proxy_pooled(b);
}

struct bconn *bridge_pool_take(struct bridge *b, bool can_retry)
{
	// The most recently used first: the one the app is least likely to have timed out.
	while (b->idle_head) {
		struct bconn *c = b->idle_head;
		unlink_idle(b, c);
		c->idle = false;
		// A request that is sent again on a fresh connection if this one turns out dead
		// goes without a check: the loop drops connections the app closed as it hears of it.
		if (can_retry)
			return c;
		// Anything readable on an idle connection (EOF, a reset, stray bytes) makes it
		// unusable; the loop may not have told us yet.
		char byte;
		ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return c;
		bridge_conn_close(c);
	}
	if (!b->idle_tail)
		ev_timer_cancel(b->loop, &b->idle_timer);
	return NULL;
}

void bridge_pool_close_all(struct bridge *b)
{
	while (b->idle_head)
		bridge_conn_close(b->idle_head);
	ev_timer_cancel(b->loop, &b->idle_timer);
	ev_timer_cancel(b->loop, &b->starve_timer);
}

// An idle connection became readable: the app closed it, reset it, or sent bytes nobody
// asked for. Streams get their events through the proxy.
void bridge_conn_idle_event(struct bconn *c)
{
	bridge_conn_close(c);
}
