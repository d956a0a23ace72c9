// SPDX-License-Identifier: MIT
// Settings handed in by qemu (-fw_cfg name=opt/silo/KEY,string=VALUE) override init.conf.
#pragma once

#include "initconf.h"

// Applies every opt/silo/KEY found; bad ones are logged and skipped.
void fwcfg_apply(struct initconf *c);
