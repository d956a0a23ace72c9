// SPDX-License-Identifier: MIT
// silo-ostool: the build machine's side of OS updates (docs/OS-UPDATE.md). Makes the
// signing key pair once, and signs an OS slot's image into an update file. The appliance
// only ever verifies (`silo update --check`, the admin page).
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "osupdate.h"

static int usage(void)
{
	fprintf(stderr, "usage: silo-ostool keygen SECRET-KEY-FILE PUBLIC-KEY-FILE\n"
			"       silo-ostool sign SECRET-KEY-FILE SLOT-IMAGE SERIES VERSION OUT\n");
	return 2;
}

int main(int argc, char **argv)
{
	char err[512];
	if (sodium_init() < 0) {
		fprintf(stderr, "silo-ostool: libsodium failed to initialise\n");
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "keygen") == 0) {
		if (osupdate_keygen(argv[2], argv[3], err, sizeof(err)) != OSU_OK) {
			fprintf(stderr, "silo-ostool: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (argc == 7 && strcmp(argv[1], "sign") == 0) {
		unsigned char sk[OSUPDATE_SECKEY];
		enum osupdate_result r = osupdate_load_sec(argv[2], sk, err, sizeof(err));
		if (r == OSU_OK)
			r = osupdate_sign(argv[3], argv[4], argv[5], sk, argv[6], err, sizeof(err));
		sodium_memzero(sk, sizeof(sk));
		if (r != OSU_OK) {
			fprintf(stderr, "silo-ostool: %s\n", err);
			return 1;
		}
		return 0;
	}
	return usage();
}
