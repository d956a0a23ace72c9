// SPDX-License-Identifier: MIT
// libFuzzer target: GRUB's environment block as read from the ESP. What parses formats
// back, and the formatted block parses to the same variables.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "grubenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "# GRUB Environment Block\n";
	unsigned char block[GRUBENV_SIZE], out[GRUBENV_SIZE];
	// The header is given: the fuzzer spends its time on the lines.
	memset(block, '#', sizeof(block));
	memcpy(block, head, strlen(head));
	size_t room = sizeof(block) - strlen(head);
	memcpy(block + strlen(head), data, size < room ? size : room);
	char err[256];
	static struct grubenv e, again;
	if (grubenv_parse(&e, data, size, err, sizeof(err)) == 0 && size != GRUBENV_SIZE)
		__builtin_trap();
	if (grubenv_parse(&e, block, sizeof(block), err, sizeof(err)) < 0)
		return 0;
	if (grubenv_set(&e, "silo_next", "b") == 0 && grubenv_format(&e, out) == 0) {
		if (grubenv_parse(&again, out, sizeof(out), err, sizeof(err)) < 0 ||
		    strcmp(grubenv_get(&again, "silo_next"), "b") != 0 || again.n != e.n)
			__builtin_trap();
	}
	return 0;
}
