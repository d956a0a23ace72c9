// SPDX-License-Identifier: MIT
// Unit tests for manifest.c: the example, every required field missing or mistyped
// named by its JSON path, roles and permissions, caps on strings and counts, optional
// fields, and the JSON given back to the API.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "manifest.h"
#include "test.h"
#include "util.h"

static const char example[] =
	"{\"title\": \"Notes\", \"version\": 3, \"marketing_version\": \"1.2\", \"http_port\": 8000,"
	" \"actions\": [{\"title\": \"New notebook\", \"command\": [\"/notes\", \"--port\", "
	"\"8000\"], \"env\": {}}],"
	" \"continue_command\": [\"/notes\", \"--port\", \"8000\"],"
	" \"permissions\": [{\"name\": \"edit\", \"title\": \"Edit notes\"}],"
	" \"roles\": [{\"name\": \"editor\", \"title\": \"Editor\", \"permissions\": [\"edit\"]},"
	"           {\"name\": \"viewer\", \"title\": \"Viewer\", \"permissions\": [], "
	"\"default\": true}]}";

// The example with one field changed (value NULL: removed) at a path like "actions.0.env".
static char *variant(const char *path, json_t *value)
{
	json_t *root = json_loads(example, 0, NULL);
	json_t *obj = root;
	char *p = strdup(path), *save = NULL, *last = NULL;
	for (char *tok = strtok_r(p, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (last)
			obj = json_is_array(obj) ? json_array_get(obj, strtoul(last, NULL, 10))
						 : json_object_get(obj, last);
		last = tok;
	}
	if (json_is_array(obj)) {
		size_t i = strtoul(last, NULL, 10);
		if (value)
			json_array_set_new(obj, i, value);
		else
			json_array_remove(obj, i);
	} else if (value) {
		json_object_set_new(obj, last, value);
	} else {
		json_object_del(obj, last);
	}
	char *s = json_dumps(root, 0);
	json_decref(root);
	free(p);
	return s;
}

// Parses text; returns the error ("" when it parsed) in a static buffer.
static const char *parse_err(const char *text)
{
	static char err[512];
	struct manifest *m = NULL;
	err[0] = '\0';
	if (manifest_parse(text, strlen(text), &m, err, sizeof(err)) == MANIFEST_OK) {
		manifest_free(m);
		err[0] = '\0';
	} else if (m) {
		snprintf(err, sizeof(err), "BUG: *out set on failure");
	}
	return err;
}

static void expect(const char *path, json_t *value, const char *want, const char *what)
{
	char *text = variant(path, value);
	const char *err = parse_err(text);
	CHECK(want ? strstr(err, want) != NULL : err[0] == '\0', "manifest: %s (%s)", what,
	      err[0] ? err : "accepted");
	free(text);
}

static void test_example(void)
{
	struct manifest *m = NULL;
	char err[256] = "";
	int r = manifest_parse(example, strlen(example), &m, err, sizeof(err));
	CHECK(r == MANIFEST_OK && m, "manifest: the issue's example parses (%s)", err);
	if (!m)
		return;
	CHECK(strcmp(m->title, "Notes") == 0 && m->version == 3 &&
	      strcmp(m->marketing_version, "1.2") == 0 && m->http_port == 8000,
	      "manifest: title, version, marketing version, port");
	CHECK(m->nactions == 1 && strcmp(m->actions[0].title, "New notebook") == 0 &&
	      m->actions[0].cmd.argc == 3 && strcmp(m->actions[0].cmd.argv[0], "/notes") == 0 &&
	      m->actions[0].cmd.argv[3] == NULL && m->actions[0].cmd.nenv == 0 &&
	      m->actions[0].cmd.env && m->actions[0].cmd.env[0] == NULL,
	      "manifest: the action, its argv NULL-terminated and an empty env");
	CHECK(m->continue_cmd.argc == 3 && strcmp(m->continue_cmd.argv[2], "8000") == 0,
	      "manifest: continue_command");
	CHECK(m->nperms == 1 && strcmp(m->perms[0].name, "edit") == 0 && m->nroles == 2 &&
	      m->roles[0].nperms == 1 && m->roles[0].perms[0] == 0 && !m->roles[0].is_default &&
	      m->roles[1].nperms == 0 && m->roles[1].is_default,
	      "manifest: permissions and roles, the viewer being the default");
	CHECK(!m->icon && !m->description && !m->website, "manifest: absent optional fields are NULL");
	manifest_free(m);
}

static void test_required(void)
{
	static const char *const fields[] = {"title", "version", "marketing_version", "http_port",
					     "actions", "continue_command"};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		char want[64], what[96];
		snprintf(want, sizeof(want), "%s is required", fields[i]);
		snprintf(what, sizeof(what), "a missing %s is named", fields[i]);
		expect(fields[i], NULL, want, what);
		snprintf(what, sizeof(what), "a null %s counts as missing", fields[i]);
		expect(fields[i], json_null(), want, what);
	}
	expect("actions.0.title", NULL, "actions[0].title is required", "an action's title");
	expect("actions.0.command", NULL, "actions[0].command is required", "an action's command");
	expect("permissions.0.name", NULL, "permissions[0].name is required", "a permission's name");
	expect("permissions.0.title", NULL, "permissions[0].title is required",
	       "a permission's title");
	expect("roles.1.name", NULL, "roles[1].name is required", "a role's name");
	expect("roles.0.title", NULL, "roles[0].title is required", "a role's title");
	expect("permissions", NULL, "roles[0].permissions[0] 'edit' is not one of",
	       "without permissions, a role naming one is refused");
	expect("roles", NULL, NULL, "roles may be left out");
	expect("actions.0.env", NULL, NULL, "env may be left out");
	expect("roles.0.permissions", NULL, NULL, "a role's permissions may be left out");
}

