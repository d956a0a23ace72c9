// SPDX-License-Identifier: MIT
// Unit tests for spk.c and base32.c: app id encoding, key files, pack -> verify -> unpack
// round trips, byte-identical packing, tampering and truncation, hostile archives signed by
// a second, independent writer of docs/SPK.md, manifest and bridge checks, and install.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base32.h"
#include "spk.h"
#include "spk_helpers.h"
#include "test.h"
#include "util.h"

static char *scratch;
static char *bridge;   // a stand-in silo-bridge binary
static unsigned char sk[SPK_SECKEY_BYTES];
static char app_id[SPK_APP_ID_LEN + 1];

static const char manifest_json[] =
	"{\"title\": \"Notes\", \"version\": 3, \"marketing_version\": \"1.2\", \"http_port\": 8000,"
	" \"actions\": [{\"title\": \"New notebook\", \"command\": [\"/bin/notes\"]}],"
	" \"continue_command\": [\"/bin/notes\"], \"icon\": \"/share/icon.svg\"}";

static char *path_in(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static void test_base32(void)
{
	unsigned char key[32], back[32];
	char out[BASE32_KEY_LEN + 1];
	memset(key, 0, sizeof(key));
	base32_encode_key(key, out);
	CHECK(strcmp(out, "0000000000000000000000000000000000000000000000000000") == 0,
	      "base32: the zero key is 52 zeros");
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	base32_encode_key(key, out);
	CHECK(strcmp(out, "000h40s40n30f209185hs38f1w8124hm2hajd5ss34e1q70x3sgh") == 0,
	      "base32: bytes 0..31 encode most significant bit first (%s)", out);
	CHECK(base32_decode_key(out, back) == 0 && memcmp(back, key, 32) == 0,
	      "base32: decodes back");
	memset(key, 0xff, sizeof(key));
	base32_encode_key(key, out);
	CHECK(strcmp(out, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzh") == 0,
	      "base32: the all-ones key ends in 'h' (four zero padding bits)");
	char bad[BASE32_KEY_LEN + 2];
	memcpy(bad, out, sizeof(out));
	bad[51] = 'z';
	CHECK(base32_decode_key(bad, back) < 0, "base32: nonzero padding bits are refused");
	memcpy(bad, out, sizeof(out));
	bad[0] = 'Z';
	CHECK(base32_decode_key(bad, back) < 0, "base32: uppercase is refused (one spelling)");
	static const char not_in[] = "bilo!B";
	int all = 1;
	for (const char *c = not_in; *c; c++) {
		memcpy(bad, out, sizeof(out));
		bad[10] = *c;
		all = all && base32_decode_key(bad, back) < 0;
	}
	CHECK(all, "base32: b, i, l, o are not in the alphabet");
	CHECK(base32_decode_key("000", back) < 0, "base32: a short string is refused");
	memcpy(bad, out, sizeof(out));
	strcat(bad, "0");
	CHECK(base32_decode_key(bad, back) < 0, "base32: a long string is refused");
	base32_encode("f", 1, out);
	CHECK(strcmp(out, "ds") == 0 && base32_encoded_len(5) == 8,
	      "base32: other lengths (\"f\" -> %s)", out);
}

static void test_keys(void)
{
	char *kf = path_in(scratch, "key"), id2[SPK_APP_ID_LEN + 1], err[256] = "";
	unsigned char sk2[SPK_SECKEY_BYTES];
	enum spk_result r = spk_keygen(kf, app_id, err, sizeof(err));
	struct stat sb;
	CHECK(r == SPK_OK && stat(kf, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "spk: keygen writes a mode 0600 key file (%s)", err);
	CHECK(strlen(app_id) == 52, "spk: keygen gives a 52-character app id (%s)", app_id);
	r = spk_keygen(kf, id2, err, sizeof(err));
	CHECK(r == SPK_E_EXISTS && strstr(err, "already exists"),
	      "spk: keygen refuses to overwrite a key (%s)", err);
	err[0] = '\0';
	r = spk_key_load(kf, sk, id2, err, sizeof(err));
	CHECK(r == SPK_OK && strcmp(id2, app_id) == 0, "spk: the key file loads (%s)", err);
	unsigned char pk[32], back[32];
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	CHECK(base32_decode_key(app_id, back) == 0 && memcmp(back, pk, 32) == 0,
	      "spk: the app id is base32 of the public key");

	struct buf text;
	buf_init(&text);
	th_read(kf, &text);
	static const struct {
		const char *from, *to, *want;
	} edits[] = {
		{"public-key: ", "public-key: 00", "public-key is not 64 hex"},
		{"secret-key: ", "secret-key: zz", "secret-key is not 64 hex"},
		{"app-id: ", "app-id: 1", "app-id does not match"},
		{"secret-key", "secret_key", "unexpected"},
	};
	for (size_t i = 0; i < ARRAY_LEN(edits); i++) {
		char *copy = strndup(text.data, text.len), *at = strstr(copy, edits[i].from), *e;
		if (!at || asprintf(&e, "%.*s%s%s", (int)(at - copy), copy, edits[i].to,
				    at + strlen(edits[i].from)) < 0)
			abort();
		// Keep the line lengths honest: the hex lines get too long or too short.
		char *bad = path_in(scratch, "badkey");
		th_write(bad, e, strlen(e), 0600);
		r = spk_key_load(bad, sk2, id2, err, sizeof(err));
		CHECK(r == SPK_E_FORMAT && strstr(err, edits[i].want),
		      "spk: a damaged key file is refused (%s)", err);
		unlink(bad);
		free(bad);
		free(e);
		free(copy);
	}
	// Another key's public half with this secret half.
	char *other = path_in(scratch, "other-key"), *mixed = path_in(scratch, "mixed-key");
	struct buf ot;
	buf_init(&ot);
	spk_keygen(other, id2, err, sizeof(err));
	th_read(other, &ot);
	char *pk_line = strstr(ot.data, "public-key: "), *my_pk = strstr(text.data, "public-key: ");
	char *m = strndup(text.data, text.len);
	memcpy(m + (my_pk - text.data), pk_line, 12 + 64);
	char *id_line = strstr(m, "app-id: ");
	memcpy(id_line + 8, id2, 52);
	th_write(mixed, m, strlen(m), 0600);
	r = spk_key_load(mixed, sk2, id2, err, sizeof(err));
	CHECK(r == SPK_E_FORMAT && strstr(err, "does not belong"),
	      "spk: a public key that is not the secret key's is refused (%s)", err);
	r = spk_key_load("/nonexistent/key", sk2, id2, err, sizeof(err));
	CHECK(r == SPK_E_IO, "spk: a missing key file is an I/O error (%s)", err);
	free(m);
	buf_free(&ot);
	buf_free(&text);
	free(other);
	free(mixed);
	free(kf);
}

static char *make_app_tree(const char *name)
{
	char *t = path_in(scratch, name), p[512];
	int rc = th_mkdir(t, 0755);
#define P(x) (snprintf(p, sizeof(p), "%s/%s", t, x), p)
	rc |= th_write(P("silo-manifest.json"), manifest_json, strlen(manifest_json), 0644);
	rc |= th_mkdir(P("bin"), 0755);
	rc |= th_write(P("bin/notes"), "#!/bin/sh\necho notes\n", 22, 0755);
	rc |= th_mkdir(P("share"), 0755);
	rc |= th_write(P("share/icon.svg"), "<svg/>", 6, 0644);
	rc |= th_write(P("share/empty"), "", 0, 0600);
	rc |= th_mkdir(P("share/nothing"), 0700);
	rc |= symlink("../bin/notes", P("share/notes-link"));
	rc |= th_mkdir(P("var"), 0755);
#undef P
	if (rc)
		abort();
	return t;
}

static enum spk_result pack(const char *tree, const char *out, char *err, size_t errsz)
{
	struct spk_pack_opts o = {.bridge_path = bridge, .limits = ARCHIVE_LIMITS_DEFAULT};
	return spk_sign_and_write(tree, sk, out, &o, err, errsz);
}

static void test_round_trip(void)
{
	char *tree = make_app_tree("app"), *out = path_in(scratch, "app.spk"),
	     *out2 = path_in(scratch, "app2.spk"), *dest = path_in(scratch, "unpacked"),
	     err[512] = "", why[512] = "";
	enum spk_result r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_OK, "spk: packs a tree (%s)", err);
	struct spk_info info;
	r = spk_verify(out, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_OK && strcmp(info.app_id, app_id) == 0, "spk: verifies, with the key's app "
	      "id (%s)", err);
	struct buf file;
	buf_init(&file);
	th_read(out, &file);
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (unsigned char *)file.data, file.len);
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	CHECK(strcmp(info.package_id, hex) == 0 && info.file_bytes == file.len,
	      "spk: the package id is the first 16 bytes of SHA-256 of the file, in hex");
	CHECK(memcmp(file.data, "\x8fSILOSPK\x01", 9) == 0, "spk: the file starts with the magic "
	      "and version 1");
	CHECK(info.manifest && strcmp(info.manifest->title, "Notes") == 0 &&
	      info.manifest->version == 3 && info.entries == 10 &&
	      info.unpacked_bytes == 22 + 6 + strlen(manifest_json) + 19,
	      "spk: info has the manifest, %llu entries and %llu bytes",
	      (unsigned long long)info.entries, (unsigned long long)info.unpacked_bytes);
	spk_info_free(&info);

	r = pack(tree, out2, err, sizeof(err));
	struct buf file2;
	buf_init(&file2);
	th_read(out2, &file2);
	CHECK(r == SPK_OK && file2.len == file.len && memcmp(file.data, file2.data, file.len) == 0,
	      "spk: the same tree and key pack to identical bytes");

	r = spk_unpack(out, dest, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_OK && strcmp(info.package_id, hex) == 0, "spk: unpacks (%s)", err);
	spk_info_free(&info);
	char *bin = path_in(dest, "silo-bridge");
	struct stat sb;
	struct buf b1, b2;
	buf_init(&b1);
	buf_init(&b2);
	th_read(bin, &b1);
	th_read(bridge, &b2);
	CHECK(lstat(bin, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0755 &&
	      b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
	      "spk: the bridge is at /silo-bridge, mode 0755");
	unlink(bin);
	CHECK(th_tree_eq(tree, dest, why, sizeof(why)) == 0,
	      "spk: the rest of the unpacked tree equals the packed one (%s)", why);
	r = spk_unpack(out, dest, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_E_EXISTS, "spk: unpack refuses an existing destination (%s)", err);
	spk_info_free(&info);
	struct archive_limits lim = ARCHIVE_LIMITS_DEFAULT;
	lim.max_entries = 5;
	r = spk_verify(out, &lim, &info, err, sizeof(err));
	CHECK(r == SPK_E_LIMIT && strstr(err, "more than 5 entries"),
	      "spk: verify applies the caller's limits (%s)", err);
	spk_info_free(&info);
	buf_free(&b1);
	buf_free(&b2);
	buf_free(&file);
	buf_free(&file2);
	free(bin);
	free(tree);
	free(out);
	free(out2);
	free(dest);
}

static void test_pack_refuses(void)
{
	char *tree = make_app_tree("bad-app"), *out = path_in(scratch, "bad.spk"), err[512] = "";
	char *p = path_in(tree, "silo-bridge");
	th_write(p, "x", 1, 0755);
	enum spk_result r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_ARCHIVE && strstr(err, "already holds 'silo-bridge'"),
	      "spk: pack refuses a tree that brings its own silo-bridge (%s)", err);
	unlink(p);
	free(p);
	p = path_in(tree, "silo-manifest.json");
	th_write(p, "{\"title\": 1}", 12, 0644);
	r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_MANIFEST && strstr(err, "silo-manifest.json: title must be a string"),
	      "spk: pack checks the manifest with the server's parser (%s)", err);
	unlink(p);
	r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_MANIFEST && strstr(err, "silo-manifest.json"),
	      "spk: pack needs a manifest (%s)", err);
	th_write(p, manifest_json, strlen(manifest_json), 0644);
	char *icon = path_in(tree, "share/icon.svg");
	unlink(icon);
	r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_MANIFEST && strstr(err, "icon 'share/icon.svg' is not a file"),
	      "spk: pack needs the icon in the tree (%s)", err);
	th_write(icon, "<svg/>", 6, 0644);
	char *prog = path_in(tree, "bin/notes");
	unlink(prog);
	r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_MANIFEST && strstr(err, "'/bin/notes' is not in the tree"),
	      "spk: pack needs each command's program in the tree (%s)", err);
	th_write(prog, "x", 1, 0755);
	struct spk_pack_opts o = {.bridge_path = "/nonexistent/bridge",
				  .limits = ARCHIVE_LIMITS_DEFAULT};
	r = spk_sign_and_write(tree, sk, out, &o, err, sizeof(err));
	CHECK(r == SPK_E_IO && strstr(err, "/nonexistent/bridge"),
	      "spk: a missing bridge binary is named (%s)", err);
	CHECK(access(out, F_OK) < 0 && th_count(scratch) > 0,
	      "spk: a failed pack leaves no output file");
	char *inside = path_in(tree, "var/app.spk");
	r = pack(tree, inside, err, sizeof(err));
	CHECK(r == SPK_E_IO && strstr(err, "inside the tree") && access(inside, F_OK) < 0,
	      "spk: pack refuses to write the package into the tree it packs (%s)", err);
	free(inside);
	char *fifo = path_in(tree, "var/pipe");
	mkfifo(fifo, 0600);
	r = pack(tree, out, err, sizeof(err));
	CHECK(r == SPK_E_ARCHIVE && strstr(err, "var/pipe: is a fifo"),
	      "spk: pack refuses a fifo, naming it (%s)", err);
	free(fifo);
	free(prog);
	free(icon);
	free(p);
	free(tree);
	free(out);
}

