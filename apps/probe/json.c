// SPDX-License-Identifier: MIT
// A small JSON writer for the probe's reports.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void json_free(struct json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;
		while (cap < j->len + n + 1)
			cap *= 2;
		char *b = realloc(j->buf, cap);
		if (!b) {
			j->oom = true;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void quoted(struct json *j, const char *s)
{
	put(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(j, esc, 6);
		} else {
			put(j, (const char *)&c, 1);
		}
	}
	put(j, "\"", 1);
}

static void member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (key) {
		quoted(j, key);
		put(j, ":", 1);
	}
}

void json_open(struct json *j, const char *key, char bracket)
{
	member(j, key);
	put(j, &bracket, 1);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

void json_close(struct json *j, char bracket)
{
	if (j->depth > 0)
		j->depth--;
	put(j, &bracket, 1);
}

void json_str(struct json *j, const char *key, const char *val)
{
	member(j, key);
	quoted(j, val ? val : "");
}

void json_int(struct json *j, const char *key, long long val)
{
	char b[32];
	member(j, key);
	snprintf(b, sizeof(b), "%lld", val);
	puts_(j, b);
}

void json_bool(struct json *j, const char *key, bool val)
{
	member(j, key);
	puts_(j, val ? "true" : "false");
}

const char *json_text(struct json *j)
{
	if (j->oom || !j->buf)
		return "{\"error\":\"out of memory\"}";
	return j->buf;
}
