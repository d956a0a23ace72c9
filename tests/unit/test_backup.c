// SPDX-License-Identifier: MIT
// Unit tests for backup.c (and the entry-by-entry archive writer it uses): metadata to JSON
// and back, what the metadata parser refuses, writer -> reader round trips of a tree,
// reading the metadata alone, hostile files written by hand from docs/BACKUP.md (each
// refused with its reason and nothing left at the destination), and download file names.
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "spk_helpers.h"
#include "test.h"
#include "util.h"

static char *scratch;

static struct backup_meta sample(void)
{
	struct backup_meta m = {.kind = BACKUP_GRAIN, .made = 1700000000, .created = 1690000000,
				.app_version = 7, .action = 1};
	strcpy(m.silo_version, "0.4.0");
	strcpy(m.title, "Shopping \"list\" \xc3\xa9t\xc3\xa9");
	strcpy(m.app_id, "000h40s40n30f209185hs38f1w8124hm2hajd5ss34e1q70x3sgh");
	strcpy(m.app_title, "Notes");
	strcpy(m.package_id, "0123456789abcdef0123456789abcdef");
	return m;
}

static void test_meta_round_trip(void)
{
	struct backup_meta m = sample(), back;
	char err[256] = "";
	char *text = backup_meta_text(&m);
	CHECK(text && backup_meta_parse(text, strlen(text), &back, err, sizeof(err)) == BACKUP_OK,
	      "meta: a grain's metadata parses back (%s)", err);
	CHECK(back.kind == BACKUP_GRAIN && back.made == m.made && back.created == m.created &&
		      back.app_version == 7 && back.action == 1 && !strcmp(back.title, m.title) &&
		      !strcmp(back.app_id, m.app_id) && !strcmp(back.app_title, "Notes") &&
		      !strcmp(back.package_id, m.package_id) && !strcmp(back.silo_version, "0.4.0"),
	      "meta: every field survives the round trip");
	CHECK(text && strstr(text, "\"format\":1") && strstr(text, "\"kind\":\"grain\""),
	      "meta: the JSON carries the format version and the kind");
	free(text);
	struct backup_meta srv = {.kind = BACKUP_SERVER, .made = 5};
	strcpy(srv.silo_version, "0.4.0");
	text = backup_meta_text(&srv);
	CHECK(text && backup_meta_parse(text, strlen(text), &back, err, sizeof(err)) == BACKUP_OK &&
		      back.kind == BACKUP_SERVER && !strstr(text, "title"),
	      "meta: a server's metadata has no grain fields and parses back");
	free(text);
}

