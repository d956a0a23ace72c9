// SPDX-License-Identifier: MIT
// Unit tests for dnsq.c: the A query's wire form, replies with compressed and plain
// names, NXDOMAIN, and malformed or foreign replies refused.
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "dnsq.h"
#include "test.h"

// A reply to id for box.test with the given answers (each 127.0.0.N, compressed owner).
static size_t reply(unsigned char *p, uint16_t id, unsigned rcode, int answers)
{
	unsigned char h[12] = {id >> 8, id & 0xff, 0x81, (unsigned char)(0x80 | rcode), 0, 1, 0,
			       (unsigned char)answers, 0, 0, 0, 0};
	size_t n = 0;
	memcpy(p, h, 12);
	n = 12;
	memcpy(p + n, "\3box\4test\0\0\1\0\1", 14);
	n += 14;
	for (int i = 0; i < answers; i++) {
		unsigned char a[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0,
				       (unsigned char)(i + 1)};
		memcpy(p + n, a, 16);
		n += 16;
	}
	return n;
}

int main(void)
{
	unsigned char q[300], r[600];
	size_t n = dnsq_build("box.test", 0x1234, q, sizeof(q));
	CHECK(n == 12 + 10 + 4 && memcmp(q + 12, "\3box\4test\0\0\1\0\1", 14) == 0 && q[0] == 0x12 &&
	      q[2] == 1, "build: an A question with recursion desired");
	CHECK(dnsq_build("box.test.", 1, q, sizeof(q)) == n, "build: a trailing dot is the same name");
	CHECK(dnsq_build("a..b", 1, q, sizeof(q)) == 0 && dnsq_build("", 1, q, sizeof(q)) == 0,
	      "build: empty labels are refused");

	uint32_t a[4];
	n = reply(r, 7, 0, 2);
	CHECK(dnsq_parse_a(r, n, 7, a, 4) == 2 && a[0] == htonl(0x7f000001) && a[1] == htonl(0x7f000002),
	      "parse: two A answers with compressed names");
	CHECK(dnsq_parse_a(r, n, 7, a, 1) == 1, "parse: never more addresses than room for");
	CHECK(dnsq_parse_a(r, n, 8, a, 4) == -1, "parse: a reply to another query is refused");
	n = reply(r, 7, 3, 0);
	CHECK(dnsq_parse_a(r, n, 7, a, 4) == 0, "parse: NXDOMAIN is no address");
	n = reply(r, 7, 2, 0);
	CHECK(dnsq_parse_a(r, n, 7, a, 4) == -1, "parse: SERVFAIL is an error");
	n = reply(r, 7, 0, 1);
	CHECK(dnsq_parse_a(r, n - 1, 7, a, 4) == -1, "parse: a truncated answer is refused");
	r[12] = 0x80;   // a label length with the reserved bits
	CHECK(dnsq_parse_a(r, n, 7, a, 4) == -1, "parse: a bad label is refused");
	CHECK(dnsq_parse_a(r, 5, 7, a, 4) == -1, "parse: a short header is refused");
	return test_done();
}
