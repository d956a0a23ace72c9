// SPDX-License-Identifier: MIT
// libFuzzer target for dnsq.c: DNS replies from the resolver are parsed within bounds, and
// never yield more addresses than asked for.
#include <stdint.h>
#include <stdlib.h>

#include "dnsq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t addrs[3];
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	int n = dnsq_parse_a(data, size, id, addrs, 3);
	if (n > 3 || n < -1)
		abort();
	return 0;
}
