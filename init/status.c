// SPDX-License-Identifier: MIT
// The fallback status page: one fixed 503 answer per connection, never blocking PID 1.
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "console.h"
#include "status.h"
#include "version.h"

int status_listen(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0) {
		console_errno("status page: port 80");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void status_answer(int fd, const char *why)
{
	for (int i = 0; i < 16; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			return;
		char body[512], resp[1024];
		int bn = snprintf(body, sizeof(body), "silo %s is not running: %s\n", SILO_VERSION,
				  why);
		int n = snprintf(resp, sizeof(resp),
				 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
				 "charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n"
				 "Retry-After: 5\r\n\r\n%s",
				 bn, body);
		// The answer is the same whatever was asked; reading what has come keeps close()
		// from resetting the connection before the client reads the answer.
		char junk[2048];
		if (recv(c, junk, sizeof(junk), MSG_DONTWAIT) < 0 && errno != EAGAIN) {
			close(c);
			continue;
		}
		if (send(c, resp, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
			// The client went away; nothing to do.
		}
		shutdown(c, SHUT_WR);
		close(c);
	}
}
