// SPDX-License-Identifier: MIT
// The server's settings: compiled-in defaults, a config file, then flags.
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int set_long(long *out, const char *v, long min, long max)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int set_str(char *out, size_t outsz, const char *v)
{
	if (strlen(v) >= outsz)
		return -1;
	strcpy(out, v);
	return 0;
}

// A DNS name as a certificate may carry it: labels of [a-z0-9-], at most 253 bytes.
bool config_domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;
	if (!n || n > CONFIG_MAX_DOMAIN || d[0] == '.' || d[n - 1] == '.' || d[0] == '-')
		return false;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return false;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static int add_item(struct config *c, const char *key, const char *tok, char *err, size_t errsz)
{
	bool tls = strcmp(key, "listen_tls") == 0;
	if (strcmp(key, "acme_domain") == 0) {
		if (!config_domain_ok(tok)) {
			snprintf(err, errsz, "acme_domain: '%s' is not a lowercase DNS name", tok);
			return -1;
		}
		if (c->nacme_domain >= CONFIG_MAX_DOMAINS) {
			snprintf(err, errsz, "acme_domain: more than %d names", CONFIG_MAX_DOMAINS);
			return -1;
		}
		strcpy(c->acme_domain[c->nacme_domain++], tok);
		return 0;
	}
	char host[CONFIG_MAX_ADDR];
	int port;
	// listen[] entries hold CONFIG_MAX_ADDR bytes; a host that fits `host` can still
	// come with brackets, a port and any number of leading zeros.
	if (strlen(tok) >= CONFIG_MAX_ADDR || config_split_addr(tok, host, sizeof(host), &port) < 0) {
		snprintf(err, errsz, "%s: '%s' is not ADDRESS:PORT", key, tok);
		return -1;
	}
	size_t *n = tls ? &c->nlisten_tls : &c->nlisten;
	if (*n >= CONFIG_MAX_LISTEN) {
		snprintf(err, errsz, "%s: more than %d addresses", key, CONFIG_MAX_LISTEN);
		return -1;
	}
	strcpy(tls ? c->listen_tls[(*n)++] : c->listen[(*n)++], tok);
	return 0;
}

static bool is_list(const char *key)
{
	return strcmp(key, "listen") == 0 || strcmp(key, "listen_tls") == 0 ||
	       strcmp(key, "acme_domain") == 0;
}

int config_add(struct config *c, const char *key, const char *value, char *err, size_t errsz)
{
	if (!is_list(key)) {
		snprintf(err, errsz, "%s is not a list", key);
		return -1;
	}
	return add_item(c, key, value, err, errsz);
}

