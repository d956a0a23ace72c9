// SPDX-License-Identifier: MIT
// The machine itself, for administrators: power off, reboot, and OS updates. The front
// checks who may and passes the request on; the parent acts (it is the one that may signal
// silo-init and write a disk), and answers 409 when silo does not run as the appliance.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "appliance.h"
#include "auth.h"
#include "conn.h"
#include "log.h"
#include "parent_client.h"
#include "server.h"
#include "web.h"

// A request waiting for the parent; the conn_wait goes away if the client leaves first.
struct sys_wait {
	struct conn_wait *cw;
	int type;
	int action;
	char who[AUTH_NAME_MAX + 1];
};

static void sys_cancel(void *arg)
{
	struct sys_wait *s = arg;
	s->cw = NULL;
}

static void sys_reply(struct sys_wait *s, int status, json_t *v)
{
	if (s->cw) {
		struct http_response *r = conn_wait_response(s->cw);
		resp_reset(r);
		resp_json(r, status, v);
		conn_wait_on_cancel(s->cw, NULL, NULL);
		conn_wait_done(s->cw);
	} else {
		json_decref(v);
	}
	free(s);
}

static void on_reply(void *arg, const struct priv_msg *m, int fd)
{
	struct sys_wait *s = arg;
	if (fd >= 0)
		close(fd);
	if (m->status == ENOTSUP || m->status == EBUSY) {
		// Not the appliance, or another update (or too many jobs) under way.
		sys_reply(s, 409, json_pack("{s:s}", "error", m->text));
	} else if (m->status == EPIPE) {
		sys_reply(s, 503, json_pack("{s:s}", "error", "the privileged parent cannot be reached"));
	} else if (m->status) {
		// An OS update the parent refused: a bad file is the client's, the rest is ours.
		int code = s->type == PRIV_OS_UPDATE && (m->status == EINVAL || m->status == EBADMSG)
				   ? 400 : 500;
		sys_reply(s, code, json_pack("{s:s}", "error", m->text));
	} else if (s->type == PRIV_POWER) {
		log_info("system: %s asked to %s", s->who, s->action ? "reboot" : "power off");
		sys_reply(s, 202, json_pack("{s:s}", "state", s->action ? "rebooting" : "powering off"));
	} else {
		log_info("system: %s installed OS update %s; it boots next", s->who, m->text);
		sys_reply(s, 201, json_pack("{s:s,s:s}", "version", m->text, "state",
					    "written; the next boot starts it"));
	}
}

static void ask_parent(struct web_req *w, struct http_response *r, int type, int action, int fd)
{
	struct sys_wait *s = calloc(1, sizeof(*s));
	if (!s || !(s->cw = conn_defer(w->conn))) {
		free(s);
		resp_error(r, 500, "out of memory");
		return;
	}
	s->type = type;
	s->action = action;
	snprintf(s->who, sizeof(s->who), "%s", w->user.name);
	conn_wait_on_cancel(s->cw, sys_cancel, s);
	struct priv_msg m = {.type = (uint32_t)type, .action = action};
	if (!pc_request(w->srv, &m, fd, on_reply, s))
		sys_reply(s, 503, json_pack("{s:s}", "error", "the privileged parent cannot be reached"));
}

static void post_power(struct web_req *w, struct http_response *r, bool reboot)
{
	if (!api_need_admin(w, r) || !api_write_ok(w, r))
		return;
	ask_parent(w, r, PRIV_POWER, reboot ? 1 : 0, -1);
}

static void post_poweroff(struct web_req *w, struct http_response *r)
{
	post_power(w, r, false);
}

static void post_reboot(struct web_req *w, struct http_response *r)
{
	post_power(w, r, true);
}

static void post_os_update(struct web_req *w, struct http_response *r)
{
	if (!api_need_admin(w, r) || !api_write_ok(w, r))
		return;
	if (w->body_fd < 0) {
		resp_error(r, 400, "send the OS update file as the request body");
		return;
	}
	ask_parent(w, r, PRIV_OS_UPDATE, 0, w->body_fd);
}

static void get_system(struct web_req *w, struct http_response *r)
{
	if (!api_need_admin(w, r))
		return;
	// The data directory's file system: on the appliance, the data partition (grown to the
	// disk at first boot).
	struct statvfs sv;
	json_int_t total = -1, avail = -1;
	if (statvfs(w->srv->cfg.data, &sv) == 0) {
		total = (json_int_t)((uint64_t)sv.f_blocks * sv.f_frsize);
		avail = (json_int_t)((uint64_t)sv.f_bavail * sv.f_frsize);
	}
	resp_json(r, 200, json_pack("{s:b,s:I,s:I}", "appliance", appliance_active(), "data_bytes",
				    total, "data_free_bytes", avail));
}

static const struct web_route routes[] = {
	{HTTP_GET, "/api/v1/admin/system", get_system},
	{HTTP_POST, "/api/v1/admin/poweroff", post_poweroff},
	{HTTP_POST, "/api/v1/admin/reboot", post_reboot},
	{HTTP_POST, "/api/v1/admin/os-update", post_os_update},
};

bool api_system_route(struct web_req *w, struct http_response *r)
{
	return web_dispatch(w, r, routes, sizeof(routes) / sizeof(routes[0])) != 0;
}
