// SPDX-License-Identifier: MIT
// Unit tests for html.c (escaping printf), pages.c and pages_grains.c (whole documents,
// escaping, CSRF), the shell pages' CSP frame-src (response.c) and the generated asset table.
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "html.h"
#include "manifest.h"
#include "pages.h"
#include "response.h"
#include "test.h"

#define HOSTILE "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&"
#define CSRF "c5rfc5rfc5rfc5rf"

static struct buf out;

static const char *fmt(const char *f, ...)
{
	va_list ap;
	buf_reset(&out);
	va_start(ap, f);
	html_vprintf(&out, f, ap);
	va_end(ap);
	return buf_cstr(&out);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

static void test_printf(void)
{
	buf_reset(&out);
	html_escape(&out, "a<b>c&d\"e'f");
	CHECK_STR(buf_cstr(&out), "a&lt;b&gt;c&amp;d&quot;e&#39;f", "html: html_escape");
	CHECK_STR(fmt("<p>%s</p>", "<>&\"'"), "<p>&lt;&gt;&amp;&quot;&#39;</p>",
		  "html: %%s escapes < > & \" '");
	CHECK_STR(fmt("[%s]", (const char *)NULL), "[]", "html: %%s of NULL prints nothing");
	CHECK_STR(fmt("%r", "<b>bold</b>"), "<b>bold</b>", "html: %%r is raw");
	CHECK_STR(fmt("[%r]", (const char *)NULL), "[]", "html: %%r of NULL prints nothing");
	CHECK_STR(fmt("/x/%u", "a b/c&d<\xc3\xa9\"?=#%"), "/x/a%20b%2Fc%26d%3C%C3%A9%22%3F%3D%23%25",
		  "html: %%u percent-encodes");
	CHECK_STR(fmt("%u", "AZaz09-._~"), "AZaz09-._~", "html: %%u keeps unreserved characters");
	CHECK_STR(fmt("%u", (const char *)NULL), "", "html: %%u of NULL prints nothing");
	CHECK_STR(fmt("%d|%d|%ld|%lld|%zu", 0, -42, -7L, (long long)INT64_MIN, (size_t)SIZE_MAX),
		  "0|-42|-7|-9223372036854775808|18446744073709551615", "html: numbers");
	CHECK_STR(fmt("100%% %s%%", "sure"), "100% sure%", "html: %%%% is a percent sign");
	CHECK_STR(fmt("plain & <raw> text"), "plain & <raw> text", "html: format text is verbatim");
	CHECK_STR(fmt(""), "", "html: empty format");
	buf_reset(&out);
	html_url_encode(&out, "\x01\xff ");
	CHECK_STR(buf_cstr(&out), "%01%FF%20", "html: html_url_encode of control and high bytes");
}

static void test_bad_conversion(void)
{
#ifndef NDEBUG
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		// The child's own ASan report is not wanted; the abort is the expected outcome.
		close(STDERR_FILENO);
		struct buf b;
		buf_init(&b);
		html_printf(&b, "%q", 1);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
	      "html: unknown conversion aborts in debug builds");
#else
	CHECK_STR(fmt("a%qb%sc", "x"), "abc",
		  "html: unknown conversion prints nothing, nor what follows it");
#endif
}

static const struct user admin = { .id = 1, .name = "ada", .is_admin = true, .created = 0 };
static const struct user hostile_user = { .id = 2, .name = HOSTILE, .created = 1704164645 };

static struct page_ctx ctx(const struct user *u)
{
	return (struct page_ctx){ .server_name = HOSTILE, .user = u, .csrf = CSRF,
				  .notice = HOSTILE, .error = HOSTILE };
}

