// SPDX-License-Identifier: MIT
// The event loop: epoll behind fd callbacks and one-shot timers kept in a min-heap.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "util.h"

struct ev_watch {
	ev_fd_fn *fn;
	void *arg;
	unsigned events;
	unsigned gen;   // bumped on ev_del so stale events in a batch are ignored
	bool active;
};

struct ev_loop {
	int epfd;
	bool stop;
	int64_t now;
	struct ev_watch *w;    // indexed by fd
	size_t nw;
	struct ev_timer **heap; // 1-based min-heap on when
	size_t nheap, capheap;
	struct ev_defer *defers; // armed deferred calls, newest first
};

struct ev_loop *ev_new(void)
{
	struct ev_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->now = util_now_ms();
	return l;
}

void ev_free(struct ev_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->w);
	free(l->heap);
	free(l);
}

static uint32_t to_epoll(unsigned ev)
{
	return (ev & EV_READ ? EPOLLIN | EPOLLRDHUP : 0) | (ev & EV_WRITE ? EPOLLOUT : 0);
}

int ev_add(struct ev_loop *l, int fd, unsigned events, ev_fd_fn *fn, void *arg)
{
	if (fd < 0)
		return -1;
	if ((size_t)fd >= l->nw) {
		size_t n = l->nw ? l->nw : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct ev_watch *w = realloc(l->w, n * sizeof(*w));
		if (!w)
			return -1;
		memset(w + l->nw, 0, (n - l->nw) * sizeof(*w));
		l->w = w;
		l->nw = n;
	}
	struct epoll_event e = {.events = to_epoll(events), .data.fd = fd};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		log_err("ev_add: epoll_ctl(%d): %s", fd, strerror(errno));
		return -1;
	}
	struct ev_watch *w = &l->w[fd];
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	w->active = true;
	return 0;
}

int ev_mod(struct ev_loop *l, int fd, unsigned events)
{
	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active)
		return -1;
	if (l->w[fd].events == events)
		return 0;
	struct epoll_event e = {.events = to_epoll(events), .data.fd = fd};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e) < 0)
		return -1;
	l->w[fd].events = events;
	return 0;
}

void ev_del(struct ev_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->w[fd].active = false;
	l->w[fd].gen++;
}

static bool heap_less(struct ev_loop *l, size_t a, size_t b)
{
	return l->heap[a]->when < l->heap[b]->when;
}

static void heap_swap(struct ev_loop *l, size_t a, size_t b)
{
	struct ev_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_fix(struct ev_loop *l, size_t i)
{
	while (i > 1 && heap_less(l, i, i / 2)) {
		heap_swap(l, i, i / 2);
		i /= 2;
	}
	for (;;) {
		size_t m = i, c = 2 * i;
		if (c <= l->nheap && heap_less(l, c, m))
			m = c;
		if (c + 1 <= l->nheap && heap_less(l, c + 1, m))
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void ev_timer_cancel(struct ev_loop *l, struct ev_timer *t)
{
	size_t i = t->heap_idx;
	if (!i)
		return;
	t->heap_idx = 0;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->heap_idx = i;
		l->nheap--;
		heap_fix(l, i);
	} else {
		l->nheap--;
	}
}

int ev_timer_set(struct ev_loop *l, struct ev_timer *t, int64_t ms, ev_timer_fn *fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->when = l->now + ms;
	if (t->heap_idx) {
		heap_fix(l, t->heap_idx);
		return 0;
	}
	if (l->nheap + 1 >= l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 64;
		struct ev_timer **h = realloc(l->heap, n * sizeof(*h));
		if (!h)
			return -1;
		l->heap = h;
		l->capheap = n;
	}
	l->heap[++l->nheap] = t;
	t->heap_idx = l->nheap;
	heap_fix(l, l->nheap);
	return 0;
}

int64_t ev_now(struct ev_loop *l)
{
	return l->now;
}

void ev_stop(struct ev_loop *l)
{
	l->stop = true;
}

static void run_timers(struct ev_loop *l)
{
	while (l->nheap && l->heap[1]->when <= l->now) {
		struct ev_timer *t = l->heap[1];
		ev_timer_cancel(l, t);
		t->fn(l, t->arg);
	}
}

void ev_defer(struct ev_loop *l, struct ev_defer *d, ev_timer_fn *fn, void *arg)
{
	d->fn = fn;
	d->arg = arg;
	if (d->armed)
		return;
	d->armed = true;
	d->next = l->defers;
	l->defers = d;
}

void ev_defer_cancel(struct ev_loop *l, struct ev_defer *d)
{
	if (!d->armed)
		return;
	for (struct ev_defer **pp = &l->defers; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	d->armed = false;
	d->next = NULL;
}

// Deferred calls, one at a time off the list, so one may cancel another. A bounded number
// per turn: calls that keep deferring more cannot starve the file descriptors.
static void run_defers(struct ev_loop *l)
{
	for (int i = 0; i < 4096 && l->defers; i++) {
		struct ev_defer *d = l->defers;
		l->defers = d->next;
		d->armed = false;
		d->next = NULL;
		d->fn(l, d->arg);
	}
}

int ev_run(struct ev_loop *l)
{
	struct epoll_event evs[128];
	unsigned gens[128];
	l->stop = false;
	while (!l->stop) {
		int timeout = l->defers ? 0 : -1;
		if (l->nheap && !l->defers) {
			int64_t d = l->heap[1]->when - l->now;
			timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
		}
		int n = epoll_wait(l->epfd, evs, 128, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("ev_run: epoll_wait: %s", strerror(errno));
			return -1;
		}
		l->now = util_now_ms();
		for (int i = 0; i < n; i++)
			gens[i] = l->w[evs[i].data.fd].gen;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct ev_watch *w = &l->w[fd];
			// A callback earlier in this batch may have closed (and reused) this fd.
			if (!w->active || w->gen != gens[i])
				continue;
			unsigned e = 0;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				e |= EV_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				e |= EV_WRITE;
			w->fn(l, fd, e & (w->events | (evs[i].events & (EPOLLHUP | EPOLLERR) ? EV_READ : 0)), w->arg);
		}
		run_defers(l);
		run_timers(l);
		run_defers(l);
	}
	return 0;
}
