// SPDX-License-Identifier: MIT
// HTML output with escaping by default: html_printf's %s escapes, %r inserts trusted markup.
#pragma once
#include <stdarg.h>

#include "buf.h"

// Appends s with & < > " ' escaped (safe in text and in quoted attribute values).
void html_escape(struct buf *b, const char *s);
// Appends s percent-encoded for use inside a URL path segment or query value.
void html_url_encode(struct buf *b, const char *s);
// A printf subset for templates. Conversions:
//   %s  a string, HTML-escaped (NULL prints nothing)
//   %u  a string, URL-encoded then HTML-escaped
//   %r  a string of trusted markup, inserted as is
//   %d  int, %ld long, %lld long long, %zu size_t
//   %%  a percent sign
// Anything else aborts in debug builds and prints nothing otherwise.
void html_printf(struct buf *b, const char *fmt, ...);
void html_vprintf(struct buf *b, const char *fmt, va_list ap);
