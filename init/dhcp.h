// SPDX-License-Identifier: MIT
// DHCPv4 messages (RFC 2131, options RFC 2132): building requests and parsing untrusted replies.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define DHCP_MAX_MSG 1500    // bytes; a reply longer than an Ethernet frame is refused
#define DHCP_MAX_DNS 3

enum dhcp_type {
	DHCP_DISCOVER = 1, DHCP_OFFER = 2, DHCP_REQUEST = 3, DHCP_DECLINE = 4,
	DHCP_ACK = 5, DHCP_NAK = 6, DHCP_RELEASE = 7,
};

// What a client sends. requested/server are 0 when not sent; ciaddr is set when renewing.
struct dhcp_req {
	enum dhcp_type type;
	uint32_t xid;
	uint8_t mac[6];
	uint32_t ciaddr, requested, server;   // network byte order
	const char *hostname;                 // may be NULL
};

// The fields of a reply silo-init uses; addresses in network byte order, 0 when absent.
struct dhcp_reply {
	enum dhcp_type type;
	uint32_t yiaddr, server, netmask, router;
	uint32_t dns[DHCP_MAX_DNS];
	int ndns;
	uint32_t lease_s;   // 0: none given
};

enum dhcp_err {
	DHCP_OK = 0,
	DHCP_E_SHORT,      // shorter than the fixed header + magic
	DHCP_E_LONG,       // longer than DHCP_MAX_MSG
	DHCP_E_NOT_REPLY,  // op is not BOOTREPLY, or not Ethernet
	DHCP_E_XID,        // not an answer to our transaction
	DHCP_E_MAC,        // for another client's hardware address
	DHCP_E_MAGIC,      // no DHCP magic cookie
	DHCP_E_OPTION,     // an option runs past the end or has a bad length
	DHCP_E_NO_TYPE,    // no message type option (a plain BOOTP reply)
};

// Writes a request into out (at least DHCP_MAX_MSG bytes); its length.
size_t dhcp_build(const struct dhcp_req *req, uint8_t *out, size_t outsz);

// Parses a reply to transaction xid for mac. Options 52 (overload) is not honoured: the
// file and sname fields are ignored, as most small clients do.
enum dhcp_err dhcp_parse(const uint8_t *msg, size_t len, uint32_t xid, const uint8_t mac[6],
			 struct dhcp_reply *out);

const char *dhcp_strerror(enum dhcp_err e);
