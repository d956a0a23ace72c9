// SPDX-License-Identifier: MIT
// libFuzzer target for text-field parsers: http_url_decode in both modes and every buffer
// size, and config.c (config_parse, config_split_addr) on the input as operator text.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *xmalloc(size_t n)
{
	char *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

// Decoding into a buffer of any size either fits the full result or fails; never a partial
// result, never a NUL inside, never longer than the input.
static void check_decode(const char *s, size_t size, bool form)
{
	char *big = xmalloc(size + 1);
	int r = http_url_decode(s, size, big, size + 1, form);
	size_t len = r == 0 ? strlen(big) : 0;
	if (r != 0 && r != -1)
		abort();
	if (r == 0 && (len > size || (!memchr(s, '%', size) && len != size)))
		abort();
	static const size_t sizes[] = {0, 1, 2, 7, 16};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *small = xmalloc(sizes[i]); // exact size: ASan catches a write past it
		int rs = http_url_decode(s, size, small, sizes[i], form);
		bool fits = r == 0 && len < sizes[i];
		if ((rs == 0) != fits || (fits && strcmp(small, big) != 0))
			abort();
		free(small);
	}
	if (r == 0) {
		// Percent-encoding the result and decoding it again gives the result back.
		char *enc = xmalloc(len * 3 + 1), *back = xmalloc(len + 1);
		for (size_t i = 0; i < len; i++)
			snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)big[i]);
		if (http_url_decode(enc, len * 3, back, len + 1, !form) != 0 || strcmp(back, big) != 0)
			abort();
		free(enc);
		free(back);
	}
	free(big);
}

static void check_config(const char *text)
{
	static struct config base;
	static bool have_base;
	char err[512];
	if (!have_base) {
		if (config_defaults(&base, err, sizeof(err)) < 0)
			abort();
		have_base = true;
	}
	struct config *c = malloc(sizeof(*c));
	if (!c)
		abort();
	memcpy(c, &base, sizeof(*c));
	memset(err, 'x', sizeof(err));
	if (config_parse(c, text, "fuzz.conf", err, sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz.conf:", 10) != 0)
			abort();
	} else {
		if (c->nlisten > CONFIG_MAX_LISTEN || !memchr(c->base_url, '\0', sizeof(c->base_url)) ||
		    !memchr(c->data, '\0', sizeof(c->data)))
			abort();
		for (size_t i = 0; i < c->nlisten; i++) {
			char host[CONFIG_MAX_ADDR];
			int port;
			if (!memchr(c->listen[i], '\0', CONFIG_MAX_ADDR) ||
			    config_split_addr(c->listen[i], host, sizeof(host), &port) < 0)
				abort();
		}
		if (strcmp(c->password_cost, "interactive") != 0 && strcmp(c->password_cost, "moderate") != 0)
			abort();
		if (c->base_url[0] && strncmp(c->base_url, "http://", 7) != 0 && strncmp(c->base_url, "https://", 8) != 0)
			abort();
		if (c->max_body_bytes < 1024 || c->max_conns < 1 || c->header_timeout < 1 || c->shutdown_timeout < 0)
			abort();
	}
	free(c);
}

static void check_split(const char *text)
{
	static const size_t sizes[] = {1, 4, CONFIG_MAX_ADDR};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *host = xmalloc(sizes[i]);
		int port = -1;
		if (config_split_addr(text, host, sizes[i], &port) == 0 &&
		    (port < 0 || port > 65535 || strlen(host) >= sizes[i] || !*host))
			abort();
		free(host);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_decode(s, size, false);
	check_decode(s, size, true);
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	check_config(text);
	check_split(text);
	free(text);
	return 0;
}
