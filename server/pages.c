// SPDX-License-Identifier: MIT
// Server-rendered HTML pages of the shell, built with html_printf so every value is escaped.
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "appliance.h"
#include "auth.h"
#include "buf.h"
#include "html.h"
#include "manifest.h"
#include "pages.h"
#include "pages_impl.h"

#define PAGE_STR_(x) #x
#define PAGE_STR(x) PAGE_STR_(x)

// Limits the browser checks before the server does (auth.h has the real ones).
#define NAME_ATTRS "maxlength=\"" PAGE_STR(AUTH_NAME_MAX) "\" required " \
	"autocapitalize=\"none\" autocorrect=\"off\" spellcheck=\"false\""
#define NEW_PASSWORD_ATTRS "type=\"password\" autocomplete=\"new-password\" required " \
	"minlength=\"" PAGE_STR(AUTH_PASSWORD_MIN) "\" maxlength=\"" PAGE_STR(AUTH_PASSWORD_MAX) "\""

// One labelled input. attrs is trusted markup (type, autocomplete, limits); the rest is text.
struct page_field {
	const char *name;    // also its id
	const char *label;
	const char *attrs;
	const char *value;   // NULL: no value attribute (always NULL for passwords)
	const char *hint;    // NULL: none
};

const char *page_server_name(const struct page_ctx *c)
{
	return c->server_name && *c->server_name ? c->server_name : "silo";
}

static void page_csrf(struct buf *b, const struct page_ctx *c)
{
	html_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", c->csrf);
}

static void page_nav_link(struct buf *b, const char *href, const char *label, bool current)
{
	html_printf(b, "<li><a href=\"%s\"%r>%s</a></li>", href,
		    current ? " aria-current=\"page\"" : "", label);
}

// Logged-in users get the navigation; logging out is a POST so a link cannot do it.
static void page_nav(struct buf *b, const struct page_ctx *c, enum page_nav cur)
{
	if (!c->user)
		return;
	html_printf(b, "<nav class=\"nav\" aria-label=\"Main\"><ul>");
	page_nav_link(b, "/", "Home", cur == NAV_HOME);
	page_nav_link(b, "/apps", "Apps", cur == NAV_APPS);
	if (c->user->is_admin)
		page_nav_link(b, "/admin", "Admin", cur == NAV_ADMIN);
	page_nav_link(b, "/account", "Account", cur == NAV_ACCOUNT);
	html_printf(b, "</ul><form method=\"post\" action=\"/logout\">");
	page_csrf(b, c);
	html_printf(b, "<button type=\"submit\">Log out</button></form></nav>\n");
}

void page_banners(struct buf *b, const struct page_ctx *c)
{
	if (c->error)
		html_printf(b, "<div class=\"banner banner-error\" role=\"alert\">%s</div>\n",
			    c->error);
	if (c->notice)
		html_printf(b, "<div class=\"banner banner-ok\" role=\"status\">%s</div>\n",
			    c->notice);
}

// The document's head, shared by every page. body_class may be NULL.
void page_head(struct buf *b, const struct page_ctx *c, const char *title,
	       const char *body_class)
{
	html_printf(b,
		    "<!doctype html>\n<html lang=\"en\">\n<head>\n"
		    "<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta name=\"color-scheme\" content=\"light dark\">\n"
		    "<meta name=\"referrer\" content=\"same-origin\">\n");
	// The session's token for app.js's API calls; logged-out pages make none.
	if (c->user && c->csrf)
		html_printf(b, "<meta name=\"csrf\" content=\"%s\">\n", c->csrf);
	html_printf(b,
		    "<title>%s &middot; %s</title>\n"
		    "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
		    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
		    "<script src=\"/static/app.js\" defer></script>\n"
		    "</head>\n<body",
		    title, page_server_name(c));
	if (body_class)
		html_printf(b, " class=\"%s\"", body_class);
	html_printf(b, ">\n");
}

