// SPDX-License-Identifier: MIT
// The .spk package (docs/SPK.md): a header with the signing key and an Ed25519 signature,
// then one xz stream holding the archive of the app's tree. Signing keys, packing, and
// verifying, unpacking and installing packages, which checks the signature over the raw
// bytes before any decompressor sees them and never holds a whole package in memory.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "base32.h"
#include "manifest.h"

#define SPK_MAGIC "\x8f" "SILOSPK"
#define SPK_MAGIC_LEN 8
#define SPK_VERSION 1
#define SPK_PUBKEY_BYTES 32
#define SPK_SECKEY_BYTES 64   // libsodium's Ed25519 secret key: seed, then public key
#define SPK_SIG_BYTES 64
#define SPK_SIGNED_HEAD_LEN (SPK_MAGIC_LEN + 1 + SPK_PUBKEY_BYTES)   // 41, signed
#define SPK_HEADER_LEN (SPK_SIGNED_HEAD_LEN + SPK_SIG_BYTES)          // 105
#define SPK_CONTEXT "silo-spk-v1"   // signed first, with its NUL (12 bytes)
#define SPK_APP_ID_LEN BASE32_KEY_LEN   // 52
#define SPK_PACKAGE_ID_LEN 32           // hex of the first 16 bytes of SHA-256(file)
#define SPK_MAX_FILE_BYTES ((uint64_t)2 << 30)
#define SPK_BRIDGE_NAME "silo-bridge"   // at the top of every package, mode 0755

enum spk_result {
	SPK_OK = 0,
	SPK_E_IO,          // reading or writing failed; not the package's fault
	SPK_E_FORMAT,      // not a silo package, unknown format version, cut off in the header
	SPK_E_SIGNATURE,   // the signature does not verify: damaged, or not signed by its key
	SPK_E_ARCHIVE,     // the archive is corrupt, truncated or hostile, or lacks the bridge
	SPK_E_LIMIT,       // over a size or count limit
	SPK_E_MANIFEST,    // silo-manifest.json missing or invalid
	SPK_E_EXISTS,      // the destination (or key file) already exists
	SPK_E_REFUSED,     // the caller's accept callback said no
};
// A short name for a result ("bad signature").
const char *spk_result_str(enum spk_result r);

struct spk_header {
	unsigned version;
	unsigned char pubkey[SPK_PUBKEY_BYTES];
	unsigned char sig[SPK_SIG_BYTES];
};

// Parses the first n bytes of a file as a package header (it needs SPK_HEADER_LEN).
enum spk_result spk_header_parse(const void *p, size_t n, struct spk_header *h, char *err,
				 size_t errsz);

struct spk_info {
	char app_id[SPK_APP_ID_LEN + 1];           // base32 of the public key
	char package_id[SPK_PACKAGE_ID_LEN + 1];   // lowercase hex
	unsigned char pubkey[SPK_PUBKEY_BYTES];
	uint64_t file_bytes;
	uint64_t entries;          // in the archive, the bridge and manifest included
	uint64_t unpacked_bytes;   // sum of the regular files' sizes
	struct manifest *manifest; // set once read; spk_info_free() frees it
};
void spk_info_free(struct spk_info *info);

// Checks a package completely without writing anything: header, signature over the raw
// bytes, then every archive entry (as spk_unpack would), the manifest and the bridge. lim
// NULL means ARCHIVE_LIMITS_DEFAULT. info is filled as far as the checks got; err says why
// a check failed, without the file's name (callers add it). spk_info_free() info either way.
enum spk_result spk_verify(const char *path, const struct archive_limits *lim,
			   struct spk_info *info, char *err, size_t errsz);
enum spk_result spk_verify_fd(int fd, const struct archive_limits *lim, struct spk_info *info,
			      char *err, size_t errsz);

// spk_verify's checks while unpacking the tree to dest (which must not exist; its parent
// must). Nothing is visible at dest until every check passed; on failure nothing is left.
enum spk_result spk_unpack(const char *path, const char *dest, const struct archive_limits *lim,
			   struct spk_info *info, char *err, size_t errsz);

// Decides, once the package is verified and unpacked and info is complete (manifest
// included), whether it goes in: 0 yes, -1 (err set) no.
typedef int (*spk_accept_fn)(void *ctx, const struct spk_info *info, char *err, size_t errsz);

// For the server: verifies the package at path and unpacks it to apps_dir/<package id>.
// SPK_E_EXISTS (info has the ids, no manifest) when that is already there; SPK_E_REFUSED
// when accept (may be NULL) said no, with nothing left behind.
enum spk_result spk_install(const char *path, const char *apps_dir,
			    const struct archive_limits *lim, spk_accept_fn accept, void *ctx,
			    struct spk_info *info, char *err, size_t errsz);

struct spk_pack_opts {
	const char *bridge_path;        // the silo-bridge binary to add
	struct archive_limits limits;
};

// Packs the tree at tree_dir into a package at out_path signed with sk: checks the manifest
// (and that the icon and each command's program are in the tree), refuses a tree that holds
// silo-bridge itself, adds the bridge, and writes a temporary file renamed over out_path at
// the end. The same tree and key give the same bytes. err names the file at fault.
enum spk_result spk_sign_and_write(const char *tree_dir, const unsigned char sk[SPK_SECKEY_BYTES],
				   const char *out_path, const struct spk_pack_opts *opts,
				   char *err, size_t errsz);

// Makes a new signing key in a new file at path (mode 0600; an existing file is
// SPK_E_EXISTS) and gives its app id. err does not name the file.
enum spk_result spk_keygen(const char *path, char app_id[SPK_APP_ID_LEN + 1], char *err,
			   size_t errsz);
// Reads a key file written by spk_keygen. err does not name the file.
enum spk_result spk_key_load(const char *path, unsigned char sk[SPK_SECKEY_BYTES],
			     char app_id[SPK_APP_ID_LEN + 1], char *err, size_t errsz);
