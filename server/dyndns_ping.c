// SPDX-License-Identifier: MIT
// The dynamic DNS service's UDP ping (docs/DYNDNS.md): a small datagram to the service's
// host every interval; the service answers only when the address it sees is not the one it
// holds for the name, and an answer makes the box call /update at once. UDP can be forged:
// an answer only ever leads to the authenticated /update, so a forged one costs one call.
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dyndns.h"

#define PING_REPLY "changed"

// The host part of the service's URL, without IPv6 brackets.
static int url_host(const char *url, char *out, size_t outsz)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int r = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t n = strlen(host);
		const char *h = host;
		if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
			h++;
			n -= 2;
		}
		if (n && n < outsz) {
			memcpy(out, h, n);
			out[n] = '\0';
			r = 0;
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

int dyndns_ping_open(struct dyndns_ping *p, const char *url, long port, const char *name,
		     char *err, size_t errsz)
{
	p->fd = -1;
	char host[256], service[16];
	if (url_host(url, host, sizeof(host)) < 0) {
		snprintf(err, errsz, "no host in the service's URL %s", url);
		return -1;
	}
	snprintf(service, sizeof(service), "%ld", port);
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
	int e = getaddrinfo(host, service, &hints, &res);
	if (e) {
		snprintf(err, errsz, "%s: %s", host, gai_strerror(e));
		return -1;
	}
	// Connected: the kernel drops datagrams from anyone but the service's address.
	for (struct addrinfo *a = res; a && p->fd < 0; a = a->ai_next) {
		p->fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (p->fd >= 0 && connect(p->fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(p->fd);
			p->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (p->fd < 0) {
		snprintf(err, errsz, "%s port %ld: %s", host, port, strerror(errno));
		return -1;
	}
	int n = snprintf(p->msg, sizeof(p->msg), "ping %s\n", name);
	p->len = n > 0 && (size_t)n < sizeof(p->msg) ? (size_t)n : 0;
	return 0;
}

void dyndns_ping_send(struct dyndns_ping *p)
{
	// Lost, refused or unreachable: the next one goes at the next interval anyway.
	if (p->fd >= 0 && p->len)
		(void)send(p->fd, p->msg, p->len, MSG_NOSIGNAL);
}

int dyndns_ping_wait(struct dyndns_ping *p, int ms)
{
	if (p->fd < 0)
		return 0;
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	if (poll(&pfd, 1, ms < 0 ? 0 : ms) <= 0)
		return 0;
	char buf[64];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	// n < 0: an ICMP error for an earlier ping (nothing listens there), not an answer.
	return n >= (ssize_t)strlen(PING_REPLY) && memcmp(buf, PING_REPLY, strlen(PING_REPLY)) == 0;
}

void dyndns_ping_close(struct dyndns_ping *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
