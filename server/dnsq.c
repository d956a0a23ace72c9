// SPDX-License-Identifier: MIT
// A minimal DNS A lookup over UDP: one question, answers parsed with a bound on every read.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "dnsq.h"

size_t dnsq_build(const char *name, uint16_t id, unsigned char *out, size_t outsz)
{
	size_t len = strlen(name);
	if (!len || len > 253 || outsz < 12 + len + 2 + 4)
		return 0;
	// Header: id, RD set, one question.
	unsigned char h[12] = {(unsigned char)(id >> 8), (unsigned char)id, 0x01, 0, 0, 1};
	memcpy(out, h, 12);
	size_t o = 12;
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");
		if (l == 0 || l > 63)
			return 0;
		out[o++] = (unsigned char)l;
		memcpy(out + o, p, l);
		o += l;
		p += l;
		if (*p == '.' && *++p == '\0')
			break;   // a trailing dot
	}
	out[o++] = 0;
	const unsigned char tail[4] = {0, 1, 0, 1};   // type A, class IN
	memcpy(out + o, tail, 4);
	return o + 4;
}

// Skips a (possibly compressed) name at *o. 0 / -1.
static int skip_name(const unsigned char *p, size_t n, size_t *o)
{
	for (int labels = 0; labels < 128; labels++) {
		if (*o >= n)
			return -1;
		unsigned char l = p[*o];
		if ((l & 0xc0) == 0xc0) {   // a pointer ends the name here
			if (*o + 2 > n)
				return -1;
			*o += 2;
			return 0;
		}
		if (l & 0xc0)
			return -1;
		*o += 1 + (size_t)l;
		if (l == 0)
			return 0;
	}
	return -1;
}

static unsigned u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

int dnsq_parse_a(const unsigned char *p, size_t n, uint16_t id, uint32_t *addrs, size_t max)
{
	if (n < 12 || u16(p) != id || !(p[2] & 0x80))
		return -1;
	unsigned rcode = p[3] & 0x0f, qd = u16(p + 4), an = u16(p + 6);
	if (rcode == 3)   // NXDOMAIN: no such name
		return 0;
	if (rcode != 0 || qd > 1)
		return -1;
	size_t o = 12;
	if (qd == 1 && (skip_name(p, n, &o) < 0 || (o += 4) > n))
		return -1;
	int got = 0;
	for (unsigned i = 0; i < an; i++) {
		if (skip_name(p, n, &o) < 0 || o + 10 > n)
			return -1;
		unsigned type = u16(p + o), cls = u16(p + o + 2), rdlen = u16(p + o + 8);
		o += 10;
		if (o + rdlen > n)
			return -1;
		if (type == 1 && cls == 1 && rdlen == 4 && (size_t)got < max) {
			uint32_t a;
			memcpy(&a, p + o, 4);
			addrs[got++] = a;
		}
		o += rdlen;
	}
	return got;
}

int dnsq_lookup(const char *server, const char *name, uint32_t *addrs, size_t max, char *err,
		size_t errsz)
{
	char host[64];
	int port;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (config_split_addr(server, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errsz, "the resolver '%.80s' is not an IPv4 ADDR:PORT", server);
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	uint16_t id;
	unsigned char q[300], r[DNSQ_PACKET_MAX];
	size_t qn;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id) ||
	    !(qn = dnsq_build(name, id, q, sizeof(q)))) {
		snprintf(err, errsz, "'%.260s' is not a DNS name", name);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errsz, "cannot reach the resolver %.80s: %s", server, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	// Three tries, two seconds each: UDP may be lost.
	int res = -1;
	for (int tries = 0; tries < 3 && res < 0; tries++) {
		if (send(fd, q, qn, 0) != (ssize_t)qn)
			break;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		while (res < 0 && poll(&pf, 1, 2000) == 1) {
			ssize_t k = recv(fd, r, sizeof(r), 0);
			if (k < 0)
				break;
			res = dnsq_parse_a(r, (size_t)k, id, addrs, max);
		}
	}
	close(fd);
	if (res < 0)
		snprintf(err, errsz, "the resolver %.80s gave no usable answer for %.260s", server, name);
	return res;
}
