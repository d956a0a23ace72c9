// SPDX-License-Identifier: MIT
// Who is here: the people who made a request in the last PRESENCE_WINDOW_MS, newest first.
#include <stdlib.h>
#include <string.h>

#include "presence.h"

// How many names the sentence spells out before "and N others".
#define PRESENCE_NAMED 3

void presence_touch(struct presence *p, const struct identity *who, int64_t now_ms)
{
	char key[sizeof(p->e[0].key)];
	identity_key(who, key, sizeof(key));
	struct presence_entry *slot = NULL;
	for (size_t i = 0; i < p->n && !slot; i++)
		if (strcmp(p->e[i].key, key) == 0)
			slot = &p->e[i];
	if (!slot && p->n < PRESENCE_MAX)
		slot = &p->e[p->n++];
	if (!slot) {
		slot = &p->e[0];
		for (size_t i = 1; i < p->n; i++)
			if (p->e[i].seq < slot->seq)
				slot = &p->e[i];
	}
	memcpy(slot->key, key, sizeof(key));
	memcpy(slot->name, who->name, sizeof(slot->name));
	slot->anonymous = who->anonymous;
	slot->can_edit = who->can_edit;
	slot->seen_ms = now_ms;
	slot->seq = ++p->seq;
}

static int newest_first(const void *a, const void *b)
{
	const struct presence_entry *x = a, *y = b;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

size_t presence_current(struct presence *p, int64_t now_ms)
{
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++)
		if (now_ms - p->e[i].seen_ms <= PRESENCE_WINDOW_MS)
			p->e[o++] = p->e[i];
	p->n = o;
	qsort(p->e, p->n, sizeof(p->e[0]), newest_first);
	return p->n;
}

void presence_text(const struct presence *p, const char *self_key, struct buf *out)
{
	bool self_here = false;
	for (size_t i = 0; i < p->n; i++)
		if (self_key && strcmp(p->e[i].key, self_key) == 0)
			self_here = true;
	// "You" takes one of the named places; one person past them is named rather than
	// called "1 other".
	size_t others_total = p->n - (self_here ? 1 : 0);
	size_t slots = PRESENCE_NAMED - (self_here ? 1 : 0);
	if (others_total == slots + 1)
		slots++;
	size_t total = (self_here ? 1 : 0) + (others_total < slots ? others_total : slots) +
		       (others_total > slots ? 1 : 0);
	if (!total) {
		buf_puts(out, "Nobody else is here");
		return;
	}
	if (self_here && total == 1) {
		buf_puts(out, "Only you are here");
		return;
	}
	size_t k = 0;
	if (self_here) {
		buf_puts(out, "You");
		k++;
	}
	for (size_t i = 0, named = 0; i < p->n && named < slots; i++) {
		if (self_key && strcmp(p->e[i].key, self_key) == 0)
			continue;
		if (k)
			buf_puts(out, k + 1 == total ? " and " : ", ");
		buf_puts(out, p->e[i].name);
		named++;
		k++;
	}
	if (others_total > slots)
		buf_printf(out, " and %zu others", others_total - slots);
	buf_puts(out, total == 1 ? " is here" : " are here");
}
