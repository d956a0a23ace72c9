// SPDX-License-Identifier: MIT
// Parsing silo-manifest.json into struct manifest, and back to JSON for the API.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive.h"
#include "manifest.h"

// The parser's state: where errors go. Every failure sets err and returns -1.
struct mp {
	char *err;
	size_t errsz;
	int nomem;
};

enum str_kind {
	STR_LINE,   // one line of text: no control characters
	STR_TEXT,   // text that may hold tabs and line breaks
	STR_ANY,    // anything but NUL (arguments, environment values)
	STR_NAME,   // [A-Za-z0-9_.-]
};

__attribute__((format(printf, 3, 4)))
static int mp_fail(struct mp *p, const char *path, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%s %s", path, why);
	return -1;
}

static int mp_nomem(struct mp *p)
{
	p->nomem = 1;
	snprintf(p->err, p->errsz, "out of memory");
	return -1;
}

// "prefix.key", or "key" at the top.
static const char *mp_path(char *out, size_t outsz, const char *prefix, const char *key)
{
	snprintf(out, outsz, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
	return out;
}

static int name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

// Checks a JSON string's characters; 0 or -1 with err naming path.
static int check_chars(struct mp *p, const char *path, const char *s, size_t n,
		       enum str_kind kind)
{
	if (memchr(s, '\0', n))
		return mp_fail(p, path, "must not contain NUL characters");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (kind == STR_NAME && !name_char(c))
			return mp_fail(p, path, "must be made of letters, digits, '_', '.' and '-'");
		if (kind == STR_ANY || kind == STR_NAME)
			continue;
		int space = kind == STR_TEXT && (c == '\n' || c == '\t' || c == '\r');
		if (c == 0x7f || (c < 0x20 && !space))
			return mp_fail(p, path, "must not contain control characters");
	}
	return 0;
}

// A string value v at path, 1..maxlen bytes (0..maxlen when may_be_empty), copied to *out.
static int take_str(struct mp *p, json_t *v, const char *path, size_t maxlen, bool may_be_empty,
		    enum str_kind kind, char **out)
{
	if (!json_is_string(v))
		return mp_fail(p, path, "must be a string");
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n == 0 && !may_be_empty)
		return mp_fail(p, path, "must not be empty");
	if (n > maxlen)
		return mp_fail(p, path, "is longer than %zu bytes", maxlen);
	if (check_chars(p, path, s, n, kind) < 0)
		return -1;
	*out = strndup(s, n);
	return *out ? 0 : mp_nomem(p);
}

