// SPDX-License-Identifier: MIT
// Who is calling: the identity headers the bridge attaches (Sandstorm's names), checked.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "text.h"

// Ids are opaque to the app; accept visible ASCII only so they are safe in logs and JSON.
static bool copy_id(const char *v, char *out, size_t outsz)
{
	size_t n = v ? strlen(v) : 0;
	if (!n || n >= outsz)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f)
			return false;
	memcpy(out, v, n + 1);
	return true;
}

static void read_name(const char *v, struct identity *id)
{
	char raw[IDENTITY_NAME_MAX * 3 + 1];
	size_t vl = v ? strlen(v) : 0;
	const char *fallback = id->anonymous ? "Anonymous" : "Unknown user";
	if (!vl || vl >= sizeof(raw) ||
	    http_url_decode(v, vl, raw, sizeof(raw), false) < 0 ||
	    !text_utf8_valid(raw, strlen(raw))) {
		snprintf(id->name, sizeof(id->name), "%s", fallback);
		return;
	}
	char *clean = text_clean(raw, strlen(raw), true);
	if (!clean || !*clean || strlen(clean) > IDENTITY_NAME_MAX)
		snprintf(id->name, sizeof(id->name), "%s", fallback);
	else
		memcpy(id->name, clean, strlen(clean) + 1);
	free(clean);
}

static bool perm_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

static void read_perms(const char *v, struct identity *id)
{
	while (v && *v && id->nperms < IDENTITY_PERMS_MAX) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		size_t n = strcspn(v, ",");
		size_t t = n;
		while (t && (v[t - 1] == ' ' || v[t - 1] == '\t'))
			t--;
		bool ok = t && t <= IDENTITY_PERM_MAX;
		for (size_t i = 0; ok && i < t; i++)
			ok = perm_char(v[i]);
		if (ok) {
			memcpy(id->perms[id->nperms], v, t);
			id->perms[id->nperms][t] = '\0';
			if (strcmp(id->perms[id->nperms], "edit") == 0)
				id->can_edit = true;
			id->nperms++;
		}
		v += n;
	}
}

void identity_from_request(const struct http_request *req, struct identity *id)
{
	memset(id, 0, sizeof(*id));
	id->anonymous = !copy_id(http_header(req, "X-Sandstorm-User-Id"), id->user_id,
				 sizeof(id->user_id));
	if (id->anonymous)
		id->user_id[0] = '\0';
	if (!copy_id(http_header(req, "X-Sandstorm-Session-Id"), id->session_id,
		     sizeof(id->session_id)))
		id->session_id[0] = '\0';
	read_name(http_header(req, "X-Sandstorm-Username"), id);
	read_perms(http_header(req, "X-Sandstorm-Permissions"), id);
}

void identity_key(const struct identity *id, char *out, size_t outsz)
{
	if (!id->anonymous)
		snprintf(out, outsz, "u:%s", id->user_id);
	else if (id->session_id[0])
		snprintf(out, outsz, "s:%s", id->session_id);
	else
		snprintf(out, outsz, "anonymous");
}
