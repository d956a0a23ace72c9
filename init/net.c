// SPDX-License-Identifier: MIT
// Network bring-up and DHCP lease upkeep for PID 1.
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "dhcp_client.h"
#include "net.h"
#include "util.h"

#define DHCP_FIRST_MS 8000    // the first try at boot; later ones run while silo serves
#define DHCP_RETRY_MS 30000

static void apply(struct net *n, const struct dhcp_reply *r)
{
	uint32_t mask = r->netmask ? r->netmask : htonl(0xffffff00u);
	int changed = r->yiaddr != n->addr;
	if (netif_configure(n->ifname, r->yiaddr, mask, r->router) < 0) {
		console_errno("net: cannot configure %s", n->ifname);
		return;
	}
	n->addr = r->yiaddr;
	n->mask = mask;
	n->gateway = r->router;
	if (r->ndns)
		netif_write_resolv(r->dns, r->ndns);
	// RFC 2131 4.4.5: renew at half the lease; an infinite or missing lease never.
	uint32_t lease = r->lease_s;
	n->next_ms = lease && lease != 0xffffffffu ? util_now_ms() + (int64_t)lease * 500 : 0;
	if (changed) {
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n->addr, ip, sizeof(ip));
		console_log("net: %s has %s (DHCP, lease %us)", n->ifname, ip, lease);
	}
}

static int dhcp(struct net *n, const struct initconf *c, uint32_t ciaddr, int timeout_ms)
{
	struct dhcp_reply r;
	if (dhcp_client_run(n->ifname, n->mac, c->hostname, ciaddr, timeout_ms, &r) == 0) {
		apply(n, &r);
		return 0;
	}
	if (!ciaddr)
		console_log("net: no DHCP answer on %s; trying again in %ds", n->ifname,
			    DHCP_RETRY_MS / 1000);
	n->next_ms = util_now_ms() + DHCP_RETRY_MS;
	return -1;
}

void net_start(struct net *n, const struct initconf *c)
{
	memset(n, 0, sizeof(*n));
	if (netif_up("lo") < 0)
		console_errno("net: cannot bring up lo");
	if (netif_first_ethernet(n->ifname, 3000) < 0) {
		n->ifname[0] = '\0';
		console_log("net: no Ethernet link found");
		return;
	}
	if (netif_up(n->ifname) < 0 || netif_mac(n->ifname, n->mac) < 0) {
		console_errno("net: cannot bring up %s", n->ifname);
		n->ifname[0] = '\0';
		return;
	}
	if (strcmp(c->net, "static") == 0) {
		if (netif_configure(n->ifname, c->address, c->netmask, c->gateway) < 0) {
			console_errno("net: cannot configure %s", n->ifname);
			return;
		}
		n->addr = c->address;
		n->mask = c->netmask;
		n->gateway = c->gateway;
		if (c->dns)
			netif_write_resolv(&c->dns, 1);
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n->addr, ip, sizeof(ip));
		console_log("net: %s has %s (static)", n->ifname, ip);
		return;
	}
	(void)dhcp(n, c, 0, DHCP_FIRST_MS);
}

void net_tick(struct net *n, const struct initconf *c, int64_t now_ms)
{
	if (!n->ifname[0] || !n->next_ms || now_ms < n->next_ms)
		return;
	// A renewal that fails falls back to a full exchange on the next round.
	if (dhcp(n, c, n->addr, 4000) < 0)
		n->addr = 0;
}

void net_address(const struct net *n, char *out, int outsz)
{
	if (!n->addr || outsz < INET_ADDRSTRLEN) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	inet_ntop(AF_INET, &n->addr, out, (socklen_t)outsz);
}
