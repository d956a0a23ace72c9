// SPDX-License-Identifier: MIT
// Text helpers for notes: UTF-8 checks, cleaning what people type, and "2 min ago".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

// The length of the UTF-8 sequence starting at s (at most n bytes), or 0 when it is not
// well formed (RFC 3629 section 4, the table of valid byte sequences).
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c > 0 && c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;   // overlong
		else if (c == 0xed)
			hi = 0x9f;   // surrogates
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;   // overlong
		else if (c == 0xf4)
			hi = 0x8f;   // past U+10FFFF
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

char *text_clean(const char *s, size_t n, bool single_line)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;   // the LF that follows stands for both
			c = '\n';
		}
		if (single_line && (c == '\n' || c == '\t'))
			c = ' ';
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			continue;
		out[o++] = (char)c;
	}
	size_t start = 0;
	while (start < o && is_space(out[start]))
		start++;
	while (o > start && is_space(out[o - 1]))
		o--;
	memmove(out, out + start, o - start);
	out[o - start] = '\0';
	return out;
}

void text_ago(char *out, size_t outsz, int64_t then, int64_t now)
{
	int64_t d = now - then;
	if (d < 45) {
		snprintf(out, outsz, "just now");
	} else if (d < 3600) {
		snprintf(out, outsz, "%lld min ago", (long long)((d + 30) / 60));
	} else if (d < 86400) {
		snprintf(out, outsz, "%lld h ago", (long long)(d / 3600));
	} else if (d < 2 * 86400) {
		snprintf(out, outsz, "yesterday");
	} else if (d < 7 * 86400) {
		snprintf(out, outsz, "%lld days ago", (long long)(d / 86400));
	} else {
		time_t t = (time_t)then;
		struct tm tm;
		gmtime_r(&t, &tm);
		if (!strftime(out, outsz, "%e %b %Y", &tm))
			snprintf(out, outsz, "long ago");
		if (out[0] == ' ')
			memmove(out, out + 1, strlen(out));
	}
}

void text_initial(const char *name, char out[8])
{
	const unsigned char *p = (const unsigned char *)name;
	while (*p == ' ')
		p++;
	size_t l = *p ? utf8_seq(p, strnlen((const char *)p, 4)) : 0;
	if (!l) {
		strcpy(out, "?");
		return;
	}
	memcpy(out, p, l);
	out[l] = '\0';
	if (l == 1 && out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

uint32_t text_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}
