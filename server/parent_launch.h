// SPDX-License-Identifier: MIT
// What the parent does with privilege: launch a grain's sandbox, stop it, and install
// packages.
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "parent_files.h"
#include "privsep.h"

struct config;

struct grain_proc {
	char grain[PRIV_ID_LEN + 1];
	pid_t pid;
	void *sandbox;   // the sandbox's own state
};

// Starts the grain's sandbox running package's action (-1: its continue command), as uid.
// *wire: the front's end of the grain's wire. 0 / -1 with err.
int parent_launch(const struct config *c, struct grain_proc *g, const char *package,
		  int action, uid_t uid, int *wire, char *err, size_t errsz);
// Stops the grain's sandbox (SIGTERM, up to grace_ms, then SIGKILL of all of it), waits for
// it and frees what it held. Returns its wait status.
int parent_stop(struct grain_proc *g, int grace_ms);
// On SIGCHLD: 1 when the grain has exited (*status set, its resources freed), else 0.
int parent_reap(struct grain_proc *g, int *status);
// Verifies and unpacks the .spk in fd into DIR/apps/<package id>/; fills reply (status,
// package, text = app id, value = version, action = 1 when it was there already, or an
// error message).
void parent_install(const struct config *c, int fd, struct priv_msg *reply);
