// SPDX-License-Identifier: MIT
// silo's archive of a file tree (directories, regular files, symlinks; docs/SPK.md has the
// bytes): a deterministic writer that walks a directory, and a reader that lists or unpacks
// a stream while treating every byte as hostile.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "stream.h"

#define ARCHIVE_MAGIC "SILOARC"   // 7 bytes, then the version byte
#define ARCHIVE_MAGIC_LEN 7
#define ARCHIVE_VERSION 1
#define ARCHIVE_PATH_MAX 4096     // bytes in an entry's path
#define ARCHIVE_NAME_MAX 255      // bytes in one path component
#define ARCHIVE_TARGET_MAX 4095   // bytes in a symlink target (PATH_MAX with its NUL)
#define ARCHIVE_DEPTH_MAX 128     // components in an entry's path

enum archive_type {
	ARCHIVE_END = 0,
	ARCHIVE_DIR = 1,
	ARCHIVE_FILE = 2,
	ARCHIVE_SYMLINK = 3,
};

struct archive_limits {
	uint64_t max_entries;      // directories, files and symlinks together
	uint64_t max_total_bytes;  // sum of the regular files' sizes
	uint64_t max_file_bytes;   // one regular file
};
#define ARCHIVE_MAX_ENTRIES 100000
#define ARCHIVE_MAX_TOTAL_BYTES ((uint64_t)1 << 30)
#define ARCHIVE_MAX_FILE_BYTES ((uint64_t)512 << 20)
#define ARCHIVE_LIMITS_DEFAULT                                                               \
	((struct archive_limits){.max_entries = ARCHIVE_MAX_ENTRIES,                         \
				 .max_total_bytes = ARCHIVE_MAX_TOTAL_BYTES,                 \
				 .max_file_bytes = ARCHIVE_MAX_FILE_BYTES})

enum archive_result {
	ARCHIVE_OK = 0,
	ARCHIVE_E_IO,       // the system failed: reading the source, writing files, memory
	ARCHIVE_E_CORRUPT,  // not an archive, truncated, bad compression, bytes after the end
	ARCHIVE_E_HOSTILE,  // a forbidden path, type, mode or symlink, duplicate or out of order
	ARCHIVE_E_LIMIT,    // more entries or bytes than the limits allow
	ARCHIVE_E_EXISTS,   // the destination already exists
	ARCHIVE_E_REFUSED,  // the caller's precommit check said no
};
// A short name for a result ("hostile archive").
const char *archive_result_str(enum archive_result r);

struct archive_stats {
	uint64_t entries;
	uint64_t bytes;     // sum of the regular files' sizes
};

// Asks a reader to note one entry by path, and keep a regular file's content in memory.
// The out fields are complete only when the read returned ARCHIVE_OK.
struct archive_capture {
	const char *path;          // in: the entry's archive path ("silo-manifest.json")
	size_t max;                // in: keep the content when the file has at most max bytes
	bool found;                // out: the archive holds the entry
	bool too_big;              // out: it is a file over max bytes; data stays empty
	enum archive_type type;    // out
	unsigned mode;             // out
	uint64_t size;             // out
	struct buf data;           // out: the content; the caller buf_free()s it
};

struct archive_read_opts {
	struct archive_limits limits;
	struct archive_capture *captures;   // may be NULL
	size_t ncaptures;
	bool sync;   // unpack: syncfs() the tree and fsync() its parent, for durability
	// Unpack: called once the whole stream has been read and checked, before the tree is
	// renamed into place. 0 goes on; -1 (err set) refuses and removes it (ARCHIVE_E_REFUSED).
	int (*precommit)(void *ctx, char *err, size_t errsz);
	void *ctx;
};

// Reads a whole archive from src (through its end marker and the source's end) without
// writing anything: checks every entry as archive_unpack does and counts them.
enum archive_result archive_list(const struct stream_src *src, const struct archive_read_opts *o,
				 struct archive_stats *st, char *err, size_t errsz);