// The shared layout: head, top bar, banners; page_end closes it. narrow centres a single
// card, for the pages of people who are not logged in yet.
void page_begin(struct buf *b, const struct page_ctx *c, const char *title,
		enum page_nav nav, bool narrow)
{
	const char *server = page_server_name(c);
	page_head(b, c, title, narrow ? "narrow" : NULL);
	html_printf(b,
		    "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
		    "<header class=\"topbar\"><div class=\"topbar-inner\">\n"
		    "<a class=\"brand\" href=\"/\"><img src=\"/static/icon.svg\" alt=\"\" "
		    "width=\"30\" height=\"30\"><span>%s</span></a>\n",
		    server);
	page_nav(b, c, nav);
	html_printf(b, "</div></header>\n<main id=\"main\">\n");
	page_banners(b, c);
}

void page_end(struct buf *b)
{
	html_printf(b, "</main>\n<footer class=\"footer\">silo &middot; your personal cloud"
		       "</footer>\n</body>\n</html>\n");
}

// The centred heading of the narrow pages (title, then server, which may be NULL, then a
// line), and the opening of the card that the caller fills and closes.
static void page_hero(struct buf *b, bool logo, const char *title, const char *server,
		      const char *sub)
{
	html_printf(b, "<div class=\"hero\">%r<h1>%s%s</h1><p>%s</p></div>\n<div class=\"card\">",
		    logo ? "<img src=\"/static/icon.svg\" alt=\"\" width=\"64\" height=\"64\">" : "",
		    title, server, sub);
}

static void page_field(struct buf *b, const struct page_field *f)
{
	html_printf(b, "<div class=\"field\"><label for=\"%s\">%s</label><input id=\"%s\" "
		       "name=\"%s\" %r", f->name, f->label, f->name, f->name, f->attrs);
	if (f->value)
		html_printf(b, " value=\"%s\"", f->value);
	if (f->hint)
		html_printf(b, " aria-describedby=\"%s-hint\"", f->name);
	html_printf(b, ">");
	if (f->hint)
		html_printf(b, "<span class=\"hint\" id=\"%s-hint\">%s</span>", f->name, f->hint);
	html_printf(b, "</div>\n");
}

static void page_new_password_fields(struct buf *b)
{
	page_field(b, &(struct page_field){
		"password", "Password", NEW_PASSWORD_ATTRS, NULL,
		"At least " PAGE_STR(AUTH_PASSWORD_MIN) " characters. A short sentence is easy "
		"to remember and hard to guess." });
	page_field(b, &(struct page_field){
		"password2", "Password again", NEW_PASSWORD_ATTRS, NULL, NULL });
}

// <form method=post action=...> with its CSRF field; the action is an html_printf format.
void page_form_open(struct buf *b, const struct page_ctx *c, const char *action, ...)
{
	va_list ap;
	html_printf(b, "<form method=\"post\" action=\"");
	va_start(ap, action);
	html_vprintf(b, action, ap);
	va_end(ap);
	html_printf(b, "\">");
	page_csrf(b, c);
}

static void page_submit(struct buf *b, const char *label)
{
	html_printf(b, "<div class=\"actions\"><button type=\"submit\" class=\"btn btn-block\">"
		       "%s</button></div></form>\n", label);
}

// A one-button form for an action on a row; confirm (may be NULL) is asked first by app.js.
static void page_post_button(struct buf *b, const struct page_ctx *c, const char *action,
			     const char *label, const char *cls, const char *confirm)
{
	html_printf(b, "<form method=\"post\" action=\"%s\"", action);
	if (confirm)
		html_printf(b, " data-confirm=\"%s\"", confirm);
	html_printf(b, ">");
	page_csrf(b, c);
	html_printf(b, "<button type=\"submit\" class=\"btn btn-small %r\">%s</button></form>",
		    cls, label);
}

void page_noscript(struct buf *b, const char *what)
{
	html_printf(b, "<noscript><div class=\"banner banner-info\">%s needs JavaScript. Turn it "
		       "on for this site to use it.</div></noscript>\n", what);
}

// Dates are shown as YYYY-MM-DD in UTC.
void page_date(struct buf *b, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm)) {
		html_printf(b, "&mdash;");
		return;
	}
	char day[32];
	snprintf(day, sizeof(day), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
	html_printf(b, "<time datetime=\"%s\">%s</time>", day, day);
}

void page_when(struct buf *b, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		html_printf(b, "&mdash;");
		return;
	}
	char iso[32], day[32];
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	html_printf(b, "<time datetime=\"%s\" data-relative>%s</time>", iso, day);
}

