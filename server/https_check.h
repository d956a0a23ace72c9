// SPDX-License-Identifier: MIT
// The setup wizard's checks before a choice is made, run in a short-lived process of the
// parent's under the ACME worker's uid (the processes that talk to the outside): is a
// dynamic DNS name free, and does port 80 for an own domain reach this box.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

enum https_check_kind {
	HTTPS_CHECK_NAME = 1,     // name: a label under dyndns_zone
	HTTPS_CHECK_PORT80 = 2,   // name: a domain that should reach this box on acme_http_port
	HTTPS_CHECK_RECOVERY = 3, // name: e-mail a recovery token for this dynamic DNS name
	HTTPS_CHECK_RECOVER = 4,  // name, token: move the name to this box's key
};

// Whether a recovery token as the user types it can be sent: 1 to 64 of A-Z a-z 0-9 _ -.
bool https_token_ok(const char *t);

// Runs one check; called in the child before it drops privileges. status 0 when the
// name can be used, or the recovery step went through (text says so), else an errno value
// (EEXIST: the name is taken; EHOSTUNREACH: port 80 does not reach us; EACCES: the
// service refused a recovery) with text saying what is wrong and what to do.
// token is HTTPS_CHECK_RECOVER's (NULL for the others).
void https_check_run(const struct config *c, int kind, const char *name, const char *token,
		     int32_t *status, char *text, size_t textsz);
