// SPDX-License-Identifier: MIT
// The wizard's HTTPS page for administrators, /admin/https: shown right after setup and
// linked from the admin page. Its forms post here; checks and changes answer with a
// redirect back, the outcome kept as the page's note.
#include <stdio.h>
#include <string.h>

#include "acme_status.h"
#include "config.h"
#include "conn.h"
#include "https_choice.h"
#include "server.h"
#include "shell_impl.h"
#include "tls.h"
#include "web.h"

static void get_https_page(struct web_req *w, struct http_response *r)
{
	if (!shell_require_admin(w, r))
		return;
	struct server *s = w->srv;
	struct view v;
	shell_view_init(&v, w, r);
	char note[600], name[CONFIG_MAX_DOMAIN + 1], host[HTTPS_HOST_MAX], shell[256];
	bool err;
	https_choice_note(s, note, sizeof(note), &err);
	if (note[0])
		*(err ? &v.c.error : &v.c.notice) = note;
	int mode = https_choice_get(s, name, sizeof(name));
	https_choice_host(s, mode, name, host, sizeof(host));
	snprintf(shell, sizeof(shell), "%.*s", (int)strcspn(s->shell_host, ":"), s->shell_host);
	struct acme_status as;
	bool acme = s->cfg.acme_directory[0] && mode && mode != HTTPS_MODE_LAN;
	bool st = acme && acme_status_read(s->cfg.data, &as) == 0;
	struct page_https_wizard h = {
		.fingerprint = tls_fingerprint(s, shell),
		.mode = https_mode_str(mode), .name = name, .host = host,
		.dyndns_zone = s->cfg.dyndns_url[0] ? s->cfg.dyndns_zone : "",
		.acme = s->cfg.acme_directory[0] != '\0',
		.http_port = s->cfg.acme_http_port,
		.acme_state = st ? as.state : acme ? "starting" : "",
		.acme_error = st ? as.error : "",
	};
	page_https_wizard(&r->body, &v.c, &h);
	shell_html_done(r, 200);
}

static void post_https_page(struct web_req *w, struct http_response *r)
{
	if (!shell_require_admin(w, r) || !shell_form_ok(w, r))
		return;
	char mode[16], name[CONFIG_MAX_DOMAIN + 2], op[16], token[80];
	if (web_form(w, "mode", mode, sizeof(mode)) < 0)
		mode[0] = '\0';
	if (web_form(w, "name", name, sizeof(name)) < 0)
		name[0] = '\0';
	if (web_form(w, "op", op, sizeof(op)) < 0)
		op[0] = '\0';
	if (web_form(w, "token", token, sizeof(token)) < 0)
		token[0] = '\0';
	struct conn_wait *cw = conn_defer(w->conn);
	if (!cw) {
		shell_error(w, r, 500, "Out of memory. Try again.");
		return;
	}
	enum https_op o = strcmp(op, "check") == 0      ? HTTPS_OP_AVAILABLE
			  : strcmp(op, "recovery") == 0 ? HTTPS_OP_RECOVERY
			  : strcmp(op, "recover") == 0  ? HTTPS_OP_RECOVER
							: HTTPS_OP_CHOOSE;
	https_choice_start(w->srv, cw, true, o,
			   o == HTTPS_OP_CHOOSE ? https_mode_parse(mode) : HTTPS_MODE_DYNDNS, name,
			   token);
}

static const struct web_route routes[] = {
	{HTTP_GET, "/admin/https", get_https_page},
	{HTTP_POST, "/admin/https", post_https_page},
};

bool shell_https_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