// Writes data to path.
static void put_file(const char *path, const void *data, size_t n)
{
	if (th_write(path, data, n, 0644) < 0)
		abort();
}

static void test_tamper_and_truncate(void)
{
	char *tree = make_app_tree("tamper-app"), *good = path_in(scratch, "good.spk"),
	     *bad = path_in(scratch, "tampered.spk"), err[512] = "";
	pack(tree, good, err, sizeof(err));
	struct buf f;
	buf_init(&f);
	th_read(good, &f);
	static const struct {
		const char *what;
		size_t off;   // from the start; SIZE_MAX: the last byte
		enum spk_result expect;
		const char *msg;
	} flips[] = {
		{"magic", 1, SPK_E_FORMAT, "not a silo package"},
		{"version", 8, SPK_E_FORMAT, "version"},
		{"public key", 20, SPK_E_SIGNATURE, "bad signature"},
		{"signature", 60, SPK_E_SIGNATURE, "bad signature"},
		{"first archive byte", 105, SPK_E_SIGNATURE, "bad signature"},
		{"middle archive byte", 0, SPK_E_SIGNATURE, "bad signature"},
		{"last byte", SIZE_MAX, SPK_E_SIGNATURE, "bad signature"},
	};
	for (size_t i = 0; i < ARRAY_LEN(flips); i++) {
		size_t off = flips[i].off == SIZE_MAX ? f.len - 1 : flips[i].off ? flips[i].off
										   : f.len / 2;
		f.data[off] ^= 0x01;
		put_file(bad, f.data, f.len);
		f.data[off] ^= 0x01;
		struct spk_info info;
		enum spk_result r = spk_verify(bad, NULL, &info, err, sizeof(err));
		CHECK(r == flips[i].expect && strstr(err, flips[i].msg),
		      "spk: a flipped bit in the %s is refused (%s)", flips[i].what, err);
		spk_info_free(&info);
	}
	buf_putc(&f, 0);
	put_file(bad, f.data, f.len);
	struct spk_info info;
	enum spk_result r = spk_verify(bad, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_E_SIGNATURE, "spk: a byte appended is refused (%s)", err);
	f.len--;

	// Truncated at every few offsets (every byte of the header): refused, nothing left.
	char *parent = th_mkdtemp("spk-trunc"), *dest = path_in(parent, "dest");
	int all = 1, nothing = 1;
	size_t step = f.len / 97 + 1, tried = 0;
	for (size_t n = 0; n < f.len; n += n < 120 ? 1 : step) {
		put_file(bad, f.data, n);
		r = spk_verify(bad, NULL, &info, err, sizeof(err));
		spk_info_free(&info);
		all = all && (r == SPK_E_FORMAT || r == SPK_E_SIGNATURE);
		r = spk_unpack(bad, dest, NULL, &info, err, sizeof(err));
		spk_info_free(&info);
		all = all && r != SPK_OK;
		nothing = nothing && th_count(parent) == 0;
		tried++;
	}
	CHECK(all, "spk: truncated at %zu offsets, the package is refused", tried);
	CHECK(nothing, "spk: no truncation leaves anything next to the destination");
	r = spk_verify(scratch, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_E_FORMAT && strstr(err, "not a regular file"),
	      "spk: a directory is not a package (%s)", err);
	r = spk_verify("/nonexistent.spk", NULL, &info, err, sizeof(err));
	CHECK(r == SPK_E_IO, "spk: a missing file is an I/O error (%s)", err);
	struct spk_header h;
	CHECK(spk_header_parse("\x8fSILOSPK", 8, &h, err, sizeof(err)) == SPK_E_FORMAT &&
	      strstr(err, "truncated"), "spk: a header cut after the magic is truncated");
	th_rm(parent);
	free(parent);
	free(dest);
	buf_free(&f);
	free(tree);
	free(good);
	free(bad);
}

