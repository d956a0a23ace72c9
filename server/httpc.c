// SPDX-License-Identifier: MIT
// Shared libcurl set-up of outgoing requests (see httpc.h).
#include "httpc.h"

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	// Past the buffer's max the append fails: a write error ends the transfer rather than
	// a hostile server filling memory.
	return buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

void httpc_setup(CURL *c, const struct httpc *r)
{
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, r->protocols);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, r->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, r->agent);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r->body);
	if (r->headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
	if (r->ca_pem) {
		struct curl_blob blob = {.data = (void *)r->ca_pem, .len = r->ca_len,
					 .flags = CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
}
