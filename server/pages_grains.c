// SPDX-License-Identifier: MIT
// The shell's pages for apps and grains: home (new grains, the grains list), apps (upload,
// installed apps), a grain open in its frame, and the trash. Actions that need the
// privileged parent run in app.js through the JSON API; the pages render from the store.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grains.h"
#include "html.h"
#include "manifest.h"
#include "pages.h"
#include "pages_impl.h"

#define APP_ID_SHORT 12   // characters of an app id shown; the rest is in its title

// Small line icons for buttons (trusted markup; currentColor follows the button's text).
#define ICON_OPEN "<svg class=\"icon\" viewBox=\"0 0 24 24\" width=\"18\" height=\"18\" " \
	"aria-hidden=\"true\" focusable=\"false\" fill=\"none\" stroke=\"currentColor\" " \
	"stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\">"
#define ICON_PENCIL ICON_OPEN "<path d=\"M12 20h9\"/><path d=\"M16.5 3.5a2.1 2.1 0 0 1 3 3" \
	"L7 19l-4 1 1-4Z\"/></svg>"
#define ICON_LOG ICON_OPEN "<path d=\"m4 17 6-6-6-6\"/><path d=\"M12 19h8\"/></svg>"
#define ICON_TRASH ICON_OPEN "<path d=\"M3 6h18\"/><path d=\"M8 6V4h8v2\"/><path d=\"M19 " \
	"6l-1 14H6L5 6\"/></svg>"
#define ICON_BACK ICON_OPEN "<path d=\"m15 18-6-6 6-6\"/></svg>"
#define ICON_CLOSE ICON_OPEN "<path d=\"M18 6 6 18\"/><path d=\"m6 6 12 12\"/></svg>"
#define ICON_PLUS ICON_OPEN "<path d=\"M12 5v14\"/><path d=\"M5 12h14\"/></svg>"
#define ICON_DOWNLOAD ICON_OPEN "<path d=\"M12 4v11\"/><path d=\"m7 10 5 5 5-5\"/>" \
	"<path d=\"M5 20h14\"/></svg>"

