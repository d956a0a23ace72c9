// SPDX-License-Identifier: MIT
// The orderly end: stop silo, TERM everyone, grace, KILL, save the seed, sync, unmount, reboot.
#pragma once
#include <stdnoreturn.h>

#include "supervise.h"

enum shutdown_how { SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT };

noreturn void shutdown_now(struct supervisor *s, enum shutdown_how how);
