// SPDX-License-Identifier: MIT
// What the notes server answers: the notebook page, its forms, the JSON API, static files.
#pragma once
#include <stddef.h>

#include "app.h"
#include "http.h"
#include "response.h"

// Answers one complete request (body[0..len), possibly empty) into resp.
void routes_handle(struct app *app, const struct http_request *req, const char *body,
		   size_t len, struct http_response *resp);
// An error answered before a request reached routes_handle (bad framing, too large, ...):
// HTML for pages, JSON for /api/ and when req is NULL (the head could not be parsed).
void routes_error(const struct http_request *req, int status, struct http_response *resp);