// A coloured square with the first letter of title; the colour is fixed by key (the app
// id), so an app's grains share it.
static void page_avatar(struct buf *b, const char *key, const char *title)
{
	unsigned h = 0;
	for (const char *p = key; *p; p++)
		h = h * 31u + (unsigned char)*p;
	unsigned char c0 = (unsigned char)title[0];
	size_t n = c0 < 0x80 ? 1 : c0 >= 0xf0 ? 4 : c0 >= 0xe0 ? 3 : c0 >= 0xc0 ? 2 : 1;
	char first[5] = "?";
	for (size_t i = 0; i < n && title[i]; i++)
		first[i] = title[i];
	if (c0 >= 'a' && c0 <= 'z')
		first[0] = (char)(c0 - 32);
	html_printf(b, "<span class=\"avatar avatar-%d\" aria-hidden=\"true\">%s</span>",
		    (int)(h % 6), first);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void page_noscript(struct buf *b, const char *what)
{
	html_printf(b, "<noscript><div class=\"banner banner-info\">%s needs JavaScript. Turn it "
		       "on for this site to use it.</div></noscript>\n", what);
}

// One app's "New ..." buttons, each #new-<app id>-<index> with what app.js posts.
static void page_app_actions(struct buf *b, const struct page_app *a)
{
	html_printf(b, "<li class=\"new-app\">");
	page_avatar(b, a->info.id, a->info.title);
	html_printf(b, "<div class=\"new-app-body\"><div class=\"new-app-name\">%s</div>"
		       "<div class=\"new-app-buttons\">", a->info.title);
	for (size_t i = 0; a->m && i < a->m->nactions; i++)
		html_printf(b, "<button type=\"button\" class=\"btn btn-small btn-new\" "
			       "id=\"new-%s-%zu\" data-new-grain data-app=\"%s\" data-action=\"%zu\">"
			       "%r<span>%s</span></button>", a->info.id, i, a->info.id, i,
			    ICON_PLUS, a->m->actions[i].title);
	if (!a->m || !a->m->nactions)
		html_printf(b, "<span class=\"muted small\">This app's manifest cannot be read."
			       "</span>");
	html_printf(b, "</div></div></li>\n");
}

static void page_home_new(struct buf *b, const struct page_lists *l)
{
	html_printf(b, "<section class=\"card home-new\" aria-labelledby=\"new-h\">"
		       "<div class=\"card-head card-head-row\"><h2 id=\"new-h\">Create</h2>%r</div>",
		    l->napps ? "<a class=\"small\" href=\"/apps\">Manage apps</a>" : "");
	if (!l->napps) {
		page_empty(b, "/static/apps.svg", "No apps yet",
			   "Apps come as signed .spk packages. Install one, and its buttons for "
			   "making new grains appear here.");
		html_printf(b, "<a class=\"btn\" href=\"/apps\">Install an app</a></div>"
			       "</section>\n");
		return;
	}
	html_printf(b, "<ul class=\"new-list\">");
	for (size_t i = 0; i < l->napps; i++)
		page_app_actions(b, &l->apps[i]);
	html_printf(b, "</ul><p class=\"form-status\" id=\"new-status\" role=\"status\"></p>"
		       "</section>\n");
}

static void page_grain_row(struct buf *b, const struct page_grain *pg)
{
	const struct grain_info *g = &pg->g;
	html_printf(b, "<li><a class=\"grain-row\" href=\"/grain/%u\">", g->id);
	page_avatar(b, g->app_id, g->app_title);
	html_printf(b, "<span class=\"grain-text\"><span class=\"grain-name\">%s</span>"
		       "<span class=\"grain-meta\"><span>%s</span><span>Used ", g->title,
		    g->app_title);
	page_when(b, g->last_used);
	html_printf(b, "</span><span data-size=\"%s\" hidden></span></span></span>"
		       "<span class=\"badge badge-ok\" data-running=\"%s\"%r>Running</span>"
		       "</a></li>\n", g->id, g->id, pg->running ? "" : " hidden");
}

static void page_home_grains(struct buf *b, const struct page_lists *l)
{
	html_printf(b, "<section class=\"card home-grains\" aria-labelledby=\"grains-h\">"
		       "<div class=\"card-head card-head-row\"><h2 id=\"grains-h\">Grains</h2>"
		       "<a class=\"small\" href=\"/trash\">Trash");
	if (l->ntrash)
		html_printf(b, " <span class=\"count\">%zu</span>", l->ntrash);
	html_printf(b, "</a></div>");
	if (!l->ngrains) {
		page_empty(b, "/static/grains.svg", "No grains yet",
			   l->napps ? "A grain is one document (a notebook, a calendar, a chat "
				      "room) in its own private sandbox. Make your first one with "
				      "a button under Create."
				    : "A grain is one document (a notebook, a calendar, a chat room) "
				      "in its own private sandbox. Install an app to make one.");
		html_printf(b, "</div></section>\n");
		return;
	}
	html_printf(b, "<ul class=\"grain-list\" id=\"grains-list\">");
	for (size_t i = 0; i < l->ngrains; i++)
		page_grain_row(b, &l->grains[i]);
	html_printf(b, "</ul></section>\n");
}

// A grain's backup file (from its page's "Download backup") becomes a new grain of the
// person who uploads it; app.js posts it to /api/v1/grains/restore.
static void page_home_restore(struct buf *b)
{
	html_printf(b,
		    "<section class=\"card home-restore\" aria-labelledby=\"restore-h\">"
		    "<div class=\"card-head\"><div><h2 id=\"restore-h\">Restore from backup</h2>"
		    "<p class=\"muted\">Upload a grain's .silo-backup file to make a new grain of "
		    "yours with its data. Its app must be installed.</p></div></div>");
	page_noscript(b, "Restoring backups");
	html_printf(b,
		    "<div class=\"upload\"><div class=\"field\"><label for=\"restore-upload\">"
		    "Backup file</label><input type=\"file\" id=\"restore-upload\" "
		    "accept=\".silo-backup\" aria-describedby=\"restore-status\"></div>"
		    "<button type=\"button\" class=\"btn\" id=\"restore-button\">Restore</button>"
		    "</div><progress id=\"restore-progress\" max=\"100\" value=\"0\" hidden>"
		    "</progress><p class=\"form-status\" id=\"restore-status\" role=\"status\">"
		    "</p></section>\n");
}

void page_home(struct buf *b, const struct page_ctx *c, const struct page_lists *l)
{
	page_begin(b, c, "Home", NAV_HOME, false);
	html_printf(b, "<div class=\"page-head\"><h1>Welcome, %s</h1><p>Your apps and "
		       "documents on %s.", c->user ? c->user->name : "", page_server_name(c));
	if (c->user && c->user->is_admin)
		html_printf(b, " Want company? <a href=\"/admin\">Invite someone</a>.");
	html_printf(b, "</p></div>\n");
	if (l->napps)
		page_noscript(b, "Creating grains");
	html_printf(b, "<div class=\"home\">");
	page_home_new(b, l);
	page_home_grains(b, l);
	if (l->nshared) {
		html_printf(b, "<section class=\"card home-grains\" id=\"shared-with-me\" "
			       "aria-labelledby=\"shared-h\"><div class=\"card-head\"><h2 "
			       "id=\"shared-h\">Shared with me</h2></div><ul class=\"grain-list\">");
		for (size_t i = 0; i < l->nshared; i++)
			page_grain_row(b, &l->shared[i]);
		html_printf(b, "</ul></section>\n");
	}
	page_home_restore(b);
	html_printf(b, "</div>\n");
	page_end(b);
}

static void page_upload(struct buf *b)
{
	html_printf(b,
		    "<section class=\"card\" aria-labelledby=\"install-h\"><div class=\"card-head\">"
		    "<div><h2 id=\"install-h\">Install an app</h2><p class=\"muted\">Upload a signed "
		    ".spk package. A newer version of an app you have replaces it once you confirm; "
		    "its grains run the new version from their next start.</p></div></div>");
	page_noscript(b, "Uploading apps");
	html_printf(b,
		    "<div class=\"upload\"><div class=\"field\"><label for=\"app-upload\">Package "
		    "file</label><input type=\"file\" id=\"app-upload\" accept=\".spk\" "
		    "aria-describedby=\"app-upload-status\"></div>"
		    "<button type=\"button\" class=\"btn\" id=\"app-upload-button\">Install</button>"
		    "</div><progress id=\"app-upload-progress\" max=\"100\" value=\"0\" hidden>"
		    "</progress><p class=\"form-status\" id=\"app-upload-status\" role=\"status\">"
		    "</p><div class=\"confirm\" id=\"app-upgrade\" role=\"alertdialog\" "
		    "aria-labelledby=\"app-upgrade-q\" hidden><p id=\"app-upgrade-q\"></p>"
		    "<p class=\"muted small\">Its grains keep their data and run the new version "
		    "from their next start.</p><div class=\"confirm-buttons\">"
		    "<button type=\"button\" class=\"btn\" id=\"app-upgrade-yes\">Upgrade</button>"
		    "<button type=\"button\" class=\"btn btn-secondary\" id=\"app-upgrade-no\">"
		    "Cancel</button></div></div></section>\n");
}

static void page_app_version(struct buf *b, const struct app_info *a)
{
	if (a->marketing_version[0])
		html_printf(b, "<span class=\"version\">%s <span class=\"muted small\">(version "
			       "%lld)</span></span>", a->marketing_version, (long long)a->version);
	else
		html_printf(b, "<span class=\"version\">Version %lld</span>", (long long)a->version);
}

static void page_app_row(struct buf *b, const struct page_app *pa)
{
	const struct app_info *a = &pa->info;
	char id_short[APP_ID_SHORT + 1];
	memcpy(id_short, a->id, APP_ID_SHORT);
	id_short[APP_ID_SHORT] = '\0';
	html_printf(b, "<tr id=\"app-%s\"><td class=\"who\"><div class=\"app-cell\">", a->id);
	page_avatar(b, a->id, a->title);
	html_printf(b, "<div><div>%s</div>", a->title);
	if (pa->m && pa->m->description)
		html_printf(b, "<div class=\"app-desc\">%s</div>", pa->m->description);
	html_printf(b, "<code class=\"app-id\" title=\"App id %s\">%s&hellip;</code></div></div>"
		       "</td><td data-label=\"Version\">", a->id, id_short);
	page_app_version(b, a);
	html_printf(b, "</td><td data-label=\"Grains\" class=\"num\">%lld</td>"
		       "<td data-label=\"Updated\" class=\"num\">", (long long)a->grains);
	page_date(b, a->updated);
	html_printf(b, "</td></tr>\n");
}

void page_apps(struct buf *b, const struct page_ctx *c, const struct page_lists *l)
{
	page_begin(b, c, "Apps", NAV_APPS, false);
	html_printf(b, "<div class=\"page-head\"><h1>Apps</h1><p>The apps on %s. Each grain "
		       "you make with one runs in its own sandbox.</p></div>\n",
		    page_server_name(c));
	page_upload(b);
	html_printf(b, "<section class=\"card\" aria-labelledby=\"installed-h\">"
		       "<div class=\"card-head card-head-row\"><h2 id=\"installed-h\">Installed</h2>"
		       "<span class=\"muted small\">%zu %r</span></div>",
		    l->napps, plural(l->napps, "app", "apps"));
	if (!l->napps) {
		page_empty(b, "/static/apps.svg", "No apps installed yet",
			   "Choose a .spk package above to install your first app.");
		html_printf(b, "</div></section>\n");
		page_end(b);
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table id=\"apps-list\"><thead><tr>"
		       "<th scope=\"col\">App</th><th scope=\"col\">Version</th>"
		       "<th scope=\"col\" class=\"num\">Grains</th>"
		       "<th scope=\"col\" class=\"num\">Updated</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < l->napps; i++)
		page_app_row(b, &l->apps[i]);
	html_printf(b, "</tbody></table></div></section>\n");
	page_end(b);
}

// The grain's bar: home, title (renamed in place by app.js), app, and the grain's tools.
static void page_grain_bar(struct buf *b, const struct page_ctx *c,
			   const struct page_grain_view *v)
{
	const struct grain_info *g = v->g;
	html_printf(b,
		    "<header class=\"grain-bar\" data-grain=\"%s\"%r><a class=\"grain-home\" "
		    "href=\"/\" title=\"Home\"><img src=\"/static/icon.svg\" alt=\"Home: %s\" "
		    "width=\"28\" height=\"28\"></a><div class=\"grain-heading\">"
		    "<div class=\"grain-title-row\"><h1 id=\"grain-title\">%s</h1>",
		    g->id, v->owner ? " data-owner=\"1\"" : "", page_server_name(c), g->title);
	if (v->owner)
		html_printf(b, "<button type=\"button\" class=\"icon-btn\" id=\"grain-rename\" "
			       "title=\"Rename\" aria-label=\"Rename\">%r</button><input "
			       "type=\"text\" id=\"grain-title-input\" maxlength=\"%d\" "
			       "aria-label=\"Grain title\" autocomplete=\"off\" value=\"%s\" hidden>",
			    ICON_PENCIL, GRAIN_TITLE_MAX, g->title);
	html_printf(b, "</div><div class=\"grain-app\">%s", g->app_title);
	if (!v->owner)
		html_printf(b, " &middot; shared by %s%r%s", g->owner_name, v->role ? " &middot; " : "",
			    v->role ? v->role : "");
	html_printf(b, "</div></div><div class=\"grain-tools\">");
	page_share_dialog(b, c, v);
	if (v->owner)
		html_printf(b,
			    "<button type=\"button\" class=\"btn btn-small btn-secondary\" "
			    "id=\"grain-log-button\" aria-controls=\"grain-log\" aria-expanded=\"false\""
			    " title=\"Console log\">%r<span class=\"label\">Console log</span></button>"
			    "<a class=\"btn btn-small btn-secondary\" id=\"grain-backup\" "
			    "href=\"/api/v1/grains/%u/backup\" download title=\"Download a backup (the "
			    "grain stops for a moment)\">%r<span class=\"label\">Download backup</span>"
			    "</a><button type=\"button\" class=\"btn btn-small btn-danger\" "
			    "id=\"grain-trash\" title=\"Move to trash\">%r<span class=\"label\">Move "
			    "to trash</span></button>", ICON_LOG, g->id, ICON_DOWNLOAD, ICON_TRASH);
	html_printf(b, "</div></header>\n");
}

static void page_grain_log(struct buf *b)
{
	html_printf(b,
		    "<section class=\"log-panel\" id=\"grain-log\" aria-labelledby=\"grain-log-h\" "
		    "hidden><div class=\"log-head\"><h2 id=\"grain-log-h\">Console log</h2>"
		    "<span class=\"muted small\" id=\"grain-log-note\"></span>"
		    "<button type=\"button\" class=\"btn btn-small btn-secondary\" "
		    "id=\"grain-log-refresh\">Refresh</button><button type=\"button\" "
		    "class=\"icon-btn\" id=\"grain-log-close\" aria-label=\"Close the log\" "
		    "title=\"Close\">%r</button></div><pre class=\"log-text\" id=\"grain-log-text\" "
		    "tabindex=\"0\"></pre></section>\n", ICON_CLOSE);
}

void page_grain(struct buf *b, const struct page_ctx *c, const struct page_grain_view *v)
{
	const struct grain_info *g = v->g;
	page_head(b, c, g->title, "grain-page");
	html_printf(b, "<a class=\"skip\" href=\"#grain-frame\">Skip to the app</a>\n");
	page_grain_bar(b, c, v);
	html_printf(b, "<main id=\"main\" class=\"grain-main\">");
	page_banners(b, c);
	if (v->owner)
		page_noscript(b, "Renaming, the console log and the trash button");
	html_printf(b, "<p class=\"form-status grain-status\" id=\"grain-status\" role=\"status\">"
		       "</p><iframe id=\"grain-frame\" src=\"%s\" title=\"%s (%s)\"></iframe>\n",
		    v->frame_url, g->title, g->app_title);
	if (v->owner)
		page_grain_log(b);
	html_printf(b, "</main>\n</body>\n</html>\n");
}

static void page_trash_row(struct buf *b, const struct page_grain *pg)
{
	const struct grain_info *g = &pg->g;
	html_printf(b, "<tr data-grain=\"%s\"><td class=\"who\"><div class=\"app-cell\">", g->id);
	page_avatar(b, g->app_id, g->app_title);
	html_printf(b, "<div>%s</div></div></td><td data-label=\"App\">%s</td>"
		       "<td data-label=\"Trashed\" class=\"num\">", g->title, g->app_title);
	page_date(b, g->trashed);
	html_printf(b, "</td><td data-label=\"Deleted for good\" class=\"num\">");
	page_date(b, g->trashed + GRAIN_TRASH_TTL);
	html_printf(b, "</td><td class=\"act\"><div class=\"row-buttons\">"
		       "<button type=\"button\" class=\"btn btn-small btn-secondary\" "
		       "data-restore=\"%s\">Restore</button><button type=\"button\" "
		       "class=\"btn btn-small btn-danger\" data-purge=\"%s\" data-title=\"%s\">"
		       "Delete forever</button></div></td></tr>\n", g->id, g->id, g->title);
}

void page_trash(struct buf *b, const struct page_ctx *c, const struct page_lists *l)
{
	page_begin(b, c, "Trash", NAV_HOME, false);
	html_printf(b, "<div class=\"page-head\"><a class=\"back\" href=\"/\">%rHome</a>"
		       "<h1>Trash</h1><p>Grains you moved to the trash. You can restore each one "
		       "until it is deleted for good, 30 days after it was trashed.</p></div>\n",
		    ICON_BACK);
	page_noscript(b, "Restoring and deleting grains");
	html_printf(b, "<p class=\"form-status page-status\" id=\"trash-status\" role=\"status\">"
		       "</p><section class=\"card\" aria-labelledby=\"trash-h\">"
		       "<div class=\"card-head card-head-row\"><h2 id=\"trash-h\">In the trash</h2>"
		       "<span class=\"muted small\" id=\"trash-count\">%zu %r</span></div>",
		    l->ngrains, plural(l->ngrains, "grain", "grains"));
	if (!l->ngrains) {
		page_empty(b, "/static/grains.svg", "The trash is empty",
			   "Grains you move to the trash wait here for 30 days before they are "
			   "deleted.");
		html_printf(b, "</div></section>\n");
		page_end(b);
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table id=\"trash-list\"><thead><tr>"
		       "<th scope=\"col\">Grain</th><th scope=\"col\">App</th>"
		       "<th scope=\"col\" class=\"num\">Trashed</th><th scope=\"col\" class=\"num\">"
		       "Deleted for good</th><th scope=\"col\" class=\"act\"><span class=\"sr-only\">"
		       "Actions</span></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < l->ngrains; i++)
		page_trash_row(b, &l->grains[i]);
	html_printf(b, "</tbody></table></div></section>\n");
	page_end(b);
}