// A secret or link shown once: the text (select-all on click) and a copy button that
// app.js reveals.
void page_copy_box(struct buf *b, const char *text, const char *what)
{
	html_printf(b, "<div class=\"copy-row\"><code class=\"secret\">%s</code>"
		       "<button type=\"button\" class=\"btn btn-secondary\" data-copy=\"%s\" "
		       "aria-label=\"Copy %s\" hidden>Copy</button></div>\n", text, text, what);
}

void page_setup(struct buf *b, const struct page_ctx *c, const char *token,
		const char *server_name, const char *name)
{
	page_begin(b, c, "Claim your server", NAV_NONE, true);
	page_hero(b, true, "Claim your server", NULL,
		  "Welcome to silo. Name this server and create its administrator account: "
		  "the one that invites people and looks after the server.");
	page_form_open(b, c, "/setup/%u", token);
	page_field(b, &(struct page_field){
		"server_name", "Server name", "type=\"text\" maxlength=\"64\" "
		"placeholder=\"e.g. Home cloud\"", server_name,
		"Everyone sees it in the top bar and on invitations. Left empty, it is silo." });
	page_field(b, &(struct page_field){
		"name", "Your name", "type=\"text\" autocomplete=\"username\" " NAME_ATTRS, name,
		"You log in with this name." });
	page_new_password_fields(b);
	page_submit(b, "Create admin account");
	html_printf(b, "</div>\n<p class=\"below\">This setup link works once.</p>\n");
	page_end(b);
}

void page_setup_spent(struct buf *b, const struct page_ctx *c)
{
	page_begin(b, c, "Setup link used", NAV_NONE, true);
	page_hero(b, false, "This setup link has been used or has expired", NULL,
		  "Setup links work once and only for a limited time.");
	html_printf(b,
		    "<p>If you have already claimed this server, log in with the account you "
		    "created.</p>"
		    "<p>To get a new setup link, run this on the server, where "
		    "<code>DIR</code> is silo's data directory (<code>/var/lib/silo</code> on "
		    "the appliance):</p>"
		    "<pre class=\"cmd\">silo admin-token --data DIR</pre>"
		    "<div class=\"actions\"><a class=\"btn btn-block\" href=\"/login\">Go to log in"
		    "</a></div></div>\n");
	page_end(b);
}

void page_login(struct buf *b, const struct page_ctx *c, const char *name, const char *next)
{
	bool have_name = name && *name;
	page_begin(b, c, "Log in", NAV_NONE, true);
	page_hero(b, false, "Log in to ", page_server_name(c), "Welcome back.");
	page_form_open(b, c, "/login");
	if (next && *next)
		html_printf(b, "<input type=\"hidden\" name=\"next\" value=\"%s\">", next);
	// The cursor starts where typing begins: the password when the name is already there.
	const char *name_attrs = "type=\"text\" autocomplete=\"username\" autofocus " NAME_ATTRS;
	const char *pass_attrs = "type=\"password\" autocomplete=\"current-password\" required";
	if (have_name) {
		name_attrs = "type=\"text\" autocomplete=\"username\" " NAME_ATTRS;
		pass_attrs = "type=\"password\" autocomplete=\"current-password\" required autofocus";
	}
	page_field(b, &(struct page_field){ "name", "Name", name_attrs, name, NULL });
	page_field(b, &(struct page_field){ "password", "Password", pass_attrs, NULL, NULL });
	page_submit(b, "Log in");
	html_printf(b, "</div>\n<p class=\"below\">New here? Ask the person who runs this server "
		       "for an invitation link.</p>\n");
	page_end(b);
}

// An empty state that says what will be there, without pretending it already works.
void page_empty(struct buf *b, const char *img, const char *title, const char *text)
{
	html_printf(b, "<div class=\"empty\"><img src=\"%s\" alt=\"\" width=\"64\" height=\"64\">"
		       "<h3>%s</h3><p>%s</p>", img, title, text);
}

