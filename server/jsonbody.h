// SPDX-License-Identifier: MIT
// Parsing JSON request bodies (untrusted) into checked fields, with messages naming the field.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define JSONBODY_MAX (1 << 20)   // bytes; larger bodies are refused before parsing

// Parses an object; NULL with err set ("body is not valid JSON: ... at line 1 column 5",
// "body must be a JSON object") on failure. Duplicate keys are refused.
json_t *jsonbody_parse(const char *body, size_t len, char *err, size_t errsz);
// A string field no longer than maxlen bytes without NUL bytes. *out points into obj.
// Missing and !required: *out = NULL, returns 0. -1 with err ("'name' must be a string").
int jsonbody_str(json_t *obj, const char *key, bool required, size_t maxlen, const char **out,
		 char *err, size_t errsz);
