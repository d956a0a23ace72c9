// SPDX-License-Identifier: MIT
// The A/B slots at boot: report, commit, give up.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "grubenv.h"
#include "osboot.h"
#include "osslot.h"
#include "util.h"

static void os_version(char *out, size_t outsz)
{
	int fd = open("/etc/silo/os-version", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, outsz - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!*out)
		snprintf(out, outsz, "unknown");
}

void osboot_start(struct osboot *o, unsigned trial_timeout_s)
{
	memset(o, 0, sizeof(*o));
	o->slot = osslot_booted();
	if (!o->slot)
		return;
	char version[128], err[256];
	os_version(version, sizeof(version));
	struct grubenv e;
	if (osslot_env_read(&e, err, sizeof(err)) < 0) {
		console_log("os: %s, slot %c (boot settings unreadable: %s)", version, o->slot, err);
		return;
	}
	const char *next = grubenv_get(&e, "silo_next"), *failed = grubenv_get(&e, "silo_failed");
	o->trial = next[0] == o->slot && !next[1];
	if (o->trial) {
		o->deadline_ms = util_now_ms() + (int64_t)trial_timeout_s * 1000;
		console_log("os: %s, slot %c: trying this update (%s more boots before going back)",
			    version, o->slot, grubenv_get(&e, "silo_tries"));
	} else {
		console_log("os: %s, slot %c", version, o->slot);
	}
	if (*failed) {
		console_log("os: the update in slot %s did not start silo; back on slot %c", failed,
			    o->slot);
		grubenv_set(&e, "silo_failed", "");
		if (osslot_env_write(&e, err, sizeof(err)) < 0)
			console_log("os: cannot save the boot settings: %s", err);
	}
}

void osboot_serving(struct osboot *o)
{
	if (!o->trial)
		return;
	char err[256];
	struct grubenv e;
	char slot[2] = {o->slot, '\0'};
	if (osslot_env_read(&e, err, sizeof(err)) < 0 || grubenv_set(&e, "silo_slot", slot) < 0 ||
	    grubenv_set(&e, "silo_next", "") < 0 || grubenv_set(&e, "silo_tries", "") < 0 ||
	    osslot_env_write(&e, err, sizeof(err)) < 0) {
		console_log("os: cannot make slot %c the default: %s", o->slot, err);
		return;
	}
	o->trial = false;
	console_log("os: slot %c serves; it is the default from now on", o->slot);
}

bool osboot_give_up(struct osboot *o, bool cannot_start, unsigned early_exits, int64_t now_ms)
{
	if (!o->trial)
		return false;
	const char *why = cannot_start ? "the box cannot be set up from it"
			  : early_exits >= OSBOOT_MAX_EXITS ? "silo keeps exiting"
			  : now_ms >= o->deadline_ms ? "silo did not start in time" : NULL;
	if (!why)
		return false;
	console_log("os: giving slot %c up for this boot: %s; rebooting", o->slot, why);
	return true;
}
