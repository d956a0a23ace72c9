// SPDX-License-Identifier: MIT
// silo-init's settings file: defaults, every key, and errors naming the line.
#include <arpa/inet.h>
#include <string.h>

#include "initconf.h"
#include "test.h"

static int parse(struct initconf *c, const char *text, char *err)
{
	initconf_defaults(c);
	return initconf_parse(c, text, strlen(text), err, 256);
}

int main(void)
{
	struct initconf c;
	char err[256];
	initconf_defaults(&c);
	CHECK_STR(c.hostname, "silo", "initconf: default hostname");
	CHECK_STR(c.net, "dhcp", "initconf: DHCP by default");
	CHECK_STR(c.data_label, "silo-data", "initconf: default data label");

	CHECK(parse(&c, "# comment\n\nhostname = box-1  # trailing\nrestart_max_s=5\n", err) == 0,
	      "initconf: comments, blanks and spacing");
	CHECK_STR(c.hostname, "box-1", "initconf: hostname set");
	CHECK(c.restart_max_s == 5, "initconf: restart_max_s set");

	CHECK(parse(&c, "net = static\naddress = 192.168.1.10/24\ngateway = 192.168.1.1\n"
			"dns = 192.168.1.1\n", err) == 0, "initconf: a static address");
	struct in_addr a = { c.address }, m = { c.netmask }, g = { c.gateway };
	CHECK_STR(inet_ntoa(a), "192.168.1.10", "initconf: address");
	CHECK_STR(inet_ntoa(m), "255.255.255.0", "initconf: /24 netmask");
	CHECK_STR(inet_ntoa(g), "192.168.1.1", "initconf: gateway");

	CHECK(parse(&c, "net = static\n", err) < 0 && strstr(err, "address"),
	      "initconf: static without an address is refused");
	CHECK(parse(&c, "hostname = ok\nbogus = 1\n", err) < 0 && strstr(err, "line 2") &&
	      strstr(err, "unknown key"), "initconf: an unknown key names its line: %s", err);
	CHECK(parse(&c, "hostname = bad name\n", err) < 0 && strstr(err, "line 1"),
	      "initconf: a hostname with a space");
	CHECK(parse(&c, "address = 10.0.0.1/33\n", err) < 0, "initconf: prefix past 32");
	CHECK(parse(&c, "address = 10.0.0.1\n", err) < 0, "initconf: address without prefix");
	CHECK(parse(&c, "restart_max_s = 0\n", err) < 0, "initconf: restart_max_s of 0");
	CHECK(parse(&c, "restart_max_s = 99999999999999999999\n", err) < 0,
	      "initconf: restart_max_s out of range");
	CHECK(parse(&c, "base_url = ftp://x\n", err) < 0, "initconf: base_url must be http(s)");
	CHECK(parse(&c, "base_url = http://silo.localhost:8080\n", err) == 0 &&
	      strcmp(c.base_url, "http://silo.localhost:8080") == 0, "initconf: base_url set");
	CHECK(parse(&c, "just words\n", err) < 0 && strstr(err, "key = value"), "initconf: no '='");
	char longline[700];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	CHECK(parse(&c, longline, err) < 0 && strstr(err, "longer"), "initconf: an overlong line");
	const char nul[] = "hostname = a\0b\n";
	initconf_defaults(&c);
	CHECK(initconf_parse(&c, nul, sizeof(nul) - 1, err, sizeof(err)) < 0, "initconf: a NUL byte");
	return test_done();
}
