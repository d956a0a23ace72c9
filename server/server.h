// SPDX-License-Identifier: MIT
// The HTTP server: listeners, connections, per-address caps, and graceful stop.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ev.h"

struct store;
struct conn;
struct addr_slot;
struct pc;
struct grainmgr;
struct tls_state;

// Plain and TLS listeners together.
#define SERVER_MAX_LISTEN (2 * CONFIG_MAX_LISTEN)

struct server {
	struct config cfg;
	struct store *store;
	struct ev_loop *loop;
	int lfds[SERVER_MAX_LISTEN];
	bool ltls[SERVER_MAX_LISTEN]; // this listener speaks TLS
	size_t nlfds;
	int sigfd;
	struct conn *conns;           // all open connections, a doubly linked list
	size_t nconns;
	struct addr_slot **addrs;     // per-address connection counts, hashed
	bool draining;
	struct ev_timer stop_timer;
	// The shell's origin, from the base URL.
	char base_url[256];           // no trailing slash
	char shell_host[256];         // host[:port] as a Host header carries it, lowercase
	// The address silo was configured with, once the setup wizard's name took its place as
	// base_url: still served (pages open there, links given out before). "": none.
	char alias_url[256];
	char alias_host[256];
	bool base_tls;
	struct pc *pc;                // the channel to the privileged parent
	struct grainmgr *grains;      // running grains and their sessions
	uint64_t access_gen;          // bumped when any access may have been taken away
	struct tls_state *tls;        // certificates and sessions (NULL without TLS)
	int tls_port;                 // where plain HTTP redirects to (0: no TLS)
};

// Binds every listen address of cfg, then every listen_tls one, into fds
// (SERVER_MAX_LISTEN). 0 / -1 (logged).
int server_listen(const struct config *cfg, int *fds, size_t *n);
// Serves on the bound fds (in server_listen's order) with the given store. 0 / -1 (logged).
int server_init(struct server *s, const struct config *cfg, struct store *store,
		const int *fds, size_t nfds);
// Runs until SIGTERM/SIGINT and a graceful drain. 0 / -1.
int server_run(struct server *s);
void server_fini(struct server *s);

// The wizard chose a name (host, no port) this server is reached at: it becomes the base
// URL, with the scheme and port of the one before, which stays served as the alias. Only
// with https; 0 when done or nothing changes, -1 when the name does not fit.
int server_adopt_host(struct server *s, const char *host);
// Back to the configured base URL (the wizard's choice is "only on my network" now).
void server_drop_host(struct server *s);
// host (lowercase, without the default port) is the shell's: the base URL's or the alias'.
bool server_is_shell_host(const struct server *s, const char *host);

// Computes base_url and shell_host from the config and the first bound address (the first
// TLS one when there is one: https).
int server_base_url(const struct config *cfg, char *url, size_t urlsz, char *host,
		    size_t hostsz, bool *tls);
