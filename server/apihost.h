// SPDX-License-Identifier: MIT
// The API host where devices reach grains with a token instead of a browser session.
#pragma once
#include <stdbool.h>

#include "shares.h"

struct server;
struct web_req;
struct http_response;

// Whether host (lowercase, no port) is api.<shell host> or api-<share id>.<shell host>;
// share gets the id of the latter ("" for the former).
bool apihost_match(const struct server *s, const char *host, char share[SHARE_ID_LEN + 1]);
// Answers a request on the API host: 401 without a live device token, else the grain's.
void apihost_handle(struct web_req *w, struct http_response *r, const char *host_share);
