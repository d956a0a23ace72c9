// SPDX-License-Identifier: MIT
// Client connections: read requests, hand them to the web layer, write responses; the
// per-address cap and the timeouts that keep slow or idle clients from holding the server.
#pragma once
#include <stdbool.h>

struct server;
struct conn;

// Takes ownership of fd (non-blocking, accepted). peer: the client's address text.
// Refuses (closes fd) when the server or this address is at its connection cap.
void conn_open(struct server *s, int fd, const char *peer);
// Closes a connection now; why is logged at debug level only.
void conn_close(struct conn *c, const char *why);
// For a graceful stop: idle connections close now, busy ones after their response.
void conn_drain_all(struct server *s);
// Closes every connection (end of the drain).
void conn_close_all(struct server *s);