// A package holding the given raw archive, signed by the test's own writer.
static void signed_package(const char *path, const struct buf *raw)
{
	struct buf xz;
	buf_init(&xz);
	if (th_xz(raw->data, raw->len, &xz) < 0 || th_spk_write(path, sk, xz.data, xz.len) < 0)
		abort();
	buf_free(&xz);
}

// The start of a valid archive: bridge and manifest (sorted: "bin" entries may follow).
static void base_entries(struct buf *b, const char *manifest)
{
	ar_begin(b);
	ar_dir(b, "bin", 0755);
	ar_file(b, "bin/notes", 0755, "#!/bin/sh\n");
	ar_file(b, "silo-bridge", 0755, "BRIDGE");
	if (manifest)
		ar_file(b, "silo-manifest.json", 0644, manifest);
}

struct signed_case {
	const char *what;
	enum spk_result expect;
	const char *msg;
	void (*tail)(struct buf *b);   // entries after the manifest, before the end
};

static void t_abs(struct buf *b) { ar_file(b, "/zz", 0644, "x"); }
static void t_dotdot(struct buf *b) { ar_dir(b, "zz", 0755); ar_file(b, "zz/../../x", 0644, "x"); }
static void t_dup(struct buf *b) { ar_file(b, "silo-manifest.json", 0644, "{}"); }
static void t_under_link(struct buf *b)
{
	ar_link(b, "zl", "bin");
	ar_file(b, "zl/evil", 0755, "x");
}
static void t_link_escape(struct buf *b) { ar_link(b, "zl", "../../../etc/shadow"); }
static void t_setuid(struct buf *b) { ar_file(b, "zsu", 04755, "x"); }
static void t_device(struct buf *b) { ar_entry(b, 4, 0644, "zdev", 4); }
static void t_trailing(struct buf *b) { ar_end(b); buf_puts(b, "extra"); }
static void t_many(struct buf *b)
{
	for (int i = 0; i < 30; i++) {
		char name[16];
		snprintf(name, sizeof(name), "z%02d", i);
		ar_file(b, name, 0644, "");
	}
}
static void t_big(struct buf *b)
{
	static char blob[3000];
	memset(blob, 'b', sizeof(blob) - 1);
	ar_file(b, "zbig", 0644, blob);
}

