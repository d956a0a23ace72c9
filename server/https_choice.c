// SPDX-License-Identifier: MIT
// The wizard's HTTPS choice in the front: checks and the change go to the parent (which
// runs them as the ACME worker's uid), the choice is kept in the settings.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "conn.h"
#include "https_check.h"
#include "https_choice.h"
#include "log.h"
#include "parent_client.h"
#include "response.h"
#include "server.h"
#include "store.h"

struct hx {
	struct server *srv;
	struct conn_wait *cw;        // NULL once the client left (the work goes on)
	bool html;
	enum https_op op;
	int mode;
	char name[CONFIG_MAX_DOMAIN + 1];
};

static const char *const modes[] = {[HTTPS_MODE_LAN] = "lan", [HTTPS_MODE_DYNDNS] = "dyndns",
				    [HTTPS_MODE_DOMAIN] = "domain"};

int https_mode_parse(const char *s)
{
	for (int i = HTTPS_MODE_LAN; i <= HTTPS_MODE_DOMAIN; i++)
		if (s && strcmp(s, modes[i]) == 0)
			return i;
	return 0;
}

const char *https_mode_str(int mode)
{
	return mode >= HTTPS_MODE_LAN && mode <= HTTPS_MODE_DOMAIN ? modes[mode] : "";
}

int https_choice_get(struct server *s, char *name, size_t namesz)
{
	char m[16];
	name[0] = '\0';
	if (store_setting_get(s->store, "https_mode", m, sizeof(m)) != 0)
		return 0;
	if (store_setting_get(s->store, "https_name", name, namesz) != 0)
		name[0] = '\0';
	int mode = https_mode_parse(m);
	return mode == HTTPS_MODE_LAN || name[0] ? mode : 0;
}

void https_choice_host(struct server *s, int mode, const char *name, char *out, size_t outsz)
{
	if (mode == HTTPS_MODE_DYNDNS)
		snprintf(out, outsz, "%s.%s", name, s->cfg.dyndns_zone);
	else
		snprintf(out, outsz, "%s", mode == HTTPS_MODE_DOMAIN ? name : "");
}

void https_choice_note(struct server *s, char *text, size_t textsz, bool *error)
{
	char e[4];
	if (store_setting_get(s->store, "https_note", text, textsz) != 0)
		text[0] = '\0';
	*error = store_setting_get(s->store, "https_note_error", e, sizeof(e)) == 0 && e[0] == '1';
}

static void hx_cancel(void *arg)
{
	((struct hx *)arg)->cw = NULL;
}

// Answers the client (when still there) and frees x. status: an HTTP status.
static void hx_done(struct hx *x, int status, const char *msg)
{
	if (x->html) {
		// The page shows it after the redirect (no text in the URL to forge).
		store_setting_set(x->srv->store, "https_note", msg);
		store_setting_set(x->srv->store, "https_note_error", status >= 300 ? "1" : "0");
	}
	if (x->cw) {
		struct http_response *r = conn_wait_response(x->cw);
		resp_reset(r);
		if (x->html) {
			resp_redirect(r, 303, "/admin/https");
		} else if (status >= 300) {
			resp_error(r, status, msg);
		} else {
			char host[HTTPS_HOST_MAX];
			https_choice_host(x->srv, x->mode, x->name, host, sizeof(host));
			resp_json(r, 200, json_pack("{s:s,s:s,s:s,s:s}", "mode", https_mode_str(x->mode),
						    "name", x->name, "host", host, "message", msg));
		}
		conn_wait_on_cancel(x->cw, NULL, NULL);
		conn_wait_done(x->cw);
	}
	free(x);
}

static void on_applied(void *arg, const struct priv_msg *m, int fd)
{
	struct hx *x = arg;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		hx_done(x, m->status == EPIPE ? 503 : 400, m->text);
		return;
	}
	// Kept only once the parent took it: a refused choice leaves the previous one.
	if (store_setting_set(x->srv->store, "https_mode", https_mode_str(x->mode)) < 0 ||
	    store_setting_set(x->srv->store, "https_name", x->name) < 0) {
		hx_done(x, 500, "the choice is in effect but could not be saved: make it again "
				"after a restart");
		return;
	}
	log_info("https: the server is now reached as: %s %s", https_mode_str(x->mode), x->name);
	if (x->mode == HTTPS_MODE_LAN) {
		server_drop_host(x->srv);
		hx_done(x, 200, "only on your network, with the self-signed certificate");
		return;
	}
	char host[HTTPS_HOST_MAX], msg[HTTPS_HOST_MAX + 160];
	https_choice_host(x->srv, x->mode, x->name, host, sizeof(host));
	if (server_adopt_host(x->srv, host) == 0 && x->srv->alias_url[0])
		snprintf(msg, sizeof(msg), "saved: the certificate is being fetched; from now on this "
			 "server is at %s (this address keeps working too)", x->srv->base_url);
	else
		snprintf(msg, sizeof(msg), "saved: the certificate is being fetched");
	hx_done(x, 200, msg);
}