void page_invite(struct buf *b, const struct page_ctx *c, const char *token, const char *name)
{
	page_begin(b, c, "Invitation", NAV_NONE, true);
	page_hero(b, false, "You're invited to ", page_server_name(c),
		  "Choose a name and a password to create your account.");
	page_form_open(b, c, "/invite/%u", token);
	page_field(b, &(struct page_field){
		"name", "Your name", "type=\"text\" autocomplete=\"username\" " NAME_ATTRS, name,
		"You log in with this name, and others on this server see it." });
	page_new_password_fields(b);
	page_submit(b, "Create account");
	html_printf(b, "</div>\n<p class=\"below\">Already have an account? "
		       "<a href=\"/login\">Log in</a></p>\n");
	page_end(b);
}

static void page_user_row(struct buf *b, const struct page_ctx *c, const struct user *u)
{
	bool self = c->user && c->user->id == u->id;
	html_printf(b, "<tr><td class=\"who\">%s%r</td><td data-label=\"Role\">%r</td>"
		       "<td data-label=\"Status\">%r</td><td data-label=\"Created\" class=\"num\">",
		    u->name, self ? "<span class=\"badge\">You</span>" : "",
		    u->is_admin ? "<span class=\"badge badge-accent\">Admin</span>" : "User",
		    u->disabled ? "<span class=\"badge badge-off\">Disabled</span>"
				: "<span class=\"badge badge-ok\">Active</span>");
	page_date(b, u->created);
	html_printf(b, "</td><td class=\"act\">");
	if (!self) {
		char action[96], question[AUTH_NAME_MAX + 128];
		snprintf(action, sizeof(action), "/admin/users/%" PRId64 "/%s", u->id,
			 u->disabled ? "enable" : "disable");
		snprintf(question, sizeof(question), "Disable %s? They are logged out everywhere "
			 "and their API tokens stop working until you enable them again.", u->name);
		page_post_button(b, c, action, u->disabled ? "Enable" : "Disable",
				 u->disabled ? "btn-secondary" : "btn-danger",
				 u->disabled ? NULL : question);
	}
	html_printf(b, "</td></tr>\n");
}

static void page_invite_reveal(struct buf *b, const char *invite_url)
{
	html_printf(b, "<section class=\"reveal\" aria-labelledby=\"invite-h\">"
		       "<h3 id=\"invite-h\">Invitation link ready</h3>");
	page_copy_box(b, invite_url, "the invitation link");
	html_printf(b, "<p>Send it to one person: it works once and expires in 7 days. "
		       "Anyone holding it can create an account, so share it privately. "
		       "It is shown only now.</p></section>\n");
}

// Power and OS updates: the appliance's; a native server leaves them to its host system.
// app.js asks before each button's call and uploads the update file.
static void page_admin_system(struct buf *b)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"system-h\"><div class=\"card-head\">"
		       "<div><h2 id=\"system-h\">This machine</h2>");
	if (!appliance_active()) {
		html_printf(b, "<p class=\"muted\">silo runs on this machine's own system, which "
			       "powers it off, restarts it and updates it.</p></div></div></section>\n");
		return;
	}
	html_printf(b, "<p class=\"muted\">Restarting or powering off stops every grain and "
		       "closes every session; nobody can reach the server until it is back.</p>"
		       "</div></div>");
	page_noscript(b, "Power and updates");
	html_printf(b, "<div class=\"actions\"><button type=\"button\" class=\"btn\" "
		       "id=\"system-reboot\" data-system=\"/api/v1/admin/reboot\" data-question=\""
		       "Restart the server now? Everyone is disconnected until it is back.\">Restart"
		       "</button> <button type=\"button\" class=\"btn btn-danger\" "
		       "id=\"system-poweroff\" data-system=\"/api/v1/admin/poweroff\" data-question=\""
		       "Power the server off now? It stays off until someone turns it on.\">Power off"
		       "</button></div>"
		       "<h3>OS update</h3><p class=\"muted\">A signed <code>.update</code> file "
		       "replaces the system (never your data) from the next boot; when it does not "
		       "start, the server goes back to the current one by itself.</p>"
		       "<div class=\"upload\"><div class=\"field\"><label for=\"os-update-file\">"
		       "Update file</label><input type=\"file\" id=\"os-update-file\" "
		       "accept=\".update\" aria-describedby=\"system-status\"></div>"
		       "<button type=\"button\" class=\"btn\" id=\"os-update-button\">Install update"
		       "</button></div><p class=\"form-status\" id=\"system-status\" role=\"status\">"
		       "</p></section>\n");
}