static const struct signed_case signed_cases[] = {
	{"an absolute path", SPK_E_ARCHIVE, "absolute", t_abs},
	{"a '..' path", SPK_E_ARCHIVE, "'..'", t_dotdot},
	{"a duplicate path", SPK_E_ARCHIVE, "duplicate", t_dup},
	{"a file under a symlink", SPK_E_ARCHIVE, "inside 'zl'", t_under_link},
	{"a symlink escaping the tree", SPK_E_ARCHIVE, "outside the package", t_link_escape},
	{"a setuid file", SPK_E_ARCHIVE, "setuid", t_setuid},
	{"an unknown entry type", SPK_E_ARCHIVE, "unknown type 4", t_device},
	{"trailing garbage in the archive", SPK_E_ARCHIVE, "trailing data", t_trailing},
	{"more entries than the limit", SPK_E_LIMIT, "more than 20 entries", t_many},
	{"more bytes than the limit", SPK_E_LIMIT, "more than 2048 bytes", t_big},
};

static const char small_manifest[] =
	"{\"title\": \"T\", \"version\": 1, \"marketing_version\": \"1\", \"http_port\": 80,"
	" \"actions\": [{\"title\": \"New\", \"command\": [\"/bin/notes\"]}],"
	" \"continue_command\": [\"/bin/notes\"]}";