// Unpacks the archive from src to dest, which must not exist and whose parent must. Works in
// a fresh directory next to dest (".silo-unpack-XXXXXXXX", mode 0700) with openat/mkdirat
// relative to directory fds, O_NOFOLLOW|O_EXCL, never following a symlink, and renames it to
// dest at the end (mode 0755); on any failure it removes everything it wrote. Files and
// directories get exactly the archive's modes (umask ignored).
enum archive_result archive_unpack(const struct stream_src *src, const char *dest,
				   const struct archive_read_opts *o, struct archive_stats *st,
				   char *err, size_t errsz);

// archive_list over bytes in memory: a plain archive, or (xz) one xz stream holding it.
enum archive_result archive_list_mem(const void *p, size_t n, bool xz,
				     const struct archive_read_opts *o, struct archive_stats *st,
				     char *err, size_t errsz);

// An extra regular file the writer adds at the top of the tree (spk pack adds the bridge).
struct archive_extra {
	const char *name;       // a single path component
	const char *src_path;   // the host file whose content it gets
	unsigned mode;          // permission bits
};

// Writes the archive of the tree at dir (followed if it is a symlink itself; nothing below
// it is followed) into out: entries sorted, modes masked to 0777, no owners or times, so the
// same tree always gives the same bytes. Refuses what a reader would refuse (other file
// types, absolute or escaping symlinks, bad names, limits) and an extra whose name the tree
// already has, with err naming the host path.
enum archive_result archive_write_dir(const char *dir, const struct archive_extra *extra,
				      size_t nextra, const struct archive_limits *lim,
				      const struct stream_sink *out, struct archive_stats *st,
				      char *err, size_t errsz);

// Writing an archive entry by entry, for trees put together from several places (backups).
// Entries must come in the reader's order (docs/SPK.md, section 4), each directory added
// before what is in it; a call that breaks the order fails with ARCHIVE_E_HOSTILE. Every
// call's err names the entry; after a failure only archive_writer_free is left to call.
struct archive_writer;
#define ARCHIVE_WRITE_SKIP_SPECIAL 1u   // leave out fifos and sockets instead of refusing
// Starts an archive into out (it writes the magic). *w is set even on failure (free it).
enum archive_result archive_writer_open(struct archive_writer **w,
					const struct archive_limits *lim, unsigned flags,
					const struct stream_sink *out, char *err, size_t errsz);
enum archive_result archive_writer_dir(struct archive_writer *w, const char *path,
				       unsigned mode);
// Everything below the open directory dirfd, as entries below path ("" for the top; else a
// directory just added). Nothing below dirfd is followed; host_name is for messages.
enum archive_result archive_writer_tree(struct archive_writer *w, const char *path,
					int dirfd, const char *host_name);
// A regular file with the content of fd (read from its start) and mode.
enum archive_result archive_writer_file(struct archive_writer *w, const char *path, int fd,
					unsigned mode, const char *host_name);
// Writes the end marker; st gets the counts.
enum archive_result archive_writer_close(struct archive_writer *w, struct archive_stats *st);
void archive_writer_free(struct archive_writer *w);

// Checks an entry path: relative, '/'-separated, no empty, "." or ".." component, components
// of at most ARCHIVE_NAME_MAX bytes, at most ARCHIVE_DEPTH_MAX of them, at most
// ARCHIVE_PATH_MAX bytes, valid UTF-8 without control characters. 0, or -1 with *why set
// to a static phrase.
int archive_path_valid(const char *p, size_t n, const char **why);
// Checks a symlink target for a link whose directory is parent_depth components below the
// top: not empty, not absolute, no NUL, valid UTF-8 without control characters, ".." only
// before any name and no more of them than parent_depth (resolved lexically, so it cannot
// leave the tree). 0, or -1 with *why set.
int archive_target_valid(const char *t, size_t n, size_t parent_depth, const char **why);

// Removes dirfd/name and everything below it without following symlinks, making directories
// writable first. 0 / -1 (errno set); a missing name is success.
int archive_remove_tree(int dirfd, const char *name);