static void page_https_card(struct buf *b, const struct page_https *h)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"https-h\"><div class=\"card-head\">"
		       "<h2 id=\"https-h\">HTTPS</h2></div>\n");
	if (!h->fingerprint[0]) {
		html_printf(b, "<p class=\"muted\">HTTPS is off (no <code>listen_tls</code> address)."
			       "</p></section>\n");
		return;
	}
	html_printf(b, "<p>Certificate SHA-256 fingerprint: <code id=\"tls-fp\">%s</code></p>\n"
		       "<p><a class=\"btn btn-secondary\" href=\"/admin/https\">Change how people "
		       "reach this server</a></p>\n", h->fingerprint);
	if (h->acme_state[0]) {
		html_printf(b, "<p>Certificate authority (ACME) for %s: <strong id=\"acme-state\">%s"
			       "</strong>", h->acme_names, h->acme_state);
		if (h->acme_not_after) {
			html_printf(b, ", valid until ");
			page_date(b, h->acme_not_after);
		}
		html_printf(b, "</p>\n");
		if (h->acme_error[0])
			html_printf(b, "<p class=\"error\" id=\"acme-error\">Last error: %s</p>\n",
				    h->acme_error);
	}
	html_printf(b, "</section>\n");
}

void page_admin(struct buf *b, const struct page_ctx *c, const struct page_https *https,
		const struct user *users, size_t n, const char *invite_url)
{
	page_begin(b, c, "Admin", NAV_ADMIN, false);
	html_printf(b, "<div class=\"page-head\"><h1>Admin</h1><p>The people on this server and "
		       "how new ones get in.</p></div>\n");
	if (invite_url)
		page_invite_reveal(b, invite_url);
	html_printf(b, "<section class=\"card\" aria-labelledby=\"users-h\"><div class=\"card-head\">"
		       "<h2 id=\"users-h\">Users</h2><span class=\"muted small\">%zu %r</span></div>"
		       "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Name</th>"
		       "<th scope=\"col\">Role</th><th scope=\"col\">Status</th>"
		       "<th scope=\"col\" class=\"num\">Created</th><th scope=\"col\" class=\"act\">"
		       "<span class=\"sr-only\">Actions</span></th></tr></thead><tbody>\n",
		    n, n == 1 ? "account" : "accounts");
	for (size_t i = 0; i < n; i++)
		page_user_row(b, c, &users[i]);
	html_printf(b, "</tbody></table></div></section>\n"
		       "<section class=\"card\" aria-labelledby=\"inv-h\"><div class=\"card-head\">"
		       "<div><h2 id=\"inv-h\">Invite someone</h2><p class=\"muted\">Make a link "
		       "that lets one person create an account here.</p></div>");
	page_form_open(b, c, "/admin/invites");
	html_printf(b, "<button type=\"submit\" class=\"btn\">Create invitation link</button>"
		       "</form></div></section>\n");
	html_printf(b, "<section class=\"card\" aria-labelledby=\"backup-h\"><div class=\"card-head\">"
		       "<div><h2 id=\"backup-h\">Backup</h2><p class=\"muted\">One file with the "
		       "store, every app and every grain's data. Running grains stop while it is "
		       "made and start again when next opened. Restore it on a fresh server with "
		       "<code>silo restore-server --data DIR FILE</code>.</p></div>"
		       "<a class=\"btn\" id=\"server-backup\" href=\"/api/v1/admin/backup\" "
		       "download>Download server backup</a></div></section>\n");
	page_https_card(b, https);
	page_admin_system(b);
	page_end(b);
}

static void page_token_row(struct buf *b, const struct page_ctx *c, const struct api_token *t)
{
	char action[96];
	snprintf(action, sizeof(action), "/account/tokens/%" PRId64 "/revoke", t->id);
	// Labels are optional through the API; an empty one still needs a visible name.
	if (t->label[0])
		html_printf(b, "<tr><td class=\"who\">%s</td>", t->label);
	else
		html_printf(b, "<tr><td class=\"who muted\">Unnamed token</td>");
	html_printf(b, "<td data-label=\"Created\" class=\"num\">");
	page_date(b, t->created);
	html_printf(b, "</td><td data-label=\"Last used\" class=\"num\">");
	if (t->last_used)
		page_date(b, t->last_used);
	else
		html_printf(b, "<span class=\"muted\">Never</span>");
	html_printf(b, "</td><td class=\"act\">");
	page_post_button(b, c, action, "Revoke", "btn-danger",
			 "Revoke this token? Scripts using it stop working at once.");
	html_printf(b, "</td></tr>\n");
}

