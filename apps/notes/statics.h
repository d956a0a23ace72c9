// SPDX-License-Identifier: MIT
// The files served under /static/, compiled into the binary (apps/notes/static/).
#pragma once
#include <stddef.h>

struct static_file {
	const char *path;   // "/static/notes.css"
	const char *type;
	const char *data;
	size_t len;
	char etag[20];      // "\"<8 hex digits>\""
};

// Computes lengths and ETags; call once at start.
void statics_init(void);
// The file served at path, or NULL.
const struct static_file *statics_find(const char *path);
