// SPDX-License-Identifier: MIT
// GRUB's environment block (grub/grubenv on the ESP): exactly 1024 bytes, the line
// "# GRUB Environment Block", then `name=value` lines, padded with '#'. The appliance keeps
// its A/B state there (docs/OS-UPDATE.md): GRUB reads and counts it at boot, silo writes it.
#pragma once
#include <stddef.h>

#define GRUBENV_SIZE 1024
#define GRUBENV_MAX_VARS 32
#define GRUBENV_NAME_MAX 63
#define GRUBENV_VALUE_MAX 255

struct grubenv {
	size_t n;
	struct {
		char name[GRUBENV_NAME_MAX + 1];
		char value[GRUBENV_VALUE_MAX + 1];
	} vars[GRUBENV_MAX_VARS];
};

// Parses a block of exactly GRUBENV_SIZE bytes. 0, or -1 with the reason in err.
int grubenv_parse(struct grubenv *e, const unsigned char *block, size_t len, char *err,
		  size_t errsz);
// The value of name, or "" when unset.
const char *grubenv_get(const struct grubenv *e, const char *name);
// Sets (an empty value unsets). 0, or -1 when the name or value is not allowed or there is
// no room.
int grubenv_set(struct grubenv *e, const char *name, const char *value);
// Writes the block (GRUBENV_SIZE bytes). 0, or -1 when the variables do not fit.
int grubenv_format(const struct grubenv *e, unsigned char block[GRUBENV_SIZE]);
