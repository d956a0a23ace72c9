// SPDX-License-Identifier: MIT
// ACME HTTP-01 answers from the files the ACME worker leaves for them.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "challenge.h"
#include "http.h"
#include "response.h"
#include "server.h"
#include "util.h"
#include "web.h"

bool challenge_token_ok(const char *token)
{
	size_t n = strlen(token);
	return n && n <= CHALLENGE_TOKEN_MAX &&
	       strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

void challenge_serve(const struct web_req *w, struct http_response *r)
{
	const char *token = w->http->path + strlen(CHALLENGE_PREFIX);
	char path[PATH_MAX], body[CHALLENGE_BODY_MAX + 1];
	if (w->http->method != HTTP_GET && w->http->method != HTTP_HEAD) {
		resp_error(r, 405, "method not allowed for this path");
		return;
	}
	// The token names a file: only base64url characters ever reach the path.
	int fd = -1;
	if (challenge_token_ok(token) &&
	    util_path(path, sizeof(path), "%s/tls/acme/challenges/%s", w->srv->cfg.data, token) == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? read(fd, body, sizeof(body)) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0 || n > CHALLENGE_BODY_MAX) {
		resp_error(r, 404, "no such challenge");
		return;
	}
	resp_header(r, "Content-Type", "application/octet-stream");
	resp_header(r, "Cache-Control", "no-store");
	buf_append(&r->body, body, (size_t)n);
}
