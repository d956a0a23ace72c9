// SPDX-License-Identifier: MIT
// HTTP/1.1 response parsing for an untrusted server (RFC 9112): strict grammar, caps on
// everything, and an in-place chunked decoder.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "http_resp.h"

static size_t find_head_end(const char *in, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (in[i] == '\n' && in[i - 1] == '\r' && in[i - 2] == '\n' && in[i - 3] == '\r')
			return i + 1;
	return 0;
}

// Line-ending errors show as soon as their bytes arrive; so does a head that cannot fit.
static enum http_resp_err check_partial(const char *in, size_t len)
{
	size_t n = len < HTTP_RESP_MAX_HEAD ? len : HTTP_RESP_MAX_HEAD;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\0' || (i && in[i - 1] == '\r' && in[i] != '\n'))
			return HTTP_RESP_BAD_LINE_END;
		if (in[i] == '\n' && (!i || in[i - 1] != '\r'))
			return HTTP_RESP_BAD_LINE_END;
	}
	if (len >= HTTP_RESP_MAX_HEAD)
		return HTTP_RESP_HEAD_TOO_LARGE;
	return HTTP_RESP_INCOMPLETE;
}

static enum http_resp_err parse_status_line(char *line, struct http_resp *r)
{
	if (strncmp(line, "HTTP/", 5) != 0 || line[5] < '0' || line[5] > '9' || line[6] != '.' ||
	    line[7] < '0' || line[7] > '9' || line[8] != ' ')
		return HTTP_RESP_BAD_STATUS_LINE;
	if (line[5] != '1')
		return HTTP_RESP_BAD_VERSION;
	r->minor = line[7] == '0' ? 0 : 1; // a later 1.x is read as 1.1 (RFC 9110 6.2)
	const char *code = line + 9;
	for (int i = 0; i < 3; i++)
		if (code[i] < '0' || code[i] > '9')
			return HTTP_RESP_BAD_STATUS_LINE;
	if (code[3] != '\0' && code[3] != ' ')
		return HTTP_RESP_BAD_STATUS_LINE;
	r->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	if (r->status < 100 || r->status > 599)
		return HTTP_RESP_BAD_STATUS;
	// The reason phrase is optional, and with it the space before it (servers differ).
	r->reason = code[3] ? code + 4 : code + 3;
	for (const char *p = r->reason; *p; p++)
		if (!ch_value((unsigned char)*p))
			return HTTP_RESP_BAD_STATUS_LINE;
	r->close = r->minor == 0; // 1.0 closes unless it says keep-alive
	return HTTP_RESP_OK;
}

static bool parse_length(const char *v, int64_t *out)
{
	if (!*v)
		return false;
	int64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || n > (INT64_MAX - (*p - '0')) / 10)
			return false;
		n = n * 10 + (*p - '0');
	}
	*out = n;
	return true;
}

static bool list_has(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *s = p;
		while (*p && *p != ',')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
			return true;
	}
	return false;
}

// NAME is NLEN bytes long.
static enum http_resp_err apply_header(struct http_resp *r, const char *name, size_t nlen,
				       const char *value)
{
	if (http_name_is(name, nlen, "Content-Length")) {
		// One value, one meaning: a second one, even an equal one, is refused.
		if (r->content_length >= 0 || !parse_length(value, &r->content_length))
			return HTTP_RESP_BAD_LENGTH;
	} else if (http_name_is(name, nlen, "Transfer-Encoding")) {
		// RFC 9112 6.1: only chunked is understood here; none at all in HTTP/1.0.
		if (r->chunked || r->minor == 0 || strcasecmp(value, "chunked") != 0)
			return HTTP_RESP_BAD_FRAMING;
		r->chunked = true;
	} else if (http_name_is(name, nlen, "Connection")) {
		if (list_has(value, "close"))
			r->close = true;
		else if (list_has(value, "keep-alive"))
			r->close = false;
	}
	return HTTP_RESP_OK;
}

