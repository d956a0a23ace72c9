// SPDX-License-Identifier: MIT
// Parsing JSON request bodies into checked fields.
#include <stdio.h>
#include <string.h>

#include "jsonbody.h"

json_t *jsonbody_parse(const char *body, size_t len, char *err, size_t errsz)
{
	if (len > JSONBODY_MAX) {
		snprintf(err, errsz, "body is larger than %d bytes", JSONBODY_MAX);
		return NULL;
	}
	json_error_t je;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		snprintf(err, errsz, "body is not valid JSON: %s at line %d column %d", je.text,
			 je.line, je.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, errsz, "body must be a JSON object");
		return NULL;
	}
	return v;
}

int jsonbody_str(json_t *obj, const char *key, bool required, size_t maxlen, const char **out,
		 char *err, size_t errsz)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errsz, "'%s' is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errsz, "'%s' must be a string", key);
		return -1;
	}
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > maxlen) {
		snprintf(err, errsz, "'%s' is longer than %zu bytes", key, maxlen);
		return -1;
	}
	if (memchr(s, '\0', n)) {
		snprintf(err, errsz, "'%s' must not contain NUL characters", key);
		return -1;
	}
	*out = s;
	return 0;
}