static void apply(struct hx *x)
{
	struct priv_msg m = {.type = PRIV_HTTPS_APPLY, .action = x->mode};
	snprintf(m.text, sizeof(m.text), "%s", x->name);
	if (!pc_request(x->srv, &m, -1, on_applied, x))
		hx_done(x, 503, "the privileged parent cannot be reached");
}

static void on_checked(void *arg, const struct priv_msg *m, int fd)
{
	struct hx *x = arg;
	if (fd >= 0)
		close(fd);
	if (m->status) {
		// Taken: 409; port 80 not reaching us, or the service refusing a recovery: 422;
		// the service or a setting: 502 / 400.
		int st = m->status == EEXIST ? 409
			 : m->status == EHOSTUNREACH || m->status == EACCES ? 422
			 : m->status == EIO ? 502 : m->status == EPIPE ? 503 : 400;
		hx_done(x, st, m->text);
	} else if (x->op != HTTPS_OP_CHOOSE) {
		hx_done(x, 200, m->text);
	} else {
		apply(x);
	}
}

void https_choice_start(struct server *s, struct conn_wait *cw, bool html, enum https_op op,
			int mode, const char *name, const char *token)
{
	struct hx *x = calloc(1, sizeof(*x));
	if (!x) {
		struct http_response *r = conn_wait_response(cw);
		resp_error(r, 500, "out of memory");
		conn_wait_done(cw);
		return;
	}
	*x = (struct hx){.srv = s, .cw = cw, .html = html, .op = op, .mode = mode};
	conn_wait_on_cancel(cw, hx_cancel, x);
	size_t n = 0;
	for (; name && name[n] && n < sizeof(x->name) - 1; n++)
		x->name[n] = (char)tolower((unsigned char)name[n]);
	x->name[n] = '\0';
	if (name && name[n]) {
		hx_done(x, 400, "the name is too long");
		return;
	}
	if (!mode) {
		hx_done(x, 400, "'mode' must be one of lan, dyndns, domain");
		return;
	}
	if (mode == HTTPS_MODE_LAN) {
		x->name[0] = '\0';
		apply(x);
		return;
	}
	bool dyn = mode == HTTPS_MODE_DYNDNS;
	if (dyn ? !config_dynname_ok(x->name) : !config_domain_ok(x->name)) {
		hx_done(x, 400, dyn ? "a free name is 1 to 20 of a-z, 0-9 and '-', not starting or "
				      "ending with '-'; try another"
				    : "that is not a domain name: type it like box.example.org");
		return;
	}
	struct priv_msg m = {.type = PRIV_HTTPS_CHECK,
			     .action = !dyn ? HTTPS_CHECK_PORT80
				       : op == HTTPS_OP_RECOVERY ? HTTPS_CHECK_RECOVERY
				       : op == HTTPS_OP_RECOVER ? HTTPS_CHECK_RECOVER : HTTPS_CHECK_NAME};
	if (op == HTTPS_OP_RECOVER) {
		if (!token || !https_token_ok(token)) {
			hx_done(x, 400, "the recovery token is 1 to 64 of A-Z, a-z, 0-9, '_' and '-', "
					"as the e-mail gives it");
			return;
		}
		snprintf(m.text, sizeof(m.text), "%s %s", x->name, token);
	} else {
		snprintf(m.text, sizeof(m.text), "%s", x->name);
	}
	if (!pc_request(s, &m, -1, on_checked, x))
		hx_done(x, 503, "the privileged parent cannot be reached");
}

static void on_restored(void *arg, const struct priv_msg *m, int fd)
{
	(void)arg;
	if (fd >= 0)
		close(fd);
	if (m->status)
		log_err("https: the stored choice could not be applied: %s", m->text);
}

void https_choice_restore(struct server *s)
{
	char name[CONFIG_MAX_DOMAIN + 1];
	int mode = https_choice_get(s, name, sizeof(name));
	if (!mode)
		return;
	// The name chosen is the base URL from the start; the configured one stays served.
	char host[HTTPS_HOST_MAX];
	https_choice_host(s, mode, name, host, sizeof(host));
	if (mode != HTTPS_MODE_LAN)
		server_adopt_host(s, host);
	struct priv_msg m = {.type = PRIV_HTTPS_APPLY, .action = mode};
	snprintf(m.text, sizeof(m.text), "%s", name);
	pc_request(s, &m, -1, on_restored, NULL);
}
