// SPDX-License-Identifier: MIT
// libFuzzer target for jsonbody.c: parsing untrusted JSON bodies and reading checked string
// fields from them, with the promises about *out and err checked.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonbody.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); // a fixed hash seed keeps runs reproducible
	return 0;
}

static void check_field(json_t *obj, const char *key)
{
	static const size_t maxlens[] = {0, 8, JSONBODY_MAX};
	for (int required = 0; required < 2; required++) {
		for (size_t i = 0; i < sizeof(maxlens) / sizeof(maxlens[0]); i++) {
			char err[128];
			memset(err, 'x', sizeof(err));
			const char *out = (const char *)&err; // must be overwritten
			int r = jsonbody_str(obj, key, required, maxlens[i], &out, err, sizeof(err));
			if (r == 0) {
				if (out ? strlen(out) > maxlens[i] : required)
					abort();
			} else if (r != -1 || out != NULL || !memchr(err, '\0', sizeof(err)) || !err[0]) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	memset(err, 'x', sizeof(err));
	json_t *obj = jsonbody_parse((const char *)data, size, err, sizeof(err));
	if (!obj) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		return 0;
	}
	if (!json_is_object(obj))
		abort();
	static const char *keys[] = {"name", "password", "title", "csrf", "", "a"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_field(obj, keys[i]);
	const char *key;
	json_t *v;
	size_t n = 0;
	json_object_foreach(obj, key, v) {
		if (n++ >= 16)
			break;
		check_field(obj, key);
	}
	json_decref(obj);
	return 0;
}