static void test_types(void)
{
	expect("title", json_integer(5), "title must be a string", "a numeric title");
	expect("title", json_string(""), "title must not be empty", "an empty title");
	expect("version", json_string("3"), "version must be an integer from 0 to 4294967295",
	       "a string version");
	expect("version", json_real(3.0), "version must be an integer", "a real version");
	expect("version", json_integer(-1), "version must be an integer", "a negative version");
	expect("version", json_integer(4294967296LL), "version must be an integer",
	       "a version past 32 bits");
	expect("version", json_integer(0), NULL, "version 0 is fine");
	expect("http_port", json_integer(0), "http_port must be an integer from 1 to 65535",
	       "port 0");
	expect("http_port", json_integer(65536), "http_port must be an integer from 1 to 65535",
	       "port 65536");
	expect("http_port", json_string("8000"), "http_port must be an integer", "a string port");
	expect("marketing_version", json_true(), "marketing_version must be a string",
	       "a boolean marketing version");
	expect("actions", json_object(), "actions must be a non-empty array of objects",
	       "actions as an object");
	expect("actions", json_array(), "actions must be a non-empty array of objects",
	       "no actions");
	expect("actions.0", json_string("x"), "actions[0] must be an object", "an action string");
	expect("actions.0.command", json_array(),
	       "actions[0].command must be a non-empty array of strings", "an empty command");
	expect("actions.0.command", json_string("/notes"),
	       "actions[0].command must be a non-empty array of strings", "a command string");
	expect("actions.0.command", json_pack("[s, i]", "/notes", 3),
	       "actions[0].command must be a non-empty array of strings", "a numeric argument");
	expect("actions.0.command", json_pack("[s]", "notes"),
	       "actions[0].command[0] must be an absolute path", "a relative program");
	expect("actions.0.command", json_pack("[s, s]", "/notes", ""), NULL,
	       "an empty argument after the program is fine");
	expect("actions.0.env", json_array(), "actions[0].env must be an object of strings",
	       "env as an array");
	expect("actions.0.env", json_pack("{s:i}", "PORT", 1), "actions[0].env.PORT must be a string",
	       "a numeric env value");
	expect("actions.0.env", json_pack("{s:s}", "1X", "y"),
	       "actions[0].env.1X is not a valid variable name", "an env name with a digit first");
	expect("actions.0.env", json_pack("{s:s}", "A=B", "y"), "is not a valid variable name",
	       "an env name with '='");
	expect("continue_command", json_string("/notes"),
	       "continue_command must be a non-empty array of strings", "continue_command string");
	expect("continue_command", json_pack("[s]", "x"),
	       "continue_command[0] must be an absolute path", "a relative continue_command");
	expect("permissions", json_object(), "permissions must be an array of objects",
	       "permissions as an object");
	expect("permissions.0.name", json_string("ed it"),
	       "permissions[0].name must be made of letters", "a permission name with a space");
	expect("permissions.0.name", json_string("a,b"), "must be made of letters",
	       "a permission name with a comma (it goes in a comma list)");
	expect("roles.0.permissions", json_string("edit"),
	       "roles[0].permissions must be an array of permission names", "role permissions string");
	expect("roles.0.permissions", json_pack("[i]", 0), "roles[0].permissions[0] must be a "
	       "permission name", "a numeric role permission");
	expect("roles.0.permissions", json_pack("[s]", "edt"),
	       "roles[0].permissions[0] 'edt' is not one of the manifest's permissions",
	       "a role naming an unknown permission");
	expect("roles.0.permissions", json_pack("[s, s]", "edit", "edit"),
	       "roles[0].permissions[1] repeats 'edit'", "a role repeating a permission");
	expect("roles.0.default", json_true(),
	       "roles must have exactly one role with \"default\": true (found 2)",
	       "two default roles");
	expect("roles.1.default", json_false(),
	       "roles must have exactly one role with \"default\": true (found 0)", "no default role");
	expect("roles.1.default", json_string("yes"), "roles[1].default must be true or false",
	       "a string default");
	expect("roles.1.name", json_string("editor"), "roles[1].name 'editor' is already the name "
	       "of roles[0]", "two roles with one name");
	expect("roles", json_array(), NULL, "an empty roles list is no roles");
	expect("unknown_field", json_pack("{s:i}", "x", 1), NULL, "unknown fields are ignored");
	expect("actions.0.nounPhrase", json_string("notebook"), NULL,
	       "unknown fields in an action are ignored");
	expect("title", json_string("a\nb"), "title must not contain control characters",
	       "a title with a line break");
}

