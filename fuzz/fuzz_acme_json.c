// SPDX-License-Identifier: MIT
// libFuzzer target for acme_json.c: the ACME server's replies (directory, order,
// authorization, problem), with the promises about the parsed structs checked.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme_json.h"
#include "challenge.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

static void check_url(const char *u, int may_be_empty)
{
	if (!u[0] && may_be_empty)
		return;
	if (strncmp(u, "https://", 8) != 0 || strlen(u) >= ACME_URL_MAX || strpbrk(u, " \r\n\t"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char err[160];
	struct acme_dir d;
	if (acme_json_directory(body, size, &d, err, sizeof(err)) == 0) {
		check_url(d.new_nonce, 0);
		check_url(d.new_account, 0);
		check_url(d.new_order, 0);
	}
	static struct acme_order o;
	if (acme_json_order(body, size, &o, err, sizeof(err)) == 0) {
		if (o.nauthz > ACME_MAX_AUTHZ || o.status == ACME_S_UNKNOWN)
			abort();
		check_url(o.finalize, 0);
		check_url(o.certificate, 1);
		for (size_t i = 0; i < o.nauthz; i++)
			check_url(o.authz[i], 0);
	}
	struct acme_authz a;
	if (acme_json_authz(body, size, &a, err, sizeof(err)) == 0) {
		check_url(a.http_url, 1);
		check_url(a.dns_url, 1);
		// The token becomes a file name: it must never hold a path character.
		if ((a.http_url[0] && !challenge_token_ok(a.http_token)) ||
		    (a.dns_url[0] && !challenge_token_ok(a.dns_token)))
			abort();
		if (strpbrk(a.error, "\r\n") || strpbrk(a.identifier, "\r\n"))
			abort();
	}
	struct acme_problem p;
	if (acme_json_problem(body, size, &p) == 0 && (!p.type[0] || strpbrk(p.detail, "\r\n")))
		abort();
	return 0;
}
