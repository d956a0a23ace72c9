// SPDX-License-Identifier: MIT
// The dynamic DNS client, in the manner of sandcats.io (docs/DYNDNS.md): the box holds
// NAME.<zone> with a service that knows it by the fingerprint of a client certificate
// whose key is made here and never leaves the box. Register, update the address, and
// publish the _acme-challenge TXT record for DNS-01. Blocking libcurl calls: the ACME
// worker process runs it.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define DYNDNS_REPLY_MAX 4096

struct dyndns {
	const char *url;             // the service's base URL (https)
	const char *name, *zone, *email;
	const char *ca_pem;          // an extra CA for the service (NULL: the system's)
	size_t ca_len;
	char cert[4200], key[4200];  // the client certificate and key files
	long status;                 // the last reply's HTTP status (0: none)
	char err[512];
};

// Loads or makes the client key and self-signed certificate in dir (dyndns.key 0600,
// dyndns.crt). 0 / -1 with d->err.
int dyndns_keys(struct dyndns *d, const char *dir);
// Claims the name for our key; the service answers success again when it is ours
// already (so a restart, or a reinstall with the same key, gets it back). 0 / -1.
int dyndns_register(struct dyndns *d);
// Asks whether the name is free (silo's addition to the protocol: /available). 0 when it
// is free or ours already, 1 when another key holds it, -1 on error (d->err).
int dyndns_available(struct dyndns *d);
// Recovery, for a box that lost the key holding its name (a reinstall): the service
// e-mails a token to the address the name was registered with, and presenting that token
// moves the name to this box's key. 0 / -1 with d->err (the service's reason).
int dyndns_send_recovery(struct dyndns *d);
int dyndns_recover(struct dyndns *d, const char *token);
// Points NAME.<zone> and *.NAME.<zone> at the address the service sees us come from.
int dyndns_update(struct dyndns *d);
// Sets (value) or clears (NULL) the TXT record _acme-challenge.NAME.<zone>.
int dyndns_txt(struct dyndns *d, const char *value);
// dyndns_ping.c: the service's UDP ping. "ping NAME\n" to the URL's host on port; the
// service answers "changed" when the address it sees is not the one it holds for NAME.
struct dyndns_ping {
	int fd;        // -1: none
	char msg[64];
	size_t len;
};
int dyndns_ping_open(struct dyndns_ping *p, const char *url, long port, const char *name,
		     char *err, size_t errsz);
void dyndns_ping_send(struct dyndns_ping *p);
// Up to ms for an answer: 1 when the service says the address changed, else 0.
int dyndns_ping_wait(struct dyndns_ping *p, int ms);
void dyndns_ping_close(struct dyndns_ping *p);

// A reply body as one printable line (controls replaced, at most outsz - 1 bytes, and at
// most DYNDNS_REPLY_MAX read). Returns its length.
size_t dyndns_reply_text(const char *body, size_t len, char *out, size_t outsz);
