// SPDX-License-Identifier: MIT
// A minimal DNS A lookup over UDP (RFC 1035) for the wizard's port-80 check, when a
// resolver is configured (tests: pebble-challtestsrv, the DNS pebble itself asks).
// Blocking: it runs in a check process of the parent's, never in the front.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define DNSQ_MAX_ADDRS 8
#define DNSQ_PACKET_MAX 1232   // EDNS's safe UDP size; we never ask for more than 512

// Builds an A query for name with id into out. Its length, or 0 when name is not a DNS name.
size_t dnsq_build(const char *name, uint16_t id, unsigned char *out, size_t outsz);
// Parses a reply to query id: the IPv4 addresses of its A answers (network order) in
// addrs. Returns how many (0: the name has no address), -1 when the reply is malformed,
// not ours or a failure other than NXDOMAIN.
int dnsq_parse_a(const unsigned char *p, size_t n, uint16_t id, uint32_t *addrs, size_t max);
// Asks server ("ADDR:PORT") for name's A records: the count, or -1 with err.
int dnsq_lookup(const char *server, const char *name, uint32_t *addrs, size_t max, char *err,
		size_t errsz);