static int set_list(struct config *c, const char *key, const char *v, char *err, size_t errsz)
{
	char copy[2048];
	if (set_str(copy, sizeof(copy), v) < 0) {
		snprintf(err, errsz, "%s: value too long", key);
		return -1;
	}
	// A file's (or the first flag's) list replaces the defaults' list.
	if (strcmp(key, "listen") == 0)
		c->nlisten = 0;
	else if (strcmp(key, "listen_tls") == 0)
		c->nlisten_tls = 0;
	else
		c->nacme_domain = 0;
	for (char *save, *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (add_item(c, key, tok, err, errsz) < 0)
			return -1;
	return 0;
}

static const struct {
	const char *key;
	size_t off;
	long min, max;
} longs[] = {
	{"max_body_bytes", offsetof(struct config, max_body_bytes), 1024, 1L << 40},
	{"max_conns_per_addr", offsetof(struct config, max_conns_per_addr), 1, 100000},
	{"max_conns", offsetof(struct config, max_conns), 1, 1000000},
	{"header_timeout", offsetof(struct config, header_timeout), 1, 3600},
	{"body_timeout", offsetof(struct config, body_timeout), 1, 86400},
	{"idle_timeout", offsetof(struct config, idle_timeout), 1, 86400},
	{"shutdown_timeout", offsetof(struct config, shutdown_timeout), 0, 3600},
	{"front_uid", offsetof(struct config, front_uid), 1, 4000000000L},
	{"grain_uid_base", offsetof(struct config, grain_uid_base), 1, 4000000000L},
	{"grain_uid_count", offsetof(struct config, grain_uid_count), 1, 100000000L},
	{"grain_idle_timeout", offsetof(struct config, grain_idle_timeout), 1, 86400 * 7},
	{"grain_memory_mb", offsetof(struct config, grain_memory_mb), 16, 1L << 20},
	{"grain_pids", offsetof(struct config, grain_pids), 8, 1L << 22},
	{"grain_cpu_weight", offsetof(struct config, grain_cpu_weight), 1, 10000},
	{"grain_tmp_mb", offsetof(struct config, grain_tmp_mb), 1, 1L << 20},
	{"max_package_mb", offsetof(struct config, max_package_mb), 1, 1L << 20},
	{"max_unpacked_mb", offsetof(struct config, max_unpacked_mb), 1, 1L << 22},
	{"max_backup_mb", offsetof(struct config, max_backup_mb), 1, 1L << 22},
	{"max_backup_unpacked_mb", offsetof(struct config, max_backup_unpacked_mb), 1, 1L << 24},
	{"max_os_update_mb", offsetof(struct config, max_os_update_mb), 1, 256},
	{"tls_handshake_timeout", offsetof(struct config, tls_handshake_timeout), 1, 600},
	{"tls_check_interval", offsetof(struct config, tls_check_interval), 1, 86400},
	{"acme_retry_max", offsetof(struct config, acme_retry_max), 1, 86400 * 7},
	{"dyndns_update_interval", offsetof(struct config, dyndns_update_interval), 10, 86400},
	{"dyndns_ping_port", offsetof(struct config, dyndns_ping_port), 0, 65535},
	{"dyndns_ping_interval", offsetof(struct config, dyndns_ping_interval), 1, 3600},
	{"acme_http_port", offsetof(struct config, acme_http_port), 1, 65535},
};

bool config_dynname_ok(const char *v)
{
	size_t n = strlen(v);
	return n && n <= CONFIG_MAX_DYNNAME &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && v[0] != '-' &&
	       v[n - 1] != '-';
}

// The dynamic DNS keys. A name is what the service allows (sandcats: up to 20 of
// [0-9a-z-], not starting or ending with '-'), lowercase here.
static int set_dyndns(struct config *c, const char *key, const char *v, char *err, size_t errsz)
{
	size_t n = strlen(v);
	int r;
	if (strcmp(key, "dyndns_url") == 0) {
		r = set_str(c->dyndns_url, sizeof(c->dyndns_url), v);
		if (!r && n && strncmp(v, "https://", 8) != 0) {
			snprintf(err, errsz, "dyndns_url: '%s' is not an https:// URL", v);
			return -1;
		}
	} else if (strcmp(key, "dyndns_ca") == 0) {
		r = set_str(c->dyndns_ca, sizeof(c->dyndns_ca), v);
	} else if (strcmp(key, "dyndns_email") == 0) {
		r = set_str(c->dyndns_email, sizeof(c->dyndns_email), v);
	} else if (strcmp(key, "dyndns_name") == 0) {
		if (n && !config_dynname_ok(v)) {
			snprintf(err, errsz, "dyndns_name: '%s' is not up to %d of a-z, 0-9 and '-'", v,
				 CONFIG_MAX_DYNNAME);
			return -1;
		}
		r = set_str(c->dyndns_name, sizeof(c->dyndns_name), v);
	} else if (strcmp(key, "dyndns_zone") == 0) {
		if (n && (!config_domain_ok(v) || n > CONFIG_MAX_DOMAIN - CONFIG_MAX_DYNNAME - 3)) {
			snprintf(err, errsz, "dyndns_zone: '%s' is not a lowercase DNS name of at most "
				 "%d bytes", v, CONFIG_MAX_DOMAIN - CONFIG_MAX_DYNNAME - 3);
			return -1;
		}
		r = set_str(c->dyndns_zone, sizeof(c->dyndns_zone), v);
	} else {
		snprintf(err, errsz, "unknown setting '%s'", key);
		return -1;
	}
	if (r < 0)
		snprintf(err, errsz, "%s: value too long", key);
	return r;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errsz)
{
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		if (strcmp(key, longs[i].key) != 0)
			continue;
		if (set_long((long *)((char *)c + longs[i].off), value, longs[i].min, longs[i].max) < 0) {
			snprintf(err, errsz, "%s: '%s' is not a number from %ld to %ld", key, value,
				 longs[i].min, longs[i].max);
			return -1;
		}
		return 0;
	}
	if (is_list(key))
		return set_list(c, key, value, err, errsz);
	if (strncmp(key, "dyndns_", 7) == 0)
		return set_dyndns(c, key, value, err, errsz);
	if (strcmp(key, "acme_directory") == 0 || strcmp(key, "acme_ca") == 0) {
		bool dir = key[5] == 'd';
		if (dir ? set_str(c->acme_directory, sizeof(c->acme_directory), value)
			: set_str(c->acme_ca, sizeof(c->acme_ca), value)) {
			snprintf(err, errsz, "%s: value too long", key);
			return -1;
		}
		if (dir && *value && strncmp(value, "https://", 8)) {
			snprintf(err, errsz, "acme_directory: '%s' is not an https:// URL", value);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "resolver") == 0) {
		char host[CONFIG_MAX_ADDR];
		int port;
		if (set_str(c->resolver, sizeof(c->resolver), value) < 0 ||
		    (*value && config_split_addr(value, host, sizeof(host), &port) < 0)) {
			snprintf(err, errsz, "resolver: '%s' is not ADDR:PORT", value);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "data") == 0 || strcmp(key, "base_url") == 0 ||
	    strcmp(key, "password_cost") == 0) {
		int r = key[0] == 'd'   ? set_str(c->data, sizeof(c->data), value)
			: key[0] == 'b' ? set_str(c->base_url, sizeof(c->base_url), value)
					: set_str(c->password_cost, sizeof(c->password_cost), value);
		if (r < 0) {
			snprintf(err, errsz, "%s: value too long", key);
			return -1;
		}
		if (key[0] == 'p' && strcmp(value, "interactive") && strcmp(value, "moderate") &&
		    strcmp(value, "small")) {
			snprintf(err, errsz, "password_cost: '%s' is not small, interactive or moderate",
				 value);
			return -1;
		}
		if (key[0] == 'b' && *value && strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) {
			snprintf(err, errsz, "base_url: '%s' does not start with http:// or https://", value);
			return -1;
		}
		return 0;
	}
	snprintf(err, errsz, "unknown setting '%s'", key);
	return -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int config_parse(struct config *c, const char *text, const char *name, char *err, size_t errsz)
{
	int lineno = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		char line[2048];
		if (n >= sizeof(line)) {
			snprintf(err, errsz, "%s:%d: line too long", name, lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errsz, "%s:%d: expected 'key = value'", name, lineno);
			return -1;
		}
		*eq = '\0';
		char msg[256];
		if (config_set(c, trim(l), trim(eq + 1), msg, sizeof(msg)) < 0) {
			snprintf(err, errsz, "%s:%d: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int config_defaults(struct config *c, char *err, size_t errsz)
{
	memset(c, 0, sizeof(*c));
	return config_parse(c, config_default_text, "config/silo.conf (built in)", err, errsz);
}

int config_load(struct config *c, const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	int toolong = !feof(f);
	fclose(f);
	if (toolong) {
		snprintf(err, errsz, "%s: larger than %zu bytes", path, sizeof(text) - 1);
		return -1;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		snprintf(err, errsz, "%s: not a text file", path);
		return -1;
	}
	return config_parse(c, text, path, err, errsz);
}

int config_split_addr(const char *addr, char *host, size_t hostsz, int *port)
{
	const char *colon;
	size_t hl;
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - addr - 1);
		if (hl + 1 > hostsz)
			return -1;
		memcpy(host, addr + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -1;
		hl = (size_t)(colon - addr);
		if (hl + 1 > hostsz)
			return -1;
		memcpy(host, addr, hl);
	}
	host[hl] = '\0';
	long p;
	if (!hl || set_long(&p, colon + 1, 0, 65535) < 0)
		return -1;
	*port = (int)p;
	return 0;
}
