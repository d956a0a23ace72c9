// SPDX-License-Identifier: MIT
// GRUB's environment block: parse, change, write back at the same size.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "grubenv.h"

#define HEADER "# GRUB Environment Block\n"

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > GRUBENV_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

// GRUB escapes '\\' and newlines in values; ours are plain words: printable, no '\\'.
static bool value_ok(const char *s, size_t n)
{
	if (n > GRUBENV_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '\\')
			return false;
	return true;
}

int grubenv_parse(struct grubenv *e, const unsigned char *block, size_t len, char *err,
		  size_t errsz)
{
	memset(e, 0, sizeof(*e));
	if (len != GRUBENV_SIZE || memcmp(block, HEADER, strlen(HEADER)) != 0) {
		snprintf(err, errsz, "not a GRUB environment block (%zu bytes)", len);
		return -1;
	}
	const char *p = (const char *)block + strlen(HEADER), *end = (const char *)block + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			// The padding: '#' to the end.
			for (; p < end; p++)
				if (*p != '#') {
					snprintf(err, errsz, "bad padding at byte %td", p - (const char *)block);
					return -1;
				}
			break;
		}
		if (*p != '#') {
			const char *eq = memchr(p, '=', (size_t)(nl - p));
			if (!eq || !name_ok(p, (size_t)(eq - p)) || !value_ok(eq + 1, (size_t)(nl - eq - 1))) {
				snprintf(err, errsz, "bad line at byte %td", p - (const char *)block);
				return -1;
			}
			if (e->n == GRUBENV_MAX_VARS) {
				snprintf(err, errsz, "more than %d variables", GRUBENV_MAX_VARS);
				return -1;
			}
			memcpy(e->vars[e->n].name, p, (size_t)(eq - p));
			memcpy(e->vars[e->n].value, eq + 1, (size_t)(nl - eq - 1));
			e->n++;
		}
		p = nl + 1;
	}
	return 0;
}

const char *grubenv_get(const struct grubenv *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->vars[i].name, name) == 0)
			return e->vars[i].value;
	return "";
}

int grubenv_set(struct grubenv *e, const char *name, const char *value)
{
	if (!name_ok(name, strlen(name)) || !value_ok(value, strlen(value)))
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->vars[i].name, name) != 0)
			continue;
		if (!*value) {
			e->vars[i] = e->vars[--e->n];
			return 0;
		}
		snprintf(e->vars[i].value, sizeof(e->vars[i].value), "%s", value);
		return 0;
	}
	if (!*value)
		return 0;
	if (e->n == GRUBENV_MAX_VARS)
		return -1;
	snprintf(e->vars[e->n].name, sizeof(e->vars[e->n].name), "%s", name);
	snprintf(e->vars[e->n].value, sizeof(e->vars[e->n].value), "%s", value);
	e->n++;
	return 0;
}

int grubenv_format(const struct grubenv *e, unsigned char block[GRUBENV_SIZE])
{
	size_t off = strlen(HEADER);
	memcpy(block, HEADER, off);
	for (size_t i = 0; i < e->n; i++) {
		size_t nl = strlen(e->vars[i].name), vl = strlen(e->vars[i].value);
		if (off + nl + vl + 2 > GRUBENV_SIZE)
			return -1;
		memcpy(block + off, e->vars[i].name, nl);
		block[off + nl] = '=';
		memcpy(block + off + nl + 1, e->vars[i].value, vl);
		block[off + nl + 1 + vl] = '\n';
		off += nl + vl + 2;
	}
	memset(block + off, '#', GRUBENV_SIZE - off);
	return 0;
}
