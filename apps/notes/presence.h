// SPDX-License-Identifier: MIT
// Who is here: the people who made a request in the last PRESENCE_WINDOW_MS, newest first.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "identity.h"

#define PRESENCE_MAX 64             // a full table forgets the person seen longest ago
#define PRESENCE_WINDOW_MS 30000

struct presence_entry {
	char key[IDENTITY_ID_MAX + 3];   // identity_key()
	char name[IDENTITY_NAME_MAX + 1];
	bool anonymous;
	bool can_edit;
	int64_t seen_ms;                 // monotonic
	uint64_t seq;                    // touch order: newest first even within one ms
};

struct presence {
	struct presence_entry e[PRESENCE_MAX];
	size_t n;
	uint64_t seq;
};

// Records a request by who at now_ms.
void presence_touch(struct presence *p, const struct identity *who, int64_t now_ms);
// Drops people not seen within the window, then sorts the rest newest first; returns how
// many remain (in p->e[0..n)).
size_t presence_current(struct presence *p, int64_t now_ms);
// Appends the sentence for the top bar, from the point of view of self_key:
// "Only you are here", "You and Grace are here", "Ada, Grace and 3 others are here".
// Call presence_current first.
void presence_text(const struct presence *p, const char *self_key, struct buf *out);