// obj[key] as a string; a missing or null optional field leaves *out NULL.
static int get_str(struct mp *p, json_t *obj, const char *prefix, const char *key, bool required,
		   size_t maxlen, enum str_kind kind, char **out)
{
	char path[128];
	json_t *v = json_object_get(obj, key);
	mp_path(path, sizeof(path), prefix, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return required ? mp_fail(p, path, "is required") : 0;
	return take_str(p, v, path, maxlen, false, kind, out);
}

// A NULL-terminated array of n strings (each freed, then the array).
static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

static int get_argv(struct mp *p, json_t *v, const char *path, struct manifest_command *cmd)
{
	if (!json_is_array(v) || json_array_size(v) == 0)
		return mp_fail(p, path, "must be a non-empty array of strings");
	size_t n = json_array_size(v);
	if (n > MANIFEST_MAX_ARGS)
		return mp_fail(p, path, "has more than %d arguments", MANIFEST_MAX_ARGS);
	cmd->argv = calloc(n + 1, sizeof(char *));
	if (!cmd->argv)
		return mp_nomem(p);
	for (size_t i = 0; i < n; i++) {
		char ep[256];
		snprintf(ep, sizeof(ep), "%s[%zu]", path, i);
		json_t *a = json_array_get(v, i);
		if (!json_is_string(a))
			return mp_fail(p, path, "must be a non-empty array of strings");
		if (take_str(p, a, ep, MANIFEST_ARG_MAX, i > 0, STR_ANY, &cmd->argv[i]) < 0)
			return -1;
		cmd->argc = i + 1;
	}
	if (cmd->argv[0][0] != '/') {
		char ep[256];
		snprintf(ep, sizeof(ep), "%s[0]", path);
		return mp_fail(p, ep, "must be an absolute path (the program in the package)");
	}
	return 0;
}

// s cut to fit out, with bytes outside printable ASCII as '?', for messages.
static const char *printable(char *out, size_t outsz, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < outsz; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static int env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	return 1;
}

static int get_env(struct mp *p, json_t *v, const char *path, struct manifest_command *cmd)
{
	if (!json_is_object(v))
		return mp_fail(p, path, "must be an object of strings");
	size_t n = json_object_size(v);
	if (n > MANIFEST_MAX_ENV)
		return mp_fail(p, path, "has more than %d variables", MANIFEST_MAX_ENV);
	cmd->env = calloc(n + 1, sizeof(char *));
	if (!cmd->env)
		return mp_nomem(p);
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val) {
		char ep[256];
		size_t klen = strlen(key);
		char shown[65];
		snprintf(ep, sizeof(ep), "%s.%s", path, printable(shown, sizeof(shown), key));
		if (klen > MANIFEST_ENV_NAME_MAX || !env_name_ok(key))
			return mp_fail(p, ep, "is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*, "
				       "at most %d bytes)", MANIFEST_ENV_NAME_MAX);
		char *s;
		if (take_str(p, val, ep, MANIFEST_ENV_VALUE_MAX, true, STR_ANY, &s) < 0)
			return -1;
		size_t vlen = strlen(s);
		char *kv = malloc(klen + vlen + 2);
		if (!kv) {
			free(s);
			return mp_nomem(p);
		}
		memcpy(kv, key, klen);
		kv[klen] = '=';
		memcpy(kv + klen + 1, s, vlen + 1);
		free(s);
		cmd->env[cmd->nenv++] = kv;
	}
	return 0;
}

// obj[key] as an array of at most max objects; *n 0 when absent and optional.
static int get_objects(struct mp *p, json_t *obj, const char *key, bool required, size_t max,
		       json_t **arr, size_t *n)
{
	json_t *v = json_object_get(obj, key);
	*arr = NULL;
	*n = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return mp_fail(p, key, "is required");
		return 0;
	}
	if (!json_is_array(v) || (required && json_array_size(v) == 0))
		return mp_fail(p, key, "must be a%s array of objects", required ? " non-empty" : "n");
	if (json_array_size(v) > max)
		return mp_fail(p, key, "has more than %zu entries", max);
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (!json_is_object(json_array_get(v, i))) {
			char ep[256];
			snprintf(ep, sizeof(ep), "%s[%zu]", key, i);
			return mp_fail(p, ep, "must be an object");
		}
	}
	*arr = v;
	*n = json_array_size(v);
	return 0;
}

static int parse_actions(struct mp *p, json_t *root, struct manifest *m)
{
	json_t *arr;
	size_t n;
	if (get_objects(p, root, "actions", true, MANIFEST_MAX_ACTIONS, &arr, &n) < 0)
		return -1;
	m->actions = calloc(n, sizeof(*m->actions));
	if (!m->actions)
		return mp_nomem(p);
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		struct manifest_action *act = &m->actions[i];
		char pre[48], path[96];
		snprintf(pre, sizeof(pre), "actions[%zu]", i);
		m->nactions = i + 1;
		if (get_str(p, a, pre, "title", true, MANIFEST_TITLE_MAX, STR_LINE, &act->title) < 0)
			return -1;
		json_t *c = json_object_get(a, "command");
		mp_path(path, sizeof(path), pre, "command");
		if (!c || json_is_null(c))
			return mp_fail(p, path, "is required");
		if (get_argv(p, c, path, &act->cmd) < 0)
			return -1;
		json_t *e = json_object_get(a, "env");
		mp_path(path, sizeof(path), pre, "env");
		if (e && !json_is_null(e) && get_env(p, e, path, &act->cmd) < 0)
			return -1;
		if (!act->cmd.env && !(act->cmd.env = calloc(1, sizeof(char *))))
			return mp_nomem(p);
	}
	return 0;
}

