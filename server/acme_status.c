// SPDX-License-Identifier: MIT
// The ACME worker's status file, written by the worker and read by the front.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme_status.h"
#include "tlscert.h"
#include "util.h"

int acme_status_read(const char *data_dir, struct acme_status *st)
{
	char path[PATH_MAX];
	memset(st, 0, sizeof(*st));
	if (util_path(path, sizeof(path), "%s/tls/acme/status.json", data_dir) < 0)
		return -1;
	size_t n;
	char *text = tlscert_read_file(path, 8192, &n);
	if (!text)
		return -1;
	json_t *o = json_loadb(text, n, 0, NULL);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	const char *s;
	if ((s = json_string_value(json_object_get(o, "state"))))
		snprintf(st->state, sizeof(st->state), "%s", s);
	if ((s = json_string_value(json_object_get(o, "error"))))
		snprintf(st->error, sizeof(st->error), "%s", s);
	if ((s = json_string_value(json_object_get(o, "names"))))
		snprintf(st->names, sizeof(st->names), "%s", s);
	st->not_after = json_integer_value(json_object_get(o, "not_after"));
	st->next = json_integer_value(json_object_get(o, "next"));
	json_decref(o);
	return st->state[0] ? 0 : -1;
}

int acme_status_write(const char *data_dir, const struct acme_status *st)
{
	char path[PATH_MAX];
	if (util_path(path, sizeof(path), "%s/tls/acme/status.json", data_dir) < 0)
		return -1;
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "state", st->state, "error", st->error,
			      "names", st->names, "not_after", (json_int_t)st->not_after, "next",
			      (json_int_t)st->next);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -1;
	int r = tlscert_write_file(path, text, strlen(text), 0644);
	free(text);
	return r;
}
