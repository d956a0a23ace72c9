// SPDX-License-Identifier: MIT
// The API host for devices: clients that cannot open a browser session (a phone's CalDAV
// account, git, scripts) reach a grain at api.<host> or api-<share id>.<host> with a device
// token as Bearer token or as the Basic password, and the app sees the same identity and
// permission headers as in a browser.
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "access.h"
#include "apihost.h"
#include "log.h"
#include "proxy.h"
#include "server.h"
#include "shares.h"
#include "store.h"
#include "token.h"
#include "web.h"

#define APIHOST_TOUCH_EVERY 600   // seconds between use records of one token

bool apihost_match(const struct server *s, const char *host, char share[SHARE_ID_LEN + 1])
{
	share[0] = '\0';
	if (strncmp(host, "api", 3) != 0)
		return false;
	const char *p = host + 3;
	if (*p == '-') {
		p++;
		for (int i = 0; i < SHARE_ID_LEN; i++)
			if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
				return false;
		memcpy(share, p, SHARE_ID_LEN);
		share[SHARE_ID_LEN] = '\0';
		p += SHARE_ID_LEN;
	}
	return *p == '.' && server_is_shell_host(s, p + 1);
}

static void unauthorized(struct http_response *r, const char *msg)
{
	r->status = 401;
	resp_header(r, "WWW-Authenticate", "Basic realm=\"silo grain\", charset=\"UTF-8\"");
	resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	resp_header(r, "Cache-Control", "no-store");
	buf_printf(&r->body, "%s\n", msg);
}

void apihost_handle(struct web_req *w, struct http_response *r, const char *host_share)
{
	struct server *s = w->srv;
	char tok[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	if (!token_from_authorization(http_header(w->http, "Authorization"), tok)) {
		unauthorized(r, "This address needs a device token: the password (or Bearer token) "
				"the grain's owner made under \"Who has access\".");
		return;
	}
	token_hash(tok, hash);
	sodium_memzero(tok, sizeof(tok));
	struct share_info sh;
	struct access a;
	int res = shares_by_token(s->store, hash, &sh);
	if (res == 0 && (sh.kind != SHARE_DEVICE || (host_share[0] && strcmp(host_share, sh.id) != 0)))
		res = 1;
	if (res == 0)
		res = access_resolve(s->store, sh.grain, sh.created_by, sh.id, &a);
	if (res != 0) {
		if (res < 0)
			resp_error(r, 500, "access could not be checked; try again");
		else
			unauthorized(r, "This device token is not valid: it may have been revoked.");
		return;
	}
	if (w->now - sh.last_used >= APIHOST_TOUCH_EVERY) {
		shares_used(s->store, sh.id, w->now);
		access_log_add(s->store, sh.grain, sh.created_by, sh.id, a.role, "device", w->now);
	}
	struct gm_session sess = {.user_id = sh.created_by};
	snprintf(sess.host_id, sizeof(sess.host_id), "%s", sh.id);
	snprintf(sess.grain, sizeof(sess.grain), "%s", sh.grain);
	snprintf(sess.user_name, sizeof(sess.user_name), "%s", sh.creator);
	snprintf(sess.share, sizeof(sess.share), "%s", sh.id);
	snprintf(sess.perms, sizeof(sess.perms), "%s", a.perms);
	proxy_request(w, r, &sess, true);
}
