// SPDX-License-Identifier: MIT
// The HTTP server: listeners, accepting, signals and the graceful stop.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "server.h"
#include "util.h"

// Binds and listens; quiet_busy: an address in use is not logged (the caller retries).
static int listen_on(const char *addr, bool quiet_busy)
{
	char host[CONFIG_MAX_ADDR];
	int port;
	if (config_split_addr(addr, host, sizeof(host), &port) < 0) {
		log_err("server: listen address '%s' is not ADDRESS:PORT", addr);
		return -1;
	}
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*a6);
	} else {
		log_err("server: '%s' is not an IPv4 or IPv6 address", host);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("server: socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		if (!(quiet_busy && errno == EADDRINUSE))
			log_err("server: cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)outsz);
		return;
	}
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a))
		inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outsz);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)outsz);
}

static void on_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	(void)loop;
	(void)events;
	struct server *s = arg;
	for (int i = 0; i < 64 && !s->draining; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_err("server: accept: %s", strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		char peer[64];
		peer_text(&ss, peer, sizeof(peer));
		bool tls = false;
		for (size_t k = 0; k < s->nlfds; k++)
			if (s->lfds[k] == lfd)
				tls = s->ltls[k];
		conn_open(s, fd, peer, tls);
	}
}

static void on_stop_timer(struct ev_loop *loop, void *arg)
{
	(void)arg;
	log_warn("server: shutdown timeout reached; closing remaining connections");
	ev_stop(loop);
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events;
	struct server *s = arg;
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) != sizeof(si) || s->draining)
		return;
	log_info("server: %s received; stopping (in-flight requests get %lds)",
		 strsignal((int)si.ssi_signo), s->cfg.shutdown_timeout);
	s->draining = true;
	for (size_t i = 0; i < s->nlfds; i++) {
		ev_del(loop, s->lfds[i]);
		close(s->lfds[i]);
	}
	s->nlfds = 0;
	conn_drain_all(s);
	if (!s->nconns)
		ev_stop(loop);
	else
		ev_timer_set(loop, &s->stop_timer, s->cfg.shutdown_timeout * 1000, on_stop_timer, s);
}

