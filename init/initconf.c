// SPDX-License-Identifier: MIT
// Parsing /etc/silo/init.conf: fixed keys, checked values, a message naming the line.
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initconf.h"

void initconf_defaults(struct initconf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->hostname, sizeof(c->hostname), "silo");
	snprintf(c->data_label, sizeof(c->data_label), "silo-data");
	snprintf(c->net, sizeof(c->net), "dhcp");
	c->restart_max_s = 60;
}

static int hostname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

// "a.b.c.d/len" into address and netmask.
static int parse_cidr(const char *v, uint32_t *addr, uint32_t *mask)
{
	char ip[32];
	const char *slash = strchr(v, '/');
	if (!slash || (size_t)(slash - v) >= sizeof(ip))
		return -1;
	memcpy(ip, v, (size_t)(slash - v));
	ip[slash - v] = '\0';
	char *end;
	errno = 0;
	long bits = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || bits < 1 || bits > 32)
		return -1;
	if (inet_pton(AF_INET, ip, addr) != 1)
		return -1;
	*mask = htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits));
	return 0;
}

int initconf_set(struct initconf *c, const char *k, const char *v, char *why, size_t whysz)
{
	if (strcmp(k, "hostname") == 0) {
		if (!hostname_ok(v))
			return snprintf(why, whysz, "hostname: letters, digits and '-', 1-63"), -1;
		snprintf(c->hostname, sizeof(c->hostname), "%s", v);
	} else if (strcmp(k, "data_label") == 0) {
		if (!*v || strlen(v) >= sizeof(c->data_label))
			return snprintf(why, whysz, "data_label: 1-16 characters"), -1;
		snprintf(c->data_label, sizeof(c->data_label), "%s", v);
	} else if (strcmp(k, "net") == 0) {
		if (strcmp(v, "dhcp") != 0 && strcmp(v, "static") != 0)
			return snprintf(why, whysz, "net: 'dhcp' or 'static'"), -1;
		snprintf(c->net, sizeof(c->net), "%s", v);
	} else if (strcmp(k, "address") == 0) {
		if (parse_cidr(v, &c->address, &c->netmask) < 0)
			return snprintf(why, whysz, "address: not an IPv4 ADDRESS/PREFIX"), -1;
	} else if (strcmp(k, "gateway") == 0 || strcmp(k, "dns") == 0) {
		uint32_t *dst = k[0] == 'g' ? &c->gateway : &c->dns;
		if (inet_pton(AF_INET, v, dst) != 1)
			return snprintf(why, whysz, "%s: not an IPv4 address", k), -1;
	} else if (strcmp(k, "base_url") == 0) {
		if (strlen(v) >= sizeof(c->base_url) ||
		    (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0))
			return snprintf(why, whysz, "base_url: an http:// or https:// URL"), -1;
		snprintf(c->base_url, sizeof(c->base_url), "%s", v);
	} else if (strcmp(k, "restart_max_s") == 0) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (errno || *end || !*v || n < 1 || n > 3600)
			return snprintf(why, whysz, "restart_max_s: 1-3600"), -1;
		c->restart_max_s = (unsigned)n;
	} else {
		return snprintf(why, whysz, "unknown key '%.40s'", k), -1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int initconf_parse(struct initconf *c, const char *text, size_t len, char *err, size_t errsz)
{
	if (len > INITCONF_MAX_BYTES)
		return snprintf(err, errsz, "longer than %d bytes", INITCONF_MAX_BYTES), -1;
	size_t pos = 0;
	for (int lineno = 1; pos < len; lineno++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n >= INITCONF_MAX_LINE)
			return snprintf(err, errsz, "line %d: longer than %d bytes", lineno,
					INITCONF_MAX_LINE - 1), -1;
		char line[INITCONF_MAX_LINE];
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (memchr(line, '\0', n))
			return snprintf(err, errsz, "line %d: NUL byte", lineno), -1;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return snprintf(err, errsz, "line %d: expected key = value", lineno), -1;
		*eq = '\0';
		char why[128];
		if (initconf_set(c, trim(s), trim(eq + 1), why, sizeof(why)) < 0)
			return snprintf(err, errsz, "line %d: %s", lineno, why), -1;
	}
	if (strcmp(c->net, "static") == 0 && !c->address)
		return snprintf(err, errsz, "net = static needs an address"), -1;
	return 0;
}
