// SPDX-License-Identifier: MIT
// The dynamic DNS service's replies: untrusted text that ends up in logs and on the admin
// page, reduced to one printable line.
#include <stddef.h>

#include "dyndns.h"

size_t dyndns_reply_text(const char *body, size_t len, char *out, size_t outsz)
{
	size_t j = 0;
	if (len > DYNDNS_REPLY_MAX)
		len = DYNDNS_REPLY_MAX;
	// Trailing newlines are the protocol's; anything else odd becomes a space.
	while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && j + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[j++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	if (outsz)
		out[j] = '\0';
	return j;
}
