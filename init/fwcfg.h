// SPDX-License-Identifier: MIT
// Settings handed in by qemu: -fw_cfg name=opt/silo/KEY,string=VALUE overrides init.conf;
// opt/silo/silo.conf adds lines to silo's own settings, opt/silo/file/NAME adds files.
#pragma once

#include "initconf.h"

// Where qemu's entries appear (the qemu_fw_cfg module).
#define FWCFG_DIR "/sys/firmware/qemu_fw_cfg/by_name/opt/silo"
// The largest silo.conf addition and file taken from qemu.
#define FWCFG_MAX_CONF (16 * 1024)
#define FWCFG_MAX_FILE (1024 * 1024)

// Applies every opt/silo/KEY found; bad ones are logged and skipped.
void fwcfg_apply(struct initconf *c);

// qemu's additions to silo.conf: each dir/file/NAME entry is copied to files_dir/NAME (for
// the lines to name, e.g. a test CA), and dir/silo.conf's lines are written after
// image_conf's into out (later lines win). 1 when out was written (start silo with
// --config out), 0 when qemu gave no lines, -1 when they could not be used (logged).
int fwcfg_silo_conf(const char *dir, const char *image_conf, const char *out,
		    const char *files_dir);