static void test_optional(void)
{
	struct manifest *m = NULL;
	char err[256] = "";
	json_t *root = json_loads(example, 0, NULL);
	json_object_set_new(root, "icon", json_string("/icons/app.svg"));
	json_object_set_new(root, "description", json_string("Line one.\nLine two.\tTabbed."));
	json_object_set_new(root, "author", json_string("Ada"));
	json_object_set_new(root, "website", json_string("https://example.org/notes"));
	json_object_set_new(root, "license", json_string("MIT"));
	json_object_set_new(root, "changelog", json_string("3: better\n"));
	json_object_set_new(json_array_get(json_object_get(root, "actions"), 0), "env",
			    json_pack("{s:s, s:s}", "HOME", "/var", "LANG", "C.UTF-8"));
	char *text = json_dumps(root, 0);
	int r = manifest_parse(text, strlen(text), &m, err, sizeof(err));
	CHECK(r == MANIFEST_OK && m && strcmp(m->icon, "icons/app.svg") == 0 &&
	      strstr(m->description, "\n") && strcmp(m->website, "https://example.org/notes") == 0 &&
	      strcmp(m->license, "MIT") == 0 && strcmp(m->author, "Ada") == 0 && m->changelog,
	      "manifest: optional fields, the icon kept without its leading '/' (%s)", err);
	CHECK(m && m->actions[0].cmd.nenv == 2 &&
	      strcmp(m->actions[0].cmd.env[0], "HOME=/var") == 0 &&
	      strcmp(m->actions[0].cmd.env[1], "LANG=C.UTF-8") == 0 && !m->actions[0].cmd.env[2],
	      "manifest: env becomes NAME=value strings in order, NULL-terminated");
	// Round trip through the API's JSON.
	json_t *j = m ? manifest_to_json(m) : NULL;
	char *dumped = j ? json_dumps(j, 0) : NULL;
	struct manifest *m2 = NULL;
	json_t *j2 = NULL;
	if (dumped && manifest_parse(dumped, strlen(dumped), &m2, err, sizeof(err)) == MANIFEST_OK)
		j2 = manifest_to_json(m2);
	CHECK(j2 && json_equal(j, j2), "manifest: to_json gives JSON that parses to the same");
	CHECK(j && json_integer_value(json_object_get(j, "version")) == 3 &&
	      json_is_true(json_object_get(json_array_get(json_object_get(j, "roles"), 1),
					   "default")) &&
	      strcmp(json_string_value(json_array_get(json_object_get(json_array_get(
			     json_object_get(j, "roles"), 0), "permissions"), 0)), "edit") == 0,
	      "manifest: to_json lists roles with permission names and default flags");
	json_decref(j);
	json_decref(j2);
	manifest_free(m2);
	free(dumped);
	manifest_free(m);
	free(text);
	json_decref(root);

	expect("icon", json_string("../etc/x.svg"), "icon is not a path in the package",
	       "an icon outside the package");
	expect("icon", json_string("icon.gif"), "icon must name a .svg or .png file", "a gif icon");
	expect("icon", json_string("a//b.png"), "icon is not a path", "an icon with '//'");
	expect("website", json_string("javascript:alert(1)"),
	       "website must be an http:// or https:// URL", "a javascript: website");
	expect("description", json_string("a\x01" "b"), "description must not contain control",
	       "a description with a control character");
}

