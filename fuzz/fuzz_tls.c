// SPDX-License-Identifier: MIT
// libFuzzer target for the TLS input path (tls.c over mbedtls): the input arrives as a
// client's bytes on a socket, the server side runs its handshake and reads records the way
// a connection does. Nothing may crash, hang or read out of bounds.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <sodium.h>

#include "tls.h"
#include "tlscert.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tls_certs *certs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	mbedtls_pk_context pk;
	mbedtls_pk_init(&pk);
	char names[2][TLSCERT_MAX_NAME + 1];
	size_t n = tlscert_host_names("fuzz.example", names, 2);
	static unsigned char key[TLSCERT_PEM_MAX], crt[TLSCERT_PEM_MAX];
	static char bundle[2 * TLSCERT_PEM_MAX];
	if (tlscert_gen_key(&pk) < 0 || mbedtls_pk_write_key_pem(&pk, key, sizeof(key)) != 0 ||
	    tlscert_self_signed(&pk, names, n, crt, sizeof(crt)) < 0)
		abort();
	snprintf(bundle, sizeof(bundle), "%s%s", key, crt);
	char err[160];
	if (!(certs = tls_certs_parse(bundle, strlen(bundle), err, sizeof(err))))
		abort();
	mbedtls_pk_free(&pk);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return 0;
	if (size && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	struct tls_conn *t = tls_conn_with(certs, sv[1]);
	int r = TLS_WANT_READ;
	// The input is all there is: a handshake that still wants bytes has run out.
	for (int i = 0; i < 64 && (r == TLS_WANT_READ || r == TLS_WANT_WRITE); i++) {
		r = tls_handshake(t);
		if (r == TLS_WANT_READ) {
			char sink[4096];
			while (read(sv[0], sink, sizeof(sink)) > 0)
				;
		}
	}
	if (r == TLS_DONE) {
		char buf[4096];
		for (int i = 0; i < 64 && tls_read(t, buf, sizeof(buf)) > 0; i++)
			;
	}
	tls_conn_free(t);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
