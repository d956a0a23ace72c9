// SPDX-License-Identifier: MIT
// The parent's part of TLS: the key files under DATA/tls/ (readable by root only when silo
// runs as root), the self-signed certificate made at first start, and the bundle of keys
// and chains handed to the front, which parses TLS without being able to read the files.
#pragma once
#include <stdint.h>

#include "privsep.h"

struct config;

// Makes DATA/tls/ and, when missing or not covering the configured host, the self-signed
// certificate; prints "silo: tls: sha256 <hex>" on stderr and puts the hex in fp (65 bytes).
// 0 / -1 (logged).
int parent_tls_prepare(const struct config *c, char *fp);
// The bundle (ACME pair first when present, then the self-signed pair) in a sealed memfd;
// *stamp identifies the files' versions. -1 on error (logged).
int parent_tls_bundle(const struct config *c, uint64_t *stamp);
// Answers PRIV_TLS_BUNDLE: no fd when m->value is the current stamp, else a new bundle.
void parent_tls_answer(const struct config *c, int sock, const struct priv_msg *m);
// The host name (no port, no brackets) the configured base URL names; 0 / -1.
int parent_tls_host(const struct config *c, char *host, size_t hostsz);
