// SPDX-License-Identifier: MIT
// The archive format: the checks shared by writer and reader, the reader (list and unpack),
// the writer, and removing a tree.
//
// Entries come in one canonical order: depth first, each directory's names sorted bytewise,
// a directory before its contents; equivalently, the paths sorted bytewise with '/' below
// every other byte. The reader insists on it, which makes duplicates impossible and lets it
// check "the parent is a directory listed earlier" with a stack of open directories instead
// of a table of every path seen.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "xz.h"
#include "util.h"

#define ARCHIVE_BUF (64 * 1024)
#define ARCHIVE_QUOTE_MAX 160   // characters of a path shown in a message

const char *archive_result_str(enum archive_result r)
{
	switch (r) {
	case ARCHIVE_OK: return "ok";
	case ARCHIVE_E_IO: return "input/output error";
	case ARCHIVE_E_CORRUPT: return "corrupt archive";
	case ARCHIVE_E_HOSTILE: return "forbidden archive entry";
	case ARCHIVE_E_LIMIT: return "archive over a limit";
	case ARCHIVE_E_EXISTS: return "destination exists";
	case ARCHIVE_E_REFUSED: return "refused";
	}
	return "unknown";
}

// --- checks shared by writer and reader ---

// A path for a message: printable ASCII as is, other bytes as \xNN, cut when long.
static const char *quote(char *out, size_t outsz, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)p[i];
		if (o >= ARCHIVE_QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

// 0 when s is UTF-8 without control characters (C0, DEL, C1); else a reason.
static const char *utf8_problem(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return "contains a control character";
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return "is not valid UTF-8";
		}
		if (n - i < len)
			return "is not valid UTF-8";
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "is not valid UTF-8";
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "is not valid UTF-8";
		if (cp < 0xa0)
			return "contains a control character";
		i += len;
	}
	return NULL;
}

int archive_path_valid(const char *p, size_t n, const char **why)
{
	static const char *const utf8_why[] = {"path contains a control character",
					       "path is not valid UTF-8"};
	if (n == 0)
		return *why = "path is empty", -1;
	if (n > ARCHIVE_PATH_MAX)
		return *why = "path is longer than 4096 bytes", -1;
	if (memchr(p, '\0', n))
		return *why = "path contains a NUL byte", -1;
	if (p[0] == '/')
		return *why = "path is absolute", -1;
	size_t depth = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		size_t len = i - start;
		if (len == 0)
			return *why = "path has an empty component", -1;
		if (len == 1 && p[start] == '.')
			return *why = "path has a '.' component", -1;
		if (len == 2 && p[start] == '.' && p[start + 1] == '.')
			return *why = "path has a '..' component", -1;
		if (len > ARCHIVE_NAME_MAX)
			return *why = "path has a component longer than 255 bytes", -1;
		if (++depth > ARCHIVE_DEPTH_MAX)
			return *why = "path is nested deeper than 128 levels", -1;
		start = i + 1;
	}
	const char *u = utf8_problem((const unsigned char *)p, n);
	if (u)
		return *why = utf8_why[u[0] == 'i'], -1;
	return 0;
}

int archive_target_valid(const char *t, size_t n, size_t parent_depth, const char **why)
{
	if (n == 0)
		return *why = "symlink target is empty", -1;
	if (n > ARCHIVE_TARGET_MAX)
		return *why = "symlink target is longer than 4095 bytes", -1;
	if (memchr(t, '\0', n))
		return *why = "symlink target contains a NUL byte", -1;
	if (t[0] == '/')
		return *why = "symlink target is absolute", -1;
	const char *u = utf8_problem((const unsigned char *)t, n);
	if (u)
		return *why = u[0] == 'i' ? "symlink target is not valid UTF-8"
					  : "symlink target contains a control character", -1;
	// Lexically, relative to the link's directory. A ".." after a name is refused because
	// the kernel applies it to wherever the name leads (another symlink, say to "."), which
	// lexical resolution cannot see.
	size_t ups = 0, start = 0;
	int named = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && t[i] != '/')
			continue;
		size_t len = i - start;
		if (len == 2 && t[start] == '.' && t[start + 1] == '.') {
			if (named)
				return *why = "symlink target has '..' after a name", -1;
			if (++ups > parent_depth)
				return *why = "symlink target points outside the package", -1;
		} else if (len > 0 && !(len == 1 && t[start] == '.')) {
			named = 1;
		}
		start = i + 1;
	}
	return 0;
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

// Compares two paths in the archive's order: bytewise, with '/' below every other byte.
static int path_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++) {
		unsigned ca = a[i] == '/' ? 0 : (unsigned char)a[i];
		unsigned cb = b[i] == '/' ? 0 : (unsigned char)b[i];
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return an == bn ? 0 : an < bn ? -1 : 1;
}

static enum archive_result stream_result(ssize_t r)
{
	return r == STREAM_ECORRUPT ? ARCHIVE_E_CORRUPT
	       : r == STREAM_ELIMIT ? ARCHIVE_E_LIMIT
				    : ARCHIVE_E_IO;
}

// --- the reader ---