static void test_meta_refused(void)
{
	static const char base[] =
		"\"format\":1,\"kind\":\"grain\",\"made\":1,\"silo_version\":\"x\",\"created\":1,"
		"\"app_id\":\"000h40s40n30f209185hs38f1w8124hm2hajd5ss34e1q70x3sgh\","
		"\"app_title\":\"Notes\",\"package_id\":\"0123456789abcdef0123456789abcdef\","
		"\"app_version\":1,\"action\":0";
	static const struct {
		const char *json;   // %s is base
		const char *why;    // in the message
	} cases[] = {
		{"{%s,\"title\":\"t\"}", NULL},
		{"not json %s", "not valid JSON"},
		{"[%s]", "not valid JSON"},
		{"{%s}", "'title'"},
		{"{%s,\"title\":\"\"}", "'title'"},
		{"{%s,\"title\":\"a\\nb\"}", "control character"},
		{"{%s,\"title\":\"a\\u0085b\"}", "control character"},
		{"{%s,\"title\":\"a\\u0000b\"}", "not valid JSON"},
		{"{%s,\"title\":\"t\",\"title\":\"u\"}", "duplicate"},
		{"{%s,\"title\":\"t\",\"format\":2}", "duplicate"},
		{"{\"format\":2,\"kind\":\"grain\"}%.0s", "format 2 is not supported"},
		{"{\"format\":1,\"kind\":\"zip\"}%.0s", "'kind'"},
		{"{\"format\":\"1\",\"kind\":\"grain\"}%.0s", "'format'"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char json[1024], err[256] = "";
		snprintf(json, sizeof(json), cases[i].json, base);
		struct backup_meta m;
		enum backup_result r = backup_meta_parse(json, strlen(json), &m, err, sizeof(err));
		if (!cases[i].why)
			CHECK(r == BACKUP_OK, "meta: case %zu is accepted (%s)", i, err);
		else
			CHECK(r == BACKUP_E_META && strstr(err, cases[i].why),
			      "meta: case %zu is refused saying '%s' (%s)", i, cases[i].why, err);
	}
	static const struct {
		const char *key, *value;
	} fields[] = {
		{"app_id", "\"000H40s40n30f209185hs38f1w8124hm2hajd5ss34e1q70x3sgh\""},
		{"app_id", "\"short\""},
		{"package_id", "\"0123456789ABCDEF0123456789abcdef\""},
		{"app_version", "-1"},
		{"app_version", "4294967296"},
		{"action", "64"},
		{"created", "1.5"},
		{"app_title", "\"%s\""},
	};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		struct backup_meta m = sample();
		char *text = backup_meta_text(&m), json[2048], err[256] = "", key[64], *at, *end;
		snprintf(key, sizeof(key), "\"%s\":", fields[i].key);
		at = text ? strstr(text, key) : NULL;
		if (!at)
			abort();
		at += strlen(key);
		end = at + strcspn(at, ",}");
		if (*at == '"')
			end = strchr(at + 1, '"') + 1;
		char long_title[200];
		memset(long_title, 'x', 150);
		long_title[150] = '\0';
		char value[256];
		snprintf(value, sizeof(value), fields[i].value, long_title);
		snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - text), text, value, end);
		enum backup_result r = backup_meta_parse(json, strlen(json), &m, err, sizeof(err));
		CHECK(r == BACKUP_E_META && strstr(err, fields[i].key),
		      "meta: %s = %.40s is refused, naming the field (%s)", fields[i].key, value, err);
		free(text);
	}
}

// A small tree: a directory, files with their modes, a symlink, an empty directory.
static void make_tree(const char *top)
{
	char p[PATH_MAX];
	th_mkdir(top, 0700);
	snprintf(p, sizeof(p), "%s/notes.json", top);
	th_write(p, "[{\"title\":\"Milk\"}]", 18, 0640);
	snprintf(p, sizeof(p), "%s/sub", top);
	th_mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/sub/empty", top);
	th_mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/sub/run.sh", top);
	th_write(p, "#!/bin/sh\n", 10, 0755);
	snprintf(p, sizeof(p), "%s/latest", top);
	if (symlink("sub/run.sh", p) < 0)
		abort();
}

static enum archive_result fill_tree(struct archive_writer *w, void *ctx)
{
	int fd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum archive_result r = archive_writer_tree(w, "", fd, ctx);
	close(fd);
	return r;
}

static enum backup_result write_mem(const char *tree, struct buf *out, char *err, size_t errsz)
{
	struct backup_meta m = sample();
	struct stream_sink sink;
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	buf_init(out);
	stream_sink_buf(&sink, out);
	return backup_write(&sink, &m, &lim, ARCHIVE_WRITE_SKIP_SPECIAL, fill_tree, (void *)tree,
			    err, errsz);
}

static enum backup_result read_mem(const void *p, size_t n, enum backup_kind want,
				   const char *dest, struct backup_meta *m, char *err,
				   size_t errsz)
{
	struct stream_mem sm;
	struct stream_src src;
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	stream_src_mem(&src, &sm, p, n);
	return backup_read(&src, want, dest, &lim, m, NULL, err, errsz);
}

