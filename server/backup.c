// SPDX-License-Identifier: MIT
// The backup file: metadata to and from JSON, writing, and reading as hostile bytes.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "backup.h"
#include "xz.h"

_Static_assert(sizeof(BACKUP_MAGIC) - 1 == BACKUP_MAGIC_LEN, "magic size");

#define BACKUP_ACTION_MAX 63   // manifests have at most 64 actions

const char *backup_result_str(enum backup_result r)
{
	switch (r) {
	case BACKUP_OK: return "ok";
	case BACKUP_E_IO: return "input/output error";
	case BACKUP_E_FORMAT: return "not a silo backup";
	case BACKUP_E_META: return "bad backup metadata";
	case BACKUP_E_ARCHIVE: return "bad archive";
	case BACKUP_E_LIMIT: return "over a limit";
	case BACKUP_E_KIND: return "wrong kind of backup";
	case BACKUP_E_EXISTS: return "already exists";
	}
	return "unknown";
}

__attribute__((format(printf, 4, 5)))
static enum backup_result fail(enum backup_result r, char *err, size_t errsz, const char *fmt,
			       ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return r;
}

// --- metadata ---

char *backup_meta_text(const struct backup_meta *m)
{
	json_t *o = json_pack("{s:i,s:s,s:I,s:s}", "format", BACKUP_VERSION, "kind",
			      m->kind == BACKUP_GRAIN ? "grain" : "server", "made",
			      (json_int_t)m->made, "silo_version", m->silo_version);
	if (o && m->kind == BACKUP_GRAIN) {
		json_t *g = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I,s:i}", "title", m->title, "created",
				      (json_int_t)m->created, "app_id", m->app_id, "app_title",
				      m->app_title, "package_id", m->package_id, "app_version",
				      (json_int_t)m->app_version, "action", m->action);
		if (!g || json_object_update(o, g) < 0) {
			json_decref(o);
			o = NULL;
		}
		json_decref(g);
	}
	char *t = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(o);
	return t;
}

// A string field of 1..max bytes without control characters, copied into out.
static int meta_str(json_t *o, const char *key, size_t max, char *out, char *err, size_t errsz)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	if (!s || n == 0 || n > max || strlen(s) != n) {
		snprintf(err, errsz, "'%s' must be a string of 1 to %zu bytes", key, max);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		// jansson checked the UTF-8; C1 controls are U+0080..U+009F, encoded C2 80..9F.
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			snprintf(err, errsz, "'%s' contains a control character", key);
			return -1;
		}
	}
	memcpy(out, s, n + 1);
	return 0;
}

static int meta_int(json_t *o, const char *key, json_int_t lo, json_int_t hi, json_int_t *out,
		    char *err, size_t errsz)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errsz, "'%s' must be an integer from %lld to %lld", key,
			 (long long)lo, (long long)hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

// true when s is exactly n characters, each in the set.
static bool all_in(const char *s, size_t n, const char *set)
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

static int meta_grain(json_t *o, struct backup_meta *m, char *err, size_t errsz)
{
	json_int_t created, version, action;
	if (meta_str(o, "title", BACKUP_TITLE_MAX, m->title, err, errsz) < 0 ||
	    meta_int(o, "created", 0, INT64_MAX, &created, err, errsz) < 0 ||
	    meta_str(o, "app_id", BACKUP_APP_ID_LEN, m->app_id, err, errsz) < 0 ||
	    meta_str(o, "app_title", BACKUP_APP_TITLE_MAX, m->app_title, err, errsz) < 0 ||
	    meta_str(o, "package_id", BACKUP_ID_LEN, m->package_id, err, errsz) < 0 ||
	    meta_int(o, "app_version", 0, UINT32_MAX, &version, err, errsz) < 0 ||
	    meta_int(o, "action", 0, BACKUP_ACTION_MAX, &action, err, errsz) < 0)
		return -1;
	if (!all_in(m->app_id, BACKUP_APP_ID_LEN, "0123456789acdefghjkmnpqrstuvwxyz")) {
		snprintf(err, errsz, "'app_id' is not an app id (52 base32 characters)");
		return -1;
	}
	if (!all_in(m->package_id, BACKUP_ID_LEN, "0123456789abcdef")) {
		snprintf(err, errsz, "'package_id' is not a package id (32 hex digits)");
		return -1;
	}
	m->created = created;
	m->app_version = (uint32_t)version;
	m->action = (int)action;
	return 0;
}