struct level {
	size_t len;      // the directory is prev[0, len); 0 is the top of the tree
	unsigned mode;
	int fd;          // unpacking: the open directory; listing: -1
};

struct rd {
	const struct stream_src *src;
	const struct archive_read_opts *o;
	struct archive_stats st;
	char *err;
	size_t errsz;
	struct level stack[ARCHIVE_DEPTH_MAX + 1];
	size_t depth;    // levels in use; stack[0] is the top and stays
	char path[ARCHIVE_PATH_MAX + 1];
	size_t plen;
	char prev[ARCHIVE_PATH_MAX + 1];   // the previous entry
	size_t prevlen;
	int prev_dir;
	unsigned char buf[ARCHIVE_BUF];
};

__attribute__((format(printf, 3, 4)))
static enum archive_result rd_fail(struct rd *r, enum archive_result res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errsz, fmt, ap);
	va_end(ap);
	return res;
}

// "'PATH': why" about the current entry.
static enum archive_result rd_failp(struct rd *r, enum archive_result res, const char *why)
{
	char q[ARCHIVE_QUOTE_MAX * 4 + 16];
	return rd_fail(r, res, "'%s': %s", quote(q, sizeof(q), r->path, r->plen), why);
}

static enum archive_result rd_errno(struct rd *r, const char *what)
{
	char q[ARCHIVE_QUOTE_MAX * 4 + 16];
	int e = errno;
	return rd_fail(r, e == EEXIST ? ARCHIVE_E_HOSTILE : ARCHIVE_E_IO, "'%s': %s: %s",
		       quote(q, sizeof(q), r->path, r->plen), what, strerror(e));
}

// Exactly n bytes; an early end is truncation.
static enum archive_result rd_read(struct rd *r, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = r->src->read(r->src->ctx, (char *)p + got, n - got, r->err, r->errsz);
		if (k < 0)
			return stream_result(k);
		if (k == 0)
			return rd_fail(r, ARCHIVE_E_CORRUPT, "the archive ends early (truncated)");
		got += (size_t)k;
	}
	return ARCHIVE_OK;
}

// Leaves the innermost open directory, giving it its final mode now that it is complete.
static enum archive_result rd_pop(struct rd *r)
{
	struct level *t = &r->stack[--r->depth];
	if (t->fd < 0)
		return ARCHIVE_OK;
	int fd = t->fd;
	t->fd = -1;
	int rc = fchmod(fd, t->mode);
	int e = errno;
	close(fd);
	if (rc < 0) {
		char q[ARCHIVE_QUOTE_MAX * 4 + 16];
		return rd_fail(r, ARCHIVE_E_IO, "'%s': chmod: %s",
			       quote(q, sizeof(q), r->prev, t->len), strerror(e));
	}
	return ARCHIVE_OK;
}

// Checks the entry's place: after the previous one, inside a directory listed earlier.
// Closes the directories it is not inside; leaves its parent on top of the stack.
static enum archive_result rd_place(struct rd *r)
{
	if (r->st.entries > 1) {
		int c = path_cmp(r->prev, r->prevlen, r->path, r->plen);
		if (c == 0)
			return rd_failp(r, ARCHIVE_E_HOSTILE, "duplicate path");
		if (c > 0)
			return rd_failp(r, ARCHIVE_E_HOSTILE,
					"out of order (entries are sorted, each directory before "
					"its contents)");
	}
	while (r->depth > 1) {
		const struct level *t = &r->stack[r->depth - 1];
		if (r->plen > t->len && r->path[t->len] == '/' &&
		    memcmp(r->path, r->prev, t->len) == 0)
			break;
		enum archive_result res = rd_pop(r);
		if (res)
			return res;
	}
	const char *slash = memrchr(r->path, '/', r->plen);
	size_t parent = slash ? (size_t)(slash - r->path) : 0;
	if (r->stack[r->depth - 1].len == parent)
		return ARCHIVE_OK;
	if (r->st.entries > 1 && !r->prev_dir && r->plen > r->prevlen &&
	    r->path[r->prevlen] == '/' && memcmp(r->path, r->prev, r->prevlen) == 0) {
		char q[ARCHIVE_QUOTE_MAX * 4 + 16], why[ARCHIVE_QUOTE_MAX * 4 + 64];
		snprintf(why, sizeof(why), "is inside '%s', which is a file or symlink",
			 quote(q, sizeof(q), r->prev, r->prevlen));
		return rd_failp(r, ARCHIVE_E_HOSTILE, why);
	}
	return rd_failp(r, ARCHIVE_E_HOSTILE, "its directory is not in the archive before it");
}

static struct archive_capture *rd_capture(struct rd *r, enum archive_type type, unsigned mode)
{
	for (size_t i = 0; i < r->o->ncaptures; i++) {
		struct archive_capture *c = &r->o->captures[i];
		if (strcmp(c->path, r->path) == 0) {
			c->found = true;
			c->type = type;
			c->mode = mode;
			return c;
		}
	}
	return NULL;
}

static const char *rd_name(struct rd *r)
{
	size_t parent = r->stack[r->depth - 1].len;
	return r->path + parent + (parent ? 1 : 0);
}

