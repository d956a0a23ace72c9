// SPDX-License-Identifier: MIT
// The front's side of the privsep channel.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "parent_client.h"
#include "server.h"

struct pc_wait {
	struct pc_wait *next;
	uint32_t id;
	pc_reply_fn *fn;
	void *arg;
};

struct pc {
	int sock;
	uint32_t next_id;
	struct pc_wait *waits;
	void (*on_exit)(struct server *s, const char *grain, int status);
};

static struct pc_wait *take(struct pc *pc, uint32_t id)
{
	for (struct pc_wait **pp = &pc->waits; *pp; pp = &(*pp)->next) {
		if ((*pp)->id != id)
			continue;
		struct pc_wait *w = *pp;
		*pp = w->next;
		return w;
	}
	return NULL;
}

// The parent is gone: every waiting request fails, and the front stops.
static void parent_gone(struct server *s)
{
	struct pc *pc = s->pc;
	ev_del(s->loop, pc->sock);
	while (pc->waits) {
		struct pc_wait *w = pc->waits;
		pc->waits = w->next;
		struct priv_msg m = {.type = PRIV_REPLY, .id = w->id, .status = EPIPE};
		strcpy(m.text, "the privileged parent is gone");
		w->fn(w->arg, &m, -1);
		free(w);
	}
	log_err("front: the parent process is gone; stopping");
	ev_stop(s->loop);
}

static void on_parent(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)events;
	struct server *s = arg;
	struct pc *pc = s->pc;
	struct priv_msg m;
	int mfd;
	int r = priv_recv(fd, &m, &mfd);
	if (r == 1 || (r < 0 && errno != EAGAIN && errno != EINTR && errno != 0)) {
		parent_gone(s);
		return;
	}
	if (r < 0)
		return;
	if (m.type == PRIV_GRAIN_EXITED) {
		if (pc->on_exit)
			pc->on_exit(s, m.grain, (int)m.value);
		if (mfd >= 0)
			close(mfd);
		return;
	}
	struct pc_wait *w = m.type == PRIV_REPLY ? take(pc, m.id) : NULL;
	if (!w) {
		if (mfd >= 0)
			close(mfd); // a cancelled request's answer
		return;
	}
	w->fn(w->arg, &m, mfd);
	free(w);
}

int pc_init(struct server *s, int sock)
{
	struct pc *pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -1;
	pc->sock = sock;
	s->pc = pc;
	return ev_add(s->loop, sock, EV_READ, on_parent, s);
}

void pc_fini(struct server *s)
{
	struct pc *pc = s->pc;
	if (!pc)
		return;
	while (pc->waits) {
		struct pc_wait *w = pc->waits;
		pc->waits = w->next;
		free(w);
	}
	close(pc->sock);
	free(pc);
	s->pc = NULL;
}

uint32_t pc_request(struct server *s, struct priv_msg *m, int fd, pc_reply_fn *fn, void *arg)
{
	struct pc *pc = s->pc;
	if (!pc)
		return 0;
	struct pc_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	if (++pc->next_id == 0)
		pc->next_id = 1;
	m->id = pc->next_id;
	if (priv_send(pc->sock, m, fd) < 0) {
		log_err("pc_request: cannot reach the parent: %s", strerror(errno));
		free(w);
		return 0;
	}
	w->id = m->id;
	w->fn = fn;
	w->arg = arg;
	w->next = pc->waits;
	pc->waits = w;
	return w->id;
}

void pc_cancel(struct server *s, uint32_t id)
{
	if (s->pc)
		free(take(s->pc, id));
}

void pc_on_grain_exit(struct server *s, void (*fn)(struct server *s, const char *grain,
						    int status))
{
	if (s->pc)
		s->pc->on_exit = fn;
}
