// SPDX-License-Identifier: MIT
// The front's side of the wizard's "How will people reach this server?": the choice kept
// in the store's settings (https_mode, https_name), the checks and the change asked of
// the parent, and the answer to the waiting browser (JSON, or a page's redirect).
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "parent_https.h"

struct server;
struct conn_wait;

enum https_op {
	HTTPS_OP_AVAILABLE,   // is the dynamic DNS name free?
	HTTPS_OP_CHOOSE,      // check (free name / port 80), then store and apply the choice
	HTTPS_OP_RECOVERY,    // have the service e-mail a recovery token for a free name
	HTTPS_OP_RECOVER,     // present that token: the name moves to this box's key
};

// "lan", "dyndns", "domain" <-> enum https_mode (0 for anything else).
int https_mode_parse(const char *s);
const char *https_mode_str(int mode);
// The stored choice: its mode (0: none yet) and name ("" for lan).
int https_choice_get(struct server *s, char *name, size_t namesz);
#define HTTPS_HOST_MAX (2 * 253 + 2)
// The name a choice makes the server reachable as: NAME.ZONE, the domain, or "".
void https_choice_host(struct server *s, int mode, const char *name, char *out, size_t outsz);
// The last outcome for the page without scripts: its text, and whether it is an error.
void https_choice_note(struct server *s, char *text, size_t textsz, bool *error);
// Runs op for the waiting client cw, which gets JSON (html false) or a 303 to /admin/https
// with the outcome kept as the note (html true). name is lowercased and checked here;
// token is HTTPS_OP_RECOVER's (checked here too), ignored otherwise.
void https_choice_start(struct server *s, struct conn_wait *cw, bool html, enum https_op op,
			int mode, const char *name, const char *token);
// At start: hands the stored choice to the parent, so a restart continues it.
void https_choice_restore(struct server *s);
