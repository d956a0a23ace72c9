// SPDX-License-Identifier: MIT
// The notebook's HTML: the page, its forms, and error pages.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "http.h"
#include "text.h"
#include "view.h"

#define VIEW_AVATARS 5   // avatars in the top bar; the sentence names the rest

static const char page_head[] =
	"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<meta name=\"color-scheme\" content=\"light dark\">\n"
	"<title>%s</title>\n"
	"<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
	"<link rel=\"stylesheet\" href=\"/static/notes.css\">\n"
	"<script src=\"/static/notes.js\" defer></script>\n</head>\n";

int view_hue(const char *key)
{
	return (int)(text_hash(key, strlen(key)) % 6);
}

static void view_avatar(struct buf *b, const struct presence_entry *e, bool you)
{
	char initial[8];
	text_initial(e->name, initial);
	html_printf(b, "<li class=\"av av-%d\" title=\"%s%r%r\">%s</li>", view_hue(e->key), e->name,
		    you ? " (you)" : "", e->can_edit ? " \xc2\xb7 can edit" : " \xc2\xb7 viewing",
		    initial);
}

static void view_bar(struct buf *b, const struct view *v)
{
	html_printf(b, "<header class=\"bar\">\n<div class=\"bar-inner\">\n"
		       "<a class=\"brand\" href=\"/\"><img src=\"/static/icon.svg\" width=\"28\" "
		       "height=\"28\" alt=\"\"><span>Notes</span></a>\n%r\n"
		       "<div class=\"presence\" id=\"presence\">\n<ul class=\"avatars\" "
		       "id=\"presence-avatars\" aria-hidden=\"true\">",
		    v->who->can_edit ? "<span class=\"badge badge-accent\" id=\"access\">Can edit</span>"
				     : "<span class=\"badge\" id=\"access\">View only</span>");
	for (size_t i = 0; i < v->here->n && i < VIEW_AVATARS; i++)
		view_avatar(b, &v->here->e[i], strcmp(v->here->e[i].key, v->self_key) == 0);
	struct buf text;
	buf_init(&text);
	presence_text(v->here, v->self_key, &text);
	html_printf(b, "</ul>\n<span id=\"presence-text\" aria-live=\"polite\">%s</span>\n</div>\n"
		       "</div>\n", buf_cstr(&text));
	buf_free(&text);
	buf_puts(b, "</header>\n");
}

static void view_composer(struct buf *b, const struct view *v)
{
	bool drafting = !v->editing;
	html_printf(b, "<section class=\"card composer\" aria-labelledby=\"new-heading\">\n"
		       "<h2 id=\"new-heading\" class=\"sr-only\">New note</h2>\n"
		       "<form method=\"post\" action=\"/notes\" id=\"note-form\" "
		       "accept-charset=\"utf-8\">\n"
		       "<label class=\"sr-only\" for=\"note-title\">Title</label>\n"
		       "<input type=\"text\" id=\"note-title\" name=\"title\" class=\"title-input\" "
		       "placeholder=\"Title\" maxlength=\"%d\" autocomplete=\"off\" value=\"%s\">\n"
		       "<label class=\"sr-only\" for=\"note-body\">Note</label>\n"
		       "<textarea id=\"note-body\" name=\"body\" rows=\"4\" placeholder=\"Write a "
		       "note\xe2\x80\xa6\" maxlength=\"%d\">\n%s</textarea>\n"
		       "<div class=\"composer-foot\"><span class=\"hint\" id=\"whoami\">Writing as "
		       "<strong class=\"me-name\">%s</strong></span>"
		       "<button type=\"submit\" class=\"btn\" id=\"note-save\">Save note</button>"
		       "</div>\n</form>\n</section>\n",
		    NOTEBOOK_MAX_TITLE, drafting ? v->draft_title : "", NOTEBOOK_MAX_BODY,
		    drafting ? v->draft_body : "", v->who->name);
}

static void view_time(struct buf *b, int64_t t, int64_t now)
{
	char iso[32] = "", full[64] = "", ago[32];
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm)) {
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		strftime(full, sizeof(full), "%e %b %Y, %H:%M UTC", &tm);
	}
	text_ago(ago, sizeof(ago), t, now);
	html_printf(b, "<time datetime=\"%s\" title=\"%s\">%s</time>", iso,
		    full[0] == ' ' ? full + 1 : full, ago);
}

static void view_edit_form(struct buf *b, const struct view *v, const struct note *n)
{
	const char *title = v->draft_title ? v->draft_title : n->title;
	const char *body = v->draft_body ? v->draft_body : n->body;
	html_printf(b, "<article class=\"note editing\" id=\"note-%lld\" data-note-id=\"%lld\">\n"
		       "<form method=\"post\" action=\"/notes/%lld\" id=\"edit-form\" "
		       "accept-charset=\"utf-8\">\n"
		       "<label class=\"sr-only\" for=\"edit-title\">Title</label>\n"
		       "<input type=\"text\" id=\"edit-title\" name=\"title\" class=\"title-input\" "
		       "placeholder=\"Title\" maxlength=\"%d\" autocomplete=\"off\" value=\"%s\">\n"
		       "<label class=\"sr-only\" for=\"edit-body\">Note</label>\n"
		       "<textarea id=\"edit-body\" name=\"body\" rows=\"8\" maxlength=\"%d\" "
		       "autofocus>\n%s</textarea>\n"
		       "<div class=\"edit-foot\"><a class=\"btn btn-secondary\" id=\"edit-cancel\" "
		       "href=\"/#note-%lld\">Cancel</a><button type=\"submit\" class=\"btn\" "
		       "id=\"edit-save\">Save changes</button></div>\n</form>\n</article>\n",
		    (long long)n->id, (long long)n->id, (long long)n->id, NOTEBOOK_MAX_TITLE, title,
		    NOTEBOOK_MAX_BODY, body, (long long)n->id);
}