static bool balanced(const char *doc, const char *tag)
{
	char open[32], close[32], open2[32];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(open2, sizeof(open2), "<%s ", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	return count(doc, open) + count(doc, open2) == count(doc, close);
}

// What every rendered page must be: a whole, escaped document whose forms carry the CSRF
// token and which needs no inline script or style (the CSP forbids both).
static void check_doc(const char *name, const char *doc, bool logged_in)
{
	size_t len = doc ? strlen(doc) : 0;
	CHECK(doc && strncmp(doc, "<!doctype html>", 15) == 0, "%s: starts with <!doctype html>",
	      name);
	CHECK(len >= 8 && strcmp(doc + len - 8, "</html>\n") == 0, "%s: ends with </html>", name);
	if (!doc)
		return;
	CHECK(!strstr(doc, "<script>") && !strstr(doc, "<img src=x"),
	      "%s: hostile strings appear only escaped", name);
	CHECK(strstr(doc, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;"),
	      "%s: shows the hostile string escaped", name);
	CHECK(!strstr(doc, "style=") && !strstr(doc, "onclick") && !strstr(doc, "onsubmit") &&
	      !strstr(doc, "javascript:"), "%s: no inline style or script", name);
	CHECK(strstr(doc, "<meta name=\"viewport\"") &&
	      strstr(doc, "<link rel=\"stylesheet\" href=\"/static/style.css\">") &&
	      strstr(doc, "<script src=\"/static/app.js\" defer></script>") &&
	      strstr(doc, "href=\"/static/icon.svg\""), "%s: the shared head", name);
	size_t forms = count(doc, "<form ");
	CHECK(count(doc, "<input type=\"hidden\" name=\"csrf\" value=\"" CSRF "\">") == forms &&
	      count(doc, "method=\"post\"") == forms, "%s: each of %zu forms posts with csrf",
	      name, forms);
	CHECK(balanced(doc, "div") && balanced(doc, "form") && balanced(doc, "section") &&
	      balanced(doc, "table") && balanced(doc, "tr") && balanced(doc, "td") &&
	      balanced(doc, "p") && balanced(doc, "main"), "%s: tags are balanced", name);
	CHECK(strstr(doc, "role=\"alert\"") && strstr(doc, "role=\"status\""),
	      "%s: shows the error and the notice", name);
	CHECK(!!strstr(doc, "action=\"/logout\"") == logged_in, "%s: log out button %s", name,
	      logged_in ? "present" : "absent");
}

// Logged-in pages hand app.js the session's token; logged-out pages have none to hand.
static void check_csrf_meta(const char *name, const char *doc, bool logged_in)
{
	bool has = strstr(doc, "<meta name=\"csrf\" content=\"" CSRF "\">\n") != NULL;
	CHECK(has == logged_in && count(doc, "name=\"csrf\" content=") == (logged_in ? 1u : 0u),
	      "%s: <meta name=csrf> %s", name, logged_in ? "present" : "absent");
}

static void test_pages_logged_out(void)
{
	struct page_ctx c = ctx(NULL);
	buf_reset(&out);
	page_setup(&out, &c, "ab/c?d", HOSTILE, HOSTILE);
	const char *d = buf_cstr(&out);
	check_doc("setup", d, false);
	CHECK(strstr(d, "action=\"/setup/ab%2Fc%3Fd\"") && strstr(d, "name=\"server_name\"") &&
	      strstr(d, "name=\"name\"") && strstr(d, "name=\"password\"") &&
	      strstr(d, "name=\"password2\"") && strstr(d, "minlength=\"10\"") &&
	      strstr(d, "autocomplete=\"new-password\"") && strstr(d, "Create admin account"),
	      "setup: the wizard's form");

	buf_reset(&out);
	page_setup_spent(&out, &c);
	d = buf_cstr(&out);
	check_doc("setup spent", d, false);
	CHECK(strstr(d, "silo admin-token --data DIR") && strstr(d, "href=\"/login\""),
	      "setup spent: says how to get a new link");

	buf_reset(&out);
	page_login(&out, &c, HOSTILE, "/admin?x=\"><b>");
	d = buf_cstr(&out);
	check_doc("login", d, false);
	check_csrf_meta("login", d, false);
	CHECK(strstr(d, "action=\"/login\"") &&
	      strstr(d, "name=\"next\" value=\"/admin?x=&quot;&gt;&lt;b&gt;\"") &&
	      strstr(d, "autocomplete=\"current-password\""), "login: form with next");

	buf_reset(&out);
	page_invite(&out, &c, "t0k", HOSTILE);
	d = buf_cstr(&out);
	check_doc("invite", d, false);
	CHECK(strstr(d, "action=\"/invite/t0k\"") && strstr(d, "name=\"password2\"") &&
	      strstr(d, "You&#39;re invited to &lt;script&gt;"), "invite: form and greeting");

	buf_reset(&out);
	page_error(&out, &c, 404, HOSTILE);
	d = buf_cstr(&out);
	check_doc("error", d, false);
	CHECK(strstr(d, ">404<") && strstr(d, "href=\"/\""), "error: status and a way home");
}

static void test_pages_logged_in(void)
{
	struct page_ctx c = ctx(&hostile_user);
	struct page_lists none = {0};
	buf_reset(&out);
	page_home(&out, &c, &none);
	const char *d = buf_cstr(&out);
	check_doc("home", d, true);
	check_csrf_meta("home", d, true);
	CHECK(strstr(d, "Welcome, &lt;script&gt;") && strstr(d, "Create") && strstr(d, "Grains") &&
	      !strstr(d, "href=\"/admin\""), "home: greeting, sections, no admin link for users");
	CHECK(strstr(d, "No apps yet") && strstr(d, "No grains yet") &&
	      strstr(d, "<a class=\"btn\" href=\"/apps\">Install an app</a>") &&
	      !strstr(d, "id=\"grains-list\"") && !strstr(d, "data-new-grain"),
	      "home: empty states point to the apps page");

	buf_reset(&out);
	c.user = &admin;
	page_home(&out, &c, &none);
	CHECK(strstr(buf_cstr(&out), "href=\"/admin\""), "home: admins see the admin link");

	struct user users[3] = { admin, hostile_user, hostile_user };
	users[2].id = 3;
	users[2].disabled = true;
	buf_reset(&out);
	struct page_https https = {.fingerprint = "ab12", .acme_state = "error",
				   .acme_error = HOSTILE, .acme_names = "a.example", .acme_not_after = 0};
	page_admin(&out, &c, &https, users, 3, "https://h.example/invite/" HOSTILE);
	d = buf_cstr(&out);
	check_doc("admin", d, true);
	CHECK(!strstr(d, "/admin/users/1/") && strstr(d, "action=\"/admin/users/2/disable\"") &&
	      strstr(d, "action=\"/admin/users/3/enable\"") && strstr(d, "data-confirm="),
	      "admin: disable/enable for others, never for the viewer");
	CHECK(strstr(d, ">2024-01-02<") && strstr(d, ">1970-01-01<"), "admin: dates in UTC");
	CHECK(strstr(d, "action=\"/admin/invites\"") &&
	      strstr(d, "data-copy=\"https://h.example/invite/&lt;script&gt;") &&
	      strstr(d, "7 days"), "admin: invite form and the fresh link with a copy button");
	CHECK(strstr(d, "id=\"tls-fp\">ab12<") && strstr(d, "Last error: &lt;script&gt;"),
	      "admin: the certificate fingerprint and ACME's last error (escaped)");
	struct page_https off = {.fingerprint = "", .acme_state = "", .acme_error = "",
				 .acme_names = ""};
	buf_reset(&out);
	page_admin(&out, &c, &off, users, 0, NULL);
	CHECK(strstr(buf_cstr(&out), "HTTPS is off"), "admin: says when HTTPS is off");
	CHECK(!strstr(buf_cstr(&out), "data-copy"), "admin: no link box without a fresh link");

	struct api_token toks[3] = { { .id = 5, .label = HOSTILE, .created = 1704164645 },
				     { .id = 6, .label = "ci", .created = 0, .last_used = 86400 },
				     { .id = 7, .label = "" } };
	c.user = &hostile_user;
	buf_reset(&out);
	page_account(&out, &c, toks, 3, "f00d");
	d = buf_cstr(&out);
	check_doc("account", d, true);
	CHECK(strstr(d, "action=\"/account/tokens/5/revoke\"") &&
	      strstr(d, "action=\"/account/tokens/6/revoke\"") && strstr(d, "Never") &&
	      strstr(d, ">1970-01-02<") && strstr(d, "action=\"/account/tokens\"") &&
	      strstr(d, "name=\"label\""), "account: token list and create form");
	CHECK(strstr(d, "action=\"/account/tokens/7/revoke\"") && strstr(d, "Unnamed token"),
	      "account: a token without a label still has a name");
	CHECK(strstr(d, "data-copy=\"f00d\"") && strstr(d, "Authorization: Bearer f00d"),
	      "account: the new token shown once with its header");
	buf_reset(&out);
	page_account(&out, &c, NULL, 0, NULL);
	d = buf_cstr(&out);
	CHECK(!strstr(d, "Bearer") && strstr(d, "No API tokens yet"), "account: empty state");

	buf_reset(&out);
	page_error(&out, &c, 500, "boom");
	check_doc("error logged in", buf_cstr(&out), true);
}

// A manifest with hostile titles and two actions, as the store would hand it over.
static struct manifest *hostile_manifest(void)
{
	static const char json[] =
		"{\"title\": \"<b>Notes</b>\", \"version\": 3, \"marketing_version\": \"1.2\","
		" \"http_port\": 8000, \"description\": \"<i>desc</i> & 'more'\","
		" \"actions\": [{\"title\": \"New <b>notebook</b>\", \"command\": [\"/notes\"]},"
		" {\"title\": \"New \\\"quick\\\" note\", \"command\": [\"/notes\"]}],"
		" \"continue_command\": [\"/notes\"],"
		" \"permissions\": [{\"name\": \"edit\", \"title\": \"Edit\"}]}";
	struct manifest *m = NULL;
	char err[160];
	if (manifest_parse(json, strlen(json), &m, err, sizeof(err)) != MANIFEST_OK)
		printf("# manifest: %s\n", err);
	return m;
}

#define APP_ID "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
#define GRAIN_ID "0123456789abcdef0123456789abcdef"

static struct page_grain hostile_grain(bool running)
{
	struct page_grain pg = { .running = running };
	snprintf(pg.g.id, sizeof(pg.g.id), GRAIN_ID);
	snprintf(pg.g.app_id, sizeof(pg.g.app_id), APP_ID);
	snprintf(pg.g.app_title, sizeof(pg.g.app_title), "%s", HOSTILE);
	snprintf(pg.g.title, sizeof(pg.g.title), "%s", HOSTILE);
	pg.g.owner_id = 2;
	pg.g.created = pg.g.last_used = 1704164645;
	return pg;
}

static void test_home_with_grains(const struct page_app *apps, size_t napps)
{
	struct page_ctx c = ctx(&hostile_user);
	struct page_grain grains[2] = { hostile_grain(true), hostile_grain(false) };
	grains[1].g.id[0] = 'f';
	struct page_lists l = { apps, napps, grains, 2, 3, NULL, 0 };
	buf_reset(&out);
	page_home(&out, &c, &l);
	const char *d = buf_cstr(&out);
	check_doc("home with grains", d, true);
	CHECK(strstr(d, "<button type=\"button\" class=\"btn btn-small btn-new\" id=\"new-" APP_ID
			"-0\" data-new-grain data-app=\"" APP_ID "\" data-action=\"0\">") &&
	      strstr(d, "id=\"new-" APP_ID "-1\"") && !strstr(d, "id=\"new-" APP_ID "-2\""),
	      "home: one button per action, #new-<app>-<index>");
	CHECK(strstr(d, "New &lt;b&gt;notebook&lt;/b&gt;") && strstr(d, "New &quot;quick&quot; note"),
	      "home: action titles escaped");
	CHECK(strstr(d, "<ul class=\"grain-list\" id=\"grains-list\">") &&
	      strstr(d, "href=\"/grain/" GRAIN_ID "\"") && count(d, "<a class=\"grain-row\"") == 2,
	      "home: #grains-list links each grain to /grain/<id>");
	CHECK(count(d, "data-running=\"" GRAIN_ID "\">Running") == 1 &&
	      strstr(d, "data-running=\"f123456789abcdef0123456789abcdef\" hidden>"),
	      "home: the running badge only on the running grain");
	CHECK(strstr(d, "<time datetime=\"2024-01-02T03:04:05Z\" data-relative>2024-01-02</time>"),
	      "home: last used, as a <time> app.js makes relative");
	CHECK(strstr(d, "href=\"/trash\">Trash <span class=\"count\">3</span>") &&
	      strstr(d, "<noscript>"), "home: the trash link with its count, and a noscript note");
	CHECK(!strstr(d, "No grains yet") && !strstr(d, "No apps yet"), "home: no empty states");
}

static void test_apps_page(const struct page_app *apps, size_t napps)
{
	struct page_ctx c = ctx(&hostile_user);
	struct page_lists none = {0}, l = { .apps = apps, .napps = napps };
	buf_reset(&out);
	page_apps(&out, &c, &none);
	const char *d = buf_cstr(&out);
	check_doc("apps empty", d, true);
	check_csrf_meta("apps", d, true);
	CHECK(strstr(d, "<input type=\"file\" id=\"app-upload\" accept=\".spk\"") &&
	      strstr(d, "id=\"app-upload-button\"") && strstr(d, "id=\"app-upgrade\"") &&
	      strstr(d, "No apps installed yet") && !strstr(d, "id=\"apps-list\""),
	      "apps: the upload control and the empty state");
	CHECK(strstr(d, "<a href=\"/apps\" aria-current=\"page\">Apps</a>"),
	      "apps: Apps is the current page in the top bar");
	buf_reset(&out);
	page_apps(&out, &c, &l);
	d = buf_cstr(&out);
	check_doc("apps", d, true);
	CHECK(strstr(d, "<table id=\"apps-list\">") && strstr(d, "id=\"app-" APP_ID "\"") &&
	      strstr(d, ">abcdefghijkl&hellip;</code>") && strstr(d, "title=\"App id " APP_ID "\""),
	      "apps: #apps-list with the short app id");
	CHECK(strstr(d, "1.2 <span class=\"muted small\">(version 3)</span>") &&
	      strstr(d, "data-label=\"Grains\" class=\"num\">4<") && strstr(d, ">2 apps<"),
	      "apps: versions and grain counts");
	CHECK(strstr(d, "Version 7") && strstr(d, "&lt;i&gt;desc&lt;/i&gt; &amp; &#39;more&#39;"),
	      "apps: no marketing version shows the version; descriptions escaped");
}

static void test_grain_page(void)
{
	struct page_ctx c = ctx(&hostile_user);
	struct page_grain pg = hostile_grain(true);
	buf_reset(&out);
	static const char *const names[] = {"editor", "view\"<er>"};
	static const char *const titles[] = {"Editor", "<b>Viewer</b>"};
	struct page_grain_view v = {.g = &pg.g, .owner = true,
				    .frame_url = "http://ui-00ff.h:1/.silo/open?t=ab&x=\"<y>",
				    .role_names = names, .role_titles = titles, .nroles = 2,
				    .default_role = 1};
	page_grain(&out, &c, &v);
	const char *d = buf_cstr(&out);
	check_doc("grain", d, false); // the grain's bar has no navigation, so no log-out form
	check_csrf_meta("grain", d, true);
	CHECK(strstr(d, "<iframe id=\"grain-frame\" src=\"http://ui-00ff.h:1/.silo/open?t=ab&amp;"
			"x=&quot;&lt;y&gt;\" title=\"&lt;script&gt;"), "grain: the iframe, its URL escaped");
	CHECK(strstr(d, "<h1 id=\"grain-title\">&lt;script&gt;alert(1)") &&
	      strstr(d, "id=\"grain-title-input\" maxlength=\"256\"") &&
	      strstr(d, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;"),
	      "grain: the title and its rename field, escaped");
	CHECK(strstr(d, "data-grain=\"" GRAIN_ID "\"") && strstr(d, "id=\"grain-log-button\"") &&
	      strstr(d, "id=\"grain-trash\"") && strstr(d, "id=\"grain-log\"") &&
	      strstr(d, "<body class=\"grain-page\">") && strstr(d, "href=\"/\""),
	      "grain: its bar (home, log, trash) and the log panel");
	CHECK(count(d, "<iframe") == 1 && !strstr(d, "<footer"), "grain: one frame, no footer");
	CHECK(strstr(d, "<details class=\"share\" id=\"share\"><summary") &&
	      strstr(d, "action=\"/grain/" GRAIN_ID "/shares\"") &&
	      strstr(d, "<option value=\"editor\">Editor</option><option value=\"view&quot;&lt;er"
			"&gt;\" selected>&lt;b&gt;Viewer&lt;/b&gt;</option>") &&
	      strstr(d, "href=\"/grain/" GRAIN_ID "/access\"") && !strstr(d, "id=\"share-url\""),
	      "grain: the Share dialog, closed, its roles escaped, the default selected");

	// Someone it was shared with: no owner tools; a link just made opens the dialog.
	v.owner = false;
	v.role = "<Viewer>";
	v.share_url = "http://h/shared/\"x";
	buf_reset(&out);
	page_grain(&out, &c, &v);
	d = buf_cstr(&out);
	CHECK(!strstr(d, "grain-trash") && !strstr(d, "grain-rename") && !strstr(d, "grain-log") &&
	      !strstr(d, "data-owner") && strstr(d, "&middot; &lt;Viewer&gt;"),
	      "grain: a non-owner sees the role, not the owner's tools");
	CHECK(strstr(d, "id=\"share\" open>") &&
	      strstr(d, "id=\"share-url\" readonly value=\"http://h/shared/&quot;x\""),
	      "grain: a new link opens the dialog showing it");

	// An anonymous visitor: nothing to share.
	v.nroles = 0;
	v.share_url = NULL;
	buf_reset(&out);
	page_grain(&out, &c, &v);
	CHECK(!strstr(buf_cstr(&out), "id=\"share\""), "grain: no Share dialog without roles");
}

static void test_trash_page(void)
{
	struct page_ctx c = ctx(&hostile_user);
	struct page_grain pg = hostile_grain(false);
	pg.g.trashed = 1704164645;
	struct page_lists none = {0}, l = { .grains = &pg, .ngrains = 1 };
	buf_reset(&out);
	page_trash(&out, &c, &none);
	const char *d = buf_cstr(&out);
	check_doc("trash empty", d, true);
	CHECK(strstr(d, "The trash is empty") && !strstr(d, "data-restore"), "trash: empty state");
	buf_reset(&out);
	page_trash(&out, &c, &l);
	d = buf_cstr(&out);
	check_doc("trash", d, true);
	check_csrf_meta("trash", d, true);
	CHECK(strstr(d, "data-restore=\"" GRAIN_ID "\"") && strstr(d, "data-purge=\"" GRAIN_ID "\"") &&
	      strstr(d, "data-title=\"&lt;script&gt;") && strstr(d, ">2024-01-02<") &&
	      strstr(d, ">2024-02-01<") && strstr(d, ">1 grain<"),
	      "trash: Restore, Delete forever, trashed and purge dates");
}

static void test_grain_pages(void)
{
	struct manifest *m = hostile_manifest();
	CHECK(m && m->nactions == 2, "pages: the test manifest parses");
	struct page_app apps[2] = { { .m = m }, { .m = NULL } };
	snprintf(apps[0].info.id, sizeof(apps[0].info.id), APP_ID);
	snprintf(apps[0].info.title, sizeof(apps[0].info.title), "%s", HOSTILE);
	snprintf(apps[0].info.marketing_version, sizeof(apps[0].info.marketing_version), "1.2");
	apps[0].info.version = 3;
	apps[0].info.grains = 4;
	apps[1].info = apps[0].info;
	apps[1].info.id[0] = 'z';
	apps[1].info.marketing_version[0] = '\0';
	apps[1].info.version = 7;
	test_home_with_grains(apps, 2);
	CHECK(strstr(buf_cstr(&out), "manifest cannot be read"),
	      "home: an app without a readable manifest says so instead of buttons");
	test_apps_page(apps, 2);
	test_grain_page();
	test_trash_page();
	manifest_free(m);
}

static bool csp_of(struct http_response *r, char *out_line, size_t outsz)
{
	struct buf w;
	buf_init(&w);
	resp_serialize(r, &w, false, true, false);
	const char *all = buf_cstr(&w), *p = all ? strstr(all, "Content-Security-Policy: ") : NULL;
	bool ok = p != NULL;
	if (p)
		snprintf(out_line, outsz, "%.*s", (int)strcspn(p, "\r"), p);
	buf_free(&w);
	return ok;
}

static void test_frame_src(void)
{
	struct http_response r;
	char line[1024];
	resp_init(&r);
	r.shell_page = true;
	CHECK(csp_of(&r, line, sizeof(line)) && strstr(line, "frame-ancestors 'none'") &&
	      !strstr(line, "frame-src"), "csp: shell pages frame nothing by default");
	CHECK(resp_frame_src(&r, "http://ui-0a.silo.localhost:8080") == 0 &&
	      csp_of(&r, line, sizeof(line)) &&
	      strstr(line, "; frame-src 'self' http://ui-0a.silo.localhost:8080") &&
	      strstr(line, "frame-ancestors 'none'"), "csp: a page may frame one more origin");
	CHECK(resp_frame_src(&r, "https://h.example; script-src *") < 0 &&
	      resp_frame_src(&r, "javascript:alert(1)") < 0 && resp_frame_src(&r, "http://") < 0 &&
	      resp_frame_src(&r, "http://a b") < 0 && resp_frame_src(&r, "http://H.example") < 0 &&
	      resp_frame_src(&r, "http://h/x") < 0, "csp: anything but a plain origin is refused");
	CHECK(csp_of(&r, line, sizeof(line)) &&
	      strstr(line, "frame-src 'self' http://ui-0a.silo.localhost:8080") &&
	      !strstr(line, "script-src"), "csp: a refused origin leaves the policy as it was");
	resp_reset(&r);
	r.shell_page = true;
	CHECK(csp_of(&r, line, sizeof(line)) && !strstr(line, "frame-src"),
	      "csp: resp_reset forgets the framed origin");
	resp_free(&r);
}

static void test_defaults(void)
{
	struct page_ctx c = { .server_name = NULL, .csrf = NULL };
	buf_reset(&out);
	page_login(&out, &c, NULL, NULL);
	const char *d = buf_cstr(&out);
	CHECK(strstr(d, "<title>Log in &middot; silo</title>") && !strstr(d, "name=\"next\"") &&
	      !strstr(d, "role=\"alert\""), "login: defaults without name, next or messages");
}

static void test_assets(void)
{
	const struct asset *a = asset_find("/static/style.css");
	CHECK(a && strncmp(a->content_type, "text/css", 8) == 0 && a->len > 100,
	      "assets: /static/style.css is text/css");
	CHECK(a && a->etag && strlen(a->etag) == 18 && a->etag[0] == '"' && a->etag[17] == '"',
	      "assets: a strong quoted ETag");
	a = asset_find("/static/app.js");
	CHECK(a && strncmp(a->content_type, "text/javascript", 15) == 0, "assets: app.js");
	a = asset_find("/static/icon.svg");
	CHECK(a && strcmp(a->content_type, "image/svg+xml") == 0 &&
	      memcmp(a->data, "<svg", 4) == 0, "assets: icon.svg");
	CHECK(!asset_find("/static/nope.css") && !asset_find("/static/") &&
	      !asset_find("style.css") && !asset_find("/static/style.css/") && !asset_find(NULL),
	      "assets: unknown paths are not found");
}

int main(void)
{
	buf_init(&out);
	test_printf();
	test_bad_conversion();
	test_pages_logged_out();
	test_pages_logged_in();
	test_grain_pages();
	test_frame_src();
	test_defaults();
	test_assets();
	buf_free(&out);
	return test_done();
}
