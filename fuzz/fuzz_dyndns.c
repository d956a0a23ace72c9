// SPDX-License-Identifier: MIT
// libFuzzer target for dyndns_reply.c: the dynamic DNS service's replies become one
// printable, bounded line whatever the bytes.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dyndns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {0, 1, 8, 256};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char out[256 + 8];
		memset(out, 'x', sizeof(out));
		size_t n = dyndns_reply_text((const char *)data, size, out, sizes[k]);
		if (sizes[k] == 0) {
			if (n != 0 || out[0] != 'x')
				abort();
			continue;
		}
		if (n >= sizes[k] || strlen(out) != n || out[sizes[k]] != 'x')
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				abort();
	}
	return 0;
}
