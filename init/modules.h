// SPDX-License-Identifier: MIT
// Loading the kernel modules named in /etc/silo/modules, with dependencies, via libkmod.
#pragma once
#include <stdbool.h>
#include <stddef.h>

// Loads each module listed in file (one name a line, '#' comments) from the modules shipped
// under /lib/modules/$(uname -r), except drivers of devices this machine does not have (see
// modules_wanted). Returns how many failed; each failure is logged.
int modules_load_list(const char *file);

// Whether a module with these aliases (its modinfo "alias" values) is wanted, given the
// modaliases of the PCI and virtio devices present and whether a SCSI host adapter is: a
// module bound only to PCI or virtio devices (aliases "pci:..." or "virtio:...") when one
// of them matches a device; a SCSI upper driver ("scsi:...", sd_mod) when there is a host
// adapter, so the list names the adapters' drivers first; any other module (file systems,
// libraries, drivers also of another bus) always.
bool modules_wanted(const char *const *aliases, size_t naliases, const char *const *devices,
		    size_t ndevices, bool scsi_host);
