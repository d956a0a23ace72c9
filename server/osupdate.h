// SPDX-License-Identifier: MIT
// OS update files (docs/OS-UPDATE.md): a 128-byte header, the OS slot's image, and an
// Ed25519ph signature over everything before it. The signature is checked over the raw
// bytes before any field is read.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define OSUPDATE_MAGIC "SILOOSU\n"
#define OSUPDATE_FORMAT 1
#define OSUPDATE_HEAD 128
#define OSUPDATE_SIG 64
#define OSUPDATE_PUBKEY 32
#define OSUPDATE_SECKEY 64
#define OSUPDATE_MIN_PAYLOAD 4096
#define OSUPDATE_MAX_PAYLOAD (256ull << 20)
#define OSUPDATE_SERIES_MAX 15
#define OSUPDATE_VERSION_MAX 63

enum osupdate_result {
	OSU_OK = 0,
	OSU_E_SIZE,      // too short or too long to be an update
	OSU_E_SIG,       // the signature does not match the key
	OSU_E_FORMAT,    // signed, but a header this build does not understand
	OSU_E_IO,        // reading or writing failed
};

struct osupdate_header {
	uint64_t payload_len;
	char series[OSUPDATE_SERIES_MAX + 1];
	char version[OSUPDATE_VERSION_MAX + 1];
};

// The header's fields, for a file of file_size bytes. OSU_OK or OSU_E_FORMAT (err says why).
enum osupdate_result osupdate_parse_header(const unsigned char head[OSUPDATE_HEAD],
					   uint64_t file_size, struct osupdate_header *h,
					   char *err, size_t errsz);
// A whole update in memory: signature first, then the header.
enum osupdate_result osupdate_check_mem(const unsigned char *data, size_t len,
					const unsigned char pk[OSUPDATE_PUBKEY],
					struct osupdate_header *h, char *err, size_t errsz);
// Copies the regular file in (from offset 0) to out while hashing it, then checks the
// signature over what was copied, then the header. On OSU_OK, out holds exactly the bytes
// that were verified (a writer that changes in afterwards changes nothing).
enum osupdate_result osupdate_copy_verify(int in, int out, const unsigned char pk[OSUPDATE_PUBKEY],
					  struct osupdate_header *h, char *err, size_t errsz);
// Writes an update of the payload file to out_path, signed with sk.
enum osupdate_result osupdate_sign(const char *payload_path, const char *series,
				   const char *version, const unsigned char sk[OSUPDATE_SECKEY],
				   const char *out_path, char *err, size_t errsz);
// Key files: the secret key (hex of the 32-byte seed, mode 0600) and the public key (hex),
// each one line.
enum osupdate_result osupdate_keygen(const char *sec_path, const char *pub_path, char *err,
				     size_t errsz);
enum osupdate_result osupdate_load_pub(const char *path, unsigned char pk[OSUPDATE_PUBKEY],
				       char *err, size_t errsz);
enum osupdate_result osupdate_load_sec(const char *path, unsigned char sk[OSUPDATE_SECKEY],
				       char *err, size_t errsz);
