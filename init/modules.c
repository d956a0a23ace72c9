// SPDX-License-Identifier: MIT
// Module loading through libkmod: the image builder ran depmod over the shipped subset.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "console.h"
#include "modules.h"

static int load_one(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *l;
	int r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0 || !list) {
		console_log("module %s: not found in this image", name);
		return -1;
	}
	int rc = 0;
	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);
		// Already loaded and built-in modules count as loaded.
		r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);
		if (r < 0 && r != -EEXIST) {
			console_log("module %s: %s", kmod_module_get_name(m), strerror(-r));
			rc = -1;
		}
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return rc;
}

int modules_load_list(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		console_errno("cannot read %s", file);
		return 1;
	}
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		console_log("libkmod: cannot start (no /lib/modules for this kernel?)");
		fclose(f);
		return 1;
	}
	kmod_load_resources(ctx);
	int failed = 0;
	char line[128];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\r\n \t")] = '\0';
		if (line[0] && load_one(ctx, line) < 0)
			failed++;
	}
	kmod_unref(ctx);
	fclose(f);
	return failed;
}
