// SPDX-License-Identifier: MIT
// libFuzzer target for token_from_authorization: the Authorization header a device sends to
// the API host (Bearer, or Basic with the token as the password), as untrusted text.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	char tok[TOKEN_HEX_LEN + 1];
	memset(tok, 'x', sizeof(tok));
	// A token found is always a whole, valid one: 64 lowercase hex characters.
	if (token_from_authorization(s, tok) && !token_valid(tok))
		abort();
	free(s);
	return 0;
}
