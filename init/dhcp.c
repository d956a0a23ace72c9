// SPDX-License-Identifier: MIT
// DHCPv4 message building and parsing; no I/O here, so the parser can be unit-tested and fuzzed.
#include <arpa/inet.h>
#include <string.h>

#include "dhcp.h"

// RFC 2131 section 2: op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
// giaddr, chaddr[16], sname[64], file[128], then the magic cookie and options.
#define OFF_XID 4
#define OFF_FLAGS 10
#define OFF_CIADDR 12
#define OFF_YIADDR 16
#define OFF_CHADDR 28
#define OFF_MAGIC 236
#define OFF_OPTIONS 240
#define MAGIC 0x63825363u

enum {
	OPT_PAD = 0, OPT_SUBNET = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12,
	OPT_REQUESTED = 50, OPT_LEASE = 51, OPT_TYPE = 53, OPT_SERVER = 54, OPT_PARAMS = 55,
	OPT_MAXSIZE = 57, OPT_END = 255,
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Appends an address option (the address is already in network byte order).
static size_t opt_addr(uint8_t *o, uint8_t code, uint32_t addr_be)
{
	o[0] = code;
	o[1] = 4;
	memcpy(o + 2, &addr_be, 4);
	return 6;
}

size_t dhcp_build(const struct dhcp_req *req, uint8_t *out, size_t outsz)
{
	if (outsz < DHCP_MAX_MSG)
		return 0;
	memset(out, 0, 300);
	out[0] = 1;   // BOOTREQUEST
	out[1] = 1;   // Ethernet
	out[2] = 6;
	put32(out + OFF_XID, req->xid);
	// Broadcast flag: before it has an address the client cannot receive unicast replies.
	if (!req->ciaddr)
		out[OFF_FLAGS] = 0x80;
	memcpy(out + OFF_CIADDR, &req->ciaddr, 4);
	memcpy(out + OFF_CHADDR, req->mac, 6);
	put32(out + OFF_MAGIC, MAGIC);
	uint8_t *o = out + OFF_OPTIONS;
	*o++ = OPT_TYPE;
	*o++ = 1;
	*o++ = (uint8_t)req->type;
	*o++ = OPT_MAXSIZE;
	*o++ = 2;
	*o++ = DHCP_MAX_MSG >> 8;
	*o++ = DHCP_MAX_MSG & 0xff;
	if (req->requested)
		o += opt_addr(o, OPT_REQUESTED, req->requested);
	if (req->server)
		o += opt_addr(o, OPT_SERVER, req->server);
	if (req->hostname && req->hostname[0]) {
		size_t n = strnlen(req->hostname, 63);
		*o++ = OPT_HOSTNAME;
		*o++ = (uint8_t)n;
		memcpy(o, req->hostname, n);
		o += n;
	}
	static const uint8_t params[] = { OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_LEASE };
	*o++ = OPT_PARAMS;
	*o++ = sizeof(params);
	memcpy(o, params, sizeof(params));
	o += sizeof(params);
	*o++ = OPT_END;
	size_t len = (size_t)(o - out);
	// BOOTP relays drop messages shorter than the 300 bytes of RFC 951.
	return len < 300 ? 300 : len;
}

static enum dhcp_err parse_options(const uint8_t *o, size_t n, struct dhcp_reply *r)
{
	size_t i = 0;
	while (i < n) {
		uint8_t code = o[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return DHCP_OK;
		if (i >= n || o[i] > n - i - 1)
			return DHCP_E_OPTION;
		uint8_t len = o[i++];
		const uint8_t *v = o + i;
		i += len;
		switch (code) {
		case OPT_TYPE:
			if (len != 1)
				return DHCP_E_OPTION;
			r->type = (enum dhcp_type)v[0];
			break;
		case OPT_SUBNET:
		case OPT_SERVER:
		case OPT_ROUTER:
			// A router list may hold several; the first is the default route.
			if (len < 4 || (code != OPT_ROUTER && len != 4))
				return DHCP_E_OPTION;
			memcpy(code == OPT_SUBNET ? &r->netmask : code == OPT_SERVER ? &r->server
										  : &r->router,
			       v, 4);
			break;
		case OPT_DNS:
			if (len < 4 || len % 4)
				return DHCP_E_OPTION;
			for (size_t k = 0; k + 4 <= len && r->ndns < DHCP_MAX_DNS; k += 4)
				memcpy(&r->dns[r->ndns++], v + k, 4);
			break;
		case OPT_LEASE:
			if (len != 4)
				return DHCP_E_OPTION;
			r->lease_s = get32(v);
			break;
		default:
			break;
		}
	}
	// No END option: accepted, as many servers pad to the end of the frame instead.
	return DHCP_OK;
}

enum dhcp_err dhcp_parse(const uint8_t *msg, size_t len, uint32_t xid, const uint8_t mac[6],
			 struct dhcp_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (len > DHCP_MAX_MSG)
		return DHCP_E_LONG;
	if (len < OFF_OPTIONS)
		return DHCP_E_SHORT;
	if (msg[0] != 2 || msg[1] != 1 || msg[2] != 6)
		return DHCP_E_NOT_REPLY;
	if (get32(msg + OFF_XID) != xid)
		return DHCP_E_XID;
	if (memcmp(msg + OFF_CHADDR, mac, 6) != 0)
		return DHCP_E_MAC;
	if (get32(msg + OFF_MAGIC) != MAGIC)
		return DHCP_E_MAGIC;
	memcpy(&out->yiaddr, msg + OFF_YIADDR, 4);
	enum dhcp_err e = parse_options(msg + OFF_OPTIONS, len - OFF_OPTIONS, out);
	if (e != DHCP_OK)
		return e;
	return out->type ? DHCP_OK : DHCP_E_NO_TYPE;
}

const char *dhcp_strerror(enum dhcp_err e)
{
	switch (e) {
	case DHCP_OK: return "ok";
	case DHCP_E_SHORT: return "message too short";
	case DHCP_E_LONG: return "message too long";
	case DHCP_E_NOT_REPLY: return "not an Ethernet BOOTREPLY";
	case DHCP_E_XID: return "transaction id does not match";
	case DHCP_E_MAC: return "for another hardware address";
	case DHCP_E_MAGIC: return "no DHCP magic cookie";
	case DHCP_E_OPTION: return "malformed option";
	case DHCP_E_NO_TYPE: return "no message type";
	}
	return "unknown error";
}
