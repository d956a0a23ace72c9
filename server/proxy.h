// SPDX-License-Identifier: MIT
// One browser request on a session host, carried to the grain over its wire and the
// grain's answer streamed back: header whitelists both ways, identity headers added, the
// grain's Content-Security-Policy applied.
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct server;
struct web_req;
struct http_response;
struct gm_session;

// Answers w (deferring the response) for the session's grain, whose access the caller has
// checked. device: a device's token on the API host, not a browser's session host.
void proxy_request(struct web_req *w, struct http_response *r, const struct gm_session *sess,
		   bool device);
// Ends every exchange in progress (WebSockets too) whose holder lost access to its grain.
void proxy_revalidate(struct server *s);
// The per-grain pseudonym of a user: 32 hex characters, stable for one user and grain.
void proxy_user_id(const struct server *s, int64_t user_id, const char *grain, char out[33]);
