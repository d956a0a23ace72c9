// SPDX-License-Identifier: MIT
// The notebook's HTML: the page (server-rendered, forms that work without JavaScript) and
// error pages. Everything from people and requests is escaped by html_printf's %s.
#pragma once
#include <stdint.h>

#include "buf.h"
#include "identity.h"
#include "notebook.h"
#include "presence.h"

struct view {
	const struct notebook *nb;
	const struct presence *here;   // after presence_current
	const struct identity *who;
	const char *self_key;          // identity_key(who)
	int64_t now;                   // unix seconds
	int64_t editing;               // the note shown as an edit form, 0 for none
	const char *error;             // a banner, or NULL
	const char *draft_title;       // what the person typed, refilled after an error
	const char *draft_body;
};

void view_notebook(struct buf *b, const struct view *v);
void view_error(struct buf *b, int status, const char *message);
// The colour class index (0-5) for an avatar of the person with this presence key.
int view_hue(const char *key);
