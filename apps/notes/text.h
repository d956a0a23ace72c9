// SPDX-License-Identifier: MIT
// Text helpers for notes: UTF-8 checks, cleaning what people type, and "2 min ago".
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past
// U+10FFFF) without NUL bytes.
bool text_utf8_valid(const char *s, size_t n);
// A cleaned, malloc'd copy of s[0..n): CRLF and CR become LF, other control characters are
// dropped, leading and trailing whitespace is trimmed. single_line: LF and TAB become spaces.
// s must be valid UTF-8. NULL when out of memory.
char *text_clean(const char *s, size_t n, bool single_line);
// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else "12 Mar 2025".
void text_ago(char *out, size_t outsz, int64_t then, int64_t now);
// The first character of name (a whole UTF-8 sequence, ASCII upper-cased), or "?".
void text_initial(const char *name, char out[8]);
// A small stable hash (FNV-1a), for ETags and avatar colours.
uint32_t text_hash(const void *p, size_t n);