static enum http_resp_err parse_header_line(char *line, struct http_resp *r)
{
	if (*line == ' ' || *line == '\t')
		return HTTP_RESP_BAD_HEADER; // obs-fold (RFC 9112 5.2)
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return HTTP_RESP_BAD_HEADER;
	*colon = '\0';
	for (char *p = line; *p; p++)
		if (!ch_tchar((unsigned char)*p))
			return HTTP_RESP_BAD_HEADER; // includes whitespace before the colon
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	char *end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	for (char *p = v; *p; p++)
		if (!ch_value((unsigned char)*p))
			return HTTP_RESP_BAD_HEADER;
	if (r->nheaders >= HTTP_RESP_MAX_HEADERS)
		return HTTP_RESP_TOO_MANY_HEADERS;
	r->headers[r->nheaders].name = line;
	r->headers[r->nheaders].value = v;
	r->nheaders++;
	return apply_header(r, line, (size_t)(colon - line), v);
}

static enum http_resp_err parse_lines(char *head, size_t len, struct http_resp *r)
{
	char *p = head, *end = head + len;
	for (int lineno = 0; p < end; lineno++) {
		char *cr = memchr(p, '\r', (size_t)(end - p));
		char *lf = memchr(p, '\n', (size_t)(end - p));
		if (!cr || !lf || lf != cr + 1 || memchr(p, '\0', (size_t)(cr - p)))
			return HTTP_RESP_BAD_LINE_END;
		*cr = '\0';
		if (cr == p)
			return lineno ? HTTP_RESP_OK : HTTP_RESP_BAD_STATUS_LINE;
		enum http_resp_err e = lineno ? parse_header_line(p, r) : parse_status_line(p, r);
		if (e)
			return e;
		p = lf + 1;
	}
	return HTTP_RESP_BAD_LINE_END;
}

// Zeroes everything but the header array, of which only the first nheaders entries are
// ever read (it is most of the struct).
_Static_assert(offsetof(struct http_resp, nheaders) ==
		       offsetof(struct http_resp, headers) + sizeof(((struct http_resp *)0)->headers),
	       "clear() relies on nheaders following the header array");
static void clear(struct http_resp *r)
{
	memset(r, 0, offsetof(struct http_resp, headers));
	memset(&r->nheaders, 0, sizeof(*r) - offsetof(struct http_resp, nheaders));
}

enum http_resp_err http_resp_parse(const char *in, size_t len, struct http_resp *r)
{
	clear(r);
	size_t end = find_head_end(in, len < HTTP_RESP_MAX_HEAD ? len : HTTP_RESP_MAX_HEAD);
	if (!end)
		return check_partial(in, len);
	char *raw = malloc(end + 1);
	if (!raw)
		return HTTP_RESP_NOMEM;
	memcpy(raw, in, end);
	raw[end] = '\0';
	r->raw = raw;
	r->content_length = -1;
	enum http_resp_err e = parse_lines(raw, end, r);
	if (!e && r->chunked && r->content_length >= 0)
		e = HTTP_RESP_BAD_FRAMING; // both framings at once (RFC 9112 6.1)
	if (e) {
		http_resp_free(r);
		return e;
	}
	r->head_len = end;
	return HTTP_RESP_OK;
}

void http_resp_free(struct http_resp *r)
{
	free(r->raw);
	clear(r);
}

