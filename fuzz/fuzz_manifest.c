// SPDX-License-Identifier: MIT
// libFuzzer target for manifest.c: parsing untrusted silo-manifest.json, with the promises
// that a failure says why and sets no manifest, and that an accepted manifest survives the
// trip through manifest_to_json unchanged.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "manifest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	json_object_seed(1);   // a fixed hash seed keeps runs reproducible
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct manifest *m = (struct manifest *)&err;   // must be overwritten
	memset(err, 'x', sizeof(err));
	enum manifest_result r = manifest_parse((const char *)data, size, &m, err, sizeof(err));
	if (r != MANIFEST_OK) {
		if (m || !memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		return 0;
	}
	if (!m || !m->title || !m->nactions || !m->actions[0].cmd.argv[0] ||
	    m->actions[0].cmd.argv[0][0] != '/' || m->http_port < 1 || m->http_port > 65535)
		abort();
	size_t defaults = 0;
	for (size_t i = 0; i < m->nroles; i++) {
		defaults += m->roles[i].is_default;
		for (size_t j = 0; j < m->roles[i].nperms; j++) {
			if (m->roles[i].perms[j] >= m->nperms)
				abort();
		}
	}
	if (m->nroles && defaults != 1)
		abort();
	json_t *j = manifest_to_json(m);
	char *text = j ? json_dumps(j, 0) : NULL;
	struct manifest *m2 = NULL;
	if (!text || manifest_parse(text, strlen(text), &m2, err, sizeof(err)) != MANIFEST_OK)
		abort();
	json_t *j2 = manifest_to_json(m2);
	if (!j2 || !json_equal(j, j2))
		abort();
	json_decref(j);
	json_decref(j2);
	free(text);
	manifest_free(m);
	manifest_free(m2);
	return 0;
}
