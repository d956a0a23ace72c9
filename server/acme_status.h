// SPDX-License-Identifier: MIT
// The ACME worker's progress as DATA/tls/acme/status.json, which the front reads for the
// admin page and the API: state, the last error, the names and the certificate's expiry.
#pragma once
#include <stdint.h>

struct acme_status {
	char state[32];        // "starting", "ordering", "valid", "waiting", "error"
	char error[512];       // the last error ("" after a success)
	char names[512];       // space-separated
	int64_t not_after;     // the installed certificate's expiry; 0 when none
	int64_t next;          // unix time of the next attempt or renewal
};

// 0, or -1 when there is no readable status (ACME off or not started yet).
int acme_status_read(const char *data_dir, struct acme_status *st);
// Writes the status atomically (0644: the front reads it). 0 / -1.
int acme_status_write(const char *data_dir, const struct acme_status *st);
