// SPDX-License-Identifier: MIT
// Network interfaces through ioctl: up, address, default route, hardware address.
#pragma once
#include <stdint.h>

#define NETIF_NAME 16

// Waits up to wait_ms for an Ethernet interface other than lo; its name in name. -1 if none.
int netif_first_ethernet(char name[NETIF_NAME], int wait_ms);

int netif_up(const char *name);
int netif_mac(const char *name, uint8_t mac[6]);
// Address and netmask (network byte order) on name; gateway 0 for none.
int netif_configure(const char *name, uint32_t addr, uint32_t mask, uint32_t gateway);
// Writes /run/resolv.conf (the OS's /etc/resolv.conf points there).
void netif_write_resolv(const uint32_t *dns, int n);
