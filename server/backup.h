// SPDX-License-Identifier: MIT
// The backup file (docs/BACKUP.md): a header, then one xz stream holding a length-prefixed
// JSON metadata block and a silo archive (archive.h) of a grain's /var or of a whole server.
// Writing one, and reading one as hostile bytes: the metadata alone, or all of it.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "stream.h"

#define BACKUP_MAGIC "\x8f" "SILOBAK"
#define BACKUP_MAGIC_LEN 8
#define BACKUP_VERSION 1
#define BACKUP_HEADER_LEN (BACKUP_MAGIC_LEN + 1)
#define BACKUP_META_MAX (64 * 1024)   // bytes of metadata JSON
#define BACKUP_ID_LEN 32              // grain and package ids: lowercase hex
#define BACKUP_APP_ID_LEN 52
#define BACKUP_TITLE_MAX 256
#define BACKUP_APP_TITLE_MAX 128
#define BACKUP_EXT ".silo-backup"
#define BACKUP_MAX_ENTRIES 1000000    // entries in a grain backup
// A whole server's backup is bounded only by the disk it comes from.
#define BACKUP_SERVER_LIMITS                                                                 \
	((struct archive_limits){.max_entries = 100000000, .max_total_bytes = (uint64_t)1 << 50, \
				 .max_file_bytes = (uint64_t)1 << 50})

enum backup_kind {
	BACKUP_GRAIN = 1,    // one grain: its /var is the archive's tree
	BACKUP_SERVER = 2,   // a whole server: silo.db, apps/, grains/<id>/var
};

struct backup_meta {
	enum backup_kind kind;
	int64_t made;                                   // unix seconds
	char silo_version[33];
	// A grain's (kind BACKUP_GRAIN):
	char title[BACKUP_TITLE_MAX + 1];
	int64_t created;
	char app_id[BACKUP_APP_ID_LEN + 1];
	char app_title[BACKUP_APP_TITLE_MAX + 1];
	char package_id[BACKUP_ID_LEN + 1];
	uint32_t app_version;                           // the manifest's version
	int action;                                     // the action that made the grain
};

enum backup_result {
	BACKUP_OK = 0,
	BACKUP_E_IO,        // the system failed; not the file's fault
	BACKUP_E_FORMAT,    // not a backup, unknown version, truncated, corrupt compression
	BACKUP_E_META,      // the metadata is missing, too big or invalid
	BACKUP_E_ARCHIVE,   // the archive is corrupt, truncated or hostile
	BACKUP_E_LIMIT,     // over a size or count limit
	BACKUP_E_KIND,      // a grain backup where a server one was wanted, or the reverse
	BACKUP_E_EXISTS,    // the destination exists
};
const char *backup_result_str(enum backup_result r);

// The metadata as JSON text (malloc'd; NULL on out of memory).
char *backup_meta_text(const struct backup_meta *m);
// Parses and checks metadata JSON: known kind, each field typed and in range, ids well
// formed, titles without control characters. err names the field.
enum backup_result backup_meta_parse(const char *p, size_t n, struct backup_meta *m, char *err,
				     size_t errsz);

// Writes a backup into out: header, then the xz stream of metadata and the archive whose
// entries fill(w, ctx) adds (it returns an archive_result). err names what failed.
typedef enum archive_result (*backup_fill_fn)(struct archive_writer *w, void *ctx);
enum backup_result backup_write(const struct stream_sink *out, const struct backup_meta *m,
				const struct archive_limits *lim, unsigned flags,
				backup_fill_fn fill, void *ctx, char *err, size_t errsz);

// Reads the header and the metadata only (nothing of the archive).
enum backup_result backup_read_meta(const struct stream_src *raw, struct backup_meta *m,
				    char *err, size_t errsz);
// Reads a whole backup: header, metadata (of kind want, 0 for any), then the archive, which
// is listed (dest NULL) or unpacked to dest as archive_unpack does: nothing is left at dest
// unless every byte was read and checked.
enum backup_result backup_read(const struct stream_src *raw, enum backup_kind want,
			       const char *dest, const struct archive_limits *lim,
			       struct backup_meta *m, struct archive_stats *st, char *err,
			       size_t errsz);

// A source over a file descriptor read with pread from offset 0 (a spooled upload).
struct backup_fd_src {
	int fd;
	uint64_t off;
};
void backup_src_fd(struct stream_src *s, struct backup_fd_src *f, int fd);

// A safe download name from a title: letters, digits, '-', '_' and '.' kept, other bytes
// as '_', at most 64 of them, then BACKUP_EXT ("Notes.silo-backup"; "backup" when empty).
void backup_filename(const char *title, char *out, size_t outsz);
