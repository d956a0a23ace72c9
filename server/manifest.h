// SPDX-License-Identifier: MIT
// The app manifest, silo-manifest.json at the top of a package: parsed with jansson into a
// struct with a cap on every string and count, and errors that name the field by its JSON
// path ("actions[0].command must be a non-empty array of strings").
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MANIFEST_PATH "silo-manifest.json"   // in the package tree
#define MANIFEST_MAX_BYTES (1 << 20)
#define MANIFEST_TITLE_MAX 128        // bytes in any title
#define MANIFEST_MARKETING_MAX 64     // bytes in marketing_version
#define MANIFEST_NAME_MAX 64          // permission and role names: [A-Za-z0-9_.-]
#define MANIFEST_MAX_ACTIONS 64
#define MANIFEST_MAX_PERMISSIONS 64
#define MANIFEST_MAX_ROLES 64
#define MANIFEST_MAX_ARGS 256         // argv entries in a command
#define MANIFEST_ARG_MAX 4096         // bytes in one argument
#define MANIFEST_MAX_ENV 256          // variables in an action's env
#define MANIFEST_ENV_NAME_MAX 256
#define MANIFEST_ENV_VALUE_MAX 4096
#define MANIFEST_DESCRIPTION_MAX (16 * 1024)
#define MANIFEST_CHANGELOG_MAX (256 * 1024)
#define MANIFEST_AUTHOR_MAX 256
#define MANIFEST_LICENSE_MAX 256
#define MANIFEST_WEBSITE_MAX 2048

struct manifest_command {
	char **argv;     // argc strings and a NULL; argv[0] is an absolute path in the package
	size_t argc;
	char **env;      // nenv "NAME=value" strings and a NULL, ready for execve
	size_t nenv;
};

struct manifest_action {
	char *title;     // the "New ..." button
	struct manifest_command cmd;
};

struct manifest_permission {
	char *name;      // what X-Sandstorm-Permissions lists
	char *title;
};

struct manifest_role {
	char *name;
	char *title;
	size_t *perms;   // indexes into manifest.perms
	size_t nperms;
	bool is_default;
};

struct manifest {
	char *title;
	uint32_t version;             // upgrades go to higher versions only
	char *marketing_version;      // shown to people ("1.2")
	int http_port;                // the app listens on 127.0.0.1:http_port
	struct manifest_action *actions;
	size_t nactions;              // at least one
	struct manifest_command continue_cmd;   // restarts an existing grain (no env)
	struct manifest_permission *perms;
	size_t nperms;
	struct manifest_role *roles;
	size_t nroles;                // 0, or exactly one role is_default
	// Optional, NULL when absent. icon is a package path without a leading '/', ending in
	// .svg or .png; website starts with http:// or https://.
	char *icon, *description, *author, *website, *license, *changelog;
};

enum manifest_result {
	MANIFEST_OK = 0,
	MANIFEST_E_JSON,    // not JSON, not an object, too large, duplicate keys
	MANIFEST_E_FIELD,   // a field missing, mistyped or out of range (err names it)
	MANIFEST_E_NOMEM,
};

// Parses len bytes of untrusted JSON. MANIFEST_OK with *out set (manifest_free it), or an
// error with err set and *out NULL. Unknown fields are ignored.
enum manifest_result manifest_parse(const char *text, size_t len, struct manifest **out,
				    char *err, size_t errsz);
void manifest_free(struct manifest *m);

// The manifest as a JSON object with the same field names (roles list permission names);
// NULL on out-of-memory. The caller json_decref()s it.
json_t *manifest_to_json(const struct manifest *m);