static int parse_permissions(struct mp *p, json_t *root, struct manifest *m)
{
	json_t *arr;
	size_t n;
	if (get_objects(p, root, "permissions", false, MANIFEST_MAX_PERMISSIONS, &arr, &n) < 0)
		return -1;
	if (n && !(m->perms = calloc(n, sizeof(*m->perms))))
		return mp_nomem(p);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		struct manifest_permission *perm = &m->perms[i];
		char pre[48];
		snprintf(pre, sizeof(pre), "permissions[%zu]", i);
		m->nperms = i + 1;
		if (get_str(p, o, pre, "name", true, MANIFEST_NAME_MAX, STR_NAME, &perm->name) < 0 ||
		    get_str(p, o, pre, "title", true, MANIFEST_TITLE_MAX, STR_LINE, &perm->title) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->perms[j].name, perm->name) == 0) {
				char path[96];
				return mp_fail(p, mp_path(path, sizeof(path), pre, "name"),
					       "'%s' is already the name of permissions[%zu]",
					       perm->name, j);
			}
		}
	}
	return 0;
}

static int role_perms(struct mp *p, json_t *o, const char *pre, const struct manifest *m,
		      struct manifest_role *role)
{
	char path[96];
	json_t *v = json_object_get(o, "permissions");
	mp_path(path, sizeof(path), pre, "permissions");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return mp_fail(p, path, "must be an array of permission names");
	size_t n = json_array_size(v);
	if (n > MANIFEST_MAX_PERMISSIONS)
		return mp_fail(p, path, "has more than %d entries", MANIFEST_MAX_PERMISSIONS);
	if (n && !(role->perms = calloc(n, sizeof(size_t))))
		return mp_nomem(p);
	for (size_t i = 0; i < n; i++) {
		char ep[256];
		json_t *s = json_array_get(v, i);
		snprintf(ep, sizeof(ep), "%s[%zu]", path, i);
		if (!json_is_string(s))
			return mp_fail(p, ep, "must be a permission name (a string)");
		const char *name = json_string_value(s);
		size_t k = 0;
		while (k < m->nperms && strcmp(m->perms[k].name, name) != 0)
			k++;
		if (k == m->nperms || strlen(name) != json_string_length(s))
		{
			char shown[65];
			return mp_fail(p, ep, "'%s' is not one of the manifest's permissions",
				       printable(shown, sizeof(shown), name));
		}
		for (size_t j = 0; j < role->nperms; j++) {
			if (role->perms[j] == k)
				return mp_fail(p, ep, "repeats '%s'", name);
		}
		role->perms[role->nperms++] = k;
	}
	return 0;
}

static int parse_roles(struct mp *p, json_t *root, struct manifest *m)
{
	json_t *arr;
	size_t n, ndefault = 0;
	if (get_objects(p, root, "roles", false, MANIFEST_MAX_ROLES, &arr, &n) < 0)
		return -1;
	if (n && !(m->roles = calloc(n, sizeof(*m->roles))))
		return mp_nomem(p);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		struct manifest_role *role = &m->roles[i];
		char pre[48], path[96];
		snprintf(pre, sizeof(pre), "roles[%zu]", i);
		m->nroles = i + 1;
		if (get_str(p, o, pre, "name", true, MANIFEST_NAME_MAX, STR_NAME, &role->name) < 0 ||
		    get_str(p, o, pre, "title", true, MANIFEST_TITLE_MAX, STR_LINE, &role->title) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->roles[j].name, role->name) == 0)
				return mp_fail(p, mp_path(path, sizeof(path), pre, "name"),
					       "'%s' is already the name of roles[%zu]", role->name, j);
		}
		if (role_perms(p, o, pre, m, role) < 0)
			return -1;
		json_t *d = json_object_get(o, "default");
		if (d && !json_is_null(d) && !json_is_boolean(d))
			return mp_fail(p, mp_path(path, sizeof(path), pre, "default"),
				       "must be true or false");
		role->is_default = json_is_true(d);
		ndefault += role->is_default;
	}
	if (n && ndefault != 1)
		return mp_fail(p, "roles", "must have exactly one role with \"default\": true "
			       "(found %zu)", ndefault);
	return 0;
}

