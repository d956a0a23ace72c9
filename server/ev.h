// SPDX-License-Identifier: MIT
// The event loop: epoll behind fd callbacks and one-shot timers (a min-heap). Protocol code
// never calls epoll itself.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define EV_READ 1u
#define EV_WRITE 2u

struct ev_loop;
typedef void ev_fd_fn(struct ev_loop *loop, int fd, unsigned events, void *arg);
typedef void ev_timer_fn(struct ev_loop *loop, void *arg);

// A timer lives in its owner's struct; the loop only points to it while armed.
struct ev_timer {
	int64_t when;      // monotonic ms
	size_t heap_idx;   // 0: not armed
	ev_timer_fn *fn;
	void *arg;
};

// A deferred call runs once after the current batch of events, before the loop waits
// again: work many events of one batch add to (output to flush) is done once. It lives in
// its owner's struct, like a timer.
struct ev_defer {
	struct ev_defer *next;
	bool armed;
	ev_timer_fn *fn;
	void *arg;
};
struct ev_loop *ev_new(void);
void ev_free(struct ev_loop *loop);
// Watches fd for events (EV_READ|EV_WRITE); fd must not be watched already. 0 / -1.
int ev_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_fn *fn, void *arg);
int ev_mod(struct ev_loop *loop, int fd, unsigned events);
// Stops watching fd (before closing it). Pending events for it are dropped.
void ev_del(struct ev_loop *loop, int fd);
// Arms (or re-arms) t to fire once after ms milliseconds. 0 / -1.
int ev_timer_set(struct ev_loop *loop, struct ev_timer *t, int64_t ms, ev_timer_fn *fn, void *arg);
void ev_timer_cancel(struct ev_loop *loop, struct ev_timer *t);
// Arms d (once: arming an armed call only updates fn and arg); cancel disarms it.
void ev_defer(struct ev_loop *loop, struct ev_defer *d, ev_timer_fn *fn, void *arg);
void ev_defer_cancel(struct ev_loop *loop, struct ev_defer *d);
// The loop's cached monotonic time in ms, updated once per iteration.
int64_t ev_now(struct ev_loop *loop);
// Runs until ev_stop. 0, or -1 when epoll fails.
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);
