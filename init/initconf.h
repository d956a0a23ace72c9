// SPDX-License-Identifier: MIT
// silo-init's settings (/etc/silo/init.conf): `key = value` lines, `#` comments.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define INITCONF_MAX_LINE 512
#define INITCONF_MAX_BYTES 16384

struct initconf {
	char hostname[64];
	char data_label[17];      // the data partition's ext4 label
	char net[8];              // "dhcp" or "static"
	uint32_t address, netmask, gateway, dns;   // static only; network byte order
	char base_url[256];       // empty: http://<address>
	unsigned restart_max_s;   // longest wait between restarts of silo
};

// The defaults, for when no file is there.
void initconf_defaults(struct initconf *c);

// Parses text (len bytes) over the defaults already in c. -1 with a message naming the
// line and the problem in err.
int initconf_parse(struct initconf *c, const char *text, size_t len, char *err, size_t errsz);

// Sets one key (as from the file or from qemu's fw_cfg). -1 with the reason in why.
int initconf_set(struct initconf *c, const char *key, const char *value, char *why,
		 size_t whysz);