int server_base_url(const struct config *cfg, char *url, size_t urlsz, char *host,
		    size_t hostsz, bool *tls)
{
	char tmp[256];
	if (cfg->base_url[0]) {
		snprintf(tmp, sizeof(tmp), "%s", cfg->base_url);
	} else {
		char h[CONFIG_MAX_ADDR];
		int port;
		bool https = cfg->nlisten_tls > 0;
		const char *first = https ? cfg->listen_tls[0] : cfg->nlisten ? cfg->listen[0] : NULL;
		if (!first || config_split_addr(first, h, sizeof(h), &port) < 0)
			return -1;
		const char *scheme = https ? "https" : "http";
		// An unspecified address is reachable as localhost on this machine.
		const char *name = strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 ? "localhost"
				   : strchr(h, ':')                                ? NULL
										   : h;
		if (name)
			snprintf(tmp, sizeof(tmp), "%s://%s:%d", scheme, name, port);
		else
			snprintf(tmp, sizeof(tmp), "%s://[%s]:%d", scheme, h, port);
	}
	size_t n = strlen(tmp);
	while (n && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	*tls = strncmp(tmp, "https://", 8) == 0;
	const char *h = tmp + (*tls ? 8 : 7);
	size_t hl = strcspn(h, "/?#");
	if (!hl || hl >= hostsz || n >= urlsz)
		return -1;
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	host[hl] = '\0';
	// The default port is left out of a Host header; so is it here.
	size_t pl = strlen(*tls ? ":443" : ":80");
	if (hl > pl && strcmp(host + hl - pl, *tls ? ":443" : ":80") == 0)
		host[hl - pl] = '\0';
	memcpy(url, tmp, n + 1);
	return 0;
}

int server_adopt_host(struct server *s, const char *host)
{
	const char *port = strrchr(s->shell_host, ':');
	if (port && strchr(port, ']'))
		port = NULL; // an IPv6 address without a port
	char url[sizeof(s->base_url)], sh[sizeof(s->shell_host)];
	int n = snprintf(sh, sizeof(sh), "%s%s", host, port ? port : "");
	if (!s->base_tls || !host[0] || n < 0 || (size_t)n >= sizeof(sh))
		return -1;
	// Lowercase, as shell_host is compared with the Host header; the URL is made from it.
	for (char *p = sh; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	if ((size_t)snprintf(url, sizeof(url), "https://%s", sh) >= sizeof(url))
		return -1;
	if (strcmp(sh, s->shell_host) == 0)
		return 0;
	// The address silo started at stays; a second choice replaces only the name.
	if (!s->alias_url[0]) {
		memcpy(s->alias_url, s->base_url, sizeof(s->alias_url));
		memcpy(s->alias_host, s->shell_host, sizeof(s->alias_host));
	}
	if (strcmp(sh, s->alias_host) == 0)
		s->alias_url[0] = s->alias_host[0] = '\0'; // back to where it started
	memcpy(s->base_url, url, sizeof(s->base_url));
	memcpy(s->shell_host, sh, sizeof(s->shell_host));
	log_info("server: the shell is at %s now%s%s%s", s->base_url,
		 s->alias_url[0] ? " (and still at " : "", s->alias_url, s->alias_url[0] ? ")" : "");
	return 0;
}

void server_drop_host(struct server *s)
{
	if (!s->alias_url[0])
		return;
	memcpy(s->base_url, s->alias_url, sizeof(s->base_url));
	memcpy(s->shell_host, s->alias_host, sizeof(s->shell_host));
	s->alias_url[0] = s->alias_host[0] = '\0';
	log_info("server: the shell is at %s again", s->base_url);
}

bool server_is_shell_host(const struct server *s, const char *host)
{
	return strcmp(host, s->shell_host) == 0 ||
	       (s->alias_host[0] && strcmp(host, s->alias_host) == 0);
}

int server_listen(const struct config *cfg, int *fds, size_t *n)
{
	*n = 0;
	for (size_t j = 0; j < cfg->nlisten + cfg->nlisten_tls; j++) {
		const char *addr = j < cfg->nlisten ? cfg->listen[j] : cfg->listen_tls[j - cfg->nlisten];
		int fd = -1;
		// A previous silo on this port may still be going away (after a kill -9).
		for (int tries = 0; tries < 40; tries++) {
			fd = listen_on(addr, tries < 39);
			if (fd >= 0 || errno != EADDRINUSE)
				break;
			usleep(50 * 1000);
		}
		if (fd < 0) {
			while (*n)
				close(fds[--*n]);
			return -1;
		}
		fds[(*n)++] = fd;
		log_info("server: listening on %s%s", addr, j < cfg->nlisten ? "" : " (TLS)");
	}
	return 0;
}

// Request log lines of one batch of events are written together, once it is handled.
static struct ev_loop *held_loop;
static struct ev_defer log_defer;

static void on_log_defer(struct ev_loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	log_flush();
}

static void arm_log_flush(void)
{
	ev_defer(held_loop, &log_defer, on_log_defer, NULL);
}

int server_init(struct server *s, const struct config *cfg, struct store *store,
		const int *fds, size_t nfds)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->store = store;
	s->sigfd = -1;
	if (server_base_url(cfg, s->base_url, sizeof(s->base_url), s->shell_host,
			    sizeof(s->shell_host), &s->base_tls) < 0) {
		log_err("server: cannot make a base URL from '%s'", cfg->base_url);
		return -1;
	}
	if (cfg->nlisten_tls) {
		char h[CONFIG_MAX_ADDR];
		config_split_addr(cfg->listen_tls[0], h, sizeof(h), &s->tls_port);
		// A base URL names the public port (443 behind a forward): redirect there.
		const char *colon = strrchr(s->shell_host, ':');
		if (s->base_tls)
			s->tls_port = colon && !strchr(colon, ']') ? atoi(colon + 1) : 443;
	}
	if (!(s->loop = ev_new()))
		return -1;
	held_loop = s->loop;
	log_hold(arm_log_flush);
	for (size_t i = 0; i < nfds; i++) {
		s->ltls[s->nlfds] = i >= cfg->nlisten;
		s->lfds[s->nlfds++] = fds[i];
		if (ev_add(s->loop, fds[i], EV_READ, on_accept, s) < 0)
			return -1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0 || ev_add(s->loop, s->sigfd, EV_READ, on_signal, s) < 0) {
		log_err("server: signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int server_run(struct server *s)
{
	int r = ev_run(s->loop);
	ev_timer_cancel(s->loop, &s->stop_timer);
	conn_close_all(s);
	return r;
}

void server_fini(struct server *s)
{
	log_hold(NULL);
	for (size_t i = 0; i < s->nlfds; i++)
		close(s->lfds[i]);
	if (s->sigfd >= 0)
		close(s->sigfd);
	ev_free(s->loop);
	free(s->addrs);
	s->loop = NULL;
}
