// SPDX-License-Identifier: MIT
// One HTTP/1.1 connection: reads and parses requests (keep-alive, pipelining, bodies with
// Content-Length or chunked), hands each to routes_handle, writes the responses.
#pragma once

#include "app.h"

// Takes over fd (non-blocking, accepted); closes it when the connection cannot be set up.
void client_open(struct app *app, int fd);
// Closes every connection (at shutdown).
void client_close_all(struct app *app);