static enum archive_result rd_dir(struct rd *r, unsigned mode)
{
	int pfd = r->stack[r->depth - 1].fd, fd = -1;
	rd_capture(r, ARCHIVE_DIR, mode);
	if (pfd >= 0) {
		// 0700 while it fills; its own mode when it is complete (rd_pop).
		if (mkdirat(pfd, rd_name(r), 0700) < 0)
			return rd_errno(r, "mkdir");
		fd = openat(pfd, rd_name(r), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return rd_errno(r, "open");
	}
	r->stack[r->depth++] = (struct level){.len = r->plen, .mode = mode, .fd = fd};
	return ARCHIVE_OK;
}

// Copies size bytes of content from the stream into fd (if >= 0) and the capture (if any).
static enum archive_result rd_copy(struct rd *r, int fd, uint64_t size,
				   struct archive_capture *c)
{
	while (size) {
		size_t k = size < ARCHIVE_BUF ? (size_t)size : ARCHIVE_BUF;
		enum archive_result res = rd_read(r, r->buf, k);
		if (res)
			return res;
		if (fd >= 0 && util_write_all(fd, r->buf, k) < 0)
			return rd_errno(r, "write");
		if (c && !c->too_big && buf_append(&c->data, r->buf, k) < 0)
			return rd_fail(r, ARCHIVE_E_IO, "out of memory");
		size -= k;
	}
	return ARCHIVE_OK;
}

static enum archive_result rd_file(struct rd *r, unsigned mode)
{
	unsigned char h[8];
	enum archive_result res = rd_read(r, h, sizeof(h));
	if (res)
		return res;
	uint64_t size = be64(h);
	const struct archive_limits *lim = &r->o->limits;
	if (size > lim->max_file_bytes) {
		char why[96];
		snprintf(why, sizeof(why), "%llu bytes is over the limit of %llu for one file",
			 (unsigned long long)size, (unsigned long long)lim->max_file_bytes);
		return rd_failp(r, ARCHIVE_E_LIMIT, why);
	}
	if (size > lim->max_total_bytes - r->st.bytes)
		return rd_fail(r, ARCHIVE_E_LIMIT, "the files add up to more than %llu bytes",
			       (unsigned long long)lim->max_total_bytes);
	r->st.bytes += size;
	struct archive_capture *c = rd_capture(r, ARCHIVE_FILE, mode);
	if (c) {
		c->size = size;
		c->too_big = size > c->max;
	}
	int pfd = r->stack[r->depth - 1].fd, fd = -1;
	if (pfd >= 0) {
		fd = openat(pfd, rd_name(r), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0)
			return rd_errno(r, "create");
	}
	res = rd_copy(r, fd, size, c);
	if (fd >= 0) {
		// fchmod, not the create mode, so the umask does not change it.
		if (!res && fchmod(fd, mode) < 0)
			res = rd_errno(r, "chmod");
		if (close(fd) < 0 && !res)
			res = rd_errno(r, "close");
	}
	return res;
}

static enum archive_result rd_symlink(struct rd *r, unsigned mode)
{
	unsigned char h[2];
	enum archive_result res = rd_read(r, h, sizeof(h));
	if (res)
		return res;
	unsigned tlen = be16(h);
	if (tlen == 0 || tlen > ARCHIVE_TARGET_MAX)
		return rd_failp(r, ARCHIVE_E_HOSTILE, "symlink target length out of range");
	char *target = (char *)r->buf;
	if ((res = rd_read(r, target, tlen)))
		return res;
	target[tlen] = '\0';
	size_t parent_depth = 0;
	for (size_t i = 0; i < r->plen; i++)
		parent_depth += r->path[i] == '/';
	const char *why;
	if (archive_target_valid(target, tlen, parent_depth, &why) < 0)
		return rd_failp(r, ARCHIVE_E_HOSTILE, why);
	rd_capture(r, ARCHIVE_SYMLINK, mode);
	int pfd = r->stack[r->depth - 1].fd;
	if (pfd >= 0 && symlinkat(target, pfd, rd_name(r)) < 0)
		return rd_errno(r, "symlink");
	return ARCHIVE_OK;
}

// One entry; *end when it was the end marker.
static enum archive_result rd_entry(struct rd *r, int *end)
{
	unsigned char h[5];
	enum archive_result res = rd_read(r, h, 1);
	if (res)
		return res;
	if (h[0] == ARCHIVE_END) {
		*end = 1;
		return ARCHIVE_OK;
	}
	unsigned long long n = (unsigned long long)r->st.entries + 1;
	if (h[0] > ARCHIVE_SYMLINK)
		return rd_fail(r, ARCHIVE_E_HOSTILE, "entry %llu has unknown type %u", n, h[0]);
	if ((res = rd_read(r, h + 1, 4)))
		return res;
	unsigned type = h[0], mode = be16(h + 1), plen = be16(h + 3);
	if (plen == 0 || plen > ARCHIVE_PATH_MAX)
		return rd_fail(r, ARCHIVE_E_HOSTILE, "entry %llu has a path of %u bytes", n, plen);
	if ((res = rd_read(r, r->path, plen)))
		return res;
	r->path[plen] = '\0';
	r->plen = plen;
	const char *why;
	if (archive_path_valid(r->path, plen, &why) < 0)
		return rd_failp(r, ARCHIVE_E_HOSTILE, why);
	if (n > r->o->limits.max_entries)
		return rd_fail(r, ARCHIVE_E_LIMIT, "more than %llu entries",
			       (unsigned long long)r->o->limits.max_entries);
	r->st.entries = n;
	if (mode & ~0777u)
		return rd_failp(r, ARCHIVE_E_HOSTILE,
				"mode has bits beyond rwx (setuid, setgid, sticky or type bits)");
	if (type == ARCHIVE_SYMLINK && mode != 0777)
		return rd_failp(r, ARCHIVE_E_HOSTILE, "a symlink's mode must be 0777");
	if ((res = rd_place(r)))
		return res;
	res = type == ARCHIVE_DIR ? rd_dir(r, mode)
	      : type == ARCHIVE_FILE ? rd_file(r, mode)
				     : rd_symlink(r, mode);
	if (res)
		return res;
	memcpy(r->prev, r->path, plen + 1);
	r->prevlen = plen;
	r->prev_dir = type == ARCHIVE_DIR;
	return ARCHIVE_OK;
}

static enum archive_result rd_run(struct rd *r)
{
	unsigned char h[ARCHIVE_MAGIC_LEN + 1];
	enum archive_result res = rd_read(r, h, sizeof(h));
	if (res)
		return res;
	if (memcmp(h, ARCHIVE_MAGIC, ARCHIVE_MAGIC_LEN) != 0)
		return rd_fail(r, ARCHIVE_E_CORRUPT, "not a silo archive (bad magic)");
	if (h[ARCHIVE_MAGIC_LEN] != ARCHIVE_VERSION)
		return rd_fail(r, ARCHIVE_E_CORRUPT,
			       "archive format version %u is not supported (this reads %u)",
			       h[ARCHIVE_MAGIC_LEN], ARCHIVE_VERSION);
	for (int end = 0; !end;) {
		if ((res = rd_entry(r, &end)))
			return res;
	}
	while (r->depth > 1) {
		if ((res = rd_pop(r)))
			return res;
	}
	// The end marker must be the last byte (and an xz source checks its own end here).
	ssize_t k = r->src->read(r->src->ctx, r->buf, 1, r->err, r->errsz);
	if (k < 0)
		return stream_result(k);
	if (k > 0)
		return rd_fail(r, ARCHIVE_E_CORRUPT, "trailing data after the archive's end marker");
	return ARCHIVE_OK;
}

static struct rd *rd_new(const struct stream_src *src, const struct archive_read_opts *o,
			 int rootfd, char *err, size_t errsz)
{
	struct rd *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	r->src = src;
	r->o = o;
	r->err = err;
	r->errsz = errsz;
	r->stack[0] = (struct level){.len = 0, .mode = 0755, .fd = rootfd};
	r->depth = 1;
	for (size_t i = 0; i < o->ncaptures; i++) {
		struct archive_capture *c = &o->captures[i];
		c->found = c->too_big = false;
		c->type = ARCHIVE_END;
		c->mode = 0;
		c->size = 0;
		buf_reset(&c->data);
	}
	return r;
}

// Closes the directories still open (not the top, which the caller owns).
static void rd_free(struct rd *r, struct archive_stats *st)
{
	if (st)
		*st = r->st;
	for (size_t i = 1; i < r->depth; i++) {
		if (r->stack[i].fd >= 0)
			close(r->stack[i].fd);
	}
	free(r);
}

enum archive_result archive_list(const struct stream_src *src, const struct archive_read_opts *o,
				 struct archive_stats *st, char *err, size_t errsz)
{
	struct rd *r = rd_new(src, o, -1, err, errsz);
	if (!r)
		return ARCHIVE_E_IO;
	enum archive_result res = rd_run(r);
	rd_free(r, st);
	return res;
}

enum archive_result archive_list_mem(const void *p, size_t n, bool xz,
				     const struct archive_read_opts *o, struct archive_stats *st,
				     char *err, size_t errsz)
{
	struct stream_mem m;
	struct stream_src raw;
	stream_src_mem(&raw, &m, p, n);
	if (!xz)
		return archive_list(&raw, o, st, err, errsz);
	struct xz_dec *z = xz_dec_new(&raw, XZ_MEMLIMIT, err, errsz);
	if (!z)
		return ARCHIVE_E_IO;
	struct stream_src s = xz_dec_src(z);
	enum archive_result res = archive_list(&s, o, st, err, errsz);
	xz_dec_free(z);
	return res;
}

// A fresh, private directory in pfd; its name goes to name (at least 32 bytes).
static int make_tmpdir(int pfd, char *name, size_t namesz)
{
	for (int tries = 0; tries < 16; tries++) {
		unsigned char rnd[4];
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -1;
		snprintf(name, namesz, ".silo-unpack-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
			 rnd[3]);
		if (mkdirat(pfd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

// Splits dest into its parent directory (opened) and its last component.
static enum archive_result unpack_dest(const char *dest, int *pfd, char *base, size_t basesz,
				       char *err, size_t errsz)
{
	size_t n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	char *parent = strndup(dest, n);
	if (!parent)
		return snprintf(err, errsz, "out of memory"), ARCHIVE_E_IO;
	char *slash = strrchr(parent, '/');
	const char *b = slash ? slash + 1 : parent;
	if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || strlen(b) >= basesz) {
		snprintf(err, errsz, "'%s': not a usable destination name", dest);
		free(parent);
		return ARCHIVE_E_IO;
	}
	snprintf(base, basesz, "%s", b);
	const char *pdir = !slash ? "." : slash == parent ? "/" : (*slash = '\0', parent);
	*pfd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*pfd < 0)
		snprintf(err, errsz, "'%s': %s", pdir, strerror(errno));
	free(parent);
	if (*pfd < 0)
		return ARCHIVE_E_IO;
	struct stat sb;
	if (fstatat(*pfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		close(*pfd);
		snprintf(err, errsz, "'%s' already exists", dest);
		return ARCHIVE_E_EXISTS;
	}
	if (errno != ENOENT) {
		snprintf(err, errsz, "'%s': %s", dest, strerror(errno));
		close(*pfd);
		return ARCHIVE_E_IO;
	}
	return ARCHIVE_OK;
}

// Makes the finished tree visible under its final name, durably when asked.
static enum archive_result unpack_commit(int pfd, int rootfd, const char *tmp, const char *base,
					 const char *dest, bool sync, char *err, size_t errsz)
{
	if (fchmod(rootfd, 0755) < 0 || (sync && syncfs(rootfd) < 0)) {
		snprintf(err, errsz, "'%s': %s", dest, strerror(errno));
		return ARCHIVE_E_IO;
	}
	int rc = renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE);
	if (rc < 0 && errno == EINVAL) {
		// A filesystem without RENAME_NOREPLACE: plain rename, still refusing an existing
		// non-empty directory (ENOTEMPTY) and any file (ENOTDIR/EISDIR).
		struct stat sb;
		if (fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			errno = EEXIST;
		else
			rc = renameat(pfd, tmp, pfd, base);
	}
	if (rc < 0) {
		int e = errno;
		snprintf(err, errsz, "'%s': %s", dest, e == EEXIST ? "already exists" : strerror(e));
		return e == EEXIST ? ARCHIVE_E_EXISTS : ARCHIVE_E_IO;
	}
	if (sync)
		fsync(pfd);
	return ARCHIVE_OK;
}

enum archive_result archive_unpack(const struct stream_src *src, const char *dest,
				   const struct archive_read_opts *o, struct archive_stats *st,
				   char *err, size_t errsz)
{
	char base[ARCHIVE_NAME_MAX + 1], tmp[32];
	int pfd;
	if (st)
		*st = (struct archive_stats){0};
	enum archive_result res = unpack_dest(dest, &pfd, base, sizeof(base), err, errsz);
	if (res)
		return res;
	if (make_tmpdir(pfd, tmp, sizeof(tmp)) < 0) {
		snprintf(err, errsz, "'%s': cannot create a directory next to it: %s", dest,
			 strerror(errno));
		close(pfd);
		return ARCHIVE_E_IO;
	}
	int rootfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct rd *r = rootfd < 0 ? NULL : rd_new(src, o, rootfd, err, errsz);
	if (!r) {
		if (rootfd < 0)
			snprintf(err, errsz, "'%s': %s", dest, strerror(errno));
		res = ARCHIVE_E_IO;
	} else {
		res = rd_run(r);
		rd_free(r, st);
	}
	if (!res && o->precommit && o->precommit(o->ctx, err, errsz) < 0)
		res = ARCHIVE_E_REFUSED;
	if (!res)
		res = unpack_commit(pfd, rootfd, tmp, base, dest, o->sync, err, errsz);
	if (rootfd >= 0)
		close(rootfd);
	if (res)
		archive_remove_tree(pfd, tmp);
	close(pfd);
	return res;
}

// --- removing a tree ---

static int rm_tree(int pfd, const char *name)
{
	struct stat sb;
	if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(pfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		// A directory that was unpacked without read permission: lstat said it is a
		// directory, and only its owner (us) can have changed that since.
		if (fchmodat(pfd, name, 0700, 0) == 0)
			fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	// Write and search permission, to empty it.
	if ((sb.st_mode & 0700) != 0700 && fchmod(fd, 0700) < 0) {
		close(fd);
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	for (int pass = 0; pass < 2; pass++) {
		struct dirent *e;
		int removed = 0;
		rewinddir(d);
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (rm_tree(dirfd(d), e->d_name) < 0)
				rc = -1;
			removed++;
		}
		if (!removed || rc < 0)
			break;
	}
	int e = errno;
	closedir(d);
	if (rc < 0) {
		errno = e;
		return -1;
	}
	return unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

int archive_remove_tree(int dirfd, const char *name)
{
	return rm_tree(dirfd, name);
}

// --- the writer ---

struct wr {
	const struct stream_sink *out;
	struct archive_limits lim;
	struct archive_stats st;
	const struct archive_extra *extra;
	size_t nextra;
	const char *top;                     // the directory given, for messages
	unsigned flags;                      // ARCHIVE_WRITE_*
	char path[ARCHIVE_PATH_MAX + 1];     // the entry being written, as an archive path
	size_t plen;
	char last[ARCHIVE_PATH_MAX + 1];     // the entry written before, to keep the order
	size_t lastlen;
	char *err;
	size_t errsz;
	unsigned char buf[ARCHIVE_BUF];
};

struct wr_item {
	char *name;                          // owned for tree entries
	const struct archive_extra *extra;   // or the extra it stands for
};

// "DIR/PATH: why" for the current entry, naming the host file.
__attribute__((format(printf, 3, 4)))
static enum archive_result wr_fail(struct wr *w, enum archive_result res, const char *fmt, ...)
{
	char q[ARCHIVE_QUOTE_MAX * 4 + 16], why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errsz, "%s%s%s: %s", w->top, w->plen ? "/" : "",
		 quote(q, sizeof(q), w->path, w->plen), why);
	return res;
}

static enum archive_result wr_put(struct wr *w, const void *p, size_t n)
{
	int r = w->out->write(w->out->ctx, p, n, w->err, w->errsz);
	return r < 0 ? stream_result(r) : ARCHIVE_OK;
}

static enum archive_result wr_head(struct wr *w, enum archive_type type, unsigned mode)
{
	// Callers adding entries one by one (archive_writer_dir/_file) must keep the order the
	// reader insists on; the walk keeps it by itself.
	if (w->st.entries > 1 && path_cmp(w->last, w->lastlen, w->path, w->plen) >= 0)
		return wr_fail(w, ARCHIVE_E_HOSTILE, "entry added out of order");
	memcpy(w->last, w->path, w->plen + 1);
	w->lastlen = w->plen;
	unsigned char h[5];
	h[0] = (unsigned char)type;
	put16(h + 1, mode);
	put16(h + 3, (unsigned)w->plen);
	enum archive_result res = wr_put(w, h, sizeof(h));
	return res ? res : wr_put(w, w->path, w->plen);
}

static enum archive_result wr_copy(struct wr *w, int fd, uint64_t size)
{
	while (size) {
		size_t want = size < ARCHIVE_BUF ? (size_t)size : ARCHIVE_BUF;
		ssize_t k = read(fd, w->buf, want);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return wr_fail(w, ARCHIVE_E_IO, "read: %s", strerror(errno));
		if (k == 0)
			return wr_fail(w, ARCHIVE_E_IO, "file shrank while being packed");
		enum archive_result res = wr_put(w, w->buf, (size_t)k);
		if (res)
			return res;
		size -= (uint64_t)k;
	}
	if (read(fd, w->buf, 1) != 0)
		return wr_fail(w, ARCHIVE_E_IO, "file grew while being packed");
	return ARCHIVE_OK;
}

static enum archive_result wr_file(struct wr *w, int dirfd, const struct wr_item *it)
{
	int fd = it->extra ? open(it->extra->src_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
			   : openat(dirfd, it->name,
				    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	const char *what = it->extra ? it->extra->src_path : "open";
	if (fd < 0)
		return wr_fail(w, ARCHIVE_E_IO, "%s: %s", what, strerror(errno));
	struct stat sb;
	enum archive_result res = ARCHIVE_OK;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		res = wr_fail(w, ARCHIVE_E_IO, "%s: not a regular file", what);
		goto out;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (size > w->lim.max_file_bytes) {
		res = wr_fail(w, ARCHIVE_E_LIMIT, "%llu bytes is over the limit of %llu for one file",
			      (unsigned long long)size, (unsigned long long)w->lim.max_file_bytes);
		goto out;
	}
	if (size > w->lim.max_total_bytes - w->st.bytes) {
		res = wr_fail(w, ARCHIVE_E_LIMIT, "the files add up to more than %llu bytes",
			      (unsigned long long)w->lim.max_total_bytes);
		goto out;
	}
	w->st.bytes += size;
	unsigned char sz[8];
	put64(sz, size);
	unsigned mode = it->extra ? it->extra->mode & 0777 : sb.st_mode & 0777;
	if ((res = wr_head(w, ARCHIVE_FILE, mode)) || (res = wr_put(w, sz, sizeof(sz))))
		goto out;
	res = wr_copy(w, fd, size);
out:
	close(fd);
	return res;
}

static enum archive_result wr_symlink(struct wr *w, int dirfd, const char *name)
{
	char *t = (char *)w->buf;
	ssize_t n = readlinkat(dirfd, name, t, ARCHIVE_TARGET_MAX + 1);
	if (n < 0)
		return wr_fail(w, ARCHIVE_E_IO, "readlink: %s", strerror(errno));
	size_t depth = 0;
	for (size_t i = 0; i < w->plen; i++)
		depth += w->path[i] == '/';
	const char *why;
	if (archive_target_valid(t, (size_t)n, depth, &why) < 0) {
		char q[ARCHIVE_QUOTE_MAX * 4 + 16];
		return wr_fail(w, ARCHIVE_E_HOSTILE, "%s (-> '%s'); an archive holds only relative "
			       "symlinks that stay inside the tree", why,
			       quote(q, sizeof(q), t, (size_t)n));
	}
	unsigned char h[2];
	put16(h, (unsigned)n);
	enum archive_result res = wr_head(w, ARCHIVE_SYMLINK, 0777);
	if (!res)
		res = wr_put(w, h, sizeof(h));
	return res ? res : wr_put(w, t, (size_t)n);
}

static int wr_item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wr_item *)a)->name, ((const struct wr_item *)b)->name);
}

static void wr_items_free(struct wr_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!items[i].extra)
			free(items[i].name);
	}
	free(items);
}

static enum archive_result wr_add(struct wr *w, struct wr_item **items, size_t *n, size_t *cap,
				  struct wr_item it)
{
	if (!it.name)
		return wr_fail(w, ARCHIVE_E_IO, "out of memory");
	if (w->st.entries + *n >= w->lim.max_entries) {
		if (!it.extra)
			free(it.name);
		return wr_fail(w, ARCHIVE_E_LIMIT, "more than %llu entries",
			       (unsigned long long)w->lim.max_entries);
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct wr_item *m = realloc(*items, c * sizeof(*m));
		if (!m) {
			if (!it.extra)
				free(it.name);
			return wr_fail(w, ARCHIVE_E_IO, "out of memory");
		}
		*items = m;
		*cap = c;
	}
	(*items)[(*n)++] = it;
	return ARCHIVE_OK;
}

// The directory's names (and, at the top, the extras), sorted.
static enum archive_result wr_list(struct wr *w, int fd, int top, struct wr_item **out,
				   size_t *nout)
{
	int dfd = dup(fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return wr_fail(w, ARCHIVE_E_IO, "opendir: %s", strerror(errno));
	}
	struct wr_item *items = NULL;
	size_t n = 0, cap = 0;
	enum archive_result res = ARCHIVE_OK;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				res = wr_fail(w, ARCHIVE_E_IO, "readdir: %s", strerror(errno));
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((res = wr_add(w, &items, &n, &cap, (struct wr_item){.name = strdup(e->d_name)})))
			break;
	}
	closedir(d);
	for (size_t x = 0; !res && top && x < w->nextra; x++)
		res = wr_add(w, &items, &n, &cap,
			     (struct wr_item){.name = (char *)w->extra[x].name, .extra = &w->extra[x]});
	if (!res && n)
		qsort(items, n, sizeof(*items), wr_item_cmp);
	for (size_t i = 1; !res && i < n; i++) {
		if (strcmp(items[i - 1].name, items[i].name) == 0)
			res = wr_fail(w, ARCHIVE_E_HOSTILE, "already holds '%s', which spk adds "
				      "itself", items[i].name);
	}
	if (res) {
		wr_items_free(items, n);
		return res;
	}
	*out = items;
	*nout = n;
	return ARCHIVE_OK;
}

