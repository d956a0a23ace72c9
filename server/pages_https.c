// SPDX-License-Identifier: MIT
// The wizard's HTTPS page, /admin/https: "How will people reach this server?" with a free
// name, an own domain or only the local network, and the certificate's progress.
#include <string.h>

#include "html.h"
#include "pages.h"
#include "pages_impl.h"

static bool in_progress(const char *state)
{
	return strcmp(state, "starting") == 0 || strcmp(state, "ordering") == 0 ||
	       strcmp(state, "renewing") == 0;
}

// What is chosen and how far the certificate is; app.js polls /api/v1/https and fills
// the same elements, and without scripts the page refreshes itself while it works.
static void progress(struct buf *b, const struct page_https_wizard *h)
{
	html_printf(b, "<section class=\"card\" id=\"https-progress\" data-https-poll "
		       "aria-live=\"polite\" aria-labelledby=\"now-h\"><h2 id=\"now-h\">Now</h2>\n");
	if (!h->mode[0])
		html_printf(b, "<p id=\"https-choice\">Nothing chosen yet: the server uses its "
			       "self-signed certificate.</p>\n");
	else if (strcmp(h->mode, "lan") == 0)
		html_printf(b, "<p id=\"https-choice\">Only on your network, with the self-signed "
			       "certificate.</p>\n");
	else
		html_printf(b, "<p id=\"https-choice\">Reached as <strong>%s</strong>.</p>\n", h->host);
	html_printf(b, "<p>Certificate: <strong id=\"acme-state\">%s</strong></p>\n"
		       "<p class=\"error\" id=\"acme-error\"%r>%s</p>\n",
		    h->acme_state[0] ? h->acme_state : "self-signed",
		    h->acme_error[0] ? "" : " hidden", h->acme_error);
	if (in_progress(h->acme_state))
		html_printf(b, "<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>"
			       "<p class=\"muted\" id=\"https-wait\">Fetching the certificate; this "
			       "page updates by itself.</p>\n");
	html_printf(b, "</section>\n");
}

static void free_name(struct buf *b, const struct page_ctx *c, const struct page_https_wizard *h)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"free-h\"><h2 id=\"free-h\">A free "
		       "name</h2><p class=\"muted\">NAME.%s, with a certificate for it and every "
		       "name under it. Works behind a home router: nothing has to be forwarded "
		       "for the certificate.</p>\n", h->dyndns_zone);
	page_form_open(b, c, "/admin/https");
	html_printf(b, "<input type=\"hidden\" name=\"mode\" value=\"dyndns\">"
		       "<div class=\"field\"><label for=\"dyn-name\">Name</label><input "
		       "id=\"dyn-name\" name=\"name\" required maxlength=\"20\" pattern=\"[a-z0-9]"
		       "([a-z0-9\\-]*[a-z0-9])?\" autocapitalize=\"none\" spellcheck=\"false\" "
		       "value=\"%s\" aria-describedby=\"dyn-hint\"><span class=\"hint\" "
		       "id=\"dyn-hint\">Up to 20 of a-z, 0-9 and -, then .%s</span>"
		       "<span class=\"hint\" id=\"dyn-available\" role=\"status\"></span></div>"
		       "<div class=\"actions\"><button type=\"submit\" name=\"op\" value=\"check\" "
		       "class=\"btn btn-secondary\" id=\"dyn-check\">Is it free?</button> "
		       "<button type=\"submit\" name=\"op\" value=\"choose\" class=\"btn\">Use this "
		       "name</button></div></form>\n",
		    strcmp(h->mode, "dyndns") == 0 ? h->name : "", h->dyndns_zone);
	// A reinstalled box has a new key: the name it had is "taken" until recovered.
	html_printf(b, "<details id=\"dyn-recover\"><summary>Is the name yours from before "
		       "(a reinstall, a new disk)?</summary><p class=\"muted\">The service "
		       "e-mails a recovery token to the address the name was registered with; "
		       "enter it here and the name moves to this server.</p>\n");
	page_form_open(b, c, "/admin/https");
	html_printf(b, "<div class=\"field\"><label for=\"rec-name\">Name</label><input "
		       "id=\"rec-name\" name=\"name\" required maxlength=\"20\" "
		       "autocapitalize=\"none\" spellcheck=\"false\"></div>"
		       "<div class=\"actions\"><button type=\"submit\" name=\"op\" "
		       "value=\"recovery\" class=\"btn btn-secondary\">E-mail me a recovery "
		       "token</button></div>"
		       "<div class=\"field\"><label for=\"rec-token\">Recovery token</label><input "
		       "id=\"rec-token\" name=\"token\" maxlength=\"64\" autocomplete=\"off\" "
		       "spellcheck=\"false\"></div><div class=\"actions\"><button type=\"submit\" "
		       "name=\"op\" value=\"recover\" class=\"btn\">Recover the name</button>"
		       "</div></form></details></section>\n");
}

