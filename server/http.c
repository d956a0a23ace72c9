// SPDX-License-Identifier: MIT
// HTTP/1.1 request parsing for hostile input (RFC 9112): strict grammar, caps on everything.
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chars.h"
#include "http.h"

static const struct {
	const char *name;
	enum http_method m;
} methods[] = {
	{"GET", HTTP_GET},       {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
	{"PUT", HTTP_PUT},       {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
	{"OPTIONS", HTTP_OPTIONS},
	// WebDAV, CalDAV and CardDAV (RFC 4918, 4791, 3253): apps such as Radicale need them.
	{"PROPFIND", HTTP_WEBDAV}, {"PROPPATCH", HTTP_WEBDAV}, {"MKCOL", HTTP_WEBDAV},
	{"COPY", HTTP_WEBDAV},     {"MOVE", HTTP_WEBDAV},      {"LOCK", HTTP_WEBDAV},
	{"UNLOCK", HTTP_WEBDAV},   {"REPORT", HTTP_WEBDAV},    {"MKCALENDAR", HTTP_WEBDAV},
	{"ACL", HTTP_WEBDAV},
};

// Finds the end of the head ("\r\n\r\n"); 0 when not there yet. A bare LF anywhere
// is an error found later by the line parser, so only CRLFCRLF ends a head.
static size_t find_head_end(const char *in, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (in[i] == '\n' && in[i - 1] == '\r' && in[i - 2] == '\n' && in[i - 3] == '\r')
			return i + 1;
	return 0;
}

// While a head is incomplete, decide whether it is already bad or over a limit, so that a
// client cannot hold the connection with a head that could never be accepted. A line's
// length excludes its CR, as in parse_lines; a CR at the very end may still get its LF.
static int check_partial(const char *in, size_t len)
{
	size_t n = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD; // past it the answer is 431 anyway
	size_t start = 0, lineno = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\0' || (i && in[i - 1] == '\r' && in[i] != '\n'))
			return 400; // NUL or bare CR
		if (in[i] != '\n')
			continue;
		if (!i || in[i - 1] != '\r')
			return 400; // bare LF
		if (i - 1 - start > (lineno ? HTTP_MAX_HEADER_LINE : HTTP_MAX_REQUEST_LINE))
			return lineno ? 431 : 414;
		start = i + 1;
		lineno++;
	}
	size_t cur = n - start;
	if (cur && in[n - 1] == '\r')
		cur--;
	if (cur > (lineno ? HTTP_MAX_HEADER_LINE : HTTP_MAX_REQUEST_LINE))
		return lineno ? 431 : 414;
	if (len >= HTTP_MAX_HEAD)
		return 431; // the head's final CRLF is still missing, so it will not fit
	return HTTP_PARSE_INCOMPLETE;
}

static int parse_request_line(char *line, struct http_request *req)
{
	char *sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line)
		return 400;
	*sp1 = '\0';
	for (char *p = line; *p; p++)
		if (!ch_tchar((unsigned char)*p))
			return 400;
	char *target = sp1 + 1;
	char *sp2 = strchr(target, ' ');
	if (!sp2 || sp2 == target)
		return 400;
	*sp2 = '\0';
	const char *version = sp2 + 1;
	if (strncmp(version, "HTTP/", 5) != 0 || strlen(version) != 8 || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return 400;
	if (version[5] != '1')
		return 505;
	req->minor = version[7] - '0';
	if (req->minor > 1)
		req->minor = 1; // a later 1.x minor is answered as 1.1 (RFC 9110 6.2)
	req->keep_alive = req->minor == 1; // persistent by default in 1.1 (RFC 9112 9.3)
	for (const char *p = target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return 400;
	req->method_name = line;
	req->method = 0;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(line, methods[i].name) == 0) {
			req->method = methods[i].m;
			break;
		}
	if (!req->method)
		return 501;
	// Only origin-form, and "*" for OPTIONS (RFC 9112 3.2).
	if (target[0] != '/' && !(req->method == HTTP_OPTIONS && strcmp(target, "*") == 0))
		return 400;
	req->target = target;
	char *q = strchr(target, '?');
	req->query = q ? q + 1 : "";
	return 0;
}

static int parse_content_length(const char *v, int64_t *out)
{
	if (!*v)
		return -1;
	int64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*out = n;
	return 0;
}

// Token-list membership, e.g. "close" in "keep-alive, Close".
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

// Applies a header's meaning to req; returns 0 or a status. NAME is NLEN bytes long.
static int apply_header(struct http_request *req, const char *name, size_t nlen,
			const char *value)
{
	if (http_name_is(name, nlen, "Host")) {
		if (req->host)
			return 400; // RFC 9112 3.2: more than one Host is an error
		req->host = value;
	} else if (http_name_is(name, nlen, "Content-Length")) {
		int64_t n;
		// Duplicates are refused even when equal: one value, one meaning.
		if (req->content_length >= 0 || parse_content_length(value, &n) < 0)
			return 400;
		req->content_length = n;
	} else if (http_name_is(name, nlen, "Transfer-Encoding")) {
		if (req->chunked || req->minor == 0)
			return 400;
		if (strcasecmp(value, "chunked") != 0)
			return 501;
		req->chunked = true;
	} else if (http_name_is(name, nlen, "Connection")) {
		if (list_has(value, "close"))
			req->keep_alive = false;
		else if (list_has(value, "keep-alive"))
			req->keep_alive = true;
	} else if (http_name_is(name, nlen, "Expect")) {
		if (strcasecmp(value, "100-continue") != 0)
			return 417;
		req->expect_continue = true;
	}
	return 0;
}

static int parse_header_line(char *line, struct http_request *req)
{
	if (*line == ' ' || *line == '\t')
		return 400; // obs-fold (RFC 9112 5.2)
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return 400;
	*colon = '\0';
	for (char *p = line; *p; p++)
		if (!ch_tchar((unsigned char)*p))
			return 400; // includes whitespace before the colon (RFC 9112 5.1)
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	char *end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	for (char *p = v; *p; p++)
		if (!ch_value((unsigned char)*p))
			return 400;
	if (req->nheaders >= HTTP_MAX_HEADERS)
		return 431;
	req->headers[req->nheaders].name = line;
	req->headers[req->nheaders].value = v;
	req->nheaders++;
	return apply_header(req, line, (size_t)(colon - line), v);
}

// Splits the head into lines at CRLF; a bare CR or LF is an error.
static int parse_lines(char *head, size_t len, struct http_request *req)
{
	char *p = head, *end = head + len;
	int lineno = 0;
	while (p < end) {
		char *cr = memchr(p, '\r', (size_t)(end - p));
		char *lf = memchr(p, '\n', (size_t)(end - p));
		if (!cr || !lf || lf != cr + 1)
			return 400;
		*cr = '\0';
		if ((size_t)(cr - p) > (lineno ? HTTP_MAX_HEADER_LINE : HTTP_MAX_REQUEST_LINE))
			return lineno ? 431 : 414;
		if (memchr(p, '\0', (size_t)(cr - p)))
			return 400;
		if (cr == p)
			return lineno ? 0 : 400; // the empty line ends the head
		int r = lineno ? parse_header_line(p, req) : parse_request_line(p, req);
		if (r)
			return r;
		lineno++;
		p = lf + 1;
	}
	return 400;
}

static int finish(struct http_request *req)
{
	if (req->minor == 1 && !req->host)
		return 400; // RFC 9112 3.2
	if (req->chunked && req->content_length >= 0)
		return 400; // both framings at once: a smuggling attempt (RFC 9112 6.1)
	return 0;
}

// Zeroes everything but the header array, of which only the first nheaders entries are
// ever read (it is most of the struct).
_Static_assert(offsetof(struct http_request, nheaders) ==
		       offsetof(struct http_request, headers) + sizeof(((struct http_request *)0)->headers),
	       "clear() relies on nheaders following the header array");
static void clear(struct http_request *req)
{
	memset(req, 0, offsetof(struct http_request, headers));
	memset(&req->nheaders, 0, sizeof(*req) - offsetof(struct http_request, nheaders));
}

int http_parse_head(const char *in, size_t len, struct http_request *req)
{
	clear(req);
	// Tolerate empty lines before the request line (RFC 9112 2.2), a few at most.
	size_t skip = 0;
	while (skip + 1 < len && skip < 8 && in[skip] == '\r' && in[skip + 1] == '\n')
		skip += 2;
	size_t end = find_head_end(in + skip, len - skip);
	if (!end)
		return check_partial(in + skip, len - skip);
	if (end > HTTP_MAX_HEAD)
		return 431;
	// The copy holds the head, then a second copy of the target split into path and query.
	char *raw = malloc(end * 2 + 2);
	if (!raw)
		return 500;
	memcpy(raw, in + skip, end);
	raw[end] = '\0';
	req->raw = raw;
	req->content_length = -1;
	int r = parse_lines(raw, end, req);
	if (!r)
		r = finish(req);
	if (r) {
		http_request_free(req);
		return r;
	}
	char *path = raw + end + 1;
	strcpy(path, req->target);
	char *q = strchr(path, '?');
	if (q)
		*q = '\0';
	req->path = path;
	req->head_len = skip + end;
	return HTTP_PARSE_OK;
}

void http_request_free(struct http_request *req)
{
	free(req->raw);
	clear(req);
}

const char *http_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

enum {
	CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF,
	CH_SIZE_BWS,
};

void http_chunked_init(struct http_chunked *c)
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

// One byte of the framing (not chunk data). Returns 0, DONE, or an error status.
static int chunked_byte(struct http_chunked *c, char ch)
{
	if (++c->line_len > HTTP_MAX_CHUNK_LINE)
		return HTTP_CHUNKED_BAD;
	switch (c->state) {
	case CH_SIZE: {
		int v = hexval(ch);
		if (v >= 0) {
			if (c->remaining > (UINT64_MAX >> 4))
				return HTTP_CHUNKED_TOO_LARGE;
			c->remaining = c->remaining * 16 + (uint64_t)v;
			return 0;
		}
		if (c->line_len == 1)
			return HTTP_CHUNKED_BAD; // a size needs at least one digit
		if (ch == ';' || ch == ' ' || ch == '\t') {
			c->state = ch == ';' ? CH_EXT : CH_SIZE_BWS;
			return 0;
		}
		if (ch != '\r')
			return HTTP_CHUNKED_BAD;
		c->state = CH_SIZE_LF;
		return 0;
	}
	case CH_SIZE_BWS: // only BWS, then ';' or the CRLF: "1 2" must not read as size 1
		if (ch == ';')
			c->state = CH_EXT;
		else if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch != ' ' && ch != '\t')
			return HTTP_CHUNKED_BAD;
		return 0;
	case CH_EXT: // chunk extensions are ignored, but must be printable
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (!ch_value((unsigned char)ch))
			return HTTP_CHUNKED_BAD;
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n')
			return HTTP_CHUNKED_BAD;
		c->line_len = 0;
		c->state = c->remaining ? CH_DATA : CH_TRAILER;
		return 0;
	case CH_DATA_CR:
		if (ch != '\r')
			return HTTP_CHUNKED_BAD;
		c->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (ch != '\n')
			return HTTP_CHUNKED_BAD;
		c->line_len = 0;
		c->state = CH_SIZE;
		return 0;
	case CH_TRAILER: // trailer fields are read and dropped; an empty line ends the body
		if (ch == '\r') {
			c->state = CH_TRAILER_LF;
			return 0;
		}
		if (!ch_value((unsigned char)ch) || ++c->trailer_bytes > 4096)
			return HTTP_CHUNKED_BAD;
		return 0;
	case CH_TRAILER_LF:
		if (ch != '\n')
			return HTTP_CHUNKED_BAD;
		if (c->line_len == 2)
			return HTTP_CHUNKED_DONE;
		c->line_len = 0;
		c->state = CH_TRAILER;
		return 0;
	}
	return HTTP_CHUNKED_BAD;
}

