// SPDX-License-Identifier: MIT
// The A/B slots at boot (docs/OS-UPDATE.md): which slot this is, whether it is an update
// being tried, committing it once silo serves, and giving it up (a reboot, which GRUB counts)
// when silo does not start from it.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define OSBOOT_MAX_EXITS 3   // silo exits before serving that give a tried slot up

struct osboot {
	char slot;            // 'a', 'b', or 0 (not booted from a slot)
	bool trial;           // this slot is being tried
	int64_t deadline_ms;  // trial: serve by then
};

// Reads GRUB's environment and says on the console which slot booted (and its version,
// from /etc/silo/os-version), whether it is being tried, and an update given up on.
void osboot_start(struct osboot *o, unsigned trial_timeout_s);
// silo serves: a tried slot becomes the default.
void osboot_serving(struct osboot *o);
// A tried slot that cannot start silo: true when it is time to reboot (said on the console).
bool osboot_give_up(struct osboot *o, bool cannot_start, unsigned early_exits, int64_t now_ms);
