// SPDX-License-Identifier: MIT
// What every outgoing HTTP(S) request of silo shares: the ACME client, dynamic DNS and the
// reachability check all set libcurl up through here.
#pragma once
#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

struct httpc {
	const char *url;
	const char *protocols;          // "https", or "http" for the reachability check
	long timeout;                   // seconds for the whole exchange (10 to connect)
	const char *agent;              // User-Agent: the part of silo that asks
	struct curl_slist *headers;     // NULL: none
	struct buf *body;               // the reply's body; past body->max the transfer stops
	const void *ca_pem;             // trust only this CA (tests); NULL: the system's
	size_t ca_len;
};

// Sets the options of R on C, which the caller then adds its own to and performs.
void httpc_setup(CURL *c, const struct httpc *r);
