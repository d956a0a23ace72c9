// SPDX-License-Identifier: MIT
// The .spk package: reading and checking it in two passes over the file (signature first,
// then the archive), writing and signing it, and signing keys.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "spk.h"
#include "xz.h"
#include "util.h"

#define SPK_BUF (64 * 1024)
#define SPK_KEYFILE_MAX 4096

_Static_assert(crypto_sign_PUBLICKEYBYTES == SPK_PUBKEY_BYTES, "key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == SPK_SECKEY_BYTES, "key size");
_Static_assert(crypto_sign_BYTES == SPK_SIG_BYTES, "signature size");
_Static_assert(sizeof(SPK_MAGIC) - 1 == SPK_MAGIC_LEN, "magic size");

const char *spk_result_str(enum spk_result r)
{
	switch (r) {
	case SPK_OK: return "ok";
	case SPK_E_IO: return "input/output error";
	case SPK_E_FORMAT: return "not a silo package";
	case SPK_E_SIGNATURE: return "bad signature";
	case SPK_E_ARCHIVE: return "bad archive";
	case SPK_E_LIMIT: return "over a limit";
	case SPK_E_MANIFEST: return "bad manifest";
	case SPK_E_EXISTS: return "already exists";
	case SPK_E_REFUSED: return "refused";
	}
	return "unknown";
}

__attribute__((format(printf, 4, 5)))
static enum spk_result fail(enum spk_result r, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return r;
}

static enum spk_result spk_sodium(char *err, size_t errsz)
{
	if (sodium_init() < 0)
		return fail(SPK_E_IO, err, errsz, "libsodium failed to initialize");
	return SPK_OK;
}

static ssize_t pread_some(int fd, void *p, size_t n, uint64_t off)
{
	ssize_t k;
	do
		k = pread(fd, p, n, (off_t)off);
	while (k < 0 && errno == EINTR);
	return k;
}

enum spk_result spk_header_parse(const void *p, size_t n, struct spk_header *h, char *err,
				 size_t errsz)
{
	const unsigned char *b = p;
	if (n < SPK_MAGIC_LEN || memcmp(b, SPK_MAGIC, SPK_MAGIC_LEN) != 0)
		return fail(SPK_E_FORMAT, err, errsz, "not a silo package (bad magic)");
	if (n < SPK_MAGIC_LEN + 1)
		return fail(SPK_E_FORMAT, err, errsz, "truncated in the header");
	h->version = b[SPK_MAGIC_LEN];
	if (h->version != SPK_VERSION)
		return fail(SPK_E_FORMAT, err, errsz,
			    "package format version %u is not supported (this reads version %d)",
			    h->version, SPK_VERSION);
	if (n < SPK_HEADER_LEN)
		return fail(SPK_E_FORMAT, err, errsz, "truncated in the header");
	memcpy(h->pubkey, b + SPK_MAGIC_LEN + 1, SPK_PUBKEY_BYTES);
	memcpy(h->sig, b + SPK_SIGNED_HEAD_LEN, SPK_SIG_BYTES);
	return SPK_OK;
}

void spk_info_free(struct spk_info *info)
{
	manifest_free(info->manifest);
	info->manifest = NULL;
}

// --- reading ---

struct spk_reader {
	int fd;
	uint64_t size;
	unsigned char head[SPK_HEADER_LEN];
	struct spk_header h;
	unsigned char file_hash[crypto_hash_sha256_BYTES];
	// The second pass: the archive's bytes, hashed again to prove they did not change.
	uint64_t off;
	crypto_hash_sha256_state rehash;
	struct archive_stats st;
	struct archive_capture caps[2];   // the manifest, the bridge
	struct spk_info *info;
	spk_accept_fn accept;
	void *actx;
	enum spk_result code;   // why precommit refused
};

// The first pass: the header, the whole file's SHA-256 (the package id), and the signature
// over SHA-512(context || signed header || compressed archive). Nothing is decompressed.
static enum spk_result spk_pass1(struct spk_reader *s, char *err, size_t errsz)
{
	struct stat sb;
	if (fstat(s->fd, &sb) < 0)
		return fail(SPK_E_IO, err, errsz, "stat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return fail(SPK_E_FORMAT, err, errsz, "not a regular file");
	s->size = (uint64_t)sb.st_size;
	s->info->file_bytes = s->size;
	ssize_t k = pread_some(s->fd, s->head, sizeof(s->head), 0);
	if (k < 0)
		return fail(SPK_E_IO, err, errsz, "read: %s", strerror(errno));
	enum spk_result r = spk_header_parse(s->head, (size_t)k, &s->h, err, errsz);
	if (r)
		return r;
	if (s->size == SPK_HEADER_LEN)
		return fail(SPK_E_FORMAT, err, errsz, "truncated: no archive after the header");
	if (s->size > SPK_MAX_FILE_BYTES)
		return fail(SPK_E_LIMIT, err, errsz, "larger than %llu bytes",
			    (unsigned long long)SPK_MAX_FILE_BYTES);
	crypto_hash_sha256_state fh;
	crypto_hash_sha512_state sh;
	crypto_hash_sha256_init(&fh);
	crypto_hash_sha512_init(&sh);
	crypto_hash_sha256_update(&fh, s->head, SPK_HEADER_LEN);
	crypto_hash_sha512_update(&sh, (const unsigned char *)SPK_CONTEXT, sizeof(SPK_CONTEXT));
	crypto_hash_sha512_update(&sh, s->head, SPK_SIGNED_HEAD_LEN);
	unsigned char *buf = malloc(SPK_BUF);
	if (!buf)
		return fail(SPK_E_IO, err, errsz, "out of memory");
	for (uint64_t off = SPK_HEADER_LEN; off < s->size;) {
		uint64_t left = s->size - off;
		k = pread_some(s->fd, buf, left < SPK_BUF ? (size_t)left : SPK_BUF, off);
		if (k <= 0) {
			free(buf);
			return fail(SPK_E_IO, err, errsz, "read: %s",
				    k < 0 ? strerror(errno) : "the file shrank while being read");
		}
		crypto_hash_sha256_update(&fh, buf, (size_t)k);
		crypto_hash_sha512_update(&sh, buf, (size_t)k);
		off += (uint64_t)k;
	}
	free(buf);
	unsigned char digest[crypto_hash_sha512_BYTES];
	crypto_hash_sha256_final(&fh, s->file_hash);
	crypto_hash_sha512_final(&sh, digest);
	memcpy(s->info->pubkey, s->h.pubkey, SPK_PUBKEY_BYTES);
	base32_encode_key(s->h.pubkey, s->info->app_id);
	sodium_bin2hex(s->info->package_id, sizeof(s->info->package_id), s->file_hash,
		       SPK_PACKAGE_ID_LEN / 2);
	if (crypto_sign_verify_detached(s->h.sig, digest, sizeof(digest), s->h.pubkey) != 0)
		return fail(SPK_E_SIGNATURE, err, errsz,
			    "bad signature (the file is damaged, or was not signed by the key it "
			    "names)");
	return SPK_OK;
}

// The second pass's source: the compressed archive, read again and hashed again.
static ssize_t spk_src_read(void *ctx, void *p, size_t n, char *err, size_t errsz)
{
	struct spk_reader *s = ctx;
	uint64_t left = s->size - s->off;
	if (n > left)
		n = (size_t)left;
	if (n == 0)
		return 0;
	ssize_t k = pread_some(s->fd, p, n, s->off);
	if (k <= 0) {
		snprintf(err, errsz, "read: %s",
			 k < 0 ? strerror(errno) : "the file shrank while being read");
		return STREAM_EIO;
	}
	crypto_hash_sha256_update(&s->rehash, p, (size_t)k);
	s->off += (uint64_t)k;
	return k;
}

// After the archive: the bytes read were the bytes verified, the manifest parses, the
// bridge is there, and the caller accepts. Sets s->code when it refuses.
static int spk_finish(void *ctx, char *err, size_t errsz)
{
	struct spk_reader *s = ctx;
	unsigned char h[crypto_hash_sha256_BYTES], extra;
	crypto_hash_sha256_final(&s->rehash, h);
	if (s->off != s->size || pread_some(s->fd, &extra, 1, s->size) != 0 ||
	    sodium_memcmp(h, s->file_hash, sizeof(h)) != 0) {
		s->code = fail(SPK_E_IO, err, errsz, "the file changed while being read");
		return -1;
	}
	struct archive_capture *m = &s->caps[0], *b = &s->caps[1];
	s->code = SPK_E_MANIFEST;
	if (!m->found || m->type != ARCHIVE_FILE)
		return fail(0, err, errsz, "the package has no %s file", MANIFEST_PATH), -1;
	if (m->too_big)
		return fail(0, err, errsz, "%s is larger than %d bytes", MANIFEST_PATH,
			    MANIFEST_MAX_BYTES), -1;
	char merr[256];
	enum manifest_result mr = manifest_parse(m->data.data ? m->data.data : "", m->data.len,
						 &s->info->manifest, merr, sizeof(merr));
	if (mr != MANIFEST_OK) {
		s->code = mr == MANIFEST_E_NOMEM ? SPK_E_IO : SPK_E_MANIFEST;
		return fail(0, err, errsz, "%s: %s", MANIFEST_PATH, merr), -1;
	}
	if (!b->found || b->type != ARCHIVE_FILE || (b->mode & 0111) == 0) {
		s->code = SPK_E_ARCHIVE;
		return fail(0, err, errsz, "the package has no executable /%s (spk pack adds it)",
			    SPK_BRIDGE_NAME), -1;
	}
	s->info->entries = s->st.entries;
	s->info->unpacked_bytes = s->st.bytes;
	s->code = SPK_E_REFUSED;
	if (s->accept && s->accept(s->actx, s->info, err, errsz) < 0)
		return -1;
	s->code = SPK_OK;
	return 0;
}

static enum spk_result spk_from_archive(enum archive_result r, enum spk_result code)
{
	switch (r) {
	case ARCHIVE_OK: return SPK_OK;
	case ARCHIVE_E_IO: return SPK_E_IO;
	case ARCHIVE_E_LIMIT: return SPK_E_LIMIT;
	case ARCHIVE_E_EXISTS: return SPK_E_EXISTS;
	case ARCHIVE_E_REFUSED: return code;
	case ARCHIVE_E_CORRUPT:
	case ARCHIVE_E_HOSTILE: break;
	}
	return SPK_E_ARCHIVE;
}

// The second pass: the archive through the decompressor, listed (dest NULL) or unpacked.
static enum spk_result spk_pass2(struct spk_reader *s, const char *dest,
				 const struct archive_limits *lim, char *err, size_t errsz)
{
	s->off = SPK_HEADER_LEN;
	crypto_hash_sha256_init(&s->rehash);
	crypto_hash_sha256_update(&s->rehash, s->head, SPK_HEADER_LEN);
	struct stream_src raw = {.read = spk_src_read, .ctx = s};
	struct xz_dec *z = xz_dec_new(&raw, XZ_MEMLIMIT, err, errsz);
	if (!z)
		return SPK_E_IO;
	struct stream_src src = xz_dec_src(z);
	s->caps[0] = (struct archive_capture){.path = MANIFEST_PATH, .max = MANIFEST_MAX_BYTES};
	s->caps[1] = (struct archive_capture){.path = SPK_BRIDGE_NAME, .max = 0};
	struct archive_read_opts o = {
		.limits = lim ? *lim : ARCHIVE_LIMITS_DEFAULT,
		.captures = s->caps,
		.ncaptures = 2,
		.sync = true,
		.precommit = spk_finish,
		.ctx = s,
	};
	enum archive_result ar;
	if (dest) {
		ar = archive_unpack(&src, dest, &o, &s->st, err, errsz);
	} else {
		ar = archive_list(&src, &o, &s->st, err, errsz);
		if (!ar && spk_finish(s, err, errsz) < 0)
			ar = ARCHIVE_E_REFUSED;
	}
	xz_dec_free(z);
	buf_free(&s->caps[0].data);
	buf_free(&s->caps[1].data);
	return spk_from_archive(ar, s->code);
}

// Verifies (dest NULL), unpacks to dest, or installs under apps_dir.
static enum spk_result spk_read(int fd, const char *dest, const char *apps_dir,
				const struct archive_limits *lim, spk_accept_fn accept, void *ctx,
				struct spk_info *info, char *err, size_t errsz)
{
	*info = (struct spk_info){0};
	enum spk_result r = spk_sodium(err, errsz);
	if (r)
		return r;
	struct spk_reader *s = calloc(1, sizeof(*s));
	if (!s)
		return fail(SPK_E_IO, err, errsz, "out of memory");
	*s = (struct spk_reader){.fd = fd, .info = info, .accept = accept, .actx = ctx};
	char *path = NULL;
	r = spk_pass1(s, err, errsz);
	if (!r && apps_dir) {
		struct stat sb;
		if (asprintf(&path, "%s/%s", apps_dir, info->package_id) < 0) {
			path = NULL;
			r = fail(SPK_E_IO, err, errsz, "out of memory");
		} else if (lstat(path, &sb) == 0) {
			r = fail(SPK_E_EXISTS, err, errsz, "package %s is already installed",
				 info->package_id);
		}
		dest = path;
	}
	if (!r)
		r = spk_pass2(s, dest, lim, err, errsz);
	free(path);
	free(s);
	return r;
}

static enum spk_result spk_open_read(const char *file, const char *dest, const char *apps_dir,
				     const struct archive_limits *lim, spk_accept_fn accept,
				     void *ctx, struct spk_info *info, char *err, size_t errsz)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*info = (struct spk_info){0};
		return fail(SPK_E_IO, err, errsz, "%s", strerror(errno));
	}
	enum spk_result r = spk_read(fd, dest, apps_dir, lim, accept, ctx, info, err, errsz);
	close(fd);
	return r;
}