static void test_round_trip(void)
{
	char tree[256], dest[256], fifo[600], err[512] = "", why[512] = "";
	snprintf(tree, sizeof(tree), "%s/tree", scratch);
	snprintf(dest, sizeof(dest), "%s/out", scratch);
	make_tree(tree);
	struct buf b;
	CHECK(write_mem(tree, &b, err, sizeof(err)) == BACKUP_OK, "write: a tree is backed up (%s)",
	      err);
	CHECK(b.len > BACKUP_HEADER_LEN && memcmp(b.data, "\x8fSILOBAK\x01", 9) == 0 &&
		      memcmp(b.data + 9, "\xfd" "7zXZ", 6) == 0,
	      "write: magic, version 1, then an xz stream");
	struct backup_meta m;
	CHECK(read_mem(b.data, b.len, BACKUP_GRAIN, NULL, &m, err, sizeof(err)) == BACKUP_OK &&
		      !strcmp(m.app_title, "Notes"),
	      "read: the backup lists clean and its metadata reads back (%s)", err);
	CHECK(read_mem(b.data, b.len, BACKUP_GRAIN, dest, &m, err, sizeof(err)) == BACKUP_OK &&
		      th_tree_eq(tree, dest, why, sizeof(why)) == 0,
	      "read: it unpacks to the same tree: names, modes, contents, symlinks (%s%s)", err,
	      why);
	th_rm(dest);
	CHECK(read_mem(b.data, b.len, BACKUP_SERVER, dest, &m, err, sizeof(err)) == BACKUP_E_KIND &&
		      strstr(err, "grain backup") && access(dest, F_OK) < 0,
	      "read: a grain backup where a server one is wanted is refused, nothing unpacked");
	struct stream_mem sm;
	struct stream_src src;
	// Without the end of the xz stream: the metadata reads, the whole file does not.
	stream_src_mem(&src, &sm, b.data, b.len - 40);
	CHECK(backup_read_meta(&src, &m, err, sizeof(err)) == BACKUP_OK &&
		      read_mem(b.data, b.len - 40, 0, NULL, &m, err, sizeof(err)) == BACKUP_E_ARCHIVE,
	      "read_meta: reads the metadata alone, of a file whose end is missing (%s)", err);
	// A fifo or socket holds no data: left out rather than failing the backup.
	snprintf(fifo, sizeof(fifo), "%s/app.fifo", tree);
	struct buf b2;
	CHECK(mkfifo(fifo, 0600) == 0 && write_mem(tree, &b2, err, sizeof(err)) == BACKUP_OK &&
		      read_mem(b2.data, b2.len, 0, dest, &m, err, sizeof(err)) == BACKUP_OK &&
		      unlink(fifo) == 0 && th_tree_eq(tree, dest, why, sizeof(why)) == 0,
	      "write: a fifo in the tree is left out (%s%s)", err, why);
	th_rm(dest);
	// An absolute symlink cannot be restored safely: the backup fails, naming it.
	char link[600];
	snprintf(link, sizeof(link), "%s/abs", tree);
	struct buf b3;
	CHECK(symlink("/etc/passwd", link) == 0 &&
		      write_mem(tree, &b3, err, sizeof(err)) == BACKUP_E_ARCHIVE &&
		      strstr(err, "abs") && strstr(err, "absolute"),
	      "write: an absolute symlink fails the backup, naming the file (%s)", err);
	unlink(link);
	buf_free(&b);
	buf_free(&b2);
	buf_free(&b3);
}

// A backup file of raw parts: magic+version, then xz(length, metadata, archive).
static void hand_made(struct buf *out, const char *head, size_t headlen, uint32_t metalen,
		      const char *meta, const struct buf *arch)
{
	struct buf plain, xz;
	buf_init(&plain);
	buf_init(&xz);
	th_be(&plain, metalen, 4);
	buf_puts(&plain, meta);
	if (arch)
		buf_append(&plain, arch->data, arch->len);
	if (th_xz(plain.data, plain.len, &xz) < 0)
		abort();
	buf_init(out);
	buf_append(out, head, headlen);
	buf_append(out, xz.data, xz.len);
	buf_free(&plain);
	buf_free(&xz);
}

