// SPDX-License-Identifier: MIT
// The shell's sharing pages: the Share dialog in a grain's bar, and "Who has access" with
// links, device tokens, users holding grants and the access log. Plain forms: sharing
// works without JavaScript.
#include <stdio.h>

#include "html.h"
#include "pages.h"
#include "pages_impl.h"

static void role_select(struct buf *b, const char *id, const char *const *names,
			const char *const *titles, size_t n, size_t dflt)
{
	html_printf(b, "<div class=\"field\"><label for=\"%s\">Role</label><select id=\"%s\" "
		       "name=\"role\">", id, id);
	for (size_t i = 0; i < n; i++)
		html_printf(b, "<option value=\"%s\"%r>%s</option>", names[i],
			    i == dflt ? " selected" : "", titles[i]);
	html_printf(b, "</select></div>");
}

void page_share_dialog(struct buf *b, const struct page_ctx *c, const struct page_grain_view *v)
{
	if (!v->nroles)
		return;
	bool open = v->share_url || v->share_error;
	html_printf(b, "<details class=\"share\" id=\"share\"%r><summary class=\"btn btn-small\" "
		       "id=\"share-button\">Share</summary><div class=\"share-panel\" role=\"dialog\" "
		       "aria-labelledby=\"share-h\"><h2 id=\"share-h\">Share \u201c%s\u201d</h2><p "
		       "class=\"muted small\">Anyone with the link can open this grain with the "
		       "role you pick, until you revoke the link.</p>", open ? " open" : "",
		    v->g->title);
	if (v->share_error)
		html_printf(b, "<div class=\"banner banner-error\" role=\"alert\">%s</div>",
			    v->share_error);
	if (v->share_url) {
		html_printf(b, "<div class=\"field\"><label for=\"share-url\">The new link (copy it "
			       "now: it is shown only once)</label><input type=\"text\" id=\"share-url\" readonly "
			       "value=\"%s\"></div>", v->share_url);
	}
	page_form_open(b, c, "/grain/%s/shares", v->g->id);
	html_printf(b, "<div id=\"share-form\">");
	role_select(b, "share-role", v->role_names, v->role_titles, v->nroles, v->default_role);
	html_printf(b, "<div class=\"field\"><label for=\"share-label\">Label <span class=\"muted\">"
		       "(who it is for)</span></label><input type=\"text\" id=\"share-label\" "
		       "name=\"label\" "
		       "maxlength=\"%d\" autocomplete=\"off\"></div><button type=\"submit\" "
		       "class=\"btn\" id=\"share-create\">Create link</button></div></form>"
		       "<p class=\"small\"><a id=\"share-access\" href=\"/grain/%s/access\">Who has "
		       "access</a></p></div></details>", SHARE_LABEL_MAX, v->g->id);
}

static void revoke_button(struct buf *b, const struct page_ctx *c, const char *action_fmt,
			  const char *a1, const char *a2, const char *what)
{
	page_form_open(b, c, action_fmt, a1, a2);
	html_printf(b, "<button type=\"submit\" class=\"btn btn-small btn-danger revoke\" "
		       "aria-label=\"Revoke %s\">Revoke</button></form>", what);
}

static void share_rows(struct buf *b, const struct page_ctx *c, const struct page_access *a,
		       const struct share_info *sh, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct share_info *s = &sh[i];
		html_printf(b, "<tr data-share-id=\"%s\"><td data-label=\"Label\">%s</td>"
			       "<td data-label=\"Role\">%s</td><td data-label=\"Made by\">%s</td>"
			       "<td data-label=\"Created\" class=\"num\">", s->id,
			    s->label[0] ? s->label : "(no label)", s->role, s->creator);
		page_when(b, s->created);
		html_printf(b, "</td><td data-label=\"Last used\" class=\"num\">");
		page_when(b, s->last_used);
		html_printf(b, "</td><td data-label=\"Uses\" class=\"num\">%lld</td><td class=\"act\">",
			    (long long)s->uses);
		revoke_button(b, c, "/grain/%s/shares/%s/revoke", a->g->id, s->id,
			      s->label[0] ? s->label : s->id);
		html_printf(b, "</td></tr>\n");
	}
}

static void share_table(struct buf *b, const struct page_ctx *c, const struct page_access *a,
			const char *id, const struct share_info *sh, size_t n, const char *none)
{
	if (!n) {
		html_printf(b, "<p class=\"muted\" id=\"%s\">%s</p>", id, none);
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table id=\"%s\"><thead><tr><th scope=\"col\">"
		       "Label</th><th scope=\"col\">Role</th><th scope=\"col\">Made by</th><th "
		       "scope=\"col\" class=\"num\">Created</th><th scope=\"col\" class=\"num\">Last "
		       "used</th><th scope=\"col\" class=\"num\">Uses</th><th scope=\"col\" "
		       "class=\"act\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>",
		    id);
	share_rows(b, c, a, sh, n);
	html_printf(b, "</tbody></table></div>");
}