static void check_signed(const char *what, const struct buf *raw, enum spk_result expect,
			 const char *msg)
{
	char *pkg = path_in(scratch, "signed.spk"), *parent = th_mkdtemp("spk-hostile"),
	     *dest = path_in(parent, "dest"), err[512] = "", err2[512] = "";
	struct archive_limits lim = {.max_entries = 20, .max_total_bytes = 2048,
				     .max_file_bytes = 4096};
	signed_package(pkg, raw);
	struct spk_info info;
	enum spk_result r = spk_verify(pkg, &lim, &info, err, sizeof(err));
	spk_info_free(&info);
	enum spk_result r2 = spk_unpack(pkg, dest, &lim, &info, err2, sizeof(err2));
	spk_info_free(&info);
	CHECK(r == expect && r2 == expect && strstr(err, msg) && strstr(err2, msg) &&
	      th_count(parent) == 0,
	      "spk: a signed package with %s is refused by verify and unpack, nothing left (%s)",
	      what, err);
	th_rm(parent);
	free(parent);
	free(dest);
	free(pkg);
}

static void test_signed_hostile(void)
{
	struct buf b;
	base_entries(&b, small_manifest);
	ar_end(&b);
	char *pkg = path_in(scratch, "signed-ok.spk"), err[512] = "";
	signed_package(pkg, &b);
	struct spk_info info;
	enum spk_result r = spk_verify(pkg, NULL, &info, err, sizeof(err));
	CHECK(r == SPK_OK && strcmp(info.app_id, app_id) == 0 && info.entries == 4,
	      "spk: a package from the test's own writer of docs/SPK.md verifies (%s)", err);
	spk_info_free(&info);
	buf_free(&b);

	for (size_t i = 0; i < ARRAY_LEN(signed_cases); i++) {
		base_entries(&b, small_manifest);
		signed_cases[i].tail(&b);
		if (signed_cases[i].tail != t_trailing)
			ar_end(&b);
		check_signed(signed_cases[i].what, &b, signed_cases[i].expect, signed_cases[i].msg);
		buf_free(&b);
	}
	// Truncated inside the (signed) xz stream, and bytes after it.
	base_entries(&b, small_manifest);
	ar_end(&b);
	struct buf xz;
	buf_init(&xz);
	th_xz(b.data, b.len, &xz);
	int all = 1;
	char *parent = th_mkdtemp("spk-xz"), *dest = path_in(parent, "dest");
	for (size_t n = 1; n < xz.len; n += 3) {
		th_spk_write(pkg, sk, xz.data, n);
		r = spk_unpack(pkg, dest, NULL, &info, err, sizeof(err));
		spk_info_free(&info);
		all = all && r == SPK_E_ARCHIVE && th_count(parent) == 0;
	}
	CHECK(all, "spk: a signed but truncated xz stream is refused at every cut (%s)", err);
	buf_append(&xz, "junk", 4);
	th_spk_write(pkg, sk, xz.data, xz.len);
	r = spk_unpack(pkg, dest, NULL, &info, err, sizeof(err));
	spk_info_free(&info);
	CHECK(r == SPK_E_ARCHIVE && strstr(err, "trailing bytes") && th_count(parent) == 0,
	      "spk: signed bytes after the xz stream are refused (%s)", err);
	th_spk_write(pkg, sk, b.data, b.len);
	r = spk_verify(pkg, NULL, &info, err, sizeof(err));
	spk_info_free(&info);
	CHECK(r == SPK_E_ARCHIVE && strstr(err, "not an xz stream"),
	      "spk: an archive that is not xz-compressed is refused (%s)", err);
	buf_free(&xz);
	buf_free(&b);

	// Manifest and bridge problems.
	base_entries(&b, NULL);
	ar_end(&b);
	signed_package(pkg, &b);
	r = spk_unpack(pkg, dest, NULL, &info, err, sizeof(err));
	spk_info_free(&info);
	CHECK(r == SPK_E_MANIFEST && strstr(err, "no silo-manifest.json") && th_count(parent) == 0,
	      "spk: a package without a manifest is refused (%s)", err);
	buf_free(&b);
	base_entries(&b, "{\"title\": \"T\", \"version\": 1}");
	ar_end(&b);
	signed_package(pkg, &b);
	r = spk_unpack(pkg, dest, NULL, &info, err, sizeof(err));
	spk_info_free(&info);
	CHECK(r == SPK_E_MANIFEST && strstr(err, "silo-manifest.json: marketing_version is "
	      "required") && th_count(parent) == 0,
	      "spk: a bad manifest is refused, the field named (%s)", err);
	buf_free(&b);
	ar_begin(&b);
	ar_file(&b, "silo-bridge", 0644, "not executable");
	ar_file(&b, "silo-manifest.json", 0644, small_manifest);
	ar_end(&b);
	signed_package(pkg, &b);
	r = spk_verify(pkg, NULL, &info, err, sizeof(err));
	spk_info_free(&info);
	CHECK(r == SPK_E_ARCHIVE && strstr(err, "silo-bridge"),
	      "spk: a package without an executable bridge is refused (%s)", err);
	buf_free(&b);
	th_rm(parent);
	free(parent);
	free(dest);
	free(pkg);
}

