// SPDX-License-Identifier: MIT
// The DHCPv4 exchange on one interface: DISCOVER/OFFER/REQUEST/ACK, and renewal.
#pragma once
#include <stdint.h>

#include "dhcp.h"

// Runs a full exchange on ifname (mac its address), or a renewal of ciaddr when ciaddr is
// set, within about timeout_ms. The ACK in out; -1 after logging why.
int dhcp_client_run(const char *ifname, const uint8_t mac[6], const char *hostname,
		    uint32_t ciaddr, int timeout_ms, struct dhcp_reply *out);
