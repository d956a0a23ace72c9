// SPDX-License-Identifier: MIT
// Loading the kernel modules named in /etc/silo/modules, with dependencies, via libkmod.
#pragma once

// Loads each module listed in file (one name a line, '#' comments) from the modules shipped
// under /lib/modules/$(uname -r). Returns how many failed; each failure is logged.
int modules_load_list(const char *file);
