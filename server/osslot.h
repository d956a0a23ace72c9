// SPDX-License-Identifier: MIT
// The appliance's A/B OS slots (partitions silo-os-a and silo-os-b) and the boot state in
// GRUB's environment on the ESP (docs/OS-UPDATE.md):
//   silo_slot   a|b  the slot known to work, booted by default
//   silo_next   a|b  a slot written by an update, being tried (empty: none)
//   silo_tries  3..0 boots of silo_next left; GRUB counts down, 0 falls back to silo_slot
//   silo_failed a|b  the slot GRUB gave up on (silo-init reports it once and clears it)
// Used by silo's parent (writing an update) and silo-init (commit and fallback).
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "grubenv.h"

#define OSSLOT_TRIES "3"
#define OSSLOT_PUBKEY "/etc/silo/update.pub"

// The slot this boot came from ('a' or 'b', from silo.slot= on the kernel command line),
// or 0 when not booted as the appliance.
char osslot_booted(void);
// Reads / writes GRUB's environment on the ESP (mounted for the moment on /run). 0 / -1.
int osslot_env_read(struct grubenv *e, char *err, size_t errsz);
int osslot_env_write(const struct grubenv *e, char *err, size_t errsz);
// Writes len bytes of fd from offset off to the inactive slot's partition, then makes it
// the slot GRUB tries next (OSSLOT_TRIES boots). 0 / -1 (err says why).
int osslot_install(int fd, long long off, unsigned long long len, char *err, size_t errsz);
