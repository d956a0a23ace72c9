// SPDX-License-Identifier: MIT
// The box's network: lo, and the first Ethernet link by DHCP or a static address.
#pragma once
#include <stdint.h>

#include "initconf.h"
#include "netif.h"

struct net {
	char ifname[NETIF_NAME];   // empty: no Ethernet link found
	uint8_t mac[6];
	uint32_t addr, mask, gateway;   // network byte order; addr 0 until configured
	int64_t next_ms;                // when to renew or retry DHCP; 0: never
};

// Brings up lo and the link; with DHCP, tries for a few seconds and retries later.
void net_start(struct net *n, const struct initconf *c);

// Renews the lease or retries a failed DHCP when its time has come.
void net_tick(struct net *n, const struct initconf *c, int64_t now_ms);

// The address as text ("" when none).
void net_address(const struct net *n, char *out, int outsz);