static void test_caps(void)
{
	char big[5000];
	memset(big, 'x', sizeof(big));
	expect("title", json_stringn(big, 129), "title is longer than 128 bytes", "a long title");
	expect("title", json_stringn(big, 128), NULL, "a 128-byte title is fine");
	expect("marketing_version", json_stringn(big, 65), "marketing_version is longer than 64",
	       "a long marketing version");
	expect("permissions.0.name", json_stringn(big, 65), "permissions[0].name is longer than 64",
	       "a long permission name");
	json_t *args = json_array(), *args_ok = json_array(), *long_arg = json_array();
	json_array_append_new(args, json_string("/notes"));
	json_array_append_new(args_ok, json_string("/notes"));
	for (int i = 0; i < 256; i++)
		json_array_append_new(args, json_string("a"));
	for (int i = 0; i < 255; i++)
		json_array_append_new(args_ok, json_string("a"));
	json_array_append_new(long_arg, json_string("/notes"));
	json_array_append_new(long_arg, json_stringn(big, 4097));
	expect("actions.0.command", args, "actions[0].command has more than 256 arguments",
	       "257 arguments");
	expect("actions.0.command", args_ok, NULL, "256 arguments are fine");
	expect("actions.0.command", long_arg, "actions[0].command[1] is longer than 4096 bytes",
	       "an argument over 4096 bytes");
	json_t *env = json_object(), *actions = json_array(), *perms = json_array(),
	       *roles = json_array();
	for (int i = 0; i < 257; i++) {
		char name[16];
		snprintf(name, sizeof(name), "V%d", i);
		json_object_set_new(env, name, json_string("x"));
	}
	for (int i = 0; i < 65; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i);
		json_array_append_new(actions, json_pack("{s:s, s:[s]}", "title", "t", "command",
							 "/x"));
		json_array_append_new(perms, json_pack("{s:s, s:s}", "name", name, "title", "t"));
		json_array_append_new(roles, json_pack("{s:s, s:s}", "name", name, "title", "t"));
	}
	expect("actions.0.env", env, "actions[0].env has more than 256 variables", "257 variables");
	expect("actions", actions, "actions has more than 64 entries", "65 actions");
	expect("permissions", perms, "permissions has more than 64 entries", "65 permissions");
	expect("roles", roles, "roles has more than 64 entries", "65 roles");
}

static void test_json(void)
{
	CHECK(strstr(parse_err("{\"title\": "), "not valid JSON"), "manifest: broken JSON");
	CHECK(strstr(parse_err("[1, 2]"), "must be a JSON object"), "manifest: an array");
	CHECK(strstr(parse_err("{\"title\": \"a\", \"title\": \"b\"}"), "not valid JSON"),
	      "manifest: duplicate keys are refused");
	CHECK(strstr(parse_err("{\"title\": \"a\\u0000b\"}"), "not valid JSON") ||
	      strstr(parse_err("{\"title\": \"a\\u0000b\"}"), "NUL"),
	      "manifest: a NUL in a string is refused");
	size_t n = MANIFEST_MAX_BYTES + 1;
	char *huge = malloc(n + 1);
	memset(huge, ' ', n);
	huge[0] = '{';
	huge[n - 1] = '}';
	huge[n] = '\0';
	CHECK(strstr(parse_err(huge), "larger than"), "manifest: over 1 MiB is refused unread");
	free(huge);
	struct manifest *m = (struct manifest *)1;
	char err[8];
	CHECK(manifest_parse("{}", 2, &m, err, sizeof(err)) == MANIFEST_E_FIELD && m == NULL &&
	      strlen(err) < sizeof(err), "manifest: *out is NULL on failure; err is cut to size");
}

int main(void)
{
	json_object_seed(1);
	test_example();
	test_required();
	test_types();
	test_optional();
	test_caps();
	test_json();
	return test_done();
}
