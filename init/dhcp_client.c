// SPDX-License-Identifier: MIT
// DHCP over a UDP socket bound to the interface: with the broadcast flag set, servers
// broadcast their replies, which the socket receives before the link has an address.
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "dhcp_client.h"
#include "util.h"

static int open_socket(const char *ifname)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(68) };
	if (setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int saved = errno;
		close(s);
		errno = saved;
		return -1;
	}
	return s;
}

static int send_msg(int s, const struct dhcp_req *req)
{
	uint8_t buf[DHCP_MAX_MSG];
	size_t n = dhcp_build(req, buf, sizeof(buf));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67),
				  .sin_addr.s_addr = INADDR_BROADCAST };
	return sendto(s, buf, n, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)n ? 0 : -1;
}

// Waits until deadline for a reply of one of the wanted types; 0 with it in out, -1 on timeout.
static int wait_reply(int s, uint32_t xid, const uint8_t mac[6], int64_t deadline,
		      enum dhcp_type want1, enum dhcp_type want2, struct dhcp_reply *out)
{
	for (;;) {
		int64_t left = deadline - util_now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = s, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		uint8_t buf[DHCP_MAX_MSG + 1];
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		// Other clients' replies and junk on port 68 are expected on a shared link.
		if (dhcp_parse(buf, (size_t)n, xid, mac, out) != DHCP_OK)
			continue;
		if (out->type == want1 || out->type == want2)
			return 0;
	}
}

static int exchange(int s, struct dhcp_req *req, const uint8_t mac[6], int64_t end,
		    struct dhcp_reply *out)
{
	// RFC 2131 4.1: retransmit with a doubling delay (here from 1 s, within the time given).
	for (int wait = 1000; util_now_ms() < end; wait *= 2) {
		if (send_msg(s, req) < 0)
			return -1;
		int64_t deadline = util_now_ms() + wait;
		if (deadline > end)
			deadline = end;
		enum dhcp_type w1 = req->type == DHCP_DISCOVER ? DHCP_OFFER : DHCP_ACK;
		if (wait_reply(s, req->xid, mac, deadline, w1, DHCP_NAK, out) == 0)
			return 0;
	}
	errno = ETIMEDOUT;
	return -1;
}

int dhcp_client_run(const char *ifname, const uint8_t mac[6], const char *hostname,
		    uint32_t ciaddr, int timeout_ms, struct dhcp_reply *out)
{
	int s = open_socket(ifname);
	if (s < 0) {
		console_errno("dhcp: socket on %s", ifname);
		return -1;
	}
	int64_t end = util_now_ms() + timeout_ms;
	struct dhcp_req req = { .hostname = hostname, .ciaddr = ciaddr };
	memcpy(req.mac, mac, 6);
	if (getrandom(&req.xid, sizeof(req.xid), GRND_NONBLOCK) != sizeof(req.xid))
		req.xid = (uint32_t)util_now_ms() ^ ((uint32_t)mac[4] << 8 | mac[5]);
	int rc = -1;
	if (!ciaddr) {
		req.type = DHCP_DISCOVER;
		if (exchange(s, &req, mac, end, out) < 0 || out->type != DHCP_OFFER || !out->yiaddr)
			goto done;
		req.requested = out->yiaddr;
		req.server = out->server;
	}
	req.type = DHCP_REQUEST;
	if (exchange(s, &req, mac, end, out) < 0)
		goto done;
	if (out->type == DHCP_NAK) {
		console_log("dhcp: the server refused the address (NAK)");
		goto done;
	}
	rc = out->yiaddr ? 0 : -1;
done:
	close(s);
	return rc;
}
