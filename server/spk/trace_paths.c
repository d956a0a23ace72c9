// SPDX-License-Identifier: MIT
// Path helpers for `spk trace`: a hash set of paths, joining, the never-packaged prefixes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "trace_priv.h"

static uint64_t set_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;   // FNV-1a
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void trace_set_init(struct trace_set *s)
{
	s->slots = NULL;
	s->cap = s->len = 0;
}

void trace_set_free(struct trace_set *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	trace_set_init(s);
}

static size_t set_find(char **slots, size_t cap, const char *str)
{
	size_t i = (size_t)set_hash(str) & (cap - 1);
	while (slots[i] && strcmp(slots[i], str) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static void set_grow(struct trace_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		die("trace: out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			slots[set_find(slots, cap, s->slots[i])] = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
}

bool trace_set_add(struct trace_set *s, const char *str)
{
	// Keep the load under one half so probes stay short.
	if ((s->len + 1) * 2 > s->cap)
		set_grow(s);
	size_t i = set_find(s->slots, s->cap, str);
	if (s->slots[i])
		return false;
	if (!(s->slots[i] = strdup(str)))
		die("trace: out of memory");
	s->len++;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **trace_set_sorted(const struct trace_set *s)
{
	const char **v = calloc(s->len + 1, sizeof(*v));
	if (!v)
		die("trace: out of memory");
	size_t n = 0;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			v[n++] = s->slots[i];
	qsort(v, n, sizeof(*v), cmp_str);
	return v;
}

int trace_path_join(char *out, size_t size, const char *base, const char *rel)
{
	size_t bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	int n = snprintf(out, size, "%.*s/%s", (int)bl, base, rel);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

// The host's own state, kernel interfaces and per-user data: the sandbox provides its own
// /dev, /tmp and /var (the grain's data), and has no /proc or /sys at all.
static const char *const skipped_prefixes[] = {
	"/proc", "/sys", "/dev", "/tmp", "/var", "/run", "/home", "/root",
};

bool trace_path_skipped(const char *path)
{
	for (size_t i = 0; i < sizeof(skipped_prefixes) / sizeof(skipped_prefixes[0]); i++) {
		size_t n = strlen(skipped_prefixes[i]);
		if (strncmp(path, skipped_prefixes[i], n) == 0 && (path[n] == '/' || path[n] == 0))
			return true;
	}
	return false;
}
