// SPDX-License-Identifier: MIT
// What the archive and package tests share: temporary trees, comparing two trees, and a
// second, independent writer of the formats of docs/SPK.md (raw archive entries, xz through
// liblzma directly, the signed package header), so tests can craft hostile packages.
#pragma once
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>
#include <sodium.h>

#include "archive.h"
#include "buf.h"

// A fresh directory /tmp/silo-test-TAG-XXXXXX (malloc'd path; aborts on failure).
static inline char *th_mkdtemp(const char *tag)
{
	char *p;
	if (asprintf(&p, "/tmp/silo-test-%s-XXXXXX", tag) < 0 || !mkdtemp(p)) {
		perror("th_mkdtemp");
		abort();
	}
	return p;
}

static inline void th_rm(const char *path)
{
	archive_remove_tree(AT_FDCWD, path);
}

// Writes a file with exactly mode (umask ignored). 0 / -1.
static inline int th_write(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = (n && write(fd, data, n) != (ssize_t)n) || fchmod(fd, mode) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

static inline int th_mkdir(const char *path, mode_t mode)
{
	return mkdir(path, 0700) == 0 && chmod(path, mode) == 0 ? 0 : -1;
}

// Reads a whole (small) file into a buf. 0 / -1.
static inline int th_read(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[65536];
	ssize_t k;
	buf_reset(b);
	while ((k = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)k);
	close(fd);
	return k < 0 || b->oom ? -1 : 0;
}

// How many entries dir holds (not . and ..); -1 when it cannot be read.
static inline int th_count(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static inline int th_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// The sorted names in dir (NULL-terminated, malloc'd, each malloc'd).
static inline char **th_names(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	size_t n = 0;
	char **v = calloc(1, sizeof(char *));
	struct dirent *e;
	while (v && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char **m = realloc(v, (n + 2) * sizeof(char *));
		if (!m)
			break;
		v = m;
		v[n++] = strdup(e->d_name);
		v[n] = NULL;
	}
	closedir(d);
	if (v)
		qsort(v, n, sizeof(char *), th_name_cmp);
	return v;
}

static inline void th_names_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

// 0 when trees a and b hold the same names, types, permission bits, contents and symlink
// targets; else -1 with why saying where they differ.
static inline int th_tree_eq(const char *a, const char *b, char *why, size_t whysz)
{
	char **na = th_names(a), **nb = th_names(b);
	int rc = 0;
	if (!na || !nb) {
		snprintf(why, whysz, "cannot list %s or %s", a, b);
		rc = -1;
	}
	for (size_t i = 0; !rc && (na[i] || nb[i]); i++) {
		if (!na[i] || !nb[i] || strcmp(na[i], nb[i]) != 0) {
			snprintf(why, whysz, "%s: names differ (%s vs %s)", a, na[i] ? na[i] : "-",
				 nb[i] ? nb[i] : "-");
			rc = -1;
			break;
		}
		char *pa, *pb;
		if (asprintf(&pa, "%s/%s", a, na[i]) < 0 || asprintf(&pb, "%s/%s", b, nb[i]) < 0)
			abort();
		struct stat sa, sb;
		if (lstat(pa, &sa) < 0 || lstat(pb, &sb) < 0 ||
		    (sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
			snprintf(why, whysz, "%s: types differ", pa);
			rc = -1;
		} else if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
			snprintf(why, whysz, "%s: modes differ (0%o vs 0%o)", pa,
				 (unsigned)(sa.st_mode & 07777), (unsigned)(sb.st_mode & 07777));
			rc = -1;
		} else if (S_ISDIR(sa.st_mode)) {
			rc = th_tree_eq(pa, pb, why, whysz);
		} else if (S_ISLNK(sa.st_mode)) {
			char ta[4096], tb[4096];
			ssize_t la = readlink(pa, ta, sizeof(ta)), lb = readlink(pb, tb, sizeof(tb));
			if (la != lb || la < 0 || memcmp(ta, tb, (size_t)la) != 0) {
				snprintf(why, whysz, "%s: symlink targets differ", pa);
				rc = -1;
			}
		} else {
			struct buf ba, bb;
			buf_init(&ba);
			buf_init(&bb);
			if (th_read(pa, &ba) < 0 || th_read(pb, &bb) < 0 || ba.len != bb.len ||
			    (ba.len && memcmp(ba.data, bb.data, ba.len) != 0)) {
				snprintf(why, whysz, "%s: contents differ", pa);
				rc = -1;
			}
			buf_free(&ba);
			buf_free(&bb);
		}
		free(pa);
		free(pb);
	}
	th_names_free(na);
	th_names_free(nb);
	return rc;
}

// --- raw archives, written by hand from docs/SPK.md ---

static inline void th_be(struct buf *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		buf_putc(b, (char)(v >> (8 * i)));
}

static inline void ar_begin(struct buf *b)
{
	buf_init(b);
	buf_append(b, "SILOARC\x01", 8);
}

// An entry with a path of explicit length (so tests can put NULs in it).
static inline void ar_entry(struct buf *b, unsigned type, unsigned mode, const char *path,
			    size_t plen)
{
	buf_putc(b, (char)type);
	th_be(b, mode, 2);
	th_be(b, plen, 2);
	buf_append(b, path, plen);
}

static inline void ar_dir(struct buf *b, const char *path, unsigned mode)
{
	ar_entry(b, 1, mode, path, strlen(path));
}

static inline void ar_file(struct buf *b, const char *path, unsigned mode, const char *data)
{
	ar_entry(b, 2, mode, path, strlen(path));
	th_be(b, strlen(data), 8);
	buf_puts(b, data);
}

static inline void ar_link(struct buf *b, const char *path, const char *target)
{
	ar_entry(b, 3, 0777, path, strlen(path));
	th_be(b, strlen(target), 2);
	buf_puts(b, target);
}

static inline void ar_end(struct buf *b)
{
	buf_putc(b, 0);
}

// xz-compresses p into out (replacing its contents), as liblzma does it. 0 / -1.
static inline int th_xz(const void *p, size_t n, struct buf *out)
{
	size_t cap = lzma_stream_buffer_bound(n), pos = 0;
	buf_reset(out);
	if (buf_reserve(out, cap) < 0)
		return -1;
	if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, p, n, (uint8_t *)out->data, &pos,
				    cap) != LZMA_OK)
		return -1;
	out->len = pos;
	return 0;
}

// Writes a package file around the given xz bytes, signed with sk, per docs/SPK.md:
// magic, version, public key, Ed25519(SHA-512("silo-spk-v1\0" || those 41 bytes || xz)).
static inline int th_spk_write(const char *path, const unsigned char sk[64], const void *xz,
			       size_t n)
{
	unsigned char head[105], digest[64];
	memcpy(head, "\x8fSILOSPK\x01", 9);
	crypto_sign_ed25519_sk_to_pk(head + 9, sk);
	crypto_hash_sha512_state h;
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, (const unsigned char *)"silo-spk-v1", 12);
	crypto_hash_sha512_update(&h, head, 41);
	crypto_hash_sha512_update(&h, xz, n);
	crypto_hash_sha512_final(&h, digest);
	crypto_sign_detached(head + 41, NULL, digest, sizeof(digest), sk);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
			 write(fd, xz, n) == (ssize_t)n
		 ? 0
		 : -1;
	close(fd);
	return rc;
}