enum backup_result backup_meta_parse(const char *p, size_t n, struct backup_meta *m, char *err,
				     size_t errsz)
{
	memset(m, 0, sizeof(*m));
	if (n > BACKUP_META_MAX)
		return fail(BACKUP_E_META, err, errsz, "metadata of %zu bytes is over the limit of %d",
			    n, BACKUP_META_MAX);
	json_error_t je;
	json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return fail(BACKUP_E_META, err, errsz, "metadata is not valid JSON: %s", je.text);
	char why[160];
	json_int_t format, made;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	int r = -1;
	if (!json_is_object(o))
		snprintf(why, sizeof(why), "not a JSON object");
	else if (meta_int(o, "format", 1, 1000000, &format, why, sizeof(why)) < 0)
		;
	else if (format != BACKUP_VERSION)
		snprintf(why, sizeof(why), "format %lld is not supported (this reads %d)",
			 (long long)format, BACKUP_VERSION);
	else if (!kind || (strcmp(kind, "grain") != 0 && strcmp(kind, "server") != 0))
		snprintf(why, sizeof(why), "'kind' must be \"grain\" or \"server\"");
	else if (meta_int(o, "made", 0, INT64_MAX, &made, why, sizeof(why)) == 0 &&
		 meta_str(o, "silo_version", sizeof(m->silo_version) - 1, m->silo_version, why,
			  sizeof(why)) == 0) {
		m->made = made;
		m->kind = strcmp(kind, "grain") == 0 ? BACKUP_GRAIN : BACKUP_SERVER;
		r = m->kind == BACKUP_GRAIN ? meta_grain(o, m, why, sizeof(why)) : 0;
	}
	json_decref(o);
	if (r < 0)
		return fail(BACKUP_E_META, err, errsz, "metadata: %s", why);
	return BACKUP_OK;
}

// --- writing ---

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static enum backup_result from_archive(enum archive_result r)
{
	switch (r) {
	case ARCHIVE_OK: return BACKUP_OK;
	case ARCHIVE_E_IO: return BACKUP_E_IO;
	case ARCHIVE_E_LIMIT: return BACKUP_E_LIMIT;
	case ARCHIVE_E_EXISTS: return BACKUP_E_EXISTS;
	case ARCHIVE_E_CORRUPT:
	case ARCHIVE_E_HOSTILE:
	case ARCHIVE_E_REFUSED: break;
	}
	return BACKUP_E_ARCHIVE;
}

static enum backup_result from_stream(int r)
{
	return r == STREAM_ECORRUPT ? BACKUP_E_FORMAT : r == STREAM_ELIMIT ? BACKUP_E_LIMIT
									   : BACKUP_E_IO;
}

// Metadata and archive into the compressor's sink.
static enum backup_result write_plain(const struct stream_sink *plain, const char *meta,
				      const struct archive_limits *lim, unsigned flags,
				      backup_fill_fn fill, void *ctx, char *err, size_t errsz)
{
	unsigned char len[4];
	size_t n = strlen(meta);
	put32(len, (uint32_t)n);
	int sr = plain->write(plain->ctx, len, sizeof(len), err, errsz);
	if (!sr)
		sr = plain->write(plain->ctx, meta, n, err, errsz);
	if (sr < 0)
		return from_stream(sr);
	struct archive_writer *w;
	enum archive_result ar = archive_writer_open(&w, lim, flags, plain, err, errsz);
	if (!ar)
		ar = fill(w, ctx);
	if (!ar)
		ar = archive_writer_close(w, NULL);
	archive_writer_free(w);
	return from_archive(ar);
}

enum backup_result backup_write(const struct stream_sink *out, const struct backup_meta *m,
				const struct archive_limits *lim, unsigned flags,
				backup_fill_fn fill, void *ctx, char *err, size_t errsz)
{
	char *meta = backup_meta_text(m);
	if (!meta)
		return fail(BACKUP_E_IO, err, errsz, "out of memory");
	unsigned char head[BACKUP_HEADER_LEN];
	memcpy(head, BACKUP_MAGIC, BACKUP_MAGIC_LEN);
	head[BACKUP_MAGIC_LEN] = BACKUP_VERSION;
	enum backup_result r = BACKUP_OK;
	int sr = out->write(out->ctx, head, sizeof(head), err, errsz);
	struct xz_enc *z = sr < 0 ? NULL : xz_enc_new(out, err, errsz);
	if (sr < 0)
		r = from_stream(sr);
	else if (!z)
		r = BACKUP_E_IO;
	if (!r) {
		struct stream_sink plain = xz_enc_sink(z);
		r = write_plain(&plain, meta, lim, flags, fill, ctx, err, errsz);
	}
	if (!r && (sr = xz_enc_finish(z, err, errsz)) < 0)
		r = from_stream(sr);
	xz_enc_free(z);
	free(meta);
	return r;
}

// --- reading ---

// Exactly n bytes from src; an early end is truncation.
static enum backup_result read_exact(const struct stream_src *src, void *p, size_t n,
				     const char *what, char *err, size_t errsz)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = src->read(src->ctx, (char *)p + got, n - got, err, errsz);
		if (k < 0)
			return from_stream((int)k);
		if (k == 0)
			return fail(BACKUP_E_FORMAT, err, errsz, "truncated in the %s", what);
		got += (size_t)k;
	}
	return BACKUP_OK;
}