static void test_hostile(void)
{
	struct backup_meta sm = sample();
	char *meta = backup_meta_text(&sm), dest[512], err[512];
	snprintf(dest, sizeof(dest), "%s/hostile", scratch);
	uint32_t ml = (uint32_t)strlen(meta);
	struct buf arch;
	ar_begin(&arch);
	ar_file(&arch, "f", 0644, "x");
	ar_end(&arch);
	struct {
		const char *name, *why;
		enum backup_result want;
		struct buf file;
	} cases[] = {
		{"a clean hand-made backup (control)", NULL, BACKUP_OK, {0}},
		{"bad magic", "bad magic", BACKUP_E_FORMAT, {0}},
		{"format version 2", "version 2", BACKUP_E_FORMAT, {0}},
		{"cut in the header", "header", BACKUP_E_FORMAT, {0}},
		{"metadata length 0", "out of range", BACKUP_E_META, {0}},
		{"metadata length over the limit", "out of range", BACKUP_E_META, {0}},
		{"metadata longer than the stream", "truncated", BACKUP_E_FORMAT, {0}},
		{"a '..' entry", "'..'", BACKUP_E_ARCHIVE, {0}},
		{"a setuid file", "setuid", BACKUP_E_ARCHIVE, {0}},
		{"truncated xz", "truncated", BACKUP_E_ARCHIVE, {0}},
		{"bytes after the xz stream", "trailing", BACKUP_E_ARCHIVE, {0}},
	};
	hand_made(&cases[0].file, "\x8fSILOBAK\x01", 9, ml, meta, &arch);
	hand_made(&cases[1].file, "\x8fSILOBAX\x01", 9, ml, meta, &arch);
	hand_made(&cases[2].file, "\x8fSILOBAK\x02", 9, ml, meta, &arch);
	buf_init(&cases[3].file);
	buf_append(&cases[3].file, "\x8fSILOBAK", 8);
	hand_made(&cases[4].file, "\x8fSILOBAK\x01", 9, 0, "", &arch);
	hand_made(&cases[5].file, "\x8fSILOBAK\x01", 9, BACKUP_META_MAX + 1, meta, &arch);
	hand_made(&cases[6].file, "\x8fSILOBAK\x01", 9, 60000, meta, NULL);
	struct buf dots, suid;
	ar_begin(&dots);
	ar_file(&dots, "../f", 0644, "x");
	ar_end(&dots);
	ar_begin(&suid);
	ar_file(&suid, "f", 04755, "x");
	ar_end(&suid);
	hand_made(&cases[7].file, "\x8fSILOBAK\x01", 9, ml, meta, &dots);
	hand_made(&cases[8].file, "\x8fSILOBAK\x01", 9, ml, meta, &suid);
	hand_made(&cases[9].file, "\x8fSILOBAK\x01", 9, ml, meta, &arch);
	cases[9].file.len -= 20;
	hand_made(&cases[10].file, "\x8fSILOBAK\x01", 9, ml, meta, &arch);
	buf_putc(&cases[10].file, 0);
	int before = th_count(scratch);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct backup_meta m;
		err[0] = '\0';
		enum backup_result r = read_mem(cases[i].file.data, cases[i].file.len, BACKUP_GRAIN,
						dest, &m, err, sizeof(err));
		bool left = access(dest, F_OK) == 0;
		if (!cases[i].why)
			CHECK(r == BACKUP_OK && left, "hostile: %s unpacks (%s)", cases[i].name, err);
		else
			CHECK(r == cases[i].want && strstr(err, cases[i].why) && !left &&
				      th_count(scratch) == before,
			      "hostile: %s is refused saying '%s', nothing left (%s: %s)",
			      cases[i].name, cases[i].why, backup_result_str(r), err);
		th_rm(dest);
		buf_free(&cases[i].file);
	}
	buf_free(&arch);
	buf_free(&dots);
	buf_free(&suid);
	free(meta);
}

