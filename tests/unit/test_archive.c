// SPDX-License-Identifier: MIT
// Unit tests for archive.c and xz.c: path and symlink rules, writer -> reader round trips
// (modes, symlinks, empty files and directories), deterministic output, what the writer
// refuses, and hostile archives written by hand, each refused with nothing left behind.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "archive.h"
#include "spk_helpers.h"
#include "test.h"
#include "util.h"
#include "xz.h"

static char *scratch;   // every test's files live under here

// s for a test's name: bytes outside printable ASCII as \xNN.
static const char *printable(char *out, size_t outsz, const char *s)
{
	size_t o = 0;
	for (; *s && o + 5 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static struct archive_read_opts opts_default(void)
{
	return (struct archive_read_opts){.limits = ARCHIVE_LIMITS_DEFAULT};
}

static void test_paths(void)
{
	static const struct {
		const char *p;
		int ok;
	} cases[] = {
		{"a", 1}, {"a/b/c", 1}, {"été/naïve.txt", 1}, {"a.b", 1}, {"...", 1}, {".a", 1},
		{"", 0}, {"/a", 0}, {"a/", 0}, {"a//b", 0}, {"./a", 0}, {"a/.", 0}, {"..", 0},
		{"a/../b", 0}, {"a\nb", 0}, {"a\x7f", 0}, {"\xff", 0}, {"\xc0\xaf", 0},
		{"\xed\xa0\x80", 0}, {"a\xc2\x85", 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *why = NULL;
		int ok = archive_path_valid(cases[i].p, strlen(cases[i].p), &why) == 0;
		char shown[64];
		CHECK(ok == cases[i].ok && (ok || why), "archive: path '%s' is %s",
		      printable(shown, sizeof(shown), cases[i].p),
		      cases[i].ok ? "valid" : "refused");
	}
	const char *why;
	char longname[300], deep[600], big[4200];
	memset(longname, 'x', 256);
	CHECK(archive_path_valid(longname, 255, &why) == 0 &&
	      archive_path_valid(longname, 256, &why) < 0, "archive: components up to 255 bytes");
	for (int i = 0; i < 129; i++)
		memcpy(deep + 2 * i, "a/", 2);
	CHECK(archive_path_valid(deep, 2 * 128 - 1, &why) == 0 &&
	      archive_path_valid(deep, 2 * 129 - 1, &why) < 0, "archive: at most 128 levels");
	for (int i = 0; i < 4200; i++)
		big[i] = i % 100 == 99 ? '/' : 'b';
	CHECK(archive_path_valid(big, 4096, &why) == 0 && archive_path_valid(big, 4097, &why) < 0 &&
	      strstr(why, "4096"),
	      "archive: paths over 4096 bytes are refused");
	CHECK(archive_path_valid("a\0b", 3, &why) < 0 && strstr(why, "NUL"),
	      "archive: a NUL in a path is refused");
}

static void test_targets(void)
{
	static const struct {
		const char *t;
		size_t depth;
		int ok;
	} cases[] = {
		{"x", 0, 1}, {"a/b", 0, 1}, {"../x", 1, 1}, {"../../x", 2, 1}, {"./x", 0, 1},
		{"x/", 0, 1}, {"..", 1, 1}, {"../x", 0, 0}, {"../../x", 1, 0}, {"/etc/passwd", 3, 0},
		{"a/../x", 2, 0}, {"a/../../x", 5, 0}, {"", 0, 0}, {"a\nb", 0, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *why = NULL;
		int ok = archive_target_valid(cases[i].t, strlen(cases[i].t), cases[i].depth,
					      &why) == 0;
		char shown[64];
		CHECK(ok == cases[i].ok, "archive: symlink '%s' at depth %zu is %s",
		      printable(shown, sizeof(shown), cases[i].t),
		      cases[i].depth, cases[i].ok ? "allowed" : "refused");
	}
}

// A tree with every kind of thing the format holds.
static char *make_tree(const char *name)
{
	char *t;
	if (asprintf(&t, "%s/%s", scratch, name) < 0)
		abort();
	char p[512];
	static char big[200003];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7919 % 251);
	int rc = th_mkdir(t, 0755);
#define P(x) (snprintf(p, sizeof(p), "%s/%s", t, x), p)
	rc |= th_mkdir(P("bin"), 0755);
	rc |= th_write(P("bin/app"), "#!/bin/sh\n", 10, 0755);
	rc |= th_write(P("bin/big"), big, sizeof(big), 0644);
	rc |= th_mkdir(P("empty"), 0700);
	rc |= th_write(P("empty-file"), "", 0, 0600);
	rc |= th_write(P("ro"), "read only", 9, 0444);
	rc |= th_mkdir(P("a"), 0755);
	rc |= th_mkdir(P("a/b"), 0750);
	rc |= th_mkdir(P("a/b/c"), 0755);
	rc |= th_write(P("a/b/c/deep"), "deep", 4, 0640);
	rc |= th_mkdir(P("a-z"), 0755);   // sorts between "a" and "a/..." in plain strcmp
	rc |= th_write(P("a-z/f"), "f", 1, 0644);
	rc |= th_mkdir(P("sealed"), 0555);
	rc |= th_write(P("été.txt"), "unicode", 7, 0644);
	rc |= symlink("../bin/app", P("a/link-up"));
	rc |= symlink("nowhere", P("dangling"));
	rc |= symlink("a/b", P("dirlink"));
	rc |= chmod(P("sealed"), 0700) | th_write(P("sealed/inside"), "x", 1, 0644) |
	      chmod(P("sealed"), 0555);
#undef P
	if (rc)
		abort();
	return t;
}

static int write_archive(const char *dir, struct buf *out, const struct archive_extra *extra,
			 size_t nextra, char *err, size_t errsz)
{
	struct stream_sink sink;
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	buf_init(out);
	stream_sink_buf(&sink, out);
	return archive_write_dir(dir, extra, nextra, &lim, &sink, NULL, err, errsz);
}

static enum archive_result unpack_mem(const struct buf *b, int xz, const char *dest,
				      const struct archive_read_opts *o, struct archive_stats *st,
				      char *err, size_t errsz)
{
	struct stream_mem m;
	struct stream_src raw;
	stream_src_mem(&raw, &m, b->data, b->len);
	if (!xz)
		return archive_unpack(&raw, dest, o, st, err, errsz);
	struct xz_dec *z = xz_dec_new(&raw, XZ_MEMLIMIT, err, errsz);
	struct stream_src s = xz_dec_src(z);
	enum archive_result r = archive_unpack(&s, dest, o, st, err, errsz);
	xz_dec_free(z);
	return r;
}

// Compresses with xz.c's encoder (the one spk pack uses).
static int xz_with_encoder(const struct buf *in, struct buf *out)
{
	char err[256];
	struct stream_sink sink;
	buf_init(out);
	stream_sink_buf(&sink, out);
	struct xz_enc *z = xz_enc_new(&sink, err, sizeof(err));
	if (!z)
		return -1;
	struct stream_sink plain = xz_enc_sink(z);
	int rc = plain.write(plain.ctx, in->data, in->len, err, sizeof(err));
	if (!rc)
		rc = xz_enc_finish(z, err, sizeof(err));
	xz_enc_free(z);
	return rc;
}

static void test_round_trip(void)
{
	char *tree = make_tree("tree");
	char err[512] = "", why[512] = "", *dest, *dest2;
	struct buf ar, xz;
	struct archive_stats st;
	int r = write_archive(tree, &ar, NULL, 0, err, sizeof(err));
	CHECK(r == ARCHIVE_OK, "archive: writes a tree (%s)", err);
	struct archive_read_opts o = opts_default();
	r = archive_list_mem(ar.data, ar.len, false, &o, &st, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && st.entries == 18 && st.bytes == 200003 + 10 + 9 + 4 + 1 + 1 + 7,
	      "archive: lists what it wrote (%llu entries, %llu bytes; %s)",
	      (unsigned long long)st.entries, (unsigned long long)st.bytes, err);
	if (asprintf(&dest, "%s/out", scratch) < 0 || asprintf(&dest2, "%s/out-xz", scratch) < 0)
		abort();
	mode_t old = umask(077);   // modes must come from the archive, not the umask
	r = unpack_mem(&ar, 0, dest, &o, &st, err, sizeof(err));
	umask(old);
	CHECK(r == ARCHIVE_OK, "archive: unpacks it (%s)", err);
	CHECK(th_tree_eq(tree, dest, why, sizeof(why)) == 0,
	      "archive: unpacked tree equals the original: modes, symlinks, empty things (%s)",
	      why);
	struct stat sb;
	CHECK(stat(dest, &sb) == 0 && (sb.st_mode & 07777) == 0755,
	      "archive: the unpacked top is mode 0755");
	CHECK(xz_with_encoder(&ar, &xz) == 0 && xz.len < ar.len, "xz: compresses (%zu -> %zu)",
	      ar.len, xz.len);
	r = archive_list_mem(xz.data, xz.len, true, &o, &st, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && st.entries == 18, "archive: lists through xz (%s)", err);
	r = unpack_mem(&xz, 1, dest2, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && th_tree_eq(tree, dest2, why, sizeof(why)) == 0,
	      "archive: unpacks through xz to the same tree (%s %s)", err, why);
	int n = th_count(scratch);
	r = unpack_mem(&ar, 0, dest, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_EXISTS && strstr(err, "already exists") && th_count(scratch) == n,
	      "archive: refuses an existing destination (%s)", err);
	char *nop;
	if (asprintf(&nop, "%s/no/such/dir", scratch) < 0)
		abort();
	r = unpack_mem(&ar, 0, nop, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_IO, "archive: a destination whose parent is missing is an error");

	// Same tree, made in another order in another place: the same bytes.
	struct buf again;
	char *copy;
	if (asprintf(&copy, "%s/copy", scratch) < 0)
		abort();
	r = unpack_mem(&ar, 0, copy, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && write_archive(copy, &again, NULL, 0, err, sizeof(err)) == 0 &&
	      again.len == ar.len && memcmp(again.data, ar.data, ar.len) == 0,
	      "archive: the same tree always gives the same bytes");
	struct buf xz2;
	CHECK(xz_with_encoder(&again, &xz2) == 0 && xz2.len == xz.len &&
	      memcmp(xz2.data, xz.data, xz.len) == 0, "xz: the same input compresses the same");
	buf_free(&xz2);
	buf_free(&again);
	buf_free(&ar);
	buf_free(&xz);
	free(copy);
	free(nop);
	free(dest);
	free(dest2);
	free(tree);
}

static void test_extras_and_captures(void)
{
	char *tree = make_tree("tree-extra"), err[512], *bridge;
	if (asprintf(&bridge, "%s/bridge-bin", scratch) < 0 ||
	    th_write(bridge, "BRIDGE", 6, 0600) < 0)
		abort();
	struct archive_extra ex = {.name = "silo-bridge", .src_path = bridge, .mode = 0755};
	struct buf ar;
	int r = write_archive(tree, &ar, &ex, 1, err, sizeof(err));
	struct archive_capture caps[3] = {{.path = "silo-bridge", .max = 100},
					  {.path = "bin/big", .max = 10},
					  {.path = "a/b", .max = 10}};
	struct archive_read_opts o = opts_default();
	o.captures = caps;
	o.ncaptures = 3;
	if (!r)
		r = (int)archive_list_mem(ar.data, ar.len, false, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && caps[0].found && caps[0].type == ARCHIVE_FILE &&
	      caps[0].mode == 0755 && caps[0].data.len == 6 &&
	      memcmp(caps[0].data.data, "BRIDGE", 6) == 0,
	      "archive: an extra file is added with its own mode, and captured (%s)", err);
	CHECK(caps[1].found && caps[1].too_big && caps[1].data.len == 0 && caps[1].size == 200003,
	      "archive: a capture over its max keeps no data");
	CHECK(caps[2].found && caps[2].type == ARCHIVE_DIR && caps[2].mode == 0750,
	      "archive: a directory can be captured");
	for (int i = 0; i < 3; i++)
		buf_free(&caps[i].data);
	buf_free(&ar);

	char p[512];
	snprintf(p, sizeof(p), "%s/silo-bridge", tree);
	th_write(p, "mine", 4, 0755);
	r = write_archive(tree, &ar, &ex, 1, err, sizeof(err));
	CHECK(r == ARCHIVE_E_HOSTILE && strstr(err, "already holds 'silo-bridge'"),
	      "archive: a tree that has an extra's name is refused (%s)", err);
	buf_free(&ar);
	struct archive_extra bad = {.name = "a/b", .src_path = bridge, .mode = 0755};
	r = write_archive(tree, &ar, &bad, 1, err, sizeof(err));
	CHECK(r == ARCHIVE_E_HOSTILE, "archive: an extra must be a plain name");
	buf_free(&ar);
	free(bridge);
	free(tree);
}

// The writer refuses what a reader would refuse, naming the host path.
static void test_writer_refuses(void)
{
	static const struct {
		const char *what, *link, *expect;
		int fifo, sock, setuid;
	} cases[] = {
		{"absolute symlink", "/etc/passwd", "absolute", 0, 0, 0},
		{"escaping symlink", "../../outside", "outside the package", 0, 0, 0},
		{"'..' after a name", "sub/../../x", "after a name", 0, 0, 0},
		{"fifo", NULL, "is a fifo", 1, 0, 0},
		{"socket", NULL, "is a socket", 0, 1, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *t, p[100], err[512] = "";
		if (asprintf(&t, "%s/refuse-%zu", scratch, i) < 0 || th_mkdir(t, 0755) < 0)
			abort();
		snprintf(p, sizeof(p), "%s/thing", t);
		int rc = 0;
		if (cases[i].link)
			rc = symlink(cases[i].link, p);
		if (cases[i].fifo)
			rc = mkfifo(p, 0644);
		int s = -1;
		if (cases[i].sock) {
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
			s = socket(AF_UNIX, SOCK_STREAM, 0);
			rc = bind(s, (struct sockaddr *)&a, sizeof(a));
		}
		struct buf ar;
		int r = rc ? -1 : write_archive(t, &ar, NULL, 0, err, sizeof(err));
		CHECK(r == ARCHIVE_E_HOSTILE && strstr(err, cases[i].expect) && strstr(err, p),
		      "archive: the writer refuses a %s, naming it (%s)", cases[i].what, err);
		if (s >= 0)
			close(s);
		buf_free(&ar);
		free(t);
	}
	// setuid and friends are dropped, not refused: the archive holds only rwx bits.
	char *t, p[512], err[512];
	if (asprintf(&t, "%s/suid", scratch) < 0 || th_mkdir(t, 0755) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/s", t);
	th_write(p, "x", 1, 04755);
	snprintf(p, sizeof(p), "%s/d", t);
	th_mkdir(p, 01777);
	struct buf ar;
	struct archive_capture caps[2] = {{.path = "s"}, {.path = "d"}};
	struct archive_read_opts o = opts_default();
	o.captures = caps;
	o.ncaptures = 2;
	int r = write_archive(t, &ar, NULL, 0, err, sizeof(err));
	if (!r)
		r = (int)archive_list_mem(ar.data, ar.len, false, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && caps[0].mode == 0755 && caps[1].mode == 0777,
	      "archive: the writer masks setuid and sticky bits away");
	buf_free(&ar);
	// Limits apply when writing too.
	struct archive_limits lim = {.max_entries = 2, .max_total_bytes = 1 << 20,
				     .max_file_bytes = 1 << 20};
	struct stream_sink sink;
	buf_init(&ar);
	stream_sink_buf(&sink, &ar);
	th_write(p, "x", 1, 0644);
	snprintf(p, sizeof(p), "%s/third", t);
	th_write(p, "x", 1, 0644);
	r = archive_write_dir(t, NULL, 0, &lim, &sink, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_LIMIT && strstr(err, "more than 2 entries"),
	      "archive: the writer stops at the entry limit (%s)", err);
	buf_free(&ar);
	free(t);
}

// A hostile (or broken) archive, as raw bytes.
struct hostile {
	const char *what;
	enum archive_result expect;
	const char *msg;   // a piece of the message
	void (*build)(struct buf *b);
};

static void h_absolute(struct buf *b) { ar_file(b, "/etc/x", 0644, "x"); }
static void h_dotdot(struct buf *b) { ar_dir(b, "a", 0755); ar_file(b, "a/../x", 0644, "x"); }
static void h_dot(struct buf *b) { ar_file(b, "./x", 0644, "x"); }
static void h_empty_comp(struct buf *b) { ar_dir(b, "a", 0755); ar_file(b, "a//x", 0644, "x"); }
static void h_trailing_slash(struct buf *b) { ar_dir(b, "a/", 0755); }
static void h_dup(struct buf *b) { ar_file(b, "x", 0644, "1"); ar_file(b, "x", 0644, "2"); }
static void h_dup_dir(struct buf *b) { ar_dir(b, "d", 0755); ar_dir(b, "d", 0755); }
static void h_order(struct buf *b) { ar_file(b, "b", 0644, "1"); ar_file(b, "a", 0644, "2"); }
static void h_under_link(struct buf *b)
{
	ar_dir(b, "d", 0755);
	ar_link(b, "l", "d");
	ar_file(b, "l/x", 0644, "through the link");
}
static void h_under_file(struct buf *b) { ar_file(b, "f", 0644, "1"); ar_file(b, "f/x", 0644, "2"); }
static void h_no_parent(struct buf *b) { ar_file(b, "a/b", 0644, "x"); }
static void h_link_up(struct buf *b) { ar_link(b, "l", "../x"); }
static void h_link_up2(struct buf *b) { ar_dir(b, "a", 0755); ar_link(b, "a/l", "../../etc"); }
static void h_link_mid(struct buf *b) { ar_link(b, "s", "."); ar_link(b, "t", "s/../x"); }
static void h_link_abs(struct buf *b) { ar_link(b, "l", "/etc/passwd"); }
static void h_link_mode(struct buf *b)
{
	ar_entry(b, 3, 0755, "l", 1);
	th_be(b, 1, 2);
	buf_puts(b, "x");
}
static void h_setuid(struct buf *b) { ar_file(b, "x", 04755, "x"); }
static void h_setgid_dir(struct buf *b) { ar_dir(b, "d", 02755); }
static void h_sticky(struct buf *b) { ar_dir(b, "d", 01777); }
static void h_type_bits(struct buf *b) { ar_file(b, "x", 0100644, "x"); }
static void h_type4(struct buf *b) { ar_entry(b, 4, 0644, "dev", 3); }
static void h_type255(struct buf *b) { ar_entry(b, 255, 0644, "dev", 3); }
static void h_path0(struct buf *b) { ar_entry(b, 2, 0644, "", 0); }
static void h_path_long(struct buf *b)
{
	ar_entry(b, 1, 0755, "", 0);
	b->len -= 2;   // rewrite the length field
	th_be(b, 5000, 2);
}
static void h_nul(struct buf *b) { ar_entry(b, 1, 0755, "a\0b", 3); }
static void h_ctl(struct buf *b) { ar_dir(b, "a\nb", 0755); }
static void h_utf8(struct buf *b) { ar_dir(b, "\xff\xfe", 0755); }
static void h_bad_magic(struct buf *b) { b->data[0] = 'X'; }
static void h_bad_version(struct buf *b) { b->data[7] = 2; }
static void h_target_len0(struct buf *b)
{
	ar_entry(b, 3, 0777, "l", 1);
	th_be(b, 0, 2);
}

static const struct hostile hostiles[] = {
	{"absolute path", ARCHIVE_E_HOSTILE, "absolute", h_absolute},
	{"'..' component", ARCHIVE_E_HOSTILE, "'..'", h_dotdot},
	{"'.' component", ARCHIVE_E_HOSTILE, "'.'", h_dot},
	{"empty component", ARCHIVE_E_HOSTILE, "empty component", h_empty_comp},
	{"trailing slash", ARCHIVE_E_HOSTILE, "empty component", h_trailing_slash},
	{"duplicate file", ARCHIVE_E_HOSTILE, "duplicate", h_dup},
	{"duplicate directory", ARCHIVE_E_HOSTILE, "duplicate", h_dup_dir},
	{"entries out of order", ARCHIVE_E_HOSTILE, "out of order", h_order},
	{"file under a symlink", ARCHIVE_E_HOSTILE, "inside 'l'", h_under_link},
	{"file under a file", ARCHIVE_E_HOSTILE, "inside 'f'", h_under_file},
	{"file without its directory", ARCHIVE_E_HOSTILE, "not in the archive", h_no_parent},
	{"symlink escaping from the top", ARCHIVE_E_HOSTILE, "outside", h_link_up},
	{"symlink escaping from below", ARCHIVE_E_HOSTILE, "outside", h_link_up2},
	{"symlink with '..' after a name", ARCHIVE_E_HOSTILE, "after a name", h_link_mid},
	{"absolute symlink", ARCHIVE_E_HOSTILE, "absolute", h_link_abs},
	{"symlink with a mode", ARCHIVE_E_HOSTILE, "0777", h_link_mode},
	{"empty symlink target", ARCHIVE_E_HOSTILE, "target length", h_target_len0},
	{"setuid file", ARCHIVE_E_HOSTILE, "setuid", h_setuid},
	{"setgid directory", ARCHIVE_E_HOSTILE, "setgid", h_setgid_dir},
	{"sticky directory", ARCHIVE_E_HOSTILE, "sticky", h_sticky},
	{"file type bits in the mode", ARCHIVE_E_HOSTILE, "beyond rwx", h_type_bits},
	{"unknown entry type 4 (a device node?)", ARCHIVE_E_HOSTILE, "unknown type 4", h_type4},
	{"unknown entry type 255", ARCHIVE_E_HOSTILE, "unknown type 255", h_type255},
	{"empty path", ARCHIVE_E_HOSTILE, "path of 0 bytes", h_path0},
	{"path length over 4096", ARCHIVE_E_HOSTILE, "path of 5000 bytes", h_path_long},
	{"NUL in a path", ARCHIVE_E_HOSTILE, "NUL", h_nul},
	{"control character in a path", ARCHIVE_E_HOSTILE, "control", h_ctl},
	{"invalid UTF-8 in a path", ARCHIVE_E_HOSTILE, "UTF-8", h_utf8},
	{"bad magic", ARCHIVE_E_CORRUPT, "not a silo archive", h_bad_magic},
	{"unknown format version", ARCHIVE_E_CORRUPT, "version 2", h_bad_version},
};

// Runs one crafted archive through list and unpack (raw and xz); it must be refused the
// same way each time, and the destination's parent must be left as it was.
static void check_hostile(const char *what, const struct buf *raw, enum archive_result expect,
			  const char *msg, const struct archive_limits *lim)
{
	char err[512] = "", *parent, *dest;
	struct archive_read_opts o = opts_default();
	if (lim)
		o.limits = *lim;
	enum archive_result r = archive_list_mem(raw->data, raw->len, false, &o, NULL, err,
						 sizeof(err));
	CHECK(r == expect && strstr(err, msg), "archive: %s is refused: %s", what, err);
	struct buf xz;
	buf_init(&xz);
	th_xz(raw->data, raw->len, &xz);
	r = archive_list_mem(xz.data, xz.len, true, &o, NULL, err, sizeof(err));
	int same = r == expect && strstr(err, msg);
	parent = th_mkdtemp("hostile");
	if (asprintf(&dest, "%s/dest", parent) < 0)
		abort();
	r = unpack_mem(raw, 0, dest, &o, NULL, err, sizeof(err));
	same = same && r == expect && strstr(err, msg) && th_count(parent) == 0;
	r = unpack_mem(&xz, 1, dest, &o, NULL, err, sizeof(err));
	same = same && r == expect && th_count(parent) == 0;
	CHECK(same, "archive: %s is refused through xz and by unpack, nothing left behind (%s)",
	      what, err);
	th_rm(parent);
	buf_free(&xz);
	free(parent);
	free(dest);
}

static void test_hostile(void)
{
	for (size_t i = 0; i < ARRAY_LEN(hostiles); i++) {
		struct buf b;
		ar_begin(&b);
		ar_dir(&b, "0pre", 0755);   // valid entries first, so unpack has written something
		ar_file(&b, "0pre/f", 0644, "some content");
		hostiles[i].build(&b);
		ar_end(&b);
		check_hostile(hostiles[i].what, &b, hostiles[i].expect, hostiles[i].msg, NULL);
		buf_free(&b);
	}
	// Deeper than 128 levels.
	struct buf b;
	char path[600] = "";
	ar_begin(&b);
	for (int i = 0; i < 129; i++) {
		strcat(path, i ? "/d" : "d");
		ar_dir(&b, path, 0755);
	}
	ar_end(&b);
	check_hostile("a path 129 levels deep", &b, ARCHIVE_E_HOSTILE, "deeper than 128", NULL);
	buf_free(&b);
	// 128 levels are fine, and unpack copes with them.
	ar_begin(&b);
	path[0] = '\0';
	for (int i = 0; i < 128; i++) {
		strcat(path, i ? "/d" : "d");
		ar_dir(&b, path, i % 2 ? 0500 : 0755);
	}
	ar_file(&b, "e", 0644, "after the deep ones");
	ar_end(&b);
	char err[256] = "", *dest;
	struct archive_read_opts o = opts_default();
	if (asprintf(&dest, "%s/deep", scratch) < 0)
		abort();
	CHECK(unpack_mem(&b, 0, dest, &o, NULL, err, sizeof(err)) == ARCHIVE_OK,
	      "archive: 128 levels of read-only directories unpack (%s)", err);
	CHECK(archive_remove_tree(AT_FDCWD, dest) == 0 && access(dest, F_OK) < 0,
	      "archive: remove_tree removes a tree with read-only directories");
	free(dest);
	buf_free(&b);
}

static void test_limits(void)
{
	struct archive_limits lim = {.max_entries = 5, .max_total_bytes = 20,
				     .max_file_bytes = 12};
	struct buf b;
	ar_begin(&b);
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		ar_file(&b, name, 0644, "");
	}
	ar_end(&b);
	check_hostile("more entries than the limit", &b, ARCHIVE_E_LIMIT, "more than 5 entries",
		      &lim);
	buf_free(&b);
	ar_begin(&b);
	ar_file(&b, "big", 0644, "0123456789abc");
	ar_end(&b);
	check_hostile("a file over the file limit", &b, ARCHIVE_E_LIMIT, "limit of 12", &lim);
	buf_free(&b);
	ar_begin(&b);
	ar_file(&b, "a", 0644, "0123456789");
	ar_file(&b, "b", 0644, "0123456789!");
	ar_end(&b);
	check_hostile("files over the total limit", &b, ARCHIVE_E_LIMIT, "more than 20 bytes",
		      &lim);
	buf_free(&b);
	// A size field far beyond the data must be refused before anything is read.
	ar_begin(&b);
	ar_entry(&b, 2, 0644, "huge", 4);
	th_be(&b, UINT64_MAX, 8);
	check_hostile("a file claiming 2^64-1 bytes", &b, ARCHIVE_E_LIMIT, "over the limit",
		      NULL);
	buf_free(&b);
	// At the limits exactly is fine.
	ar_begin(&b);
	ar_file(&b, "a", 0644, "0123456789ab");
	ar_file(&b, "b", 0644, "01234567");
	ar_end(&b);
	char err[256] = "";
	struct archive_read_opts o = {.limits = lim};
	CHECK(archive_list_mem(b.data, b.len, false, &o, NULL, err, sizeof(err)) == ARCHIVE_OK,
	      "archive: exactly at the limits is accepted (%s)", err);
	buf_free(&b);
}

static void test_truncation_and_trailing(void)
{
	struct buf b, xz;
	ar_begin(&b);
	ar_dir(&b, "d", 0755);
	ar_file(&b, "d/f", 0644, "content of a file");
	ar_link(&b, "d/l", "f");
	ar_file(&b, "g", 0644, "");
	ar_end(&b);
	char err[256];
	struct archive_read_opts o = opts_default();
	int all = 1;
	for (size_t n = 0; n < b.len; n++) {
		enum archive_result r = archive_list_mem(b.data, n, false, &o, NULL, err,
							 sizeof(err));
		all = all && r == ARCHIVE_E_CORRUPT;
	}
	CHECK(all, "archive: truncated at every offset, a plain archive is refused as corrupt");
	char *parent = th_mkdtemp("trunc"), *dest;
	if (asprintf(&dest, "%s/dest", parent) < 0)
		abort();
	all = 1;
	for (size_t n = 0; n < b.len; n++) {
		struct buf cut = b;
		cut.len = n;
		all = all && unpack_mem(&cut, 0, dest, &o, NULL, err, sizeof(err)) ==
				     ARCHIVE_E_CORRUPT &&
		      th_count(parent) == 0;
	}
	CHECK(all, "archive: unpacking any truncation leaves nothing behind");
	buf_init(&xz);
	th_xz(b.data, b.len, &xz);
	all = 1;
	for (size_t n = 0; n < xz.len; n++) {
		struct buf cut = xz;
		cut.len = n;
		all = all && unpack_mem(&cut, 1, dest, &o, NULL, err, sizeof(err)) ==
				     ARCHIVE_E_CORRUPT &&
		      th_count(parent) == 0;
	}
	CHECK(all, "archive: truncated at every offset, an xz stream is refused (%s)", err);

	buf_putc(&b, 0);
	check_hostile("a byte after the end marker", &b, ARCHIVE_E_CORRUPT, "trailing data",
		      NULL);
	b.len--;
	buf_append(&xz, "garbage", 7);
	enum archive_result r = archive_list_mem(xz.data, xz.len, true, &o, NULL, err,
						 sizeof(err));
	CHECK(r == ARCHIVE_E_CORRUPT && strstr(err, "trailing bytes"),
	      "archive: bytes after the xz stream are refused (%s)", err);
	struct buf two;
	buf_init(&two);
	th_xz(b.data, b.len, &two);
	size_t one = two.len;
	buf_append(&two, two.data, one);
	r = archive_list_mem(two.data, two.len, true, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_CORRUPT, "archive: a second xz stream is refused (%s)", err);
	two.len = one;
	two.data[one / 2] ^= 0x55;
	r = archive_list_mem(two.data, two.len, true, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_CORRUPT || r == ARCHIVE_E_HOSTILE,
	      "archive: a corrupted xz stream is refused (%s)", err);
	buf_free(&two);
	buf_free(&xz);
	buf_free(&b);
	th_rm(parent);
	free(parent);
	free(dest);
}

// A valid xz stream whose block header asks for a 4 GiB dictionary: refused by the
// decoder's memory limit before it allocates.
static void test_xz_memlimit(void)
{
	struct buf b, xz;
	ar_begin(&b);
	ar_end(&b);
	buf_init(&xz);
	th_xz(b.data, b.len, &xz);
	// The stream header is 12 bytes; then the block header: its size byte ((n + 1) * 4
	// bytes), flags, optional sizes, then the LZMA2 filter (id 0x21, 1 property byte: the
	// dictionary size), padding, and a CRC32 of it all.
	unsigned char *h = (unsigned char *)xz.data + 12;
	size_t hsize = xz.len > 16 ? ((size_t)h[0] + 1) * 4 : 0;
	int layout = 0;
	for (size_t i = 2; hsize && i + 2 < hsize - 4; i++) {
		if (h[i] == 0x21 && h[i + 1] == 0x01) {
			h[i + 2] = 40;   // the largest dictionary LZMA2 can name (4 GiB - 1)
			uint32_t crc = lzma_crc32(h, hsize - 4, 0);
			for (int k = 0; k < 4; k++)
				h[hsize - 4 + k] = (unsigned char)(crc >> (8 * k));
			layout = 1;
			break;
		}
	}
	char err[256] = "";
	struct archive_read_opts o = opts_default();
	enum archive_result r = archive_list_mem(xz.data, xz.len, true, &o, NULL, err, sizeof(err));
	CHECK(layout && r == ARCHIVE_E_LIMIT && strstr(err, "64 MiB"),
	      "xz: a stream needing more than the memory limit is refused (%s)", err);
	buf_free(&xz);
	buf_free(&b);
}

static int refuse(void *ctx, char *err, size_t errsz)
{
	(void)ctx;
	snprintf(err, errsz, "no thanks");
	return -1;
}

static void test_precommit(void)
{
	struct buf b;
	ar_begin(&b);
	ar_dir(&b, "d", 0555);
	ar_file(&b, "d/f", 0444, "x");
	ar_end(&b);
	char *parent = th_mkdtemp("precommit"), *dest, err[256];
	if (asprintf(&dest, "%s/dest", parent) < 0)
		abort();
	struct archive_read_opts o = opts_default();
	o.precommit = refuse;
	enum archive_result r = unpack_mem(&b, 0, dest, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_E_REFUSED && strcmp(err, "no thanks") == 0 && th_count(parent) == 0,
	      "archive: a precommit refusal leaves nothing behind");
	o.precommit = NULL;
	o.sync = true;
	r = unpack_mem(&b, 0, dest, &o, NULL, err, sizeof(err));
	CHECK(r == ARCHIVE_OK && th_count(parent) == 1, "archive: with sync, unpack works");
	th_rm(parent);
	free(parent);
	free(dest);
	buf_free(&b);
}

int main(void)
{
	scratch = th_mkdtemp("archive");
	test_paths();
	test_targets();
	test_round_trip();
	test_extras_and_captures();
	test_writer_refuses();
	test_hostile();
	test_limits();
	test_truncation_and_trailing();
	test_xz_memlimit();
	test_precommit();
	th_rm(scratch);
	free(scratch);
	return test_done();
}