int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, struct buf *out,
		      size_t max, size_t *used)
{
	size_t i = 0;
	while (i < len) {
		if (c->state == CH_DATA) {
			size_t n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			if (out->len + n > max || buf_append(out, in + i, n) < 0) {
				*used = i;
				return HTTP_CHUNKED_TOO_LARGE;
			}
			i += n;
			c->remaining -= n;
			if (!c->remaining) {
				c->state = CH_DATA_CR;
				c->line_len = 0;
			}
			continue;
		}
		if (c->state == CH_SIZE && c->line_len == 0)
			c->remaining = 0;
		int r = chunked_byte(c, in[i++]);
		if (r == HTTP_CHUNKED_DONE) {
			*used = i;
			return r;
		}
		if (r) {
			*used = i;
			return r;
		}
		if (c->state == CH_DATA && c->remaining > max - out->len) {
			*used = i;
			return HTTP_CHUNKED_TOO_LARGE; // refuse before buffering a chunk that cannot fit
		}
	}
	*used = i;
	return HTTP_CHUNKED_MORE;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

int http_url_decode(const char *src, size_t len, char *dst, size_t dstsz, bool form)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = src[i];
		if (ch == '%') {
			int hi = i + 2 < len ? hexval(src[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			ch = (char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+' && form) {
			ch = ' ';
		}
		if (!ch)
			return -1; // raw or encoded, a NUL would silently cut the C string short
		if (o + 1 >= dstsz)
			return -1;
		dst[o++] = ch;
	}
	if (o >= dstsz)
		return -1;
	dst[o] = '\0';
	return 0;
}
