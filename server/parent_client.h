// SPDX-License-Identifier: MIT
// The front's side of the privsep channel: asynchronous requests to the parent on the
// event loop, and the parent's notices (a grain exited).
#pragma once
#include <stdint.h>

#include "privsep.h"

struct server;

typedef void pc_reply_fn(void *arg, const struct priv_msg *reply, int fd);

// Watches sock on the server's loop. 0 / -1.
int pc_init(struct server *s, int sock);
void pc_fini(struct server *s);
// Sends m (its id is set here) with fd (-1: none). fn runs once with the reply and the fd it
// carried (fn owns it; -1 when none); when the parent is gone, with status EPIPE. Returns
// the request's id, 0 when it could not be sent (fn is not called then).
uint32_t pc_request(struct server *s, struct priv_msg *m, int fd, pc_reply_fn *fn, void *arg);
// Forgets a request: its fn will not run (a reply's fd is closed).
void pc_cancel(struct server *s, uint32_t id);
// Who hears that a grain's sandbox ended.
void pc_on_grain_exit(struct server *s, void (*fn)(struct server *s, const char *grain,
						    int status));
