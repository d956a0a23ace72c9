// SPDX-License-Identifier: MIT
// The HTTPS endpoints: the state the wizard polls (certificate, ACME progress, the choice)
// and the wizard's steps (is a free name available; choose how the server is reached).
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "acme_status.h"
#include "api.h"
#include "conn.h"
#include "https_choice.h"
#include "jsonbody.h"
#include "response.h"
#include "server.h"
#include "tls.h"
#include "web.h"

json_t *api_https_state(struct web_req *w)
{
	struct server *s = w->srv;
	char host[256], name[CONFIG_MAX_DOMAIN + 1], chost[HTTPS_HOST_MAX];
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(s->shell_host, ":"), s->shell_host);
	const char *fp = tls_fingerprint(s, host);
	int mode = https_choice_get(s, name, sizeof(name));
	https_choice_host(s, mode, name, chost, sizeof(chost));
	struct acme_status st;
	json_t *acme = json_null();
	// "Only on my network" stops the worker: no ACME state to show then.
	if (s->cfg.acme_directory[0] && mode != HTTPS_MODE_LAN) {
		if (acme_status_read(s->cfg.data, &st) == 0)
			acme = json_pack("{s:s,s:s,s:s,s:I,s:I}", "state", st.state, "error", st.error,
					 "names", st.names, "not_after", (json_int_t)st.not_after,
					 "next", (json_int_t)st.next);
		else if (mode)
			acme = json_pack("{s:s,s:s,s:s,s:I,s:I}", "state", "starting", "error", "",
					 "names", chost, "not_after", (json_int_t)0, "next", (json_int_t)0);
	}
	json_t *choice = mode ? json_pack("{s:s,s:s,s:s}", "mode", https_mode_str(mode), "name",
					  name, "host", chost) : json_null();
	return json_pack("{s:b,s:s?,s:o,s:o,s:{s:s?,s:b}}", "tls", fp[0] != '\0', "fingerprint",
			 fp[0] ? fp : NULL, "acme", acme, "choice", choice, "options", "dyndns_zone",
			 s->cfg.dyndns_url[0] ? s->cfg.dyndns_zone : NULL, "acme",
			 s->cfg.acme_directory[0] != '\0');
}

// HTTPS state for administrators: the certificate to check, the choice, ACME's progress.
static void get_https(struct web_req *w, struct http_response *r)
{
	if (api_need_admin(w, r))
		resp_json(r, 200, api_https_state(w));
}

static void run(struct web_req *w, struct http_response *r, enum https_op op)
{
	if (!api_need_admin(w, r))
		return;
	json_t *o = api_body_object(w, r);
	if (!o)
		return;
	const char *mode = NULL, *name = NULL, *token = NULL;
	char err[128];
	if ((op == HTTPS_OP_CHOOSE && jsonbody_str(o, "mode", true, 16, &mode, err, sizeof(err)) < 0) ||
	    jsonbody_str(o, "name", op != HTTPS_OP_CHOOSE, CONFIG_MAX_DOMAIN, &name, err,
			 sizeof(err)) < 0 ||
	    (op == HTTPS_OP_RECOVER && jsonbody_str(o, "token", true, 64, &token, err, sizeof(err)) < 0)) {
		resp_error(r, 400, err);
	} else {
		struct conn_wait *cw = conn_defer(w->conn);
		if (!cw)
			resp_error(r, 500, "out of memory");
		else
			https_choice_start(w->srv, cw, false, op,
					   op != HTTPS_OP_CHOOSE ? HTTPS_MODE_DYNDNS : https_mode_parse(mode),
					   name ? name : "", token);
	}
	json_decref(o);
}

static void post_available(struct web_req *w, struct http_response *r)
{
	run(w, r, HTTPS_OP_AVAILABLE);
}

static void post_https(struct web_req *w, struct http_response *r)
{
	run(w, r, HTTPS_OP_CHOOSE);
}

static void post_recovery(struct web_req *w, struct http_response *r)
{
	run(w, r, HTTPS_OP_RECOVERY);
}

static void post_recover(struct web_req *w, struct http_response *r)
{
	run(w, r, HTTPS_OP_RECOVER);
}

static const struct web_route routes[] = {
	{HTTP_GET, "/api/v1/https", get_https},
	{HTTP_POST, "/api/v1/https", post_https},
	{HTTP_POST, "/api/v1/https/available", post_available},
	{HTTP_POST, "/api/v1/https/recovery", post_recovery},
	{HTTP_POST, "/api/v1/https/recover", post_recover},
};

bool api_https_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
