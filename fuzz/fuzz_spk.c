// SPDX-License-Identifier: MIT
// libFuzzer target for spk.c: the package header and spk_verify on hostile files. Input
// byte 0 picks the mode: a whole package file as given (header parsing and the signature
// check), or archive bytes that the target compresses and signs with a fixed key, so the
// verifier goes on to the archive, the manifest and the bridge checks.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lzma.h>
#include <sodium.h>

#include "spk.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static unsigned char sk[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], seed[crypto_sign_SEEDBYTES];
	memset(seed, 7, sizeof(seed));
	if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) < 0)
		abort();
	fd = memfd_create("fuzz_spk", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	return 0;
}

static void put(const void *p, size_t n, size_t off)
{
	if (n && pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		abort();
}

// The package around xz, signed as docs/SPK.md says.
static void write_signed(const uint8_t *xz, size_t n)
{
	unsigned char head[SPK_HEADER_LEN], digest[crypto_hash_sha512_BYTES];
	memcpy(head, SPK_MAGIC, SPK_MAGIC_LEN);
	head[SPK_MAGIC_LEN] = SPK_VERSION;
	crypto_sign_ed25519_sk_to_pk(head + SPK_MAGIC_LEN + 1, sk);
	crypto_hash_sha512_state h;
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, (const unsigned char *)SPK_CONTEXT, sizeof(SPK_CONTEXT));
	crypto_hash_sha512_update(&h, head, SPK_SIGNED_HEAD_LEN);
	crypto_hash_sha512_update(&h, xz, n);
	crypto_hash_sha512_final(&h, digest);
	crypto_sign_detached(head + SPK_SIGNED_HEAD_LEN, NULL, digest, sizeof(digest), sk);
	put(head, sizeof(head), 0);
	put(xz, n, sizeof(head));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || ftruncate(fd, 0) < 0)
		return 0;
	int sign = data[0] & 1;
	data++, size--;
	if (sign) {
		size_t cap = lzma_stream_buffer_bound(size), n = 0;
		uint8_t *xz = malloc(cap);
		if (!xz || lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, NULL, data, size, xz, &n,
						   cap) != LZMA_OK)
			abort();
		write_signed(xz, n);
		free(xz);
	} else {
		struct spk_header h;
		char herr[128];
		if (spk_header_parse(data, size, &h, herr, sizeof(herr)) == SPK_OK &&
		    (size < SPK_HEADER_LEN || h.version != SPK_VERSION))
			abort();
		put(data, size, 0);
	}
	struct archive_limits lim = {.max_entries = 64, .max_total_bytes = 1 << 20,
				     .max_file_bytes = 256 << 10};
	struct spk_info info;
	char err[512];
	memset(err, 'x', sizeof(err));
	enum spk_result r = spk_verify_fd(fd, &lim, &info, err, sizeof(err));
	if (r != SPK_OK && (!memchr(err, '\0', sizeof(err)) || !err[0]))
		abort();
	if (r == SPK_OK && (!info.manifest || info.entries < 2 || strlen(info.app_id) != 52 ||
			    strlen(info.package_id) != 32))
		abort();
	if (!sign && r != SPK_OK && r != SPK_E_FORMAT && r != SPK_E_SIGNATURE && r != SPK_E_LIMIT)
		abort();   // unsigned random bytes can never get past the signature
	spk_info_free(&info);
	return 0;
}
