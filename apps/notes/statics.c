// SPDX-License-Identifier: MIT
// The files served under /static/, compiled into the binary by scripts/embed-file.py.
#include <stdio.h>
#include <string.h>

#include "statics.h"
#include "text.h"

// Defined by the generated files (NUL-terminated text).
extern const char notes_static_notes_css[], notes_static_notes_js[], notes_static_icon_svg[];

static struct static_file files[] = {
	{"/static/notes.css", "text/css; charset=utf-8", notes_static_notes_css, 0, ""},
	{"/static/notes.js", "text/javascript; charset=utf-8", notes_static_notes_js, 0, ""},
	{"/static/icon.svg", "image/svg+xml", notes_static_icon_svg, 0, ""},
};

void statics_init(void)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		files[i].len = strlen(files[i].data);
		snprintf(files[i].etag, sizeof(files[i].etag), "\"%08x\"",
			 text_hash(files[i].data, files[i].len));
	}
}

const struct static_file *statics_find(const char *path)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	return NULL;
}