static int parse_scalars(struct mp *p, json_t *root, struct manifest *m)
{
	if (get_str(p, root, NULL, "title", true, MANIFEST_TITLE_MAX, STR_LINE, &m->title) < 0)
		return -1;
	json_t *v = json_object_get(root, "version");
	if (!v || json_is_null(v))
		return mp_fail(p, "version", "is required");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return mp_fail(p, "version", "must be an integer from 0 to %u", UINT32_MAX);
	m->version = (uint32_t)json_integer_value(v);
	if (get_str(p, root, NULL, "marketing_version", true, MANIFEST_MARKETING_MAX, STR_LINE,
		    &m->marketing_version) < 0)
		return -1;
	v = json_object_get(root, "http_port");
	if (!v || json_is_null(v))
		return mp_fail(p, "http_port", "is required");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return mp_fail(p, "http_port", "must be an integer from 1 to 65535");
	m->http_port = (int)json_integer_value(v);
	return 0;
}

static int parse_optional(struct mp *p, json_t *root, struct manifest *m)
{
	if (get_str(p, root, NULL, "icon", false, ARCHIVE_PATH_MAX + 1, STR_LINE, &m->icon) < 0 ||
	    get_str(p, root, NULL, "description", false, MANIFEST_DESCRIPTION_MAX, STR_TEXT,
		    &m->description) < 0 ||
	    get_str(p, root, NULL, "author", false, MANIFEST_AUTHOR_MAX, STR_LINE, &m->author) < 0 ||
	    get_str(p, root, NULL, "website", false, MANIFEST_WEBSITE_MAX, STR_LINE,
		    &m->website) < 0 ||
	    get_str(p, root, NULL, "license", false, MANIFEST_LICENSE_MAX, STR_LINE,
		    &m->license) < 0 ||
	    get_str(p, root, NULL, "changelog", false, MANIFEST_CHANGELOG_MAX, STR_TEXT,
		    &m->changelog) < 0)
		return -1;
	if (m->icon) {
		// Stored without the leading '/': a path in the package, as the archive spells it.
		const char *icon = m->icon + (m->icon[0] == '/'), *why;
		size_t n = strlen(icon);
		if (archive_path_valid(icon, n, &why) < 0)
			return mp_fail(p, "icon", "is not a path in the package (%s)", why);
		if (n < 5 || (strcmp(icon + n - 4, ".svg") != 0 && strcmp(icon + n - 4, ".png") != 0))
			return mp_fail(p, "icon", "must name a .svg or .png file");
		memmove(m->icon, icon, n + 1);
	}
	// The shell shows the website as a link: no javascript: or data: URLs.
	if (m->website && strncmp(m->website, "https://", 8) != 0 &&
	    strncmp(m->website, "http://", 7) != 0)
		return mp_fail(p, "website", "must be an http:// or https:// URL");
	return 0;
}

enum manifest_result manifest_parse(const char *text, size_t len, struct manifest **out,
				    char *err, size_t errsz)
{
	struct mp p = {.err = err, .errsz = errsz};
	*out = NULL;
	if (len > MANIFEST_MAX_BYTES) {
		snprintf(err, errsz, "the manifest is larger than %d bytes", MANIFEST_MAX_BYTES);
		return MANIFEST_E_JSON;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errsz, "not valid JSON: %s at line %d column %d", je.text, je.line,
			 je.column);
		return MANIFEST_E_JSON;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errsz, "the manifest must be a JSON object");
		return MANIFEST_E_JSON;
	}
	struct manifest *m = calloc(1, sizeof(*m));
	int rc = m ? 0 : mp_nomem(&p);
	if (!rc)
		rc = parse_scalars(&p, root, m);
	if (!rc)
		rc = parse_actions(&p, root, m);
	if (!rc) {
		json_t *c = json_object_get(root, "continue_command");
		rc = !c || json_is_null(c) ? mp_fail(&p, "continue_command", "is required")
					   : get_argv(&p, c, "continue_command", &m->continue_cmd);
	}
	if (!rc && !(m->continue_cmd.env = calloc(1, sizeof(char *))))
		rc = mp_nomem(&p);
	if (!rc)
		rc = parse_permissions(&p, root, m);
	if (!rc)
		rc = parse_roles(&p, root, m);
	if (!rc)
		rc = parse_optional(&p, root, m);
	json_decref(root);
	if (rc) {
		manifest_free(m);
		return p.nomem ? MANIFEST_E_NOMEM : MANIFEST_E_FIELD;
	}
	*out = m;
	return MANIFEST_OK;
}

