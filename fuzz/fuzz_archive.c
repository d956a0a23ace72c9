// SPDX-License-Identifier: MIT
// libFuzzer target for archive.c and xz.c: the archive reader on raw bytes and on xz bytes,
// listing and unpacking. The first input byte picks the mode; the promises checked are that
// listing and unpacking agree, that a failure says why and leaves nothing behind, and that
// captures report what they saw.
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "xz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[64] = "/tmp/silo-fuzz-archive-XXXXXX";
static char dest[96];

static void cleanup(void)
{
	archive_remove_tree(AT_FDCWD, scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (!mkdtemp(scratch))
		abort();
	snprintf(dest, sizeof(dest), "%s/out", scratch);
	atexit(cleanup);
	return 0;
}

// Entries in the scratch directory (the destination's parent).
static int scratch_entries(void)
{
	DIR *d = opendir(scratch);
	if (!d)
		abort();
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static enum archive_result run(const uint8_t *p, size_t n, int xz, const char *to,
			       struct archive_read_opts *o, char *err, size_t errsz)
{
	struct stream_mem m;
	struct stream_src raw;
	stream_src_mem(&raw, &m, p, n);
	if (!to)
		return archive_list_mem(p, n, xz, o, NULL, err, errsz);
	if (!xz)
		return archive_unpack(&raw, to, o, NULL, err, errsz);
	struct xz_dec *z = xz_dec_new(&raw, XZ_MEMLIMIT, err, errsz);
	if (!z)
		abort();
	struct stream_src s = xz_dec_src(z);
	enum archive_result r = archive_unpack(&s, to, o, NULL, err, errsz);
	xz_dec_free(z);
	return r;
}

static void check_capture(const struct archive_capture *c)
{
	if (!c->found)
		return;
	if (c->type == ARCHIVE_FILE && !c->too_big && c->data.len != c->size)
		abort();
	if (c->mode & ~0777u)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int xz = data[0] & 1, unpack = data[0] & 2;
	struct archive_capture caps[2] = {{.path = "silo-manifest.json", .max = 1024},
					  {.path = "a/b", .max = 0}};
	struct archive_read_opts o = {
		.limits = {.max_entries = 64, .max_total_bytes = 1 << 20,
			   .max_file_bytes = 256 << 10},
		.captures = caps,
		.ncaptures = 2,
	};
	char err[512], err2[512];
	memset(err, 'x', sizeof(err));
	enum archive_result listed = run(data + 1, size - 1, xz, NULL, &o, err, sizeof(err));
	if (listed != ARCHIVE_OK && (!memchr(err, '\0', sizeof(err)) || !err[0]))
		abort();
	if (listed == ARCHIVE_OK) {
		check_capture(&caps[0]);
		check_capture(&caps[1]);
	}
	if (unpack) {
		memset(err2, 'x', sizeof(err2));
		enum archive_result r = run(data + 1, size - 1, xz, dest, &o, err2, sizeof(err2));
		// Listing and unpacking read the same way; only the filesystem may add failures.
		if (r != listed && r != ARCHIVE_E_IO)
			abort();
		if (r != ARCHIVE_OK && (access(dest, F_OK) == 0 || scratch_entries() != 0))
			abort();
		if (r == ARCHIVE_OK && archive_remove_tree(AT_FDCWD, dest) < 0)
			abort();
	}
	buf_free(&caps[0].data);
	buf_free(&caps[1].data);
	return 0;
}
