// SPDX-License-Identifier: MIT
// The server's settings: built-in defaults (config/silo.conf, compiled in), then a config
// file, then command-line flags.
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_ADDR 128
#define CONFIG_MAX_DOMAINS 8
#define CONFIG_MAX_DOMAIN 253
#define CONFIG_MAX_DYNNAME 20

struct config {
	char data[PATH_MAX];
	char listen[CONFIG_MAX_LISTEN][CONFIG_MAX_ADDR];
	size_t nlisten;
	int listen_from_flags;   // flags replace the file's list instead of adding to it
	char listen_tls[CONFIG_MAX_LISTEN][CONFIG_MAX_ADDR];   // HTTPS listeners
	size_t nlisten_tls;
	char base_url[256];
	long max_body_bytes;
	long max_conns_per_addr;
	long max_conns;
	long header_timeout, body_timeout, idle_timeout, shutdown_timeout;   // seconds
	char password_cost[16];
	long front_uid, grain_uid_base, grain_uid_count;
	long grain_idle_timeout;                                   // seconds
	long grain_memory_mb, grain_pids, grain_cpu_weight, grain_tmp_mb;
	long max_package_mb, max_unpacked_mb;
	long max_backup_mb, max_backup_unpacked_mb;   // grain backups: upload, unpacked
	long max_os_update_mb;                        // an OS update upload (the appliance)
	long tls_handshake_timeout, tls_check_interval;            // seconds
	char acme_directory[512];                                  // "" : no ACME
	char acme_ca[PATH_MAX];                                    // extra CA for the ACME server
	char acme_domain[CONFIG_MAX_DOMAINS][CONFIG_MAX_DOMAIN + 1];
	size_t nacme_domain;
	long acme_retry_max;                                       // seconds between failed tries
	char dyndns_url[512];                                      // "" : no dynamic DNS
	char dyndns_ca[PATH_MAX];
	char dyndns_name[CONFIG_MAX_DYNNAME + 1];                  // the label under the zone
	char dyndns_zone[CONFIG_MAX_DOMAIN + 1];
	char dyndns_email[256];
	long dyndns_update_interval;                               // seconds
	long dyndns_ping_port;                                     // UDP; 0: no ping
	long dyndns_ping_interval;                                 // seconds
	long acme_http_port;      // where HTTP-01 validation connects (80); the wizard checks it
	char resolver[CONFIG_MAX_ADDR];   // DNS server for the wizard's check ("": the system's)
};

// Fills c with the compiled-in defaults. 0 / -1 (err says why).
int config_defaults(struct config *c, char *err, size_t errsz);
// Applies a config file's text; name is used in messages ("FILE:LINE: problem").
int config_parse(struct config *c, const char *text, const char *name, char *err, size_t errsz);
// Reads and applies a file. 0 / -1.
int config_load(struct config *c, const char *path, char *err, size_t errsz);
// Sets one key; a list value (listen, listen_tls, acme_domain) may hold several
// space-separated items and replaces the list. 0 / -1.
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errsz);

// Adds one item to a list key (for repeated flags). 0 / -1.
int config_add(struct config *c, const char *key, const char *value, char *err, size_t errsz);
// Splits "HOST:PORT" or "[V6]:PORT" into host (without brackets) and port. 0 / -1.
int config_split_addr(const char *addr, char *host, size_t hostsz, int *port);

// true for a lowercase DNS name (labels of a-z 0-9 -), and for a dynamic DNS label.
bool config_domain_ok(const char *d);
bool config_dynname_ok(const char *v);

// The compiled-in copy of config/silo.conf.
extern const char config_default_text[];