static enum archive_result fill_disorder(struct archive_writer *w, void *ctx)
{
	(void)ctx;
	enum archive_result r = archive_writer_dir(w, "b", 0755);
	return r ? r : archive_writer_dir(w, "a", 0755);
}

static enum archive_result fill_parts(struct archive_writer *w, void *ctx)
{
	int fd = open(ctx, O_RDONLY | O_CLOEXEC);
	enum archive_result r = archive_writer_dir(w, "apps", 0755);
	if (!r)
		r = archive_writer_dir(w, "apps/x", 0700);
	if (!r)
		r = archive_writer_file(w, "silo.db", fd, 0600, "db");
	close(fd);
	return r;
}

static void test_writer_order(void)
{
	struct backup_meta m = sample();
	struct buf b;
	struct stream_sink sink;
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	char err[512] = "", db[512];
	buf_init(&b);
	stream_sink_buf(&sink, &b);
	CHECK(backup_write(&sink, &m, &lim, 0, fill_disorder, NULL, err, sizeof(err)) ==
			      BACKUP_E_ARCHIVE && strstr(err, "out of order"),
	      "writer: entries added out of order are refused (%s)", err);
	buf_free(&b);
	snprintf(db, sizeof(db), "%s/db", scratch);
	th_write(db, "SQLite", 6, 0644);
	buf_init(&b);
	stream_sink_buf(&sink, &b);
	m.kind = BACKUP_SERVER;
	struct backup_meta back;
	char dest[512];
	snprintf(dest, sizeof(dest), "%s/parts", scratch);
	struct buf content;
	buf_init(&content);
	char dbpath[600];
	snprintf(dbpath, sizeof(dbpath), "%s/silo.db", dest);
	CHECK(backup_write(&sink, &m, &lim, 0, fill_parts, db, err, sizeof(err)) == BACKUP_OK &&
		      read_mem(b.data, b.len, BACKUP_SERVER, dest, &back, err, sizeof(err)) ==
			      BACKUP_OK &&
		      th_read(dbpath, &content) == 0 && content.len == 6 &&
		      memcmp(content.data, "SQLite", 6) == 0,
	      "writer: directories and a file added one by one read back (%s)", err);
	th_rm(dest);
	unlink(db);
	buf_free(&content);
	buf_free(&b);
}

static void test_filename(void)
{
	static const char *const cases[][2] = {
		{"Notes", "Notes.silo-backup"},
		{"My notes: 2024/25", "My_notes_2024_25.silo-backup"},
		{"../../etc/passwd", "etc_passwd.silo-backup"},
		{"\"quoted\"\r\nX-Evil: 1", "quoted_X-Evil_1.silo-backup"},
		{"", "backup.silo-backup"},
		{"\xc3\xa9\xc3\xa9", "backup.silo-backup"},
		{".hidden", "hidden.silo-backup"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char out[96];
		backup_filename(cases[i][0], out, sizeof(out));
		CHECK(strcmp(out, cases[i][1]) == 0, "filename: '%s' (got '%s')", cases[i][1], out);
	}
	char long_title[300], out[96];
	memset(long_title, 'a', 299);
	long_title[299] = '\0';
	backup_filename(long_title, out, sizeof(out));
	CHECK(strlen(out) == 64 + strlen(BACKUP_EXT), "filename: a long title is cut at 64 bytes");
}

int main(void)
{
	scratch = th_mkdtemp("backup");
	test_meta_round_trip();
	test_meta_refused();
	test_round_trip();
	test_hostile();
	test_writer_order();
	test_filename();
	th_rm(scratch);
	free(scratch);
	return test_done();
}