struct accept_ctx {
	int calls;
	int answer;
	char title[64];
};

static int accept_cb(void *ctx, const struct spk_info *info, char *err, size_t errsz)
{
	struct accept_ctx *a = ctx;
	a->calls++;
	snprintf(a->title, sizeof(a->title), "%s", info->manifest ? info->manifest->title : "");
	if (a->answer < 0)
		snprintf(err, errsz, "version %u is not above the installed one",
			 info->manifest->version);
	return a->answer;
}

static void test_install(void)
{
	char *tree = make_app_tree("inst-app"), *pkg = path_in(scratch, "inst.spk"),
	     *apps = path_in(scratch, "apps"), err[512] = "";
	pack(tree, pkg, err, sizeof(err));
	th_mkdir(apps, 0755);
	struct spk_info info;
	struct accept_ctx a = {.answer = -1};
	enum spk_result r = spk_install(pkg, apps, NULL, accept_cb, &a, &info, err, sizeof(err));
	CHECK(r == SPK_E_REFUSED && a.calls == 1 && strcmp(a.title, "Notes") == 0 &&
	      strstr(err, "version 3") && th_count(apps) == 0,
	      "spk: install asks the caller with the manifest, and a refusal leaves nothing (%s)",
	      err);
	spk_info_free(&info);
	a.answer = 0;
	err[0] = '\0';
	r = spk_install(pkg, apps, NULL, accept_cb, &a, &info, err, sizeof(err));
	char *dir = path_in(apps, info.package_id), *mf = path_in(dir, "silo-manifest.json");
	CHECK(r == SPK_OK && a.calls == 2 && access(mf, F_OK) == 0 && th_count(apps) == 1,
	      "spk: install unpacks to APPS/<package id> (%s)", err);
	spk_info_free(&info);
	r = spk_install(pkg, apps, NULL, accept_cb, &a, &info, err, sizeof(err));
	CHECK(r == SPK_E_EXISTS && a.calls == 2 && strlen(info.app_id) == 52 &&
	      !info.manifest && strstr(err, "already installed"),
	      "spk: the same package again is SPK_E_EXISTS, found before unpacking (%s)", err);
	spk_info_free(&info);
	free(dir);
	free(mf);
	free(tree);
	free(pkg);
	free(apps);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	scratch = th_mkdtemp("spk");
	bridge = path_in(scratch, "bridge-bin");
	th_write(bridge, "\x7f" "ELF pretend bridge", 19, 0755);
	test_base32();
	test_keys();
	test_round_trip();
	test_pack_refuses();
	test_tamper_and_truncate();
	test_signed_hostile();
	test_install();
	th_rm(scratch);
	free(scratch);
	free(bridge);
	return test_done();
}
