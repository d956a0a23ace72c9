// SPDX-License-Identifier: MIT
// HTML output with escaping by default: the escapers and the small printf used by pages.c.
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"

// The replacement for one byte, or NULL when it is safe as is. &#39; rather than &apos;
// because HTML 4 user agents do not know the latter.
static const char *html_entity(unsigned char ch)
{
	switch (ch) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

void html_escape(struct buf *b, const char *s)
{
	if (!s)
		return;
	// Copy runs of safe bytes in one append each.
	const char *run = s;
	for (; *s; s++) {
		const char *ent = html_entity((unsigned char)*s);
		if (!ent)
			continue;
		buf_append(b, run, (size_t)(s - run));
		buf_puts(b, ent);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
}

// RFC 3986 section 2.3: only the unreserved characters pass unencoded.
static bool html_url_unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

void html_url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (html_url_unreserved(*p)) {
			buf_putc(b, (char)*p);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, enc, sizeof(enc));
		}
	}
}

// %u: URL-encoded output is already free of & < > " ', but escape anyway so the
// contract ("then HTML-escaped") holds even if the encoder's safe set ever grows.
static void html_put_url(struct buf *b, const char *s)
{
	struct buf tmp;
	buf_init(&tmp);
	html_url_encode(&tmp, s);
	const char *enc = buf_cstr(&tmp);
	if (enc)
		html_escape(b, enc);
	else
		b->oom = true;
	buf_free(&tmp);
}

// An unknown conversion is a programming error in a template: fail loudly while developing.
// In release builds it prints nothing, and so do the conversions after it, because the
// argument list can no longer be trusted to line up with the format.
static void html_bad_conversion(void)
{
#ifndef NDEBUG
	abort();
#endif
}

// Handles the conversion at fmt (just past the '%'); returns how many format bytes it used,
// or 0 for an unknown conversion.
static size_t html_convert(struct buf *b, const char *fmt, va_list *ap)
{
	if (fmt[0] == 's') {
		html_escape(b, va_arg(*ap, const char *));
		return 1;
	}
	if (fmt[0] == 'u') {
		html_put_url(b, va_arg(*ap, const char *));
		return 1;
	}
	if (fmt[0] == 'r') {
		const char *s = va_arg(*ap, const char *);
		if (s)
			buf_puts(b, s);
		return 1;
	}
	if (fmt[0] == 'd') {
		buf_printf(b, "%d", va_arg(*ap, int));
		return 1;
	}
	if (fmt[0] == 'l' && fmt[1] == 'd') {
		buf_printf(b, "%ld", va_arg(*ap, long));
		return 2;
	}
	if (fmt[0] == 'l' && fmt[1] == 'l' && fmt[2] == 'd') {
		buf_printf(b, "%lld", va_arg(*ap, long long));
		return 3;
	}
	if (fmt[0] == 'z' && fmt[1] == 'u') {
		buf_printf(b, "%zu", va_arg(*ap, size_t));
		return 2;
	}
	return 0;
}

// Steps over a conversion without printing it: length modifiers, then one letter.
static const char *html_skip_conversion(const char *fmt)
{
	while (*fmt == 'l' || *fmt == 'z')
		fmt++;
	return *fmt ? fmt + 1 : fmt;
}

void html_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list args;
	va_copy(args, ap);
	bool broken = false;   // after an unknown conversion, arguments are no longer read
	const char *run = fmt;
	while (*fmt) {
		if (*fmt != '%') {
			fmt++;
			continue;
		}
		buf_append(b, run, (size_t)(fmt - run));
		fmt++;
		if (*fmt == '%') {
			buf_putc(b, '%');
			fmt++;
		} else if (!broken) {
			size_t used = html_convert(b, fmt, &args);
			if (!used) {
				html_bad_conversion();
				broken = true;
				fmt = html_skip_conversion(fmt);
			}
			fmt += used;
		} else {
			fmt = html_skip_conversion(fmt);
		}
		run = fmt;
	}
	buf_append(b, run, (size_t)(fmt - run));
	va_end(args);
}

void html_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	html_vprintf(b, fmt, ap);
	va_end(ap);
}