static void command_free(struct manifest_command *c)
{
	strv_free(c->argv);
	strv_free(c->env);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free(m->title);
	free(m->marketing_version);
	for (size_t i = 0; i < m->nactions; i++) {
		free(m->actions[i].title);
		command_free(&m->actions[i].cmd);
	}
	free(m->actions);
	command_free(&m->continue_cmd);
	for (size_t i = 0; i < m->nperms; i++) {
		free(m->perms[i].name);
		free(m->perms[i].title);
	}
	free(m->perms);
	for (size_t i = 0; i < m->nroles; i++) {
		free(m->roles[i].name);
		free(m->roles[i].title);
		free(m->roles[i].perms);
	}
	free(m->roles);
	free(m->icon);
	free(m->description);
	free(m->author);
	free(m->website);
	free(m->license);
	free(m->changelog);
	free(m);
}

// --- back to JSON ---

// Sets obj[key] = v (taking v); a NULL v or a failed set marks *ok false.
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		*ok = false;
}

static void append(json_t *arr, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(arr, v) < 0)
		*ok = false;
}

static json_t *argv_json(const struct manifest_command *c, bool *ok)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->argc; i++)
		append(a, json_string(c->argv[i]), ok);
	return a;
}

static json_t *env_json(const struct manifest_command *c, bool *ok)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < c->nenv; i++) {
		const char *eq = strchr(c->env[i], '=');
		char name[MANIFEST_ENV_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - c->env[i]), c->env[i]);
		put(o, name, json_string(eq + 1), ok);
	}
	return o;
}

static json_t *roles_json(const struct manifest *m, bool *ok)
{
	json_t *roles = json_array();
	for (size_t i = 0; roles && i < m->nroles; i++) {
		const struct manifest_role *r = &m->roles[i];
		json_t *o = json_object(), *perms = json_array();
		for (size_t j = 0; perms && j < r->nperms; j++)
			append(perms, json_string(m->perms[r->perms[j]].name), ok);
		if (o) {
			put(o, "name", json_string(r->name), ok);
			put(o, "title", json_string(r->title), ok);
			put(o, "permissions", perms, ok);
			put(o, "default", json_boolean(r->is_default), ok);
		} else {
			json_decref(perms);
		}
		append(roles, o, ok);
	}
	return roles;
}

json_t *manifest_to_json(const struct manifest *m)
{
	bool ok = true;
	json_t *o = json_object();
	if (!o)
		return NULL;
	put(o, "title", json_string(m->title), &ok);
	put(o, "version", json_integer(m->version), &ok);
	put(o, "marketing_version", json_string(m->marketing_version), &ok);
	put(o, "http_port", json_integer(m->http_port), &ok);
	json_t *actions = json_array();
	for (size_t i = 0; actions && i < m->nactions; i++) {
		json_t *a = json_object();
		if (a) {
			put(a, "title", json_string(m->actions[i].title), &ok);
			put(a, "command", argv_json(&m->actions[i].cmd, &ok), &ok);
			put(a, "env", env_json(&m->actions[i].cmd, &ok), &ok);
		}
		append(actions, a, &ok);
	}
	put(o, "actions", actions, &ok);
	put(o, "continue_command", argv_json(&m->continue_cmd, &ok), &ok);
	json_t *perms = json_array();
	for (size_t i = 0; perms && i < m->nperms; i++) {
		json_t *p = json_object();
		if (p) {
			put(p, "name", json_string(m->perms[i].name), &ok);
			put(p, "title", json_string(m->perms[i].title), &ok);
		}
		append(perms, p, &ok);
	}
	put(o, "permissions", perms, &ok);
	put(o, "roles", roles_json(m, &ok), &ok);
	const struct {
		const char *key, *val;
	} opt[] = {{"icon", m->icon},       {"description", m->description},
		   {"author", m->author},   {"website", m->website},
		   {"license", m->license}, {"changelog", m->changelog}};
	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		if (opt[i].val)
			put(o, opt[i].key, json_string(opt[i].val), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
