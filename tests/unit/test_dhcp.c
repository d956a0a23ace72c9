// SPDX-License-Identifier: MIT
// silo-init's DHCP messages: what a client sends, and replies good, foreign and malformed.
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "dhcp.h"
#include "test.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

// A server's reply to xid 0x11223344 with the given options after the cookie.
static size_t reply(uint8_t *m, const uint8_t *opts, size_t olen)
{
	memset(m, 0, 240);
	m[0] = 2, m[1] = 1, m[2] = 6;
	m[4] = 0x11, m[5] = 0x22, m[6] = 0x33, m[7] = 0x44;
	m[16] = 10, m[17] = 0, m[18] = 2, m[19] = 15;   // yiaddr
	memcpy(m + 28, mac, 6);
	m[236] = 0x63, m[237] = 0x82, m[238] = 0x53, m[239] = 0x63;
	memcpy(m + 240, opts, olen);
	return 240 + olen;
}

static uint32_t ip(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static void test_build(void)
{
	uint8_t m[DHCP_MAX_MSG];
	struct dhcp_req r = { .type = DHCP_REQUEST, .xid = 0xdeadbeef, .requested = ip("10.0.2.15"),
			      .server = ip("10.0.2.2"), .hostname = "silo" };
	memcpy(r.mac, mac, 6);
	size_t n = dhcp_build(&r, m, sizeof(m));
	CHECK(n >= 300, "dhcp: a request is at least the 300 bytes of BOOTP");
	CHECK(m[0] == 1 && m[1] == 1 && m[2] == 6, "dhcp: a request is an Ethernet BOOTREQUEST");
	CHECK(m[4] == 0xde && m[7] == 0xef, "dhcp: the transaction id is in network order");
	CHECK(m[10] == 0x80, "dhcp: without an address the broadcast flag is set");
	CHECK(memcmp(m + 28, mac, 6) == 0, "dhcp: chaddr is the MAC");
	CHECK(m[240] == 53 && m[241] == 1 && m[242] == DHCP_REQUEST, "dhcp: message type first");
	const uint8_t want50[] = { 50, 4, 10, 0, 2, 15 }, want54[] = { 54, 4, 10, 0, 2, 2 };
	CHECK(memmem(m + 240, n - 240, want50, 6) != NULL, "dhcp: requested address option");
	CHECK(memmem(m + 240, n - 240, want54, 6) != NULL, "dhcp: server identifier option");
	CHECK(memmem(m + 240, n - 240, "\x0c\x04silo", 6) != NULL, "dhcp: hostname option");
	r.ciaddr = ip("10.0.2.15");
	dhcp_build(&r, m, sizeof(m));
	CHECK(m[10] == 0 && m[12] == 10 && m[15] == 15, "dhcp: a renewal sends ciaddr, no broadcast");
	CHECK(dhcp_build(&r, m, 100) == 0, "dhcp: a short buffer is refused");
}

static void test_parse_ack(void)
{
	uint8_t m[DHCP_MAX_MSG + 8];
	const uint8_t opts[] = { 53, 1, 5, 1, 4, 255, 255, 255, 0, 3, 8, 10, 0, 2, 2, 1, 1, 1, 1,
				 6, 8, 10, 0, 2, 3, 9, 9, 9, 9, 51, 4, 0, 1, 81, 128, 54, 4, 10,
				 0, 2, 2, 0, 0, 255 };
	size_t n = reply(m, opts, sizeof(opts));
	struct dhcp_reply r;
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_OK, "dhcp: a full ACK parses");
	CHECK(r.type == DHCP_ACK, "dhcp: ACK type");
	CHECK(r.yiaddr == ip("10.0.2.15"), "dhcp: yiaddr");
	CHECK(r.netmask == ip("255.255.255.0"), "dhcp: netmask");
	CHECK(r.router == ip("10.0.2.2"), "dhcp: the first router of a list");
	CHECK(r.ndns == 2 && r.dns[0] == ip("10.0.2.3") && r.dns[1] == ip("9.9.9.9"),
	      "dhcp: both DNS servers");
	CHECK(r.lease_s == 86400, "dhcp: lease time");
	CHECK(r.server == ip("10.0.2.2"), "dhcp: server identifier");
}

static void test_parse_rejects(void)
{
	uint8_t m[DHCP_MAX_MSG + 8];
	struct dhcp_reply r;
	const uint8_t ok[] = { 53, 1, 2, 255 };
	size_t n = reply(m, ok, sizeof(ok));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_OK && r.type == DHCP_OFFER,
	      "dhcp: an OFFER parses");
	CHECK(dhcp_parse(m, n, 0x11223345, mac, &r) == DHCP_E_XID, "dhcp: another xid is ignored");
	const uint8_t other[6] = { 1, 2, 3, 4, 5, 6 };
	CHECK(dhcp_parse(m, n, 0x11223344, other, &r) == DHCP_E_MAC,
	      "dhcp: another client's reply is ignored");
	CHECK(dhcp_parse(m, 239, 0x11223344, mac, &r) == DHCP_E_SHORT, "dhcp: truncated header");
	CHECK(dhcp_parse(m, DHCP_MAX_MSG + 1, 0x11223344, mac, &r) == DHCP_E_LONG,
	      "dhcp: oversized message");
	m[0] = 1;
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_NOT_REPLY, "dhcp: a request is not a reply");
	m[0] = 2;
	m[236] = 0;
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_MAGIC, "dhcp: no magic cookie");
	const uint8_t overrun[] = { 53, 1, 2, 6, 200, 1, 2, 3, 4 };
	n = reply(m, overrun, sizeof(overrun));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_OPTION,
	      "dhcp: an option longer than the message");
	const uint8_t lenless[] = { 53, 1, 2, 6 };
	n = reply(m, lenless, sizeof(lenless));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_OPTION, "dhcp: an option without length");
	const uint8_t badmask[] = { 53, 1, 2, 1, 3, 255, 255, 0, 255 };
	n = reply(m, badmask, sizeof(badmask));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_OPTION, "dhcp: a 3-byte netmask");
	const uint8_t notype[] = { 1, 4, 255, 255, 255, 0, 255 };
	n = reply(m, notype, sizeof(notype));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_E_NO_TYPE, "dhcp: a plain BOOTP reply");
	uint8_t manydns[2 + 40 + 4] = { 6, 40 };
	manydns[42] = 53, manydns[43] = 1, manydns[44] = 5, manydns[45] = 255;
	n = reply(m, manydns, sizeof(manydns));
	CHECK(dhcp_parse(m, n, 0x11223344, mac, &r) == DHCP_OK && r.ndns == DHCP_MAX_DNS,
	      "dhcp: ten DNS servers keep the first %d", DHCP_MAX_DNS);
}

int main(void)
{
	test_build();
	test_parse_ack();
	test_parse_rejects();
	return test_done();
}
