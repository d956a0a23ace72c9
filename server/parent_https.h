// SPDX-License-Identifier: MIT
// The parent's part of the setup wizard's HTTPS step: running its checks in short-lived
// processes, and turning a choice into the configuration the ACME worker runs with.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "privsep.h"

struct config;

// How people reach the server (the wizard's choice, kept in the store's settings).
enum https_mode {
	HTTPS_MODE_LAN = 1,      // only on my network: the self-signed certificate
	HTTPS_MODE_DYNDNS = 2,   // a free name under dyndns_zone, DNS-01 wildcard certificate
	HTTPS_MODE_DOMAIN = 3,   // my own domain, HTTP-01
};

struct https_check {
	pid_t pid;          // 0: slot free
	uint32_t req_id;    // the front's request, answered when the child ends
	int report;         // read end of the child's report pipe
};

// Forks a check for m (PRIV_HTTPS_CHECK) into k. 0, or -1 with err (nothing started).
int parent_https_check_start(const struct config *c, const struct priv_msg *m,
			     struct https_check *k, char *err, size_t errsz);
// The child ended: fills reply's status and text from its report and frees k's slot.
void parent_https_check_finish(struct https_check *k, struct priv_msg *reply);
// The worker's configuration for a choice: base with the chosen names. 0, or -1 with err
// when the choice does not fit the configuration (no ACME directory, no zone...).
int parent_https_apply(const struct config *base, struct config *out, int mode,
		       const char *name, char *err, size_t errsz);