static void view_note(struct buf *b, const struct view *v, const struct note *n)
{
	if (v->who->can_edit && v->editing == n->id) {
		view_edit_form(b, v, n);
		return;
	}
	long long id = (long long)n->id;
	html_printf(b, "<article class=\"note\" id=\"note-%lld\" data-note-id=\"%lld\">\n", id, id);
	if (*n->title)
		html_printf(b, "<h3 class=\"note-title\">%s</h3>\n", n->title);
	if (*n->body)
		html_printf(b, "<div class=\"note-body\">%s</div>\n", n->body);
	html_printf(b, "<footer class=\"note-foot\"><span class=\"note-meta\">Last edited by "
		       "<strong class=\"note-author\">%s</strong>, ", n->updated_by.name);
	view_time(b, n->updated, v->now);
	buf_puts(b, "</span>");
	if (v->who->can_edit)
		html_printf(b, "<div class=\"note-actions\"><a class=\"btn btn-small btn-quiet\" "
			       "href=\"/?edit=%lld#note-%lld\" data-note-edit=\"%lld\">Edit</a>"
			       "<form method=\"post\" action=\"/notes/%lld/delete\" "
			       "data-confirm=\"Delete this note? This cannot be undone.\">"
			       "<button type=\"submit\" class=\"btn btn-small btn-quiet btn-danger\" "
			       "data-note-delete=\"%lld\">Delete</button></form></div>",
			    id, id, id, id, id);
	buf_puts(b, "</footer>\n</article>\n");
}

// Most recently edited first; ties (same second) newest note first.
static int recent_first(const void *a, const void *b)
{
	const struct note *x = *(const struct note *const *)a, *y = *(const struct note *const *)b;
	if (x->updated != y->updated)
		return x->updated > y->updated ? -1 : 1;
	return x->id > y->id ? -1 : 1;
}

static void view_list(struct buf *b, const struct view *v)
{
	size_t n = v->nb->n;
	html_printf(b, "<section class=\"list\" aria-labelledby=\"notes-heading\">\n"
		       "<div class=\"list-head\"><h2 id=\"notes-heading\">Notes</h2>"
		       "<span class=\"count\" id=\"note-count\">%zu %r</span></div>\n",
		    n, n == 1 ? "note" : "notes");
	if (!n) {
		html_printf(b, "<div class=\"empty\" id=\"empty-state\">"
			       "<img src=\"/static/icon.svg\" width=\"56\" height=\"56\" alt=\"\">"
			       "<h3>No notes yet</h3><p>%r</p></div>\n",
			    v->who->can_edit ? "Write the first one above. Everyone you share this "
					       "notebook with will see it here."
					     : "When someone adds a note, it will show up here.");
		buf_puts(b, "</section>\n");
		return;
	}
	const struct note **order = malloc(n * sizeof(*order));
	if (!order) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &v->nb->notes[i];
	qsort(order, n, sizeof(*order), recent_first);
	buf_puts(b, "<div class=\"notes\" id=\"notes\">\n");
	for (size_t i = 0; i < n; i++)
		view_note(b, v, order[i]);
	buf_puts(b, "</div>\n</section>\n");
	free(order);
}

void view_notebook(struct buf *b, const struct view *v)
{
	html_printf(b, page_head, "Notes");
	html_printf(b, "<body data-revision=\"%lld\" data-can-edit=\"%r\">\n",
		    (long long)v->nb->revision, v->who->can_edit ? "true" : "false");
	view_bar(b, v);
	buf_puts(b, "<main id=\"main\">\n");
	if (v->error)
		html_printf(b, "<div class=\"banner banner-error\" role=\"alert\" id=\"error\">%s</div>\n",
			    v->error);
	if (!v->who->can_edit)
		html_printf(b, "<div class=\"banner banner-info\" id=\"read-only\"><span "
			       "id=\"whoami\">Viewing as <strong class=\"me-name\">%s</strong>.</span> "
			       "You can read this notebook but not change it; ask its owner for edit "
			       "access.</div>\n", v->who->name);
	buf_puts(b, "<div class=\"banner banner-info\" id=\"changed\" hidden>Someone changed this "
		    "notebook. <a href=\"/\">Show the latest version</a></div>\n");
	if (v->who->can_edit)
		view_composer(b, v);
	view_list(b, v);
	buf_puts(b, "</main>\n<footer class=\"foot\">Notes 1.0 \xc2\xb7 every change is saved "
		    "the moment you press Save</footer>\n</body>\n</html>\n");
}

void view_error(struct buf *b, int status, const char *message)
{
	char title[64];
	snprintf(title, sizeof(title), "%d %s \xc2\xb7 Notes", status, http_reason(status));
	html_printf(b, page_head, title);
	html_printf(b, "<body class=\"error-body\">\n<main id=\"main\" class=\"error-page\">\n"
		       "<p class=\"status\">%d</p>\n<h1>%s</h1>\n<p>%s</p>\n"
		       "<p><a class=\"btn\" href=\"/\">Back to the notebook</a></p>\n"
		       "</main>\n</body>\n</html>\n",
		    status, http_reason(status), message);
}
