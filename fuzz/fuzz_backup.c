// SPDX-License-Identifier: MIT
// libFuzzer target for backup.c: the backup reader (header, xz, metadata, archive) and the
// metadata parser on raw bytes. The first input byte picks the mode: 0-1 list, 2 unpack,
// 3 the metadata parser alone. The promises checked: a failure says why and leaves nothing
// behind, reading the metadata alone agrees with reading everything, and metadata that
// parses turns into JSON that parses back to the same thing.
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[64] = "/tmp/silo-fuzz-backup-XXXXXX";
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
	snprintf(dest, sizeof(dest), "%s/var", scratch);
	atexit(cleanup);
	return 0;
}

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

static void check_meta(const uint8_t *p, size_t n)
{
	struct backup_meta m, back;
	char err[256];
	memset(err, 'x', sizeof(err));
	if (backup_meta_parse((const char *)p, n, &m, err, sizeof(err)) != BACKUP_OK) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		return;
	}
	char *text = backup_meta_text(&m);
	if (!text || backup_meta_parse(text, strlen(text), &back, err, sizeof(err)) != BACKUP_OK ||
	    back.kind != m.kind || back.made != m.made || strcmp(back.title, m.title) != 0 ||
	    strcmp(back.app_id, m.app_id) != 0 || back.app_version != m.app_version)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] & 3;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	if (mode == 3) {
		check_meta(p, n);
		return 0;
	}
	struct archive_limits lim = {.max_entries = 64, .max_total_bytes = 1 << 20,
				     .max_file_bytes = 256 << 10};
	struct stream_mem sm;
	struct stream_src src;
	struct backup_meta m1, m2;
	char err[512], err2[512];
	memset(err, 'x', sizeof(err));
	stream_src_mem(&src, &sm, p, n);
	enum backup_result head = backup_read_meta(&src, &m1, err2, sizeof(err2));
	stream_src_mem(&src, &sm, p, n);
	enum backup_result r = backup_read(&src, 0, mode == 2 ? dest : NULL, &lim, &m2, NULL, err,
					   sizeof(err));
	if (r != BACKUP_OK && (!memchr(err, '\0', sizeof(err)) || !err[0]))
		abort();
	// The metadata is read the same way either way.
	if ((head == BACKUP_E_META) != (r == BACKUP_E_META))
		abort();
	if (r == BACKUP_OK && (head != BACKUP_OK || m1.kind != m2.kind))
		abort();
	if (mode == 2) {
		if (r != BACKUP_OK && (access(dest, F_OK) == 0 || scratch_entries() != 0))
			abort();
		if (r == BACKUP_OK && archive_remove_tree(AT_FDCWD, dest) < 0)
			abort();
	}
	return 0;
}