static enum backup_result read_header(const struct stream_src *raw, char *err, size_t errsz)
{
	unsigned char h[BACKUP_HEADER_LEN];
	size_t got = 0;
	while (got < sizeof(h)) {
		ssize_t k = raw->read(raw->ctx, h + got, sizeof(h) - got, err, errsz);
		if (k < 0)
			return from_stream((int)k);
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got < BACKUP_MAGIC_LEN || memcmp(h, BACKUP_MAGIC, BACKUP_MAGIC_LEN) != 0)
		return fail(BACKUP_E_FORMAT, err, errsz, "not a silo backup (bad magic)");
	if (got < sizeof(h))
		return fail(BACKUP_E_FORMAT, err, errsz, "truncated in the header");
	if (h[BACKUP_MAGIC_LEN] != BACKUP_VERSION)
		return fail(BACKUP_E_FORMAT, err, errsz,
			    "backup format version %u is not supported (this reads version %d)",
			    h[BACKUP_MAGIC_LEN], BACKUP_VERSION);
	return BACKUP_OK;
}

// The metadata block from the decompressed stream.
static enum backup_result read_meta(const struct stream_src *plain, struct backup_meta *m,
				    char *err, size_t errsz)
{
	unsigned char len[4];
	enum backup_result r = read_exact(plain, len, sizeof(len), "metadata", err, errsz);
	if (r)
		return r;
	uint32_t n = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 | (uint32_t)len[2] << 8 | len[3];
	if (n == 0 || n > BACKUP_META_MAX)
		return fail(BACKUP_E_META, err, errsz,
			    "metadata of %u bytes is out of range (1 to %d)", n, BACKUP_META_MAX);
	char *text = malloc(n);
	if (!text)
		return fail(BACKUP_E_IO, err, errsz, "out of memory");
	r = read_exact(plain, text, n, "metadata", err, errsz);
	if (!r)
		r = backup_meta_parse(text, n, m, err, errsz);
	free(text);
	return r;
}

// Header, decompressor and metadata; *z is set when the stream was opened.
static enum backup_result read_start(const struct stream_src *raw, struct xz_dec **z,
				     struct stream_src *plain, struct backup_meta *m, char *err,
				     size_t errsz)
{
	*z = NULL;
	enum backup_result r = read_header(raw, err, errsz);
	if (r)
		return r;
	*z = xz_dec_new(raw, XZ_MEMLIMIT, err, errsz);
	if (!*z)
		return BACKUP_E_IO;
	*plain = xz_dec_src(*z);
	return read_meta(plain, m, err, errsz);
}

enum backup_result backup_read_meta(const struct stream_src *raw, struct backup_meta *m,
				    char *err, size_t errsz)
{
	struct xz_dec *z;
	struct stream_src plain;
	enum backup_result r = read_start(raw, &z, &plain, m, err, errsz);
	xz_dec_free(z);
	return r;
}

enum backup_result backup_read(const struct stream_src *raw, enum backup_kind want,
			       const char *dest, const struct archive_limits *lim,
			       struct backup_meta *m, struct archive_stats *st, char *err,
			       size_t errsz)
{
	struct xz_dec *z;
	struct stream_src plain;
	if (st)
		*st = (struct archive_stats){0};
	enum backup_result r = read_start(raw, &z, &plain, m, err, errsz);
	if (!r && want && m->kind != want)
		r = fail(BACKUP_E_KIND, err, errsz, "this is a %s backup, not a %s backup",
			 m->kind == BACKUP_GRAIN ? "grain" : "server",
			 want == BACKUP_GRAIN ? "grain" : "server");
	if (!r) {
		struct archive_read_opts o = {.limits = *lim, .sync = dest != NULL};
		char aerr[512];
		enum archive_result ar = dest ? archive_unpack(&plain, dest, &o, st, aerr, sizeof(aerr))
					      : archive_list(&plain, &o, st, aerr, sizeof(aerr));
		r = from_archive(ar);
		if (r)
			snprintf(err, errsz, "%s", aerr);
	}
	xz_dec_free(z);
	return r;
}

static ssize_t fd_read(void *ctx, void *p, size_t n, char *err, size_t errsz)
{
	struct backup_fd_src *f = ctx;
	ssize_t k;
	do
		k = pread(f->fd, p, n, (off_t)f->off);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		snprintf(err, errsz, "read: %s", strerror(errno));
		return STREAM_EIO;
	}
	f->off += (uint64_t)k;
	return k;
}

void backup_src_fd(struct stream_src *s, struct backup_fd_src *f, int fd)
{
	f->fd = fd;
	f->off = 0;
	s->read = fd_read;
	s->ctx = f;
}

void backup_filename(const char *title, char *out, size_t outsz)
{
	char name[65];
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)title; *p && n < 64; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
		// A leading dot would make a hidden file; runs of others become one '_'.
		if (keep && !(n == 0 && *p == '.'))
			name[n++] = (char)*p;
		else if (n && name[n - 1] != '_')
			name[n++] = '_';
	}
	while (n && (name[n - 1] == '_' || name[n - 1] == '.'))
		n--;
	name[n] = '\0';
	snprintf(out, outsz, "%s" BACKUP_EXT, n ? name : "backup");
}