static enum archive_result wr_dir(struct wr *w, int fd, int top);

static enum archive_result wr_entry(struct wr *w, int dirfd, const struct wr_item *it)
{
	const char *why;
	if (archive_path_valid(w->path, w->plen, &why) < 0)
		return wr_fail(w, ARCHIVE_E_HOSTILE, "%s", why);
	if (++w->st.entries > w->lim.max_entries)
		return wr_fail(w, ARCHIVE_E_LIMIT, "more than %llu entries",
			       (unsigned long long)w->lim.max_entries);
	if (it->extra)
		return wr_file(w, dirfd, it);
	struct stat sb;
	if (fstatat(dirfd, it->name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return wr_fail(w, ARCHIVE_E_IO, "stat: %s", strerror(errno));
	if (S_ISREG(sb.st_mode))
		return wr_file(w, dirfd, it);
	if (S_ISLNK(sb.st_mode))
		return wr_symlink(w, dirfd, it->name);
	if ((S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)) && (w->flags & ARCHIVE_WRITE_SKIP_SPECIAL)) {
		w->st.entries--;
		return ARCHIVE_OK;
	}
	if (!S_ISDIR(sb.st_mode)) {
		const char *kind = S_ISFIFO(sb.st_mode)   ? "a fifo"
				   : S_ISSOCK(sb.st_mode) ? "a socket"
				   : S_ISCHR(sb.st_mode)  ? "a character device"
				   : S_ISBLK(sb.st_mode)  ? "a block device"
							  : "of an unknown type";
		return wr_fail(w, ARCHIVE_E_HOSTILE, "is %s; an archive holds only directories, "
			       "regular files and symlinks", kind);
	}
	enum archive_result res = wr_head(w, ARCHIVE_DIR, sb.st_mode & 0777);
	if (res)
		return res;
	int fd = openat(dirfd, it->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wr_fail(w, ARCHIVE_E_IO, "open: %s", strerror(errno));
	res = wr_dir(w, fd, 0);
	close(fd);
	return res;
}

static enum archive_result wr_dir(struct wr *w, int fd, int top)
{
	struct wr_item *items = NULL;
	size_t n = 0;
	enum archive_result res = wr_list(w, fd, top, &items, &n);
	size_t save = w->plen;
	for (size_t i = 0; !res && i < n; i++) {
		size_t len = strlen(items[i].name), sep = save ? 1 : 0;
		if (save + sep + len > ARCHIVE_PATH_MAX) {
			res = wr_fail(w, ARCHIVE_E_HOSTILE, "'%s': path is longer than 4096 bytes",
				      items[i].name);
			break;
		}
		if (sep)
			w->path[save] = '/';
		memcpy(w->path + save + sep, items[i].name, len + 1);
		w->plen = save + sep + len;
		res = wr_entry(w, fd, &items[i]);
		if (!res) {
			w->plen = save;
			w->path[save] = '\0';
		}
	}
	wr_items_free(items, n);
	return res;
}

struct archive_writer {
	struct wr w;
};

enum archive_result archive_writer_open(struct archive_writer **out,
					const struct archive_limits *lim, unsigned flags,
					const struct stream_sink *sink, char *err, size_t errsz)
{
	struct archive_writer *aw = calloc(1, sizeof(*aw));
	*out = aw;
	if (!aw) {
		snprintf(err, errsz, "out of memory");
		return ARCHIVE_E_IO;
	}
	aw->w = (struct wr){.out = sink, .lim = *lim, .flags = flags, .top = "", .err = err,
			    .errsz = errsz};
	unsigned char h[ARCHIVE_MAGIC_LEN + 1] = ARCHIVE_MAGIC;
	h[ARCHIVE_MAGIC_LEN] = ARCHIVE_VERSION;
	return wr_put(&aw->w, h, sizeof(h));
}

// Sets the writer's current path for an entry added by name; checks it and counts it.
static enum archive_result writer_at(struct wr *w, const char *path)
{
	size_t n = strlen(path);
	const char *why;
	w->plen = 0;
	w->path[0] = '\0';
	if (archive_path_valid(path, n, &why) < 0)
		return snprintf(w->err, w->errsz, "'%s': %s", path, why), ARCHIVE_E_HOSTILE;
	memcpy(w->path, path, n + 1);
	w->plen = n;
	if (++w->st.entries > w->lim.max_entries)
		return wr_fail(w, ARCHIVE_E_LIMIT, "more than %llu entries",
			       (unsigned long long)w->lim.max_entries);
	return ARCHIVE_OK;
}

enum archive_result archive_writer_dir(struct archive_writer *aw, const char *path,
				       unsigned mode)
{
	enum archive_result res = writer_at(&aw->w, path);
	return res ? res : wr_head(&aw->w, ARCHIVE_DIR, mode & 0777);
}

enum archive_result archive_writer_tree(struct archive_writer *aw, const char *path,
					int dirfd, const char *host_name)
{
	struct wr *w = &aw->w;
	size_t n = strlen(path);
	if (n > ARCHIVE_PATH_MAX)
		return snprintf(w->err, w->errsz, "path too long"), ARCHIVE_E_HOSTILE;
	memcpy(w->path, path, n + 1);
	w->plen = n;
	w->top = host_name;
	enum archive_result res = wr_dir(w, dirfd, 0);
	w->top = "";
	return res;
}

enum archive_result archive_writer_file(struct archive_writer *aw, const char *path, int fd,
					unsigned mode, const char *host_name)
{
	struct wr *w = &aw->w;
	enum archive_result res = writer_at(w, path);
	if (res)
		return res;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	struct archive_extra e = {.name = path, .src_path = self, .mode = mode};
	struct wr_item it = {.name = (char *)path, .extra = &e};
	w->top = host_name;
	res = wr_file(w, -1, &it);
	w->top = "";
	return res;
}

enum archive_result archive_writer_close(struct archive_writer *aw, struct archive_stats *st)
{
	if (!aw)
		return ARCHIVE_E_IO;
	unsigned char end = ARCHIVE_END;
	enum archive_result res = wr_put(&aw->w, &end, 1);
	if (st)
		*st = aw->w.st;
	return res;
}

void archive_writer_free(struct archive_writer *aw)
{
	free(aw);
}

enum archive_result archive_write_dir(const char *dir, const struct archive_extra *extra,
				      size_t nextra, const struct archive_limits *lim,
				      const struct stream_sink *out, struct archive_stats *st,
				      char *err, size_t errsz)
{
	for (size_t i = 0; i < nextra; i++) {
		const char *why;
		if (archive_path_valid(extra[i].name, strlen(extra[i].name), &why) < 0 ||
		    strchr(extra[i].name, '/')) {
			snprintf(err, errsz, "%s: extra entry '%s' is not a plain name", dir,
				 extra[i].name);
			return ARCHIVE_E_HOSTILE;
		}
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return ARCHIVE_E_IO;
	}
	struct archive_writer *aw;
	enum archive_result res = archive_writer_open(&aw, lim, 0, out, err, errsz);
	if (!res) {
		aw->w.top = dir;
		aw->w.extra = extra;
		aw->w.nextra = nextra;
		res = wr_dir(&aw->w, fd, 1);
	}
	if (!res)
		res = archive_writer_close(aw, st);
	else if (st && aw)
		*st = aw->w.st;
	close(fd);
	archive_writer_free(aw);
	return res;
}
