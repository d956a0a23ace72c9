// SPDX-License-Identifier: MIT
// The web layer: routes a parsed request by host and path to the shell's pages, its static
// assets or the JSON API, with the caller's identity and the CSRF and Origin checks resolved.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "http.h"
#include "response.h"

struct server;

struct conn;

struct web_req {
	struct server *srv;
	struct conn *conn;                  // for conn_defer
	const struct http_request *http;
	const char *body;
	size_t body_len;
	int body_fd;                        // a spooled body (uploads), else -1
	const char *peer;
	bool tls;
	// Resolved by web_handle before a handler runs.
	int64_t now;
	bool logged_in;
	bool via_token;                     // Authorization: Bearer, not a cookie
	struct user user;
	char csrf[TOKEN_HEX_LEN + 1];       // the session's, or the pre-session form token
	char cookie[TOKEN_HEX_LEN + 1];     // the session cookie presented, if valid
	const char *args[4];                // path segments matched by '*' in the route
	char argbuf[4][TOKEN_HEX_LEN + 8];
};

void web_handle(struct web_req *w, struct http_response *r);
// The body limit for a request whose head just arrived; *spool: keep the body in a file
// (web_spool_open) instead of memory, for uploads.
uint64_t web_body_limit(const struct server *s, const struct http_request *req, bool *spool);
// An anonymous temporary file for a spooled body; -1 on error (logged).
int web_spool_open(const struct server *s);

// Helpers for the handlers in shell.c and api.c.
// The value of cookie name, copied into out; NULL when absent or too long.
const char *web_cookie(const struct web_req *w, const char *name, char *out, size_t outsz);
// The value of name in the query string, decoded into out; false when absent or bad.
bool web_query(const struct web_req *w, const char *name, char *out, size_t outsz);
// true when the query string holds exactly name=1.
bool web_query_flag(const struct web_req *w, const char *name);
// A field of an application/x-www-form-urlencoded body, decoded. 0 found, -1 absent/bad.
int web_form(const struct web_req *w, const char *field, char *out, size_t outsz);
// The request's Origin (or Referer's origin) names the base URL's origin, or is absent.
bool web_origin_ok(const struct web_req *w);
void web_set_session(const struct web_req *w, struct http_response *r, const char *cookie);
void web_clear_session(const struct web_req *w, struct http_response *r);
// The server's display name ("silo" until set up), cached for a second.
void web_server_name(const struct web_req *w, char *out, size_t outsz);
// Drops the cached name (after setup changed it).
void web_server_name_changed(void);

// Handlers: shell.c answers pages, api.c the JSON API. Each returns false when no route
// matched the path.
bool shell_route(struct web_req *w, struct http_response *r);
bool api_route(struct web_req *w, struct http_response *r);

// A route table entry: method 0 matches any; '*' in pattern matches one path segment.
struct web_route {
	int method;
	const char *pattern;
	void (*fn)(struct web_req *w, struct http_response *r);
};
// Runs the first matching route. 1 ran, 0 no path matched, -1 path matched but not the
// method (405 answered).
int web_dispatch(struct web_req *w, struct http_response *r, const struct web_route *routes,
		 size_t n);
