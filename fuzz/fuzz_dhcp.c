// SPDX-License-Identifier: MIT
// libFuzzer target: silo-init's DHCP reply parser (replies are untrusted bytes off the LAN).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint32_t xid = 0x11223344;
	// Give the fuzzer the matching xid and MAC so it reaches the options.
	if (size >= 34) {
		memcpy(&xid, data + 4, 4);
		xid = __builtin_bswap32(xid);
		memcpy(mac, data + 28, 6);
	}
	struct dhcp_reply r;
	if (dhcp_parse(data, size, xid, mac, &r) == DHCP_OK && r.ndns > DHCP_MAX_DNS)
		__builtin_trap();
	return 0;
}