enum spk_result spk_verify_fd(int fd, const struct archive_limits *lim, struct spk_info *info,
			      char *err, size_t errsz)
{
	return spk_read(fd, NULL, NULL, lim, NULL, NULL, info, err, errsz);
}

enum spk_result spk_verify(const char *path, const struct archive_limits *lim,
			   struct spk_info *info, char *err, size_t errsz)
{
	return spk_open_read(path, NULL, NULL, lim, NULL, NULL, info, err, errsz);
}

enum spk_result spk_unpack(const char *path, const char *dest, const struct archive_limits *lim,
			   struct spk_info *info, char *err, size_t errsz)
{
	return spk_open_read(path, dest, NULL, lim, NULL, NULL, info, err, errsz);
}

enum spk_result spk_install(const char *path, const char *apps_dir,
			    const struct archive_limits *lim, spk_accept_fn accept, void *ctx,
			    struct spk_info *info, char *err, size_t errsz)
{
	return spk_open_read(path, NULL, apps_dir, lim, accept, ctx, info, err, errsz);
}

// --- writing ---

struct spk_writer {
	int fd;
	const char *name;   // the output, for messages
	crypto_hash_sha512_state h;
};

static int spk_sink_write(void *ctx, const void *p, size_t n, char *err, size_t errsz)
{
	struct spk_writer *w = ctx;
	crypto_hash_sha512_update(&w->h, p, n);
	if (util_write_all(w->fd, p, n) < 0) {
		snprintf(err, errsz, "%s: write: %s", w->name, strerror(errno));
		return STREAM_EIO;
	}
	return 0;
}