const char *http_resp_header(const struct http_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

enum http_body_kind http_resp_body_kind(const struct http_resp *r, bool head_request)
{
	if (r->status == 101)
		return HTTP_BODY_UPGRADE;
	if (head_request || r->status < 200 || r->status == 204 || r->status == 304)
		return HTTP_BODY_NONE;
	if (r->chunked)
		return HTTP_BODY_CHUNKED;
	if (r->content_length >= 0)
		return HTTP_BODY_LENGTH;
	return HTTP_BODY_CLOSE;
}

const char *http_resp_strerror(enum http_resp_err e)
{
	switch (e) {
	case HTTP_RESP_OK: return "ok";
	case HTTP_RESP_INCOMPLETE: return "incomplete head";
	case HTTP_RESP_BAD_STATUS_LINE: return "malformed status line";
	case HTTP_RESP_BAD_VERSION: return "unsupported HTTP version";
	case HTTP_RESP_BAD_STATUS: return "status code out of range";
	case HTTP_RESP_BAD_HEADER: return "malformed header line";
	case HTTP_RESP_BAD_LINE_END: return "bare CR, LF or NUL in the head";
	case HTTP_RESP_TOO_MANY_HEADERS: return "too many headers";
	case HTTP_RESP_HEAD_TOO_LARGE: return "head too large";
	case HTTP_RESP_BAD_LENGTH: return "bad Content-Length";
	case HTTP_RESP_BAD_FRAMING: return "bad Transfer-Encoding";
	case HTTP_RESP_NOMEM: return "out of memory";
	}
	return "unknown error";
}

// --- Chunked bodies (RFC 9112 7.1) ---

enum {
	DC_SIZE, DC_SIZE_BWS, DC_EXT, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF, DC_TRAILER,
	DC_TRAILER_LF,
};

void http_dechunk_init(struct http_dechunk *c)
{
	memset(c, 0, sizeof(*c));
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

// The chunk-size line: 1*HEXDIG, optional BWS, extensions (ignored), CRLF.
static int dechunk_size_byte(struct http_dechunk *c, char ch)
{
	int v = hexval(ch);
	switch (c->state) {
	case DC_SIZE:
		if (v >= 0) {
			if (c->remaining > (UINT64_MAX >> 4) >> 1)
				return HTTP_DECHUNK_BAD; // over 2^63: no real body is that large
			c->remaining = c->remaining * 16 + (uint64_t)v;
			return 0;
		}
		if (c->line_len == 1)
			return HTTP_DECHUNK_BAD; // a size needs a digit
		if (ch == ';' || ch == ' ' || ch == '\t')
			c->state = ch == ';' ? DC_EXT : DC_SIZE_BWS;
		else if (ch == '\r')
			c->state = DC_SIZE_LF;
		else
			return HTTP_DECHUNK_BAD;
		return 0;
	case DC_SIZE_BWS: // "1 2" must not read as size 1
		if (ch == ';')
			c->state = DC_EXT;
		else if (ch == '\r')
			c->state = DC_SIZE_LF;
		else if (ch != ' ' && ch != '\t')
			return HTTP_DECHUNK_BAD;
		return 0;
	case DC_EXT:
		if (ch == '\r')
			c->state = DC_SIZE_LF;
		else if (!ch_value((unsigned char)ch))
			return HTTP_DECHUNK_BAD;
		return 0;
	}
	return HTTP_DECHUNK_BAD;
}

// One byte of framing (never chunk data): 0, DONE or BAD.
static int dechunk_byte(struct http_dechunk *c, char ch)
{
	if (++c->line_len > HTTP_RESP_MAX_CHUNK_LINE)
		return HTTP_DECHUNK_BAD;
	switch (c->state) {
	case DC_SIZE:
	case DC_SIZE_BWS:
	case DC_EXT:
		return dechunk_size_byte(c, ch);
	case DC_SIZE_LF:
		if (ch != '\n')
			return HTTP_DECHUNK_BAD;
		c->line_len = 0;
		c->state = c->remaining ? DC_DATA : DC_TRAILER;
		return 0;
	case DC_DATA_CR:
		if (ch != '\r')
			return HTTP_DECHUNK_BAD;
		c->state = DC_DATA_LF;
		return 0;
	case DC_DATA_LF:
		if (ch != '\n')
			return HTTP_DECHUNK_BAD;
		c->line_len = 0;
		c->remaining = 0;
		c->state = DC_SIZE;
		return 0;
	case DC_TRAILER: // trailer fields are read and dropped; an empty line ends the body
		if (ch == '\r') {
			c->state = DC_TRAILER_LF;
			return 0;
		}
		if (!ch_value((unsigned char)ch) || ++c->trailer_bytes > HTTP_RESP_MAX_TRAILERS)
			return HTTP_DECHUNK_BAD;
		return 0;
	case DC_TRAILER_LF:
		if (ch != '\n')
			return HTTP_DECHUNK_BAD;
		if (c->line_len == 2)
			return HTTP_DECHUNK_DONE;
		c->line_len = 0;
		c->state = DC_TRAILER;
		return 0;
	}
	return HTTP_DECHUNK_BAD;
}

int http_dechunk_feed(struct http_dechunk *c, const char *in, size_t len, size_t *used,
		      size_t *data_off, size_t *data_len)
{
	size_t i = 0;
	*data_off = 0;
	*data_len = 0;
	while (i < len) {
		if (c->state == DC_DATA) {
			size_t n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			*data_off = i;
			*data_len = n;
			i += n;
			c->remaining -= n;
			if (!c->remaining) {
				c->state = DC_DATA_CR;
				c->line_len = 0;
			}
			*used = i;
			return HTTP_DECHUNK_MORE;
		}
		int r = dechunk_byte(c, in[i++]);
		if (r) {
			*used = i;
			return r;
		}
	}
	*used = i;
	return HTTP_DECHUNK_MORE;
}