static void page_token_reveal(struct buf *b, const char *token)
{
	struct buf header;
	buf_init(&header);
	buf_printf(&header, "Authorization: Bearer %s", token);
	const char *line = buf_cstr(&header);
	html_printf(b, "<section class=\"reveal\" aria-labelledby=\"token-h\">"
		       "<h3 id=\"token-h\">Your new API token</h3>");
	page_copy_box(b, token, "the token");
	html_printf(b, "<p>Copy it now: it is shown only this once. Scripts send it in the "
		       "Authorization header of each request, for example to "
		       "<code>/api/v1/me</code>:</p>");
	page_copy_box(b, line ? line : "", "the header line");
	html_printf(b, "</section>\n");
	buf_free(&header);
}

static void page_token_table(struct buf *b, const struct page_ctx *c,
			     const struct api_token *tokens, size_t n)
{
	if (!n) {
		html_printf(b, "<p class=\"muted\">No API tokens yet.</p>");
		return;
	}
	html_printf(b, "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Label</th>"
		       "<th scope=\"col\" class=\"num\">Created</th><th scope=\"col\" class=\"num\">"
		       "Last used</th><th scope=\"col\" class=\"act\"><span class=\"sr-only\">"
		       "Actions</span></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++)
		page_token_row(b, c, &tokens[i]);
	html_printf(b, "</tbody></table></div>");
}

void page_account(struct buf *b, const struct page_ctx *c, const struct api_token *tokens,
		  size_t n, const char *new_token)
{
	page_begin(b, c, "Account", NAV_ACCOUNT, false);
	html_printf(b, "<div class=\"page-head\"><h1>Account</h1><p>Signed in as <strong>%s"
		       "</strong> &middot; %r</p></div>\n", c->user ? c->user->name : "",
		    c->user && c->user->is_admin ? "Administrator" : "User");
	if (new_token)
		page_token_reveal(b, new_token);
	html_printf(b, "<section class=\"card\" aria-labelledby=\"new-token-h\">"
		       "<div class=\"card-head\"><div><h2 id=\"new-token-h\">API tokens</h2>"
		       "<p class=\"muted\">Tokens let scripts use silo's API as you. Treat each "
		       "one like a password and revoke it when it is no longer needed.</p></div>"
		       "</div>");
	page_form_open(b, c, "/account/tokens");
	html_printf(b, "<div class=\"inline-form\">");
	page_field(b, &(struct page_field){
		"label", "Label", "type=\"text\" maxlength=\"64\" required autocomplete=\"off\" "
		"placeholder=\"e.g. Backup script\"", NULL, NULL });
	html_printf(b, "<button type=\"submit\" class=\"btn\">Create token</button></div></form>"
		       "</section>\n<section class=\"card\" aria-labelledby=\"tokens-h\">"
		       "<div class=\"card-head\"><h2 id=\"tokens-h\">Your tokens</h2></div>");
	page_token_table(b, c, tokens, n);
	html_printf(b, "</section>\n");
	page_end(b);
}

static const char *page_status_title(int status)
{
	switch (status) {
	case 400: return "That request didn't look right";
	case 401: return "Please log in";
	case 403: return "You don't have access to this";
	case 404: return "Page not found";
	case 405: return "That action isn't allowed here";
	case 408: return "The request took too long";
	case 410: return "This is no longer here";
	case 413: return "That's too large";
	case 429: return "Too many attempts";
	case 503: return "Temporarily unavailable";
	default: return status >= 500 ? "Something went wrong" : "That didn't work";
	}
}

void page_error(struct buf *b, const struct page_ctx *c, int status, const char *msg)
{
	const char *title = page_status_title(status);
	page_begin(b, c, title, NAV_NONE, false);
	html_printf(b, "<div class=\"error-page\"><div class=\"status\">%d</div><h1>%s</h1>"
		       "<p>%s</p><a class=\"btn\" href=\"/\">Go to the home page</a></div>\n",
		    status, title, msg);
	page_end(b);
}