static void own_domain(struct buf *b, const struct page_ctx *c, const struct page_https_wizard *h)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"own-h\"><h2 id=\"own-h\">My own "
		       "domain</h2><p class=\"muted\">Point the name's A record at this server's "
		       "public address and let port %ld reach it: the certificate authority checks "
		       "it there. This page checks it first.</p>\n", h->http_port);
	page_form_open(b, c, "/admin/https");
	html_printf(b, "<input type=\"hidden\" name=\"mode\" value=\"domain\">"
		       "<div class=\"field\"><label for=\"own-name\">Domain</label><input "
		       "id=\"own-name\" name=\"name\" required maxlength=\"253\" "
		       "autocapitalize=\"none\" spellcheck=\"false\" placeholder=\"box.example.org\" "
		       "value=\"%s\"></div><div class=\"actions\"><button type=\"submit\" name=\"op\" "
		       "value=\"choose\" class=\"btn\">Check port %ld and get a certificate</button>"
		       "</div></form></section>\n",
		    strcmp(h->mode, "domain") == 0 ? h->name : "", h->http_port);
}

static void local_only(struct buf *b, const struct page_ctx *c, const struct page_https_wizard *h)
{
	html_printf(b, "<section class=\"card\" aria-labelledby=\"lan-h\"><h2 id=\"lan-h\">Only on "
		       "my network</h2><p class=\"muted\">Keep the self-signed certificate. Browsers "
		       "warn about it: check that the fingerprint they show is this one (it was "
		       "also printed on the console as <code>silo: tls: sha256</code>).</p>\n"
		       "<p>SHA-256: <code id=\"tls-fp\" class=\"fp\">%s</code></p>\n", h->fingerprint);
	page_form_open(b, c, "/admin/https");
	html_printf(b, "<input type=\"hidden\" name=\"mode\" value=\"lan\"><div class=\"actions\">"
		       "<button type=\"submit\" name=\"op\" value=\"choose\" class=\"btn\">Keep the "
		       "self-signed certificate</button></div></form></section>\n");
}

void page_https_wizard(struct buf *b, const struct page_ctx *c, const struct page_https_wizard *h)
{
	page_begin(b, c, "HTTPS", NAV_ADMIN, false);
	html_printf(b, "<div class=\"page-head\"><h1>How will people reach this server?</h1>"
		       "<p>Pick one; you can change it here later (Admin, HTTPS).</p></div>\n");
	progress(b, h);
	if (h->dyndns_zone[0] && h->acme)
		free_name(b, c, h);
	if (h->acme)
		own_domain(b, c, h);
	local_only(b, c, h);
	if (!h->acme)
		html_printf(b, "<p class=\"muted\">A free name and an own domain need a certificate "
			       "authority in the configuration (<code>acme_directory</code>).</p>\n");
	html_printf(b, "<p><a class=\"btn btn-secondary\" href=\"/\">Continue to the home "
		       "page</a></p>\n");
	page_end(b);
}
