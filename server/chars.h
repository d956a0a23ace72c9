// SPDX-License-Identifier: MIT
// Character classes of HTTP and the wire, shared by every parser of untrusted bytes.
// Inline switches rather than strchr over a set: they run for every byte of every head.
#ifndef SILO_CHARS_H
#define SILO_CHARS_H

#include <stdbool.h>

static inline bool ch_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool ch_alnum(unsigned char c)
{
	return ch_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool ch_hex(unsigned char c)
{
	return ch_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool ch_lower_hex(unsigned char c)
{
	return ch_digit(c) || (c >= 'a' && c <= 'f');
}

// tchar from RFC 9110 5.6.2.
static inline bool ch_tchar(unsigned char c)
{
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return ch_alnum(c);
	}
}

// field-vchar, SP and HTAB; obs-text (0x80-0xff) is allowed in values (RFC 9110 5.5).
static inline bool ch_value(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// What encodeURIComponent leaves alone.
static inline bool ch_uri_unreserved(unsigned char c)
{
	switch (c) {
	case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
		return true;
	default:
		return ch_alnum(c);
	}
}

static inline bool ch_host(unsigned char c)
{
	switch (c) {
	case '.': case '-': case ':': case '[': case ']':
		return true;
	default:
		return ch_alnum(c);
	}
}

static inline bool ch_id(unsigned char c)
{
	return ch_alnum(c) || c == '.' || c == '_' || c == '-';
}

#endif
