// SPDX-License-Identifier: MIT
// The probe's tiny HTTP/1.1 server: one connection at a time, GET only, Connection: close.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define REQ_MAX 8192

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F'                          ? c - 'A' + 10
								: -1;
}

// Decodes %XX and '+' in place.
static void urldecode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
			r += 2;
		} else {
			*w++ = *r == '+' ? ' ' : *r;
		}
	}
	*w = '\0';
}

static void parse_query(char *q, struct probe_opts *o)
{
	for (char *tok = strtok(q, "&"); tok; tok = strtok(NULL, "&")) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		urldecode(v);
		if (strcmp(tok, "host_port") == 0)
			o->host_port = atoi(v);
		else if (strcmp(tok, "other_var") == 0)
			o->other_var = v;
		else if (strcmp(tok, "arg") == 0)
			o->arg = atol(v);
		else if (strcmp(tok, "look") == 0 && o->nlook < 8)
			o->look[o->nlook++] = v;
	}
}

static void respond(int fd, int status, const char *type, const char *body)
{
	char head[256];
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason, type, strlen(body));
	if (write(fd, head, (size_t)n) == n) {
		size_t len = strlen(body), off = 0;
		while (off < len) {
			ssize_t w = write(fd, body + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
}

static void handle(int fd)
{
	char req[REQ_MAX + 1];
	size_t len = 0;
	while (len < REQ_MAX) {
		ssize_t n = read(fd, req + len, REQ_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
	char method[8], target[2048];
	if (sscanf(req, "%7s %2047s", method, target) != 2 || strcmp(method, "GET") != 0) {
		respond(fd, 400, "text/plain", "bad request\n");
		return;
	}
	struct probe_opts o = { .host_port = 0 };
	char *q = strchr(target, '?');
	if (q) {
		*q++ = '\0';
		parse_query(q, &o);
	}
	if (strcmp(target, "/health") == 0) {
		respond(fd, 200, "text/plain", "ok\n");
		return;
	}
	if (strcmp(target, "/echo") == 0) {
		// The request head as the app received it, and cookies a hostile app would set:
		// silo must pass only the host-only one that is not silo's.
		const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				   "Set-Cookie: silo_session=tossed; Path=/\r\n"
				   "Set-Cookie: wide=1; Domain=localhost; Path=/\r\n"
				   "Set-Cookie: own=1; Path=/\r\nConnection: close\r\n\r\n";
		if (write(fd, head, strlen(head)) > 0 && write(fd, req, len) < 0)
			return;
		return;
	}
	if (strcmp(target, "/ws") == 0) {
		// A WebSocket stand-in: 101, then every byte echoed back (framing is the
		// client's business), in a child so the probe goes on serving.
		if (fork() == 0) {
			const char *up = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
					 "Connection: Upgrade\r\nSec-WebSocket-Accept: probe\r\n\r\n";
			struct timeval tv = { 60, 0 };
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			char b[4096];
			ssize_t n = write(fd, up, strlen(up));
			while (n > 0 && (n = read(fd, b, sizeof(b))) > 0 && write(fd, b, (size_t)n) == n)
				;
			_exit(0);
		}
		return;
	}
	struct json j;
	json_init(&j);
	int status = 200;
	if (strcmp(target, "/report") == 0)
		probe_report(&j, &o);
	else if (strncmp(target, "/attack/", 8) != 0 || probe_attack(&j, target + 8, &o) < 0)
		status = 404;
	respond(fd, status, status == 200 ? "application/json" : "text/plain",
		status == 200 ? json_text(&j) : "not found\n");
	json_free(&j);
}

int probe_serve(int port)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
		fprintf(stderr, "probe: listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	fprintf(stderr, "probe: listening on 127.0.0.1:%d\n", port);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "probe: accept: %s\n", strerror(errno));
			return 1;
		}
		struct timeval tv = { 5, 0 };
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		handle(c);
		close(c);
		while (waitpid(-1, NULL, WNOHANG) > 0) // WebSocket children that ended
			;
	}
}
