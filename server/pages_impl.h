// SPDX-License-Identifier: MIT
// The building blocks pages.c shares with pages_grains.c: the layout, empty states, dates.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "pages.h"

enum page_nav { NAV_NONE, NAV_HOME, NAV_APPS, NAV_ADMIN, NAV_ACCOUNT };

// The server's name for titles: "silo" when unset.
const char *page_server_name(const struct page_ctx *c);
// <!doctype> through <body>: the shared head (with <meta name="csrf"> for logged-in
// viewers). body_class may be NULL.
void page_head(struct buf *b, const struct page_ctx *c, const char *title,
	       const char *body_class);
// The layout of every ordinary page: head, top bar with navigation, banners, <main>.
// narrow centres a single card. page_end closes it.
void page_begin(struct buf *b, const struct page_ctx *c, const char *title,
		enum page_nav nav, bool narrow);
void page_end(struct buf *b);
// The error and notice of c, when set.
void page_banners(struct buf *b, const struct page_ctx *c);
// Opens an empty state (picture, heading, sentence); the caller adds actions and closes
// its </div>.
void page_empty(struct buf *b, const char *img, const char *title, const char *text);
// A date as YYYY-MM-DD (UTC).
void page_date(struct buf *b, int64_t t);
// A banner for what needs JavaScript, shown when it is off.
void page_noscript(struct buf *b, const char *what);
// A moment as a <time data-relative> that app.js shows as "5 minutes ago"; a dash for 0.
void page_when(struct buf *b, int64_t t);
// <form method="post" action="..."> (action formatted as html_printf does) with the CSRF field.
void page_form_open(struct buf *b, const struct page_ctx *c, const char *action, ...);
// A secret shown once in a code box, with a Copy button app.js reveals.
void page_copy_box(struct buf *b, const char *text, const char *what);
// The Share dialog of a grain's bar (pages_shares.c); nothing without roles to offer.
void page_share_dialog(struct buf *b, const struct page_ctx *c, const struct page_grain_view *v);
