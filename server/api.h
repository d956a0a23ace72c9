// SPDX-License-Identifier: MIT
// Helpers shared by the JSON API's files, and the apps-and-grains routes.
#pragma once
#include <stdbool.h>

#include <jansson.h>

struct web_req;
struct http_response;

// A state-changing call is allowed: same origin, and the CSRF header with cookie auth.
// false after answering 403.
bool api_write_ok(struct web_req *w, struct http_response *r);
// api_write_ok, then the JSON object body; NULL after answering the error.
json_t *api_body_object(struct web_req *w, struct http_response *r);
// false after answering 401 / 403.
bool api_need_login(struct web_req *w, struct http_response *r);
bool api_need_admin(struct web_req *w, struct http_response *r);
// The grain named by the path's first '*' (args[0]) when the caller is logged in and owns
// it; false after answering 401, 404 (no such grain) or 403 (someone else's).
struct grain_info;
bool api_own_grain(struct web_req *w, struct http_response *r, struct grain_info *g);
// The apps and grains endpoints (api_grains.c); false when no route matched.
bool api_grains_route(struct web_req *w, struct http_response *r);
// The sharing endpoints (api_shares.c); false when no route matched.
bool api_shares_route(struct web_req *w, struct http_response *r);
// The backup endpoints (api_backup.c); false when no route matched.
bool api_backup_route(struct web_req *w, struct http_response *r);
// Power off, reboot and OS updates (api_system.c); false when no route matched.
bool api_system_route(struct web_req *w, struct http_response *r);
// The HTTPS endpoints (api_https.c); false when no route matched.
bool api_https_route(struct web_req *w, struct http_response *r);
// GET /api/v1/https's object: certificate, ACME progress, the wizard's choice and options.
json_t *api_https_state(struct web_req *w);