// Reads and checks tree/silo-manifest.json, and that what it names is in the tree.
static enum spk_result pack_manifest(const char *tree, int treefd, char *err, size_t errsz)
{
	int fd = openat(treefd, MANIFEST_PATH, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(errno == ENOENT ? SPK_E_MANIFEST : SPK_E_IO, err, errsz, "%s/%s: %s",
			    tree, MANIFEST_PATH, strerror(errno));
	struct buf b;
	buf_init(&b);
	enum spk_result r = SPK_OK;
	char chunk[8192];
	ssize_t k;
	while ((k = read(fd, chunk, sizeof(chunk))) > 0 && b.len <= MANIFEST_MAX_BYTES)
		buf_append(&b, chunk, (size_t)k);
	if (k < 0 || b.oom)
		r = fail(SPK_E_IO, err, errsz, "%s/%s: %s", tree, MANIFEST_PATH,
			 k < 0 ? strerror(errno) : "out of memory");
	close(fd);
	struct manifest *m = NULL;
	char merr[256];
	if (!r && manifest_parse(b.data ? b.data : "", b.len, &m, merr, sizeof(merr)))
		r = fail(SPK_E_MANIFEST, err, errsz, "%s/%s: %s", tree, MANIFEST_PATH, merr);
	buf_free(&b);
	struct stat sb;
	if (!r && m->icon &&
	    (fstatat(treefd, m->icon, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode)))
		r = fail(SPK_E_MANIFEST, err, errsz, "%s/%s: icon '%s' is not a file in the tree",
			 tree, MANIFEST_PATH, m->icon);
	for (size_t i = 0; !r && i <= m->nactions; i++) {
		const char *prog = i < m->nactions ? m->actions[i].cmd.argv[0]
						   : m->continue_cmd.argv[0];
		if (fstatat(treefd, prog + 1, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			r = fail(SPK_E_MANIFEST, err, errsz, "%s/%s: %s: '%s' is not in the tree",
				 tree, MANIFEST_PATH,
				 i < m->nactions ? "an action's command" : "continue_command", prog);
	}
	manifest_free(m);
	return r;
}

// Writes the package into fd (a fresh file): header, archive, then the signature in place.
static enum spk_result pack_write(int fd, const char *out, const char *tree,
				  const unsigned char *sk, const struct spk_pack_opts *opts,
				  char *err, size_t errsz)
{
	unsigned char head[SPK_HEADER_LEN] = {0};
	memcpy(head, SPK_MAGIC, SPK_MAGIC_LEN);
	head[SPK_MAGIC_LEN] = SPK_VERSION;
	crypto_sign_ed25519_sk_to_pk(head + SPK_MAGIC_LEN + 1, sk);
	struct spk_writer w = {.fd = fd, .name = out};
	crypto_hash_sha512_init(&w.h);
	crypto_hash_sha512_update(&w.h, (const unsigned char *)SPK_CONTEXT, sizeof(SPK_CONTEXT));
	crypto_hash_sha512_update(&w.h, head, SPK_SIGNED_HEAD_LEN);
	if (util_write_all(fd, head, sizeof(head)) < 0)
		return fail(SPK_E_IO, err, errsz, "%s: write: %s", out, strerror(errno));
	struct stream_sink file = {.write = spk_sink_write, .ctx = &w};
	struct xz_enc *z = xz_enc_new(&file, err, errsz);
	if (!z)
		return SPK_E_IO;
	struct stream_sink plain = xz_enc_sink(z);
	struct archive_extra bridge = {.name = SPK_BRIDGE_NAME, .src_path = opts->bridge_path,
				       .mode = 0755};
	enum archive_result ar = archive_write_dir(tree, &bridge, 1, &opts->limits, &plain, NULL,
						   err, errsz);
	if (!ar && xz_enc_finish(z, err, errsz) < 0)
		ar = ARCHIVE_E_IO;
	xz_enc_free(z);
	if (ar)
		return ar == ARCHIVE_E_LIMIT ? SPK_E_LIMIT
		       : ar == ARCHIVE_E_IO  ? SPK_E_IO
					     : SPK_E_ARCHIVE;
	unsigned char digest[crypto_hash_sha512_BYTES];
	crypto_hash_sha512_final(&w.h, digest);
	crypto_sign_detached(head + SPK_SIGNED_HEAD_LEN, NULL, digest, sizeof(digest), sk);
	if (pwrite(fd, head + SPK_SIGNED_HEAD_LEN, SPK_SIG_BYTES, SPK_SIGNED_HEAD_LEN) !=
		    SPK_SIG_BYTES ||
	    fsync(fd) < 0)
		return fail(SPK_E_IO, err, errsz, "%s: write: %s", out, strerror(errno));
	return SPK_OK;
}

// Refuses an output inside the tree: the walk would pack the package (and its temporary
// file, while it grows) into itself.
static enum spk_result pack_outside(const char *tree, const char *out, char *err, size_t errsz)
{
	char *copy = strdup(out), *t = realpath(tree, NULL), *o = NULL;
	enum spk_result r = SPK_OK;
	if (!copy || !t || !(o = realpath(dirname(copy), NULL))) {
		r = fail(SPK_E_IO, err, errsz, "%s: %s", !t ? tree : out, strerror(errno));
	} else {
		size_t n = strlen(t);
		if (strncmp(o, t, n) == 0 && (o[n] == '\0' || o[n] == '/' || n == 1))
			r = fail(SPK_E_IO, err, errsz, "%s: the package would be inside the tree it "
				 "packs (%s); write it elsewhere", out, tree);
	}
	free(copy);
	free(t);
	free(o);
	return r;
}

enum spk_result spk_sign_and_write(const char *tree_dir, const unsigned char sk[SPK_SECKEY_BYTES],
				   const char *out_path, const struct spk_pack_opts *opts,
				   char *err, size_t errsz)
{
	enum spk_result r = spk_sodium(err, errsz);
	if (r)
		return r;
	if (!opts->bridge_path)
		return fail(SPK_E_IO, err, errsz, "no silo-bridge binary given");
	int treefd = open(tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (treefd < 0)
		return fail(SPK_E_IO, err, errsz, "%s: %s", tree_dir, strerror(errno));
	r = pack_outside(tree_dir, out_path, err, errsz);
	if (!r)
		r = pack_manifest(tree_dir, treefd, err, errsz);
	close(treefd);
	if (r)
		return r;
	// A temporary file next to the output, renamed over it only when complete.
	char *dir = strdup(out_path), *tmp = NULL;
	if (!dir || asprintf(&tmp, "%s/.spk-XXXXXX", dirname(dir)) < 0) {
		free(dir);
		return fail(SPK_E_IO, err, errsz, "out of memory");
	}
	free(dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = fail(SPK_E_IO, err, errsz, "%s: cannot create a file next to it: %s", out_path,
			 strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0644) < 0)
		r = fail(SPK_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	if (!r)
		r = pack_write(fd, out_path, tree_dir, sk, opts, err, errsz);
	if (close(fd) < 0 && !r)
		r = fail(SPK_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	if (!r && rename(tmp, out_path) < 0)
		r = fail(SPK_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

// --- keys ---

enum spk_result spk_keygen(const char *path, char app_id[SPK_APP_ID_LEN + 1], char *err,
			   size_t errsz)
{
	enum spk_result r = spk_sodium(err, errsz);
	if (r)
		return r;
	unsigned char pk[SPK_PUBKEY_BYTES], sk[SPK_SECKEY_BYTES];
	char pkhex[SPK_PUBKEY_BYTES * 2 + 1], seedhex[crypto_sign_SEEDBYTES * 2 + 1];
	char text[512];
	crypto_sign_keypair(pk, sk);
	base32_encode_key(pk, app_id);
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	sodium_bin2hex(seedhex, sizeof(seedhex), sk, crypto_sign_SEEDBYTES);
	int n = snprintf(text, sizeof(text),
			 "# silo package signing key (spk keygen). Keep it secret: whoever holds "
			 "it can publish\n# packages, and updates, of the app below.\n"
			 "app-id: %s\npublic-key: %s\nsecret-key: %s\n",
			 app_id, pkhex, seedhex);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seedhex, sizeof(seedhex));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = fail(errno == EEXIST ? SPK_E_EXISTS : SPK_E_IO, err, errsz, "%s",
			 errno == EEXIST ? "already exists; refusing to overwrite a key"
					 : strerror(errno));
	} else {
		if (fchmod(fd, 0600) < 0 || util_write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0)
			r = fail(SPK_E_IO, err, errsz, "%s", strerror(errno));
		if (close(fd) < 0 && !r)
			r = fail(SPK_E_IO, err, errsz, "%s", strerror(errno));
		if (r)
			unlink(path);
	}
	sodium_memzero(text, sizeof(text));
	return r;
}

// One "name: hex" line's value into out (exactly n bytes); 0 / -1.
static int key_hex(const char *val, unsigned char *out, size_t n)
{
	size_t len;
	return strlen(val) == n * 2 &&
			       sodium_hex2bin(out, n, val, n * 2, NULL, &len, NULL) == 0 &&
			       len == n
		       ? 0
		       : -1;
}

static enum spk_result key_parse(char *text, unsigned char sk[SPK_SECKEY_BYTES],
				 char app_id[SPK_APP_ID_LEN + 1], char *err, size_t errsz)
{
	unsigned char pk[SPK_PUBKEY_BYTES], pk2[SPK_PUBKEY_BYTES], seed[crypto_sign_SEEDBYTES];
	int have_pk = 0, have_seed = 0;
	const char *id = NULL;
	char *save = NULL;
	unsigned line = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		if (l[0] == '#' || l[0] == '\0')
			continue;
		char *colon = strstr(l, ": ");
		if (!colon)
			return fail(SPK_E_FORMAT, err, errsz, "line %u is not 'name: value'", line);
		*colon = '\0';
		const char *val = colon + 2;
		if (strcmp(l, "app-id") == 0) {
			id = val;
		} else if (strcmp(l, "public-key") == 0 && !have_pk) {
			if (key_hex(val, pk, sizeof(pk)) < 0)
				return fail(SPK_E_FORMAT, err, errsz, "public-key is not 64 hex digits");
			have_pk = 1;
		} else if (strcmp(l, "secret-key") == 0 && !have_seed) {
			if (key_hex(val, seed, sizeof(seed)) < 0)
				return fail(SPK_E_FORMAT, err, errsz, "secret-key is not 64 hex digits");
			have_seed = 1;
		} else {
			return fail(SPK_E_FORMAT, err, errsz, "line %u: unexpected '%.32s'", line, l);
		}
	}
	if (!have_pk || !have_seed)
		return fail(SPK_E_FORMAT, err, errsz, "not a key file from spk keygen (no %s line)",
			    have_pk ? "secret-key" : "public-key");
	crypto_sign_seed_keypair(pk2, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	base32_encode_key(pk, app_id);
	if (sodium_memcmp(pk, pk2, sizeof(pk)) != 0)
		return fail(SPK_E_FORMAT, err, errsz, "public-key does not belong to secret-key");
	if (id && strcmp(id, app_id) != 0)
		return fail(SPK_E_FORMAT, err, errsz, "app-id does not match public-key");
	return SPK_OK;
}

enum spk_result spk_key_load(const char *path, unsigned char sk[SPK_SECKEY_BYTES],
			     char app_id[SPK_APP_ID_LEN + 1], char *err, size_t errsz)
{
	enum spk_result r = spk_sodium(err, errsz);
	if (r)
		return r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(SPK_E_IO, err, errsz, "%s", strerror(errno));
	char text[SPK_KEYFILE_MAX + 1];
	size_t n = 0;
	ssize_t k;
	while (n < sizeof(text) - 1 && (k = read(fd, text + n, sizeof(text) - 1 - n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = fail(SPK_E_IO, err, errsz, "%s", strerror(errno));
			break;
		}
		n += (size_t)k;
	}
	close(fd);
	if (!r && (n == sizeof(text) - 1 || memchr(text, '\0', n)))
		r = fail(SPK_E_FORMAT, err, errsz, "not a key file from spk keygen");
	text[n] = '\0';
	if (!r)
		r = key_parse(text, sk, app_id, err, errsz);
	sodium_memzero(text, sizeof(text));
	if (r)
		sodium_memzero(sk, SPK_SECKEY_BYTES);
	return r;
}