static void users_table(struct buf *b, const struct page_ctx *c, const struct page_access *a)
{
	if (!a->nusers) {
		html_printf(b, "<p class=\"muted\" id=\"share-users\">Nobody has opened a link while "
			       "logged in yet.</p>");
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table id=\"share-users\"><thead><tr><th "
		       "scope=\"col\">User</th><th scope=\"col\">Role</th><th scope=\"col\" "
		       "class=\"num\">Since</th><th scope=\"col\" class=\"num\">Last opened</th>"
		       "<th scope=\"col\" class=\"act\"><span class=\"sr-only\">Actions</span></th>"
		       "</tr></thead><tbody>");
	for (size_t i = 0; i < a->nusers; i++) {
		const struct grant_info *u = &a->users[i];
		char uid[24];
		snprintf(uid, sizeof(uid), "%lld", (long long)u->user_id);
		html_printf(b, "<tr data-user-id=\"%s\"><td data-label=\"User\">%s</td><td "
			       "data-label=\"Role\">%s</td><td data-label=\"Since\" class=\"num\">",
			    uid, u->user_name, u->role);
		page_when(b, u->created);
		html_printf(b, "</td><td data-label=\"Last opened\" class=\"num\">");
		page_when(b, u->last_used);
		html_printf(b, "</td><td class=\"act\">");
		if (a->owner)
			revoke_button(b, c, "/grain/%s/users/%s/revoke", a->g->id, uid, u->user_name);
		html_printf(b, "</td></tr>\n");
	}
	html_printf(b, "</tbody></table></div>");
}

static void log_table(struct buf *b, const struct page_access *a)
{
	if (!a->nlog) {
		html_printf(b, "<p class=\"muted\" id=\"access-log\">Nobody has opened this grain "
			       "yet.</p>");
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table id=\"access-log\"><thead><tr><th "
		       "scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">Role</th>"
		       "<th scope=\"col\">Through</th></tr></thead><tbody>");
	for (size_t i = 0; i < a->nlog; i++) {
		const struct access_entry *e = &a->log[i];
		html_printf(b, "<tr><td data-label=\"When\">");
		page_when(b, e->at);
		html_printf(b, "</td><td data-label=\"Who\">%s</td><td data-label=\"Role\">%s</td>"
			       "<td data-label=\"Through\">%s</td></tr>\n",
			    e->user_id ? e->user_name : "anonymous visitor", e->role, e->via);
	}
	html_printf(b, "</tbody></table></div>");
}

static void device_form(struct buf *b, const struct page_ctx *c, const struct page_access *a)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"devices-h\"><div class=\"card-head\">"
		       "<div><h2 id=\"devices-h\">Devices</h2><p class=\"muted\">Phones and programs "
		       "(a calendar or contacts account, git, a script) reach the grain at its own "
		       "address with a token as the password.</p></div></div>");
	if (a->device_token) {
		html_printf(b, "<section class=\"reveal\" aria-labelledby=\"device-h\"><h3 "
			       "id=\"device-h\">Connect your device</h3><p>Server address:</p>");
		page_copy_box(b, a->device_url, "the address");
		html_printf(b, "<p>Password (any user name): copy it now, it is shown only this "
			       "once.</p>");
		page_copy_box(b, a->device_token, "the token");
		html_printf(b, "</section>");
	}
	if (a->nroles) {
		page_form_open(b, c, "/grain/%s/devices", a->g->id);
		html_printf(b, "<div class=\"inline-form\" id=\"device-form\">");
		role_select(b, "device-role", a->role_names, a->role_titles, a->nroles,
			    a->default_role);
		html_printf(b, "<div class=\"field\"><label for=\"device-label\">Label</label><input "
			       "type=\"text\" id=\"device-label\" name=\"label\" maxlength=\"%d\" "
			       "autocomplete=\"off\" "
			       "placeholder=\"e.g. My phone\"></div><button type=\"submit\" class=\"btn\" "
			       "id=\"device-create\">Connect a device</button></div></form>",
			    SHARE_LABEL_MAX);
	}
	share_table(b, c, a, "share-devices", a->devices, a->ndevices, "No devices connected.");
	html_printf(b, "</section>\n");
}

void page_access(struct buf *b, const struct page_ctx *c, const struct page_access *a)
{
	page_begin(b, c, "Who has access", NAV_HOME, false);
	html_printf(b, "<div class=\"page-head\"><a class=\"back\" href=\"/grain/%s\">Back to "
		       "\u201c%s\u201d</a><h1>Who has access</h1><p>%r</p></div>\n", a->g->id,
		    a->g->title,
		    a->owner ? "Everyone who can open this grain, and how. Revoking takes effect at "
			       "once, even for people who have it open."
			     : "The links and devices you made for this grain.");
	html_printf(b, "<section class=\"card\" aria-labelledby=\"links-h\"><div class=\"card-head\">"
		       "<h2 id=\"links-h\">Sharing links</h2></div>");
	share_table(b, c, a, "share-links", a->links, a->nlinks,
		    "No sharing links. Make one with Share in the grain's bar.");
	html_printf(b, "</section>\n");
	device_form(b, c, a);
	if (a->owner) {
		html_printf(b, "<section class=\"card\" aria-labelledby=\"users-h\"><div "
			       "class=\"card-head\"><h2 id=\"users-h\">People</h2></div>");
		users_table(b, c, a);
		html_printf(b, "</section>\n<section class=\"card\" aria-labelledby=\"log-h\"><div "
			       "class=\"card-head\"><h2 id=\"log-h\">Access log</h2></div>");
		log_table(b, a);
		html_printf(b, "</section>\n");
	}
	page_end(b);
}
