// SPDX-License-Identifier: MIT
// libFuzzer target: the OS update file reader. The input is checked as a whole file (its
// signature fails: a crash-free refusal), then signed here with a fixed key as header +
// payload, so the header parser is reached the way a genuine file reaches it: a signed file
// is either accepted with fields that fit the file, or refused as a format error.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "osupdate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pk[OSUPDATE_PUBKEY], sk[OSUPDATE_SECKEY];
	static int ready;
	if (!ready) {
		unsigned char seed[crypto_sign_SEEDBYTES] = {7};
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	char err[512];
	struct osupdate_header h;
	if (osupdate_check_mem(data, size, pk, &h, err, sizeof(err)) == OSU_OK)
		__builtin_trap();   // nobody else holds the key: never valid
	// Header: the input's first 128 bytes; payload: the rest, padded to the minimum. Unless
	// the input starts with the magic itself, the magic, format and lengths are made right
	// so the fuzzer works on the text fields and the reserved bytes.
	size_t plen = size > OSUPDATE_HEAD ? size - OSUPDATE_HEAD : 0;
	if (plen < OSUPDATE_MIN_PAYLOAD)
		plen = OSUPDATE_MIN_PAYLOAD;
	size_t total = OSUPDATE_HEAD + plen + OSUPDATE_SIG;
	unsigned char *f = calloc(1, total);
	if (!f)
		return 0;
	memcpy(f, data, size < total - OSUPDATE_SIG ? size : total - OSUPDATE_SIG);
	if (size < 8 || memcmp(data, OSUPDATE_MAGIC, 8) != 0) {
		memcpy(f, OSUPDATE_MAGIC, 8);
		f[8] = OSUPDATE_FORMAT, f[9] = f[10] = f[11] = 0;
		f[12] = OSUPDATE_HEAD, f[13] = f[14] = f[15] = 0;
		put64(f + 16, plen);
	}
	crypto_sign_state st;
	crypto_sign_init(&st);
	crypto_sign_update(&st, f, total - OSUPDATE_SIG);
	crypto_sign_final_create(&st, f + total - OSUPDATE_SIG, NULL, sk);
	enum osupdate_result r = osupdate_check_mem(f, total, pk, &h, err, sizeof(err));
	if (r == OSU_E_SIG || r == OSU_E_SIZE ||
	    (r == OSU_OK && (h.payload_len != plen || !h.series[0] || !h.version[0] ||
			     strlen(h.version) > OSUPDATE_VERSION_MAX)))
		__builtin_trap();
	free(f);
	return 0;
}
