// SPDX-License-Identifier: MIT
// OS update files: verify (signature first), read the header, sign, keys.
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "osupdate.h"
#include "util.h"

#define CHUNK (256 * 1024)

_Static_assert(crypto_sign_PUBLICKEYBYTES == OSUPDATE_PUBKEY, "key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == OSUPDATE_SECKEY, "key size");
_Static_assert(crypto_sign_BYTES == OSUPDATE_SIG, "signature size");

static enum osupdate_result fail(enum osupdate_result r, char *err, size_t errsz,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum osupdate_result fail(enum osupdate_result r, char *err, size_t errsz,
				 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return r;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

// A NUL-padded field of printable ASCII, at least one character, NUL-terminated inside.
static bool text_field(const unsigned char *p, size_t n, char *out)
{
	size_t len = 0;
	while (len < n && p[len])
		len++;
	if (len == 0 || len == n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	for (size_t i = len; i < n; i++)
		if (p[i])
			return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

static bool size_ok(uint64_t n)
{
	return n >= OSUPDATE_HEAD + OSUPDATE_MIN_PAYLOAD + OSUPDATE_SIG &&
	       n <= OSUPDATE_HEAD + OSUPDATE_MAX_PAYLOAD + OSUPDATE_SIG;
}

enum osupdate_result osupdate_parse_header(const unsigned char head[OSUPDATE_HEAD],
					   uint64_t file_size, struct osupdate_header *h,
					   char *err, size_t errsz)
{
	memset(h, 0, sizeof(*h));
	if (memcmp(head, OSUPDATE_MAGIC, 8) != 0)
		return fail(OSU_E_FORMAT, err, errsz, "not an OS update file (wrong magic)");
	if (util_le32(head + 8) != OSUPDATE_FORMAT)
		return fail(OSU_E_FORMAT, err, errsz, "format %u of OS update files is not known "
			    "here (this silo reads format %d)", util_le32(head + 8), OSUPDATE_FORMAT);
	if (util_le32(head + 12) != OSUPDATE_HEAD)
		return fail(OSU_E_FORMAT, err, errsz, "header length %u, not %d", util_le32(head + 12),
			    OSUPDATE_HEAD);
	h->payload_len = util_le64(head + 16);
	if (h->payload_len < OSUPDATE_MIN_PAYLOAD || h->payload_len > OSUPDATE_MAX_PAYLOAD ||
	    file_size != OSUPDATE_HEAD + h->payload_len + OSUPDATE_SIG)
		return fail(OSU_E_FORMAT, err, errsz, "the header's length does not match the file's");
	if (!text_field(head + 24, 16, h->series) || !text_field(head + 40, 64, h->version))
		return fail(OSU_E_FORMAT, err, errsz, "bad series or version field");
	for (size_t i = 104; i < OSUPDATE_HEAD; i++)
		if (head[i])
			return fail(OSU_E_FORMAT, err, errsz, "reserved header bytes are not zero");
	return OSU_OK;
}

enum osupdate_result osupdate_check_mem(const unsigned char *data, size_t len,
					const unsigned char pk[OSUPDATE_PUBKEY],
					struct osupdate_header *h, char *err, size_t errsz)
{
	memset(h, 0, sizeof(*h));
	if (!size_ok(len))
		return fail(OSU_E_SIZE, err, errsz, "%zu bytes is not the size of an OS update", len);
	crypto_sign_state st;
	crypto_sign_init(&st);
	crypto_sign_update(&st, data, len - OSUPDATE_SIG);
	if (crypto_sign_final_verify(&st, data + len - OSUPDATE_SIG, pk) != 0)
		return fail(OSU_E_SIG, err, errsz, "the signature does not match this server's "
			    "update key: the file was changed, or made for another build");
	return osupdate_parse_header(data, len, h, err, errsz);
}

static ssize_t read_full(int fd, unsigned char *p, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

enum osupdate_result osupdate_copy_verify(int in, int out, const unsigned char pk[OSUPDATE_PUBKEY],
					  struct osupdate_header *h, char *err, size_t errsz)
{
	memset(h, 0, sizeof(*h));
	struct stat sb;
	if (fstat(in, &sb) < 0 || !S_ISREG(sb.st_mode))
		return fail(OSU_E_IO, err, errsz, "the update is not a regular file");
	uint64_t n = (uint64_t)sb.st_size;
	if (!size_ok(n))
		return fail(OSU_E_SIZE, err, errsz, "%llu bytes is not the size of an OS update",
			    (unsigned long long)n);
	static unsigned char buf[CHUNK];
	crypto_sign_state st;
	crypto_sign_init(&st);
	uint64_t off = 0, body = n - OSUPDATE_SIG;
	while (off < body) {
		size_t want = body - off < CHUNK ? (size_t)(body - off) : CHUNK;
		if (read_full(in, buf, want, (off_t)off) != (ssize_t)want)
			return fail(OSU_E_IO, err, errsz, "the update file ended early");
		crypto_sign_update(&st, buf, want);
		if (util_write_all(out, buf, want) < 0)
			return fail(OSU_E_IO, err, errsz, "cannot copy the update: %s", strerror(errno));
		off += want;
	}
	unsigned char sig[OSUPDATE_SIG], head[OSUPDATE_HEAD];
	if (read_full(in, sig, sizeof(sig), (off_t)body) != (ssize_t)sizeof(sig))
		return fail(OSU_E_IO, err, errsz, "the update file ended early");
	if (crypto_sign_final_verify(&st, sig, pk) != 0)
		return fail(OSU_E_SIG, err, errsz, "the signature does not match this server's "
			    "update key: the file was changed, or made for another build");
	// The header as copied (and so as verified), not as the input may read now.
	if (read_full(out, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		return fail(OSU_E_IO, err, errsz, "cannot read the copied update back");
	return osupdate_parse_header(head, n, h, err, errsz);
}

enum osupdate_result osupdate_sign(const char *payload_path, const char *series,
				   const char *version, const unsigned char sk[OSUPDATE_SECKEY],
				   const char *out_path, char *err, size_t errsz)
{
	if (!*series || strlen(series) > OSUPDATE_SERIES_MAX || !*version ||
	    strlen(version) > OSUPDATE_VERSION_MAX || strpbrk(series, " \t\n") ||
	    strpbrk(version, " \t\n"))
		return fail(OSU_E_FORMAT, err, errsz, "series or version empty, too long or spaced");
	int in = open(payload_path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (in < 0 || fstat(in, &sb) < 0) {
		if (in >= 0)
			close(in);
		return fail(OSU_E_IO, err, errsz, "%s: %s", payload_path, strerror(errno));
	}
	uint64_t plen = (uint64_t)sb.st_size;
	if (plen < OSUPDATE_MIN_PAYLOAD || plen > OSUPDATE_MAX_PAYLOAD) {
		close(in);
		return fail(OSU_E_SIZE, err, errsz, "%s: %llu bytes is not an OS slot's size",
			    payload_path, (unsigned long long)plen);
	}
	int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return fail(OSU_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	}
	unsigned char head[OSUPDATE_HEAD] = {0};
	memcpy(head, OSUPDATE_MAGIC, 8);
	put32(head + 8, OSUPDATE_FORMAT);
	put32(head + 12, OSUPDATE_HEAD);
	put64(head + 16, plen);
	memcpy(head + 24, series, strlen(series));
	memcpy(head + 40, version, strlen(version));
	crypto_sign_state st;
	crypto_sign_init(&st);
	crypto_sign_update(&st, head, sizeof(head));
	enum osupdate_result r = OSU_OK;
	if (util_write_all(out, head, sizeof(head)) < 0)
		r = fail(OSU_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	static unsigned char buf[CHUNK];
	for (uint64_t off = 0; r == OSU_OK && off < plen;) {
		size_t want = plen - off < CHUNK ? (size_t)(plen - off) : CHUNK;
		if (read_full(in, buf, want, (off_t)off) != (ssize_t)want)
			r = fail(OSU_E_IO, err, errsz, "%s: short read", payload_path);
		else if (util_write_all(out, buf, want) < 0)
			r = fail(OSU_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
		crypto_sign_update(&st, buf, want);
		off += want;
	}
	unsigned char sig[OSUPDATE_SIG];
	crypto_sign_final_create(&st, sig, NULL, sk);
	if (r == OSU_OK && util_write_all(out, sig, sizeof(sig)) < 0)
		r = fail(OSU_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	close(in);
	if (close(out) < 0 && r == OSU_OK)
		r = fail(OSU_E_IO, err, errsz, "%s: %s", out_path, strerror(errno));
	if (r != OSU_OK)
		unlink(out_path);
	return r;
}

static enum osupdate_result write_line(const char *path, mode_t mode, const char *line,
				       char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return fail(OSU_E_IO, err, errsz, "%s: %s", path, strerror(errno));
	int r = util_write_all(fd, line, strlen(line));
	if (close(fd) < 0 || r < 0)
		return fail(OSU_E_IO, err, errsz, "%s: %s", path, strerror(errno));
	return OSU_OK;
}

enum osupdate_result osupdate_keygen(const char *sec_path, const char *pub_path, char *err,
				     size_t errsz)
{
	unsigned char pk[OSUPDATE_PUBKEY], sk[OSUPDATE_SECKEY];
	crypto_sign_keypair(pk, sk);
	char hex[2 * crypto_sign_SEEDBYTES + 2];
	sodium_bin2hex(hex, sizeof(hex), sk, crypto_sign_SEEDBYTES);
	strcat(hex, "\n");
	enum osupdate_result r = write_line(sec_path, 0600, hex, err, errsz);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	if (r != OSU_OK)
		return r;
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	strcat(hex, "\n");
	return write_line(pub_path, 0644, hex, err, errsz);
}

// One line of exactly 64 hex characters (and a newline) into 32 bytes.
static enum osupdate_result load_hex32(const char *path, unsigned char out[32], char *err,
				       size_t errsz)
{
	char text[80];
	ssize_t n = util_read_small(path, text, sizeof(text));
	if (n < 0)
		return fail(OSU_E_IO, err, errsz, "%s: %s", path, strerror(errno));
	size_t bin = 0;
	if ((n != 64 && !(n == 65 && text[64] == '\n')) ||
	    sodium_hex2bin(out, 32, text, 64, NULL, &bin, NULL) != 0 || bin != 32)
		return fail(OSU_E_FORMAT, err, errsz, "%s: not a key (one line of 64 hex digits)",
			    path);
	return OSU_OK;
}

enum osupdate_result osupdate_load_pub(const char *path, unsigned char pk[OSUPDATE_PUBKEY],
				       char *err, size_t errsz)
{
	return load_hex32(path, pk, err, errsz);
}

enum osupdate_result osupdate_load_sec(const char *path, unsigned char sk[OSUPDATE_SECKEY],
				       char *err, size_t errsz)
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[OSUPDATE_PUBKEY];
	enum osupdate_result r = load_hex32(path, seed, err, errsz);
	if (r == OSU_OK)
		crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return r;
}
