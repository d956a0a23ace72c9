// SPDX-License-Identifier: MIT
// The notes server's state: one notebook, who is here, the open connections.
#pragma once
#include <stddef.h>

#include "ev.h"
#include "notebook.h"
#include "presence.h"

#define APP_MAX_CLIENTS 256          // past it new connections are closed at once
#define APP_MAX_BODY (256u << 10)    // request bodies; a 64 KiB note form-encoded fits
#define APP_TIMEOUT_MS 30000         // for a whole request, and between keep-alive requests

struct client;

struct app {
	struct ev_loop *loop;
	int listen_fd;
	struct ev_timer accept_pause;   // out of file descriptors: stop accepting for a moment
	struct notebook nb;
	struct presence here;
	struct client *clients;   // a list, so shutdown can close them all
	size_t nclients;
};
